#pragma once
// What the API needs from the registry: API key -> organisation, secrets and scope.
// KeyStore is the seam; RegistryKeyStore adapts src/registry's Registry (key_credentials()
// + org_record()). Tests and the fuzzer use MemoryKeyStore.
//
// Thread-safety: implementations are called concurrently from the HTTP pool's threads and
// must be thread-safe (RegistryKeyStore gives each concurrent call its own Registry
// connection, because a Registry object is single-threaded).

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "api/connection_pool.h"
#include "common/result.h"
#include "registry/registry.h"

namespace vantage::api {

struct KeyIdentity {
  std::string key;
  uint32_t org_id = 0;
  std::string org_short_name;  // the org's report ("mailing list") name
  std::string label;
  std::vector<std::string> secrets;  // current first, then those still in a rotation window
  // Query fields that satisfy the "report filter" rule of reports/query: "asn" for claimed
  // ASNs, "ip" for CIDRs, "geo" for countries, "domain" for domains.
  std::vector<std::string> filter_fields;
  bool reports_access = true;  // false for ingest-only keys: 403 on the reports module
};

class KeyStore {
 public:
  virtual ~KeyStore() = default;
  // kNotFound: unknown key; kPermissionDenied: revoked; other codes: store failure.
  virtual Result<KeyIdentity> lookup(std::string_view key) = 0;
};

// Caches successful lookups: each uncached lookup is two SQLite reads plus an AES-GCM open
// of every secret, which dominated reports/list latency under load.
//
// Revocation is immediate: the cache is trusted only while the registry's generation
// (bumped by every committed change -- key revocation and rotation included -- whichever
// process makes it, e.g. `vantage key revoke`) is the one it was filled under. Reading the
// generation is one indexed SQLite row per request, far cheaper than the uncached lookup.
// `ttl` (default 2 s) still bounds an entry's life, for the one change that commits nothing:
// a rotation's overlap window running out (the old secret then works at most `ttl` longer).
//
// `open_more` (optional) opens further registry connections to the same database, so that
// concurrent requests read the generation on their own connections instead of queueing
// behind one (a Registry object is single-threaded).
class RegistryKeyStore final : public KeyStore {
 public:
  using Opener = std::function<Result<std::unique_ptr<registry::Registry>>()>;
  explicit RegistryKeyStore(std::unique_ptr<registry::Registry> registry,
                            std::chrono::milliseconds ttl = std::chrono::milliseconds(2000),
                            Opener open_more = nullptr, size_t max_connections = 16);
  Result<KeyIdentity> lookup(std::string_view key) override;

 private:
  static Result<KeyIdentity> lookup_uncached(registry::Registry& registry, std::string_view key);
  ConnectionPool<registry::Registry> registries_;
  std::chrono::milliseconds ttl_;
  std::mutex mu_;            // guards the two members below
  uint64_t generation_ = 0;  // the registry generation the cache was filled under
  std::map<std::string, std::pair<std::chrono::steady_clock::time_point, KeyIdentity>, std::less<>>
      cache_;
};

// The key store of a data directory: <data_dir>/registry.sqlite (secrets opened with the
// directory's server key), one registry connection per concurrent caller.
Result<std::shared_ptr<RegistryKeyStore>> open_registry_key_store(const std::string& data_dir);

class MemoryKeyStore final : public KeyStore {
 public:
  void add(KeyIdentity identity);
  Result<KeyIdentity> lookup(std::string_view key) override;

 private:
  std::mutex mu_;
  std::map<std::string, KeyIdentity, std::less<>> keys_;
};

}  // namespace vantage::api

#pragma once
// What the API needs from the registry: API key -> organisation, secrets and scope.
// KeyStore is the seam; RegistryKeyStore adapts src/registry's Registry (key_credentials()
// + org_record()). Tests and the fuzzer use MemoryKeyStore.
//
// Thread-safety: implementations are called concurrently from the HTTP pool's threads and
// must be thread-safe (RegistryKeyStore serialises calls on one Registry with a mutex,
// because a Registry object is single-threaded).

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

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

// Caches successful lookups for `ttl` (default 2 s): each uncached lookup is two SQLite
// reads plus an AES-GCM open of every secret, which dominated reports/list latency under
// load. A revoked or rotated key therefore stops working at most `ttl` later.
class RegistryKeyStore final : public KeyStore {
 public:
  explicit RegistryKeyStore(std::unique_ptr<registry::Registry> registry,
                            std::chrono::milliseconds ttl = std::chrono::milliseconds(2000))
      : registry_(std::move(registry)), ttl_(ttl) {}
  Result<KeyIdentity> lookup(std::string_view key) override;

 private:
  Result<KeyIdentity> lookup_uncached(std::string_view key);
  std::mutex mu_;
  std::unique_ptr<registry::Registry> registry_;
  std::chrono::milliseconds ttl_;
  std::map<std::string, std::pair<std::chrono::steady_clock::time_point, KeyIdentity>, std::less<>>
      cache_;
};

class MemoryKeyStore final : public KeyStore {
 public:
  void add(KeyIdentity identity);
  Result<KeyIdentity> lookup(std::string_view key) override;

 private:
  std::mutex mu_;
  std::map<std::string, KeyIdentity, std::less<>> keys_;
};

}  // namespace vantage::api

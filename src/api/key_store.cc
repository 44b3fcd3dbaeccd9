#include "api/key_store.h"

#include <algorithm>

#include "registry/sqlite/sqlite_registry.h"

namespace vantage::api {

RegistryKeyStore::RegistryKeyStore(std::unique_ptr<registry::Registry> registry,
                                   std::chrono::milliseconds ttl, Opener open_more,
                                   size_t max_connections)
    : registries_(std::move(registry), std::move(open_more), max_connections), ttl_(ttl) {}

Result<KeyIdentity> RegistryKeyStore::lookup(std::string_view key) {
  auto registry = registries_.acquire();
  if (!registry) return registry.error();
  if (!*registry) return Error::internal("no registry");
  // A generation we cannot read means we cannot tell whether the key was revoked: no cached
  // answer then, only a fresh lookup.
  auto generation = (*registry)->generation();
  if (!generation) return lookup_uncached(**registry, key);
  auto now = std::chrono::steady_clock::now();
  {
    std::lock_guard lock(mu_);
    if (*generation > generation_) {
      cache_.clear();
      generation_ = *generation;
    }
    // (A request that read an older generation than the cache's just skips the cache.)
    if (*generation == generation_) {
      if (auto it = cache_.find(key); it != cache_.end()) {
        if (now < it->second.first) return it->second.second;
        cache_.erase(it);
      }
    }
  }
  auto r = lookup_uncached(**registry, key);
  if (r && ttl_.count() > 0) {
    std::lock_guard lock(mu_);
    // Only under the generation read before the lookup: a change committed meanwhile has
    // moved generation_ on, and what we read may predate it.
    if (*generation == generation_) {
      if (cache_.size() > 10000) cache_.clear();  // bound memory against key-guessing floods
      cache_.insert_or_assign(std::string(key), std::make_pair(now + ttl_, *r));
    }
  }
  return r;
}

Result<KeyIdentity> RegistryKeyStore::lookup_uncached(registry::Registry& registry,
                                                      std::string_view key) {
  auto cred = registry.key_credentials(key);
  if (!cred) return cred.error();
  KeyIdentity id;
  id.key = cred->key;
  id.label = cred->label;
  id.secrets = cred->secrets;
  id.reports_access = cred->kind == registry::KeyKind::kApi && cred->org_id.has_value();
  if (!cred->org_id) return id;
  auto rec = registry.org_record(*cred->org_id);
  if (!rec) return rec.error();
  id.org_id = static_cast<uint32_t>(rec->org.id);
  id.org_short_name = rec->org.short_name;
  for (const auto& r : rec->resources) {
    if (r.approval == registry::Approval::kRejected) continue;
    const char* f = nullptr;
    switch (r.kind) {
      case registry::ResourceKind::kAsn: f = "asn"; break;
      case registry::ResourceKind::kCidr: f = "ip"; break;
      case registry::ResourceKind::kCountry: f = "geo"; break;
      case registry::ResourceKind::kDomain: f = "domain"; break;
    }
    if (f &&
        std::find(id.filter_fields.begin(), id.filter_fields.end(), f) == id.filter_fields.end())
      id.filter_fields.emplace_back(f);
  }
  return id;
}

Result<std::shared_ptr<RegistryKeyStore>> open_registry_key_store(const std::string& data_dir) {
  RegistryKeyStore::Opener open = [data_dir]() -> Result<std::unique_ptr<registry::Registry>> {
    auto r = registry::SqliteRegistry::open_in_data_dir(data_dir);
    if (!r) return r.error();
    return std::unique_ptr<registry::Registry>(std::move(*r));
  };
  auto first = open();  // fails early (bad directory, newer schema) instead of per request
  if (!first) return first.error();
  return std::make_shared<RegistryKeyStore>(std::move(*first), std::chrono::milliseconds(2000),
                                            open);
}

void MemoryKeyStore::add(KeyIdentity identity) {
  std::lock_guard lock(mu_);
  std::string k = identity.key;
  keys_[k] = std::move(identity);
}

Result<KeyIdentity> MemoryKeyStore::lookup(std::string_view key) {
  std::lock_guard lock(mu_);
  auto it = keys_.find(key);
  if (it == keys_.end()) return Error::not_found("unknown key");
  return it->second;
}

}  // namespace vantage::api

#include "api/key_store.h"

#include <algorithm>

namespace vantage::api {

Result<KeyIdentity> RegistryKeyStore::lookup(std::string_view key) {
  std::lock_guard lock(mu_);
  auto now = std::chrono::steady_clock::now();
  if (auto it = cache_.find(key); it != cache_.end()) {
    if (now < it->second.first) return it->second.second;
    cache_.erase(it);
  }
  auto r = lookup_uncached(key);
  if (r && ttl_.count() > 0) {
    if (cache_.size() > 10000) cache_.clear();  // bound memory against key-guessing floods
    cache_.emplace(std::string(key), std::make_pair(now + ttl_, *r));
  }
  return r;
}

Result<KeyIdentity> RegistryKeyStore::lookup_uncached(std::string_view key) {
  auto cred = registry_->key_credentials(key);
  if (!cred) return cred.error();
  KeyIdentity id;
  id.key = cred->key;
  id.label = cred->label;
  id.secrets = cred->secrets;
  id.reports_access = cred->kind == registry::KeyKind::kApi && cred->org_id.has_value();
  if (!cred->org_id) return id;
  auto rec = registry_->org_record(*cred->org_id);
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

#include "sensors/scanner/probes/ssl/trust.h"

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include <map>
#include <memory>
#include <mutex>

namespace vantage::scanner {
namespace {

struct StoreFree {
  void operator()(X509_STORE* s) const { X509_STORE_free(s); }
};

}  // namespace

Result<X509_STORE*> trust_store(const std::string& ca_file) {
  static std::mutex mu;
  static std::map<std::string, std::unique_ptr<X509_STORE, StoreFree>> stores;
  std::lock_guard lk(mu);
  if (auto it = stores.find(ca_file); it != stores.end()) return it->second.get();
  std::unique_ptr<X509_STORE, StoreFree> store(X509_STORE_new());
  if (!store) return Error::internal("X509_STORE_new failed");
  bool ok;
  if (ca_file.empty()) {
    // The hashed directory Debian's ca-certificates maintains, else OpenSSL's defaults.
    ok = X509_STORE_load_path(store.get(), "/etc/ssl/certs") == 1 ||
         X509_STORE_set_default_paths(store.get()) == 1;
  } else {
    ok = X509_STORE_load_file(store.get(), ca_file.c_str()) == 1;
  }
  ERR_clear_error();
  if (!ok)
    return Error::io("cannot load trusted certificates from " +
                     (ca_file.empty() ? std::string("/etc/ssl/certs") : ca_file));
  X509_STORE* raw = store.get();
  stores.emplace(ca_file, std::move(store));
  return raw;
}

std::string policy_validation_level(X509* cert) {
  auto* policies = static_cast<CERTIFICATEPOLICIES*>(
      X509_get_ext_d2i(cert, NID_certificate_policies, nullptr, nullptr));
  if (!policies) return {};
  std::string level;
  int rank = 0;
  for (int i = 0; i < sk_POLICYINFO_num(policies); ++i) {
    const POLICYINFO* info = sk_POLICYINFO_value(policies, i);
    char oid[80];
    if (OBJ_obj2txt(oid, sizeof oid, info->policyid, 1) <= 0) continue;
    const std::string id(oid);
    // The strongest level named wins.
    const std::pair<const char*, std::pair<const char*, int>> map[] = {
        {"2.23.140.1.1", {"EV", 4}},
        {"2.23.140.1.2.2", {"OV", 3}},
        {"2.23.140.1.2.3", {"IV", 2}},
        {"2.23.140.1.2.1", {"DV", 1}}};
    for (const auto& [want, lv] : map)
      if (id == want && lv.second > rank) {
        level = lv.first;
        rank = lv.second;
      }
  }
  CERTIFICATEPOLICIES_free(policies);
  return level;
}

nlohmann::json trust_fields(X509* leaf, STACK_OF(X509) * chain, X509_STORE* store,
                            const std::string& host, const std::string& ip_text) {
  nlohmann::json f = nlohmann::json::object();
  if (!leaf || !store) return f;
  // Two verifications: OpenSSL checks the name (check_id) before signatures and dates
  // (internal_verify) and stops at the first error, so a name mismatch says nothing about the
  // chain; the chain is judged on its own first.
  auto verify = [&](bool with_name, int* err) {
    X509_STORE_CTX* ctx = X509_STORE_CTX_new();
    if (!ctx) return false;
    bool ok = false;
    if (X509_STORE_CTX_init(ctx, store, leaf, chain) == 1) {
      X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(ctx);
      X509_VERIFY_PARAM_set_purpose(param, X509_PURPOSE_SSL_SERVER);
      if (with_name && !host.empty()) X509_VERIFY_PARAM_set1_host(param, host.c_str(), host.size());
      if (with_name && host.empty()) X509_VERIFY_PARAM_set1_ip_asc(param, ip_text.c_str());
      ok = X509_verify_cert(ctx) == 1;
      *err = X509_STORE_CTX_get_error(ctx);
    }
    X509_STORE_CTX_free(ctx);
    ERR_clear_error();
    return ok;
  };
  int err = X509_V_ERR_UNSPECIFIED;
  const bool chain_ok = verify(false, &err);
  const bool name_ok = chain_ok && verify(true, &err);
  f["cert_valid"] = chain_ok;
  f["browser_trusted"] = name_ok;
  if (!name_ok) f["browser_error"] = X509_verify_cert_error_string(err);
  std::string level = policy_validation_level(leaf);
  if (level.empty()) {
    if (!chain_ok) {
      level = "unknown";
    } else {
      X509_NAME* subject = X509_get_subject_name(leaf);
      level = X509_NAME_get_index_by_NID(subject, NID_organizationName, -1) >= 0 ? "OV" : "DV";
    }
  }
  f["validation_level"] = level;
  return f;
}

}  // namespace vantage::scanner

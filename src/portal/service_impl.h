#pragma once
// PortalService's insides, shared by the files that implement its endpoints:
// portal_service.cc (dispatch, sessions, CSRF, sign-in, account), registration.cc
// (registration, confirmation, the applicant's view, deciding applications), org_portal.cc
// (the organisation portal) and console.cc (the operator console). Not a public header.

#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>

#include "api/connection_pool.h"
#include "portal/audit_log.h"
#include "portal/portal_service.h"
#include "portal/portal_store.h"

namespace vantage::portal {

using nlohmann::json;

// Role bits of an endpoint; 0: anyone, signed in or not.
enum RoleBits : uint8_t {
  kAnyone = 0,
  kApplicantBit = 1,
  kOrgBit = 2,
  kOperatorBit = 4,
  kViewerBit = 8,
  kStaffBits = kOperatorBit | kViewerBit,
  kSignedIn = kApplicantBit | kOrgBit | kOperatorBit | kViewerBit,
};
uint8_t role_bit(Role r);

// One request in flight.
struct Ctx {
  const http::Request& req;
  json body;
  UnixSeconds now = 0;
  PortalStore* store = nullptr;
  std::optional<Account> account;  // signed in
  std::optional<Session> session;
  std::vector<std::string> set_cookies;  // Set-Cookie headers for the answer
};

// A handler's answer: a JSON body with a status, or an error message.
struct Answer {
  unsigned status = 200;
  json body;
  static Answer ok(json b) { return {200, std::move(b)}; }
  static Answer fail(unsigned status, std::string_view message) {
    return {status, json{{"error", message}}};
  }
};
// Maps a registry/store error to an answer (400 for bad input, 404, 409, 503...).
Answer from_error(const Error& e);

struct PortalService::Impl {
  PortalOptions options;
  PortalDeps deps;
  std::string csrf_key;     // derived from the server key
  std::string confirm_key;  // signs confirmation links
  api::ConnectionPool<registry::Registry> registries;
  api::ConnectionPool<PortalStore> stores;
  std::unique_ptr<api::ConnectionPool<remediation::Tracker>> trackers;
  mutable std::mutex url_mu;
  std::string public_url_;  // options.public_url, or the bound address (set_public_url)
  std::string public_url() const {
    std::lock_guard lock(url_mu);
    return public_url_;
  }
  std::mutex pgp_mu;
  std::map<std::string, std::string> fingerprints;  // sha256(key) -> fingerprint (cache)

  using Handler = Answer (Impl::*)(Ctx&);
  struct Endpoint {
    std::string name;
    uint8_t roles;
    Handler fn;
  };
  std::vector<Endpoint> table;

  Impl(PortalOptions o, PortalDeps d);
  UnixSeconds now() const { return deps.clock ? deps.clock() : now_seconds(); }
  http::Response handle(const http::Request& req);
  http::Response session_info(const http::Request& req);
  std::string pre_csrf(std::string_view pre_cookie) const;
  std::vector<std::pair<std::string, std::vector<std::string>>> endpoint_list() const;
  Status audit(Ctx& c, std::string action, std::string target, std::string detail);
  Result<api::ConnectionPool<registry::Registry>::Lease> registry();
  json account_json(const Account& a, Ctx& c);
  Result<std::string> pgp_fingerprint(std::string_view armored);

  // portal_service.cc: sign-in and the account
  Answer login(Ctx& c);
  Answer logout(Ctx& c);
  Answer change_password(Ctx& c);
  Answer totp_begin(Ctx& c);
  Answer totp_confirm(Ctx& c);
  Answer totp_disable(Ctx& c);
  Answer whoami(Ctx& c);
  void start_session(Ctx& c, const Account& a);

  // registration.cc
  Answer do_register(Ctx& c);
  Answer confirm(Ctx& c);
  Answer my_application(Ctx& c);
  Answer reply(Ctx& c);
  Answer check_dns(Ctx& c);
  Result<std::vector<AppResource>> parse_claims(const json& list, bool allow_countries);
  void verify_routing(std::vector<AppResource>& resources);
  Status verify_dns(PortalStore& store, Application& app);
  json application_json(const Application& a, bool staff, Ctx& c);
  Answer decide(Ctx& c, AppStatus decision);
  Answer approve(Ctx& c);
  Answer reject(Ctx& c) { return decide(c, AppStatus::kRejected); }
  Answer ask(Ctx& c) { return decide(c, AppStatus::kNeedsInfo); }
  Answer recheck(Ctx& c);
  Status mail(std::string_view to, std::string_view subject, std::string_view body);

  // org_portal.cc
  Answer org_overview(Ctx& c);
  Answer org_recipient_add(Ctx& c);
  Answer org_recipient_remove(Ctx& c);
  Answer org_pgp_set(Ctx& c);
  Answer org_pgp_clear(Ctx& c);
  Answer org_claim(Ctx& c);
  Answer org_resource_remove(Ctx& c);
  Answer org_opt_out_add(Ctx& c);
  Answer org_opt_out_remove(Ctx& c);
  Answer org_severity(Ctx& c);
  Answer org_key_issue(Ctx& c);
  Answer org_key_rotate(Ctx& c);
  Answer org_key_revoke(Ctx& c);
  Answer org_stats(Ctx& c);
  Answer org_reports(Ctx& c);
  Answer org_deliveries(Ctx& c);
  Answer org_remediation(Ctx& c);
  Answer dashboard_view(Ctx& c, std::string_view method);
  Result<json> org_json(registry::Registry& reg, int64_t org_id, bool staff, Ctx& c);
  Result<bool> org_owns_key(registry::Registry& reg, int64_t org_id, std::string_view key);

  // console.cc
  Answer console_queue(Ctx& c);
  Answer console_application(Ctx& c);
  Answer console_orgs(Ctx& c);
  Answer console_org(Ctx& c);
  Answer console_org_update(Ctx& c);
  Answer console_recipient_add(Ctx& c);
  Answer console_recipient_remove(Ctx& c);
  Answer console_resource_approval(Ctx& c);
  Answer console_resource_remove(Ctx& c);
  Answer console_key_issue(Ctx& c);
  Answer console_key_revoke(Ctx& c);
  Answer console_deliveries(Ctx& c);
  Answer console_audit(Ctx& c);
  Answer console_accounts(Ctx& c);
  Result<json> conflicts_of(registry::Registry& reg, const Application& app, Ctx& c);
};

// Parameter readers for handler bodies. Missing or wrongly typed -> nullopt / Error.
std::optional<std::string> str_param(const json& body, const char* name, size_t max_len = 4096);
std::optional<int64_t> int_param(const json& body, const char* name);
// A string member, or "" when absent or not a string (hostile bodies must not throw).
std::string sval(const json& object, const char* name);
// Text a person typed: trimmed, UTF-8, no control characters (newlines allowed when
// `multiline`), at most `max_len` bytes. Error message names `what`.
Result<std::string> clean_text(std::string_view text, const char* what, size_t max_len,
                               bool multiline = false);

}  // namespace vantage::portal

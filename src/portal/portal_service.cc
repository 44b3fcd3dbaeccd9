#include "portal/portal_service.h"

#include <spdlog/spdlog.h>

#include "api/params.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "portal/request_security.h"
#include "portal/service_impl.h"
#include "portal/totp.h"
#include "registry/validate.h"

namespace vantage::portal {

namespace {

constexpr const char* kSessionCookie = "vantage_session";
constexpr const char* kPreCookie = "vantage_pre";
constexpr size_t kMaxBody = 256 * 1024;

std::string dump(const json& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

http::Response respond(const Answer& a, const std::vector<std::string>& cookies) {
  auto r = http::Response::json(a.status, dump(a.body));
  r.set_header("Cache-Control", "no-store");
  r.set_header("X-Content-Type-Options", "nosniff");
  r.set_header("Referrer-Policy", "no-referrer");
  for (const auto& c : cookies) r.headers.emplace_back("Set-Cookie", c);
  return r;
}

}  // namespace

uint8_t role_bit(Role r) {
  switch (r) {
    case Role::kApplicant: return kApplicantBit;
    case Role::kOrg: return kOrgBit;
    case Role::kOperator: return kOperatorBit;
    case Role::kViewer: return kViewerBit;
  }
  return 0;
}

Answer from_error(const Error& e) {
  switch (e.code) {
    case ErrorCode::kInvalidArgument: return Answer::fail(400, e.message);
    case ErrorCode::kNotFound: return Answer::fail(404, e.message);
    case ErrorCode::kAlreadyExists: return Answer::fail(409, e.message);
    case ErrorCode::kPermissionDenied: return Answer::fail(403, e.message);
    case ErrorCode::kFailedPrecondition: return Answer::fail(409, e.message);
    case ErrorCode::kUnavailable: return Answer::fail(503, e.message);
    default: spdlog::error("portal: {}", e.message); return Answer::fail(500, "internal error");
  }
}

std::optional<std::string> str_param(const json& body, const char* name, size_t max_len) {
  auto it = body.find(name);
  if (it == body.end() || !it->is_string()) return std::nullopt;
  const auto& s = it->get_ref<const std::string&>();
  if (s.size() > max_len) return std::nullopt;
  return s;
}

std::string sval(const json& object, const char* name) {
  if (!object.is_object()) return {};
  auto it = object.find(name);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::optional<int64_t> int_param(const json& body, const char* name) {
  auto it = body.find(name);
  if (it == body.end()) return std::nullopt;
  if (it->is_number_integer()) return it->get<int64_t>();
  if (it->is_string()) return parse_int(it->get_ref<const std::string&>());
  return std::nullopt;
}

Result<std::string> clean_text(std::string_view text, const char* what, size_t max_len,
                               bool multiline) {
  std::string_view t = trim(text);
  if (t.size() > max_len)
    return Error::invalid(std::string(what) + " is too long (at most " + std::to_string(max_len) +
                          " bytes)");
  if (!is_valid_utf8(t)) return Error::invalid(std::string(what) + " is not valid UTF-8");
  for (unsigned char ch : t) {
    bool allowed_break = multiline && (ch == '\n' || ch == '\r' || ch == '\t');
    if ((ch < 0x20 || ch == 0x7f) && !allowed_break)
      return Error::invalid(std::string(what) + " contains control characters");
  }
  return std::string(t);
}

PortalService::Impl::Impl(PortalOptions o, PortalDeps d)
    : options(std::move(o)),
      deps(std::move(d)),
      csrf_key(deps.box->derive_key("vantage portal csrf v1")),
      confirm_key(deps.box->derive_key("vantage portal confirm v1")),
      registries(nullptr, deps.open_registry, 8),
      stores(nullptr, deps.open_store, 8),
      public_url_(options.public_url) {
  if (deps.open_remediation)
    trackers = std::make_unique<api::ConnectionPool<remediation::Tracker>>(
        nullptr, deps.open_remediation, 4);
  // THE endpoint table: every POST endpoint, the roles it admits, its handler.
  const uint8_t org = kOrgBit, op = kOperatorBit, staff = kStaffBits, app = kApplicantBit;
  table = {
      {"register", kAnyone, &Impl::do_register},
      {"confirm", kAnyone, &Impl::confirm},
      {"login", kAnyone, &Impl::login},
      {"logout", kSignedIn, &Impl::logout},
      {"account/whoami", kSignedIn, &Impl::whoami},
      {"account/password", kSignedIn, &Impl::change_password},
      {"account/totp/begin", kSignedIn, &Impl::totp_begin},
      {"account/totp/confirm", kSignedIn, &Impl::totp_confirm},
      {"account/totp/disable", kSignedIn, &Impl::totp_disable},
      {"application", app, &Impl::my_application},
      {"application/reply", app, &Impl::reply},
      {"application/check-dns", app, &Impl::check_dns},
      {"org", org, &Impl::org_overview},
      {"org/recipient/add", org, &Impl::org_recipient_add},
      {"org/recipient/remove", org, &Impl::org_recipient_remove},
      {"org/pgp/set", org, &Impl::org_pgp_set},
      {"org/pgp/clear", org, &Impl::org_pgp_clear},
      {"org/claim", org, &Impl::org_claim},
      {"org/resource/remove", org, &Impl::org_resource_remove},
      {"org/opt-out/add", org, &Impl::org_opt_out_add},
      {"org/opt-out/remove", org, &Impl::org_opt_out_remove},
      {"org/severity", org, &Impl::org_severity},
      {"org/key/issue", org, &Impl::org_key_issue},
      {"org/key/rotate", org, &Impl::org_key_rotate},
      {"org/key/revoke", org, &Impl::org_key_revoke},
      {"org/stats", org, &Impl::org_stats},
      {"org/reports", org, &Impl::org_reports},
      {"org/deliveries", org, &Impl::org_deliveries},
      {"org/remediation", org, &Impl::org_remediation},
      {"console/queue", staff, &Impl::console_queue},
      {"console/application", staff, &Impl::console_application},
      {"console/application/approve", op, &Impl::approve},
      {"console/application/reject", op, &Impl::reject},
      {"console/application/ask", op, &Impl::ask},
      {"console/application/check", op, &Impl::recheck},
      {"console/orgs", staff, &Impl::console_orgs},
      {"console/org", staff, &Impl::console_org},
      {"console/org/update", op, &Impl::console_org_update},
      {"console/org/recipient/add", op, &Impl::console_recipient_add},
      {"console/org/recipient/remove", op, &Impl::console_recipient_remove},
      {"console/org/resource/approval", op, &Impl::console_resource_approval},
      {"console/org/resource/remove", op, &Impl::console_resource_remove},
      {"console/key/issue", op, &Impl::console_key_issue},
      {"console/key/revoke", op, &Impl::console_key_revoke},
      {"console/deliveries", staff, &Impl::console_deliveries},
      {"console/audit", staff, &Impl::console_audit},
      {"console/accounts", staff, &Impl::console_accounts},
  };
}

std::string PortalService::Impl::pre_csrf(std::string_view pre_cookie) const {
  return api::hmac_sha256_hex(csrf_key, "pre\x1f" + std::string(pre_cookie));
}

std::vector<std::pair<std::string, std::vector<std::string>>> PortalService::Impl::endpoint_list()
    const {
  std::vector<std::pair<std::string, std::vector<std::string>>> out;
  for (const auto& e : table) {
    std::vector<std::string> roles;
    if (e.roles == kAnyone) roles.push_back("public");
    for (Role r : {Role::kApplicant, Role::kOrg, Role::kOperator, Role::kViewer})
      if (e.roles & role_bit(r)) roles.push_back(role_name(r));
    out.emplace_back(e.name, std::move(roles));
  }
  return out;
}

Status PortalService::Impl::audit(Ctx& c, std::string action, std::string target,
                                  std::string detail) {
  AuditEntry e;
  e.at = c.now;
  e.actor = c.account ? c.account->login : "-";
  e.role = c.account ? role_name(c.account->role) : "anonymous";
  e.action = std::move(action);
  e.target = std::move(target);
  e.detail = std::move(detail);
  e.remote = c.req.remote;
  auto r = AuditLog(c.store->db()).append(std::move(e));
  if (!r) {
    spdlog::error("portal: audit log append failed: {}", r.error().message);
    return r.error();
  }
  return {};
}

Result<api::ConnectionPool<registry::Registry>::Lease> PortalService::Impl::registry() {
  auto lease = registries.acquire();
  if (!lease) return lease.error();
  if (!*lease) return Error{ErrorCode::kUnavailable, "registry unavailable"};
  return std::move(*lease);
}

json PortalService::Impl::account_json(const Account& a, Ctx& c) {
  json j = {{"login", a.login},
            {"name", a.display_name},
            {"role", role_name(a.role)},
            {"totp", a.totp_enabled}};
  if (a.org_id) {
    j["org_id"] = *a.org_id;
    if (auto reg = registry()) {
      if (auto o = (*reg)->find_org(std::to_string(*a.org_id))) {
        j["org"] = o->short_name;
        j["org_name"] = o->name;
      }
    }
  }
  if (a.application_id) j["application_id"] = *a.application_id;
  (void)c;
  return j;
}

http::Response PortalService::Impl::session_info(const http::Request& req) {
  Ctx c{req, json::object(), now()};
  auto lease = stores.acquire();
  if (!lease || !*lease) return respond(Answer::fail(503, "portal store unavailable"), {});
  c.store = lease->get();
  json out = {{"signed_in", false},
              {"registration_open", options.registration_open},
              {"site", options.site_name}};
  if (auto sid = cookie_value(req, kSessionCookie)) {
    auto s = c.store->session(sha256_hex(*sid));
    if (s && *s && (*s)->expires_at >= c.now && c.now - (*s)->last_seen <= options.session_idle_s) {
      if (auto a = c.store->account((*s)->account_id); a && !a->disabled) {
        out["signed_in"] = true;
        out["csrf"] = (*s)->csrf;
        out["account"] = account_json(*a, c);
        return respond(Answer::ok(out), {});
      }
    }
  }
  // Not signed in: a pre-session cookie binds the token that sign-in and registration need.
  std::string pre = cookie_value(req, kPreCookie).value_or("");
  std::vector<std::string> cookies;
  if (pre.size() != 64) {
    pre = random_token(32);
    cookies.push_back(
        set_cookie({kPreCookie, pre, -1, options.secure_cookies, true, SameSite::kStrict, "/"}));
  }
  out["csrf"] = pre_csrf(pre);
  return respond(Answer::ok(out), cookies);
}

http::Response PortalService::Impl::handle(const http::Request& req) {
  constexpr std::string_view kPrefix = "/portal/api/";
  if (req.path.rfind(kPrefix, 0) != 0) return respond(Answer::fail(404, "unknown endpoint"), {});
  std::string name = req.path.substr(kPrefix.size());
  if (name == "session") {
    if (req.method != "GET") return respond(Answer::fail(405, "use GET"), {});
    return session_info(req);
  }
  if (name == "endpoints") {
    if (req.method != "GET") return respond(Answer::fail(405, "use GET"), {});
    json list = json::array();
    for (const auto& [n, roles] : endpoint_list()) list.push_back({{"name", n}, {"roles", roles}});
    return respond(Answer::ok(json{{"endpoints", list}}), {});
  }
  const Endpoint* ep = nullptr;
  for (const auto& e : table)
    if (e.name == name) ep = &e;
  if (!ep) return respond(Answer::fail(404, "unknown endpoint"), {});
  if (req.method != "POST") {
    auto r = respond(Answer::fail(405, "use POST with a JSON body"), {});
    r.set_header("Allow", "POST");
    return r;
  }
  if (!same_origin(req)) return respond(Answer::fail(403, "cross-site request refused"), {});
  if (req.body.size() > kMaxBody) return respond(Answer::fail(413, "request too large"), {});
  Ctx c{req, json::parse(req.body, nullptr, false), now()};
  if (c.body.is_discarded() || !c.body.is_object())
    return respond(Answer::fail(400, "the body must be a JSON object"), {});
  auto lease = stores.acquire();
  if (!lease || !*lease) return respond(Answer::fail(503, "portal store unavailable"), {});
  c.store = lease->get();

  // Who is asking.
  if (auto sid = cookie_value(req, kSessionCookie)) {
    std::string h = sha256_hex(*sid);
    auto s = c.store->session(h);
    if (!s) return respond(from_error(s.error()), {});
    if (*s) {
      const Session& sess = **s;
      if (sess.expires_at < c.now || c.now - sess.last_seen > options.session_idle_s) {
        (void)c.store->delete_session(h);
      } else if (auto a = c.store->account(sess.account_id); a && !a->disabled) {
        c.session = sess;
        c.account = *a;
        if (c.now - sess.last_seen >= 60) (void)c.store->touch_session(h, c.now);
      }
    }
  }
  // A signed-in endpoint without a live session: sign in first (whatever else is wrong).
  if (ep->roles != kAnyone && !c.account) return respond(Answer::fail(401, "please sign in"), {});
  // CSRF: the session's token, or before sign-in the pre-session's.
  auto token = req.header("x-csrf-token");
  bool csrf_ok = false;
  if (token) {
    if (c.session) {
      csrf_ok = equal_constant_time(*token, c.session->csrf);
    } else if (auto pre = cookie_value(req, kPreCookie); pre && pre->size() == 64) {
      csrf_ok = equal_constant_time(*token, pre_csrf(*pre));
    }
  }
  if (!csrf_ok)
    return respond(Answer::fail(403, "missing or wrong CSRF token (reload the page)"), {});
  if (ep->roles != kAnyone) {
    if ((ep->roles & role_bit(c.account->role)) == 0) {
      (void)audit(c, "refused", name, "role not allowed");
      return respond(Answer::fail(403, "your account may not do this"), {});
    }
  }
  Answer a;
  try {
    a = (this->*(ep->fn))(c);
  } catch (const std::exception& e) {
    spdlog::error("portal: {}: {}", name, e.what());
    a = Answer::fail(500, "internal error");
  }
  return respond(a, c.set_cookies);
}

// ---- sign-in --------------------------------------------------------------------------------

void PortalService::Impl::start_session(Ctx& c, const Account& a) {
  // A session id planted before sign-in (fixation) or left from an earlier one never
  // survives: it is dropped and a fresh id issued.
  if (auto old = cookie_value(c.req, kSessionCookie))
    (void)c.store->delete_session(sha256_hex(*old));
  std::string sid = random_token(32);
  Session s;
  s.id_hash = sha256_hex(sid);
  s.account_id = a.id;
  s.csrf = random_token(32);
  s.created_at = s.last_seen = c.now;
  s.expires_at = c.now + options.session_max_s;
  if (auto st = c.store->create_session(s); !st) return;
  c.session = s;
  c.account = a;
  c.set_cookies.push_back(
      set_cookie({kSessionCookie, sid, -1, options.secure_cookies, true, SameSite::kStrict, "/"}));
  c.set_cookies.push_back(
      set_cookie({kPreCookie, "", 0, options.secure_cookies, true, SameSite::kStrict, "/"}));
}

Answer PortalService::Impl::login(Ctx& c) {
  auto login_text = str_param(c.body, "login", 320);
  auto password = str_param(c.body, "password", 1024);
  if (!login_text || !password || login_text->empty())
    return Answer::fail(400, "sign-in name and password are required");
  std::string login = to_lower(trim(*login_text));
  const std::string login_scope = "login:" + login, ip_scope = "ip:" + c.req.remote;
  const UnixSeconds since = c.now - options.login_window_s;
  for (const auto& [scope, limit] : {std::pair{login_scope, options.login_max_failures},
                                     std::pair{ip_scope, options.login_max_failures_ip}}) {
    auto f = c.store->failures_since(scope, since);
    if (!f) return from_error(f.error());
    if (f->first >= limit) {
      int64_t wait = std::max<int64_t>(1, f->second + options.login_window_s - c.now);
      (void)audit(c, "login.throttled",
                  scope.substr(0, scope.find(':')) == "ip" ? "ip" : "login:" + login,
                  std::to_string(f->first) + " failures in the window");
      Answer a = Answer::fail(
          429, "too many failed sign-ins; try again in " + std::to_string(wait) + " seconds");
      a.body["retry_after"] = wait;
      return a;
    }
  }
  auto failed = [&](std::string why, bool totp = false) {
    (void)c.store->add_failure(login_scope, c.now);
    (void)c.store->add_failure(ip_scope, c.now);
    (void)audit(c, "login.fail", "login:" + login, why);
    Answer a = Answer::fail(
        401, totp ? "wrong or reused one-time code" : "wrong sign-in name or password");
    if (totp) a.body["totp_required"] = true;
    return a;
  };
  auto acct = c.store->account_by_login(login);
  if (!acct) return from_error(acct.error());
  if (!*acct) {
    burn_verification();
    return failed("no such account");
  }
  Account a = **acct;
  if (!verify_password(a.password_hash, *password)) return failed("wrong password");
  if (a.disabled) return Answer::fail(403, "this account is disabled");
  if (a.totp_enabled) {
    auto code = str_param(c.body, "totp", 16);
    if (!code || code->empty()) {
      Answer x = Answer::fail(401, "enter the one-time code from your authenticator app");
      x.body["totp_required"] = true;
      return x;
    }
    auto sealed = c.store->totp_sealed(a.id, false);
    if (!sealed || !*sealed) return Answer::fail(500, "internal error");
    auto secret = deps.box->open(**sealed, "totp:" + std::to_string(a.id));
    if (!secret) return Answer::fail(500, "internal error");
    auto step = totp_accept(*secret, trim(*code), c.now, a.totp_last_step);
    if (!step || !c.store->use_totp_step(a.id, *step).ok()) return failed("wrong TOTP code", true);
  }
  (void)c.store->clear_failures(login_scope);
  start_session(c, a);
  if (!c.session) return Answer::fail(503, "cannot start a session");
  (void)audit(c, "login", "account:" + a.login, "");
  return Answer::ok(json{{"csrf", c.session->csrf}, {"account", account_json(a, c)}});
}

Answer PortalService::Impl::logout(Ctx& c) {
  (void)audit(c, "logout", "account:" + c.account->login, "");
  (void)c.store->delete_session(c.session->id_hash);
  c.set_cookies.push_back(
      set_cookie({kSessionCookie, "", 0, options.secure_cookies, true, SameSite::kStrict, "/"}));
  return Answer::ok(json{{"signed_in", false}});
}

Answer PortalService::Impl::whoami(Ctx& c) {
  return Answer::ok(json{{"account", account_json(*c.account, c)}, {"csrf", c.session->csrf}});
}

Answer PortalService::Impl::change_password(Ctx& c) {
  auto current = str_param(c.body, "current", 1024);
  auto next = str_param(c.body, "new", 1024);
  if (!current || !next) return Answer::fail(400, "current and new password are required");
  if (!verify_password(c.account->password_hash, *current)) {
    (void)audit(c, "account.password.fail", "account:" + c.account->login,
                "wrong current password");
    return Answer::fail(403, "the current password is wrong");
  }
  if (auto st = check_password_policy(*next, c.account->login); !st) return from_error(st.error());
  auto hash = hash_password(*next, options.argon2);
  if (!hash) return from_error(hash.error());
  if (auto st = c.store->set_password_hash(c.account->id, *hash); !st)
    return from_error(st.error());
  // Other sessions (another browser, a thief's) end with the old password.
  (void)c.store->delete_sessions_of(c.account->id, c.session->id_hash);
  (void)audit(c, "account.password", "account:" + c.account->login, "");
  return Answer::ok(json{{"changed", true}});
}

Answer PortalService::Impl::totp_begin(Ctx& c) {
  auto raw = registry::random_bytes(20);
  if (!raw) return from_error(raw.error());
  std::string b32 = base32_encode(*raw);
  auto sealed = deps.box->seal(*raw, "totp:" + std::to_string(c.account->id));
  if (!sealed) return from_error(sealed.error());
  if (auto st = c.store->set_totp_pending(c.account->id, *sealed); !st)
    return from_error(st.error());
  (void)audit(c, "account.totp.begin", "account:" + c.account->login, "");
  return Answer::ok(
      json{{"secret", b32}, {"uri", otpauth_uri(options.site_name, c.account->login, b32)}});
}

Answer PortalService::Impl::totp_confirm(Ctx& c) {
  auto code = str_param(c.body, "code", 16);
  if (!code) return Answer::fail(400, "the code is required");
  auto sealed = c.store->totp_sealed(c.account->id, true);
  if (!sealed) return from_error(sealed.error());
  if (!*sealed) return Answer::fail(409, "start the set-up first");
  auto secret = deps.box->open(**sealed, "totp:" + std::to_string(c.account->id));
  if (!secret) return Answer::fail(500, "internal error");
  auto step = totp_accept(*secret, trim(*code), c.now, 0);
  if (!step) return Answer::fail(400, "that code is not right; check the clock of your device");
  if (auto st = c.store->set_totp(c.account->id, **sealed); !st) return from_error(st.error());
  (void)c.store->use_totp_step(c.account->id, *step);
  (void)audit(c, "account.totp.enable", "account:" + c.account->login, "");
  return Answer::ok(json{{"totp", true}});
}

Answer PortalService::Impl::totp_disable(Ctx& c) {
  auto password = str_param(c.body, "password", 1024);
  if (!password || !verify_password(c.account->password_hash, *password))
    return Answer::fail(403, "the password is wrong");
  if (auto st = c.store->set_totp(c.account->id, std::nullopt); !st) return from_error(st.error());
  (void)audit(c, "account.totp.disable", "account:" + c.account->login, "");
  return Answer::ok(json{{"totp", false}});
}

// ---- the service ----------------------------------------------------------------------------

PortalService::PortalService(PortalOptions options, PortalDeps deps)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(deps))) {}
PortalService::~PortalService() = default;

http::Response PortalService::handle(const http::Request& request) {
  try {
    return impl_->handle(request);
  } catch (const std::exception& e) {
    spdlog::error("portal: {}", e.what());
    return http::Response::json(500, R"({"error":"internal error"})");
  }
}

void PortalService::set_public_url(std::string url) {
  std::lock_guard lock(impl_->url_mu);
  impl_->public_url_ = std::move(url);
}

void PortalService::install(http::HttpServer& server) {
  server.route(
      "*", "/portal/api/", [this](const http::Request& r) { return handle(r); },
      http::RouteMatch::kPrefix);
}

std::vector<std::pair<std::string, std::vector<std::string>>> PortalService::endpoints() const {
  return impl_->endpoint_list();
}

Result<int64_t> add_account(PortalStore& store, std::string_view login, std::string_view name,
                            Role role, std::optional<int64_t> org_id, std::string_view password,
                            const Argon2Params& argon2) {
  if (role == Role::kOrg && !org_id) return Error::invalid("an organisation account needs --org");
  std::string l = to_lower(trim(login));
  if (l.empty() || l.size() > 320 || has_control(l))
    return Error::invalid("a sign-in name of 1 to 320 printable characters is needed");
  if (role == Role::kOrg || role == Role::kApplicant) {
    auto e = registry::normalise_email(l);
    if (!e) return Error::invalid("an organisation's sign-in name is an e-mail address");
    l = to_lower(*e);
  }
  VANTAGE_RETURN_IF_ERROR(check_password_policy(password, l));
  VANTAGE_ASSIGN_OR_RETURN(std::string hash, hash_password(password, argon2));
  Account a;
  a.login = l;
  a.display_name = name.empty() ? l : std::string(name);
  a.role = role;
  a.org_id = org_id;
  a.password_hash = std::move(hash);
  a.created_at = now_seconds();
  VANTAGE_ASSIGN_OR_RETURN(Account made, store.create_account(a));
  AuditEntry e;
  e.at = a.created_at;
  e.actor = "cli";
  e.role = "operator";
  e.action = "account.create";
  e.target = "account:" + made.login;
  e.detail = std::string("role ") + role_name(role) +
             (org_id ? " org " + std::to_string(*org_id) : std::string());
  e.remote = "local";
  VANTAGE_RETURN_IF_ERROR(AuditLog(store.db()).append(e).status());
  return made.id;
}

}  // namespace vantage::portal

#pragma once
// The portal's HTTP surface (docs/portal.md): self-service registration, the organisation
// portal and the operator console, as a JSON API under /portal/api/ that the pages
// register.html, portal.html and console.html (web/) drive.
//
//   GET  /portal/api/session     who is signed in, and the CSRF token for the next requests
//   GET  /portal/api/endpoints   every endpoint with the roles allowed to call it
//   POST /portal/api/<endpoint>  everything else: a JSON object in, a JSON object out
//
// Security model, enforced here for every endpoint (not per handler):
//   * Sessions: a random 256-bit id in the cookie "vantage_session" (Secure, HttpOnly,
//     SameSite=Strict), stored only as its SHA-256; a fresh id at every sign-in (an id planted
//     before sign-in is dropped: no session fixation); idle and absolute expiry.
//   * CSRF: every POST carries X-CSRF-Token -- the session's token, or before sign-in one bound
//     to the pre-session cookie "vantage_pre" -- and, when the browser sends one, an Origin of
//     this host. Cross-site forms can set neither.
//   * Roles: each endpoint names the roles it admits (applicant, org, operator, viewer); an
//     organisation's endpoints take the organisation from the session, never from the request.
//   * Sign-in: Argon2id passwords, optional TOTP, failures counted per sign-in name and per
//     client address over a window; past the limit, 429 without checking the password.
//   * Audit: every change, sign-in and refusal of note is appended to the audit log.
//   * Secrets (passwords, TOTP secrets, API-key secrets, session ids, confirmation links) are
//     never logged and never in an audit entry.
//
// Thread-safety: handle() may be called concurrently; each request borrows its own registry,
// portal-store and remediation connections from pools.

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "api/http/http_server.h"
#include "common/result.h"
#include "core/catalogue.h"
#include "portal/mailer.h"
#include "portal/password.h"
#include "portal/portal_store.h"
#include "registry/registry.h"
#include "registry/secret_box.h"
#include "registry/verification.h"
#include "remediation/tracker.h"
#include "web/dashboard_service.h"

namespace vantage::portal {

struct PortalOptions {
  std::string public_url;  // base of links in mails, "https://vantage.example.org"
  std::string site_name = "Vantage";
  bool registration_open = true;
  Argon2Params argon2;
  int64_t session_idle_s = 3600;
  int64_t session_max_s = 12 * 3600;
  int64_t login_window_s = 900;
  int64_t login_max_failures = 5;      // per sign-in name in the window
  int64_t login_max_failures_ip = 20;  // per client address in the window
  int64_t registrations_per_ip_hour = 10;
  int64_t confirm_ttl_s = 48 * 3600;
  int64_t key_rotation_overlap_s = 86400;
  bool secure_cookies = true;
  int64_t remediation_default_days = 90;
};

struct PortalDeps {
  std::function<Result<std::unique_ptr<registry::Registry>>()> open_registry;
  std::function<Result<std::unique_ptr<PortalStore>>()> open_store;
  std::optional<registry::SecretBox> box;  // required: the server key (seals TOTP secrets)
  std::shared_ptr<Mailer> mailer;
  // The routing data the claims are checked against; null when none is loaded.
  std::function<std::shared_ptr<const registry::RoutingView>()> routing;
  // TXT records of a name (the configured resolver).
  std::function<Result<std::vector<std::string>>(const std::string&)> lookup_txt;
  // Validates an ASCII-armored OpenPGP public key (GPGME), returning its fingerprint.
  std::function<Result<std::string>(std::string_view)> check_pgp_key;
  web::DashboardService* dashboard = nullptr;  // the organisation view's statistics
  std::string delivery_log_path;               // console: delivery failures
  // Remediation reads (null: the portal shows none).
  std::function<Result<std::unique_ptr<remediation::Tracker>>()> open_remediation;
  std::shared_ptr<const core::Catalogue> catalogue;
  std::function<UnixSeconds()> clock;  // tests pin time; default now_seconds
};

class PortalService {
 public:
  PortalService(PortalOptions options, PortalDeps deps);
  ~PortalService();
  PortalService(const PortalService&) = delete;
  PortalService& operator=(const PortalService&) = delete;

  http::Response handle(const http::Request& request);
  void install(http::HttpServer& server);
  // Where the service turned out to listen, when options.public_url was empty (the port may
  // be picked at start). Links in mails use it; never the request's Host header, which a
  // client chooses.
  void set_public_url(std::string url);

  // The endpoint table: name and the roles admitted ("public" for none needed).
  std::vector<std::pair<std::string, std::vector<std::string>>> endpoints() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Creates a staff or organisation account from the command line (`vantage portal user add`).
// `org_id` is required for Role::kOrg. The password is checked against the policy and hashed.
Result<int64_t> add_account(PortalStore& store, std::string_view login, std::string_view name,
                            Role role, std::optional<int64_t> org_id, std::string_view password,
                            const Argon2Params& argon2);

}  // namespace vantage::portal

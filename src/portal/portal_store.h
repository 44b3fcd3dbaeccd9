#pragma once
// The portal's own state in <data_dir>/portal.sqlite: accounts (organisation users, applicants
// and operators), sessions, failed sign-ins, registration and claim applications with their
// resources and messages, and the audit log (audit_log.h, same file).
//
// Organisations, resources, recipients and keys themselves stay in the registry: an application
// is only a request, and nothing an applicant types reaches the registry (so nothing starts
// matching events) before an operator approves it.
//
// Secrets: passwords are stored as Argon2id hashes; TOTP secrets sealed with the server key
// (SecretBox); session ids only as their SHA-256 (a stolen database file holds no usable
// session). Thread-safety: one PortalStore per thread (each owns its SQLite connection); WAL
// lets several processes and threads share the file.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "common/time.h"
#include "registry/model.h"
#include "registry/sqlite/db.h"

namespace vantage::portal {

enum class Role : uint8_t {
  kApplicant,  // registered, waiting for approval: sees only their application
  kOrg,        // an organisation's user: the organisation portal
  kOperator,   // the console: decides applications, edits organisations, keys
  kViewer,     // the console, read-only (audit, queue, delivery failures)
};
const char* role_name(Role r);
std::optional<Role> parse_role(std::string_view s);
inline bool is_staff(Role r) {
  return r == Role::kOperator || r == Role::kViewer;
}

struct Account {
  int64_t id = 0;
  std::string login;  // an e-mail address for organisations, a name for staff
  std::string display_name;
  Role role = Role::kApplicant;
  std::optional<int64_t> org_id;
  std::optional<int64_t> application_id;
  std::string password_hash;
  bool totp_enabled = false;
  int64_t totp_last_step = 0;
  UnixSeconds created_at = 0;
  bool disabled = false;
};

struct Session {
  std::string id_hash;
  int64_t account_id = 0;
  std::string csrf;
  UnixSeconds created_at = 0;
  UnixSeconds last_seen = 0;
  UnixSeconds expires_at = 0;
};

enum class AppKind : uint8_t { kRegistration, kClaim };
enum class AppStatus : uint8_t { kUnconfirmed, kQueued, kNeedsInfo, kApproved, kRejected };
const char* app_kind_name(AppKind k);
const char* app_status_name(AppStatus s);
std::optional<AppStatus> parse_app_status(std::string_view s);

struct AppResource {
  int64_t id = 0;
  registry::ResourceKind kind = registry::ResourceKind::kCidr;
  std::string value;  // canonical (registry/validate.h)
  registry::Verification verification = registry::Verification::kUnchecked;
  std::string detail;
  UnixSeconds checked_at = 0;
  std::string dns_token;  // domains: the TXT value to publish
};

struct AppMessage {
  int64_t id = 0;
  UnixSeconds at = 0;
  std::string author_kind;  // "operator" or "applicant"
  std::string author;
  std::string body;
};

struct Application {
  int64_t id = 0;
  AppKind kind = AppKind::kRegistration;
  AppStatus status = AppStatus::kUnconfirmed;
  std::optional<int64_t> org_id;  // claims: the organisation; registrations: once approved
  registry::Contact applicant;    // name, e-mail, job title, phone
  std::string org_name;
  std::string short_name;  // proposed report name; the operator may change it
  std::optional<std::string> pgp_key;
  std::string report_email;                   // where reports go (a list or alias)
  std::vector<registry::Contact> references;  // contacts that should match WHOIS
  std::string confirm_nonce;                  // cleared once the address is confirmed
  UnixSeconds email_confirmed_at = 0;
  UnixSeconds created_at = 0;
  UnixSeconds updated_at = 0;
  std::string decided_by;
  UnixSeconds decided_at = 0;
  std::vector<AppResource> resources;
  std::vector<AppMessage> messages;
};

class PortalStore {
 public:
  static Result<std::unique_ptr<PortalStore>> open(const std::string& path);
  registry::sqlite::Connection& db() { return *db_; }

  // Accounts. Logins are unique (case-insensitively).
  Result<Account> create_account(const Account& account);
  Result<std::optional<Account>> account_by_login(std::string_view login);
  Result<Account> account(int64_t id);
  Result<std::vector<Account>> accounts();
  Status set_password_hash(int64_t id, std::string_view hash);
  // TOTP: the sealed secret in use and one being enrolled (confirmed by a first code).
  Status set_totp(int64_t id, std::optional<std::string> sealed);
  Status set_totp_pending(int64_t id, std::optional<std::string> sealed);
  Result<std::optional<std::string>> totp_sealed(int64_t id, bool pending);
  // Records the last accepted TOTP step; refuses (kAlreadyExists) a step not after it, so two
  // concurrent sign-ins cannot both spend one code.
  Status use_totp_step(int64_t id, int64_t step);
  Status make_org_account(int64_t id, int64_t org_id);
  Status set_disabled(int64_t id, bool disabled);

  // Sessions, by the SHA-256 of their cookie value.
  Status create_session(const Session& s);
  Result<std::optional<Session>> session(std::string_view id_hash);
  Status touch_session(std::string_view id_hash, UnixSeconds now);
  Status delete_session(std::string_view id_hash);
  // Every session of the account but `keep` (after a password change).
  Status delete_sessions_of(int64_t account_id, std::string_view keep);
  Status purge_sessions(UnixSeconds now);

  // Failed sign-ins, by scope ("login:<name>", "ip:<address>").
  Status add_failure(std::string_view scope, UnixSeconds at);
  // Failures in the scope at or after `since`: how many, and the oldest of them.
  Result<std::pair<int64_t, UnixSeconds>> failures_since(std::string_view scope, UnixSeconds since);
  Status clear_failures(std::string_view scope);

  // Applications.
  Result<int64_t> create_application(const Application& app);
  Result<Application> application(int64_t id);
  // Newest first; `statuses` empty: all.
  Result<std::vector<Application>> applications(const std::vector<AppStatus>& statuses);
  Status set_status(int64_t id, AppStatus status, std::string_view who, UnixSeconds now);
  // Confirms the applicant's address when `nonce` is the application's (once).
  Status confirm_email(int64_t id, std::string_view nonce, UnixSeconds now);
  Status set_org(int64_t id, int64_t org_id);
  Status set_short_name(int64_t id, std::string_view short_name);
  Status set_verification(int64_t resource_id, registry::Verification v, std::string_view detail,
                          UnixSeconds now);
  Status add_message(int64_t app_id, const AppMessage& m);
  // Open applications (unconfirmed, queued, needs_info) other than `except` that ask for the
  // same resource: (application id, organisation name).
  Result<std::vector<std::pair<int64_t, std::string>>> open_claims_of(registry::ResourceKind kind,
                                                                      std::string_view value,
                                                                      int64_t except);

 private:
  explicit PortalStore(std::unique_ptr<registry::sqlite::Connection> db) : db_(std::move(db)) {}
  Status migrate();
  Status load_children(Application& app);
  std::unique_ptr<registry::sqlite::Connection> db_;
};

}  // namespace vantage::portal

#include "portal/portal_store.h"

#include <fcntl.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "common/status_macros.h"
#include "common/strings.h"
#include "portal/audit_log.h"

namespace vantage::portal {

using registry::sqlite::Stmt;

namespace {

constexpr int kSchemaVersion = 1;

constexpr const char* kSchemaV1 = R"sql(
CREATE TABLE accounts(
  id INTEGER PRIMARY KEY,
  login TEXT NOT NULL UNIQUE COLLATE NOCASE,
  display_name TEXT NOT NULL,
  role TEXT NOT NULL,
  org_id INTEGER,
  application_id INTEGER,
  password_hash TEXT NOT NULL,
  totp_sealed BLOB,
  totp_pending_sealed BLOB,
  totp_last_step INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  disabled INTEGER NOT NULL DEFAULT 0);
CREATE TABLE sessions(
  id_hash TEXT PRIMARY KEY,
  account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  csrf TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  last_seen INTEGER NOT NULL,
  expires_at INTEGER NOT NULL);
CREATE TABLE login_failures(scope TEXT NOT NULL, at INTEGER NOT NULL);
CREATE INDEX login_failures_by_scope ON login_failures(scope, at);
CREATE TABLE applications(
  id INTEGER PRIMARY KEY,
  kind TEXT NOT NULL,
  status TEXT NOT NULL,
  org_id INTEGER,
  applicant_name TEXT NOT NULL,
  applicant_email TEXT NOT NULL,
  applicant_title TEXT NOT NULL DEFAULT '',
  applicant_phone TEXT NOT NULL DEFAULT '',
  org_name TEXT NOT NULL,
  short_name TEXT NOT NULL DEFAULT '',
  pgp_key TEXT,
  report_email TEXT NOT NULL DEFAULT '',
  references_json TEXT NOT NULL DEFAULT '[]',
  confirm_nonce TEXT NOT NULL DEFAULT '',
  email_confirmed_at INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  decided_by TEXT NOT NULL DEFAULT '',
  decided_at INTEGER NOT NULL DEFAULT 0);
CREATE TABLE application_resources(
  id INTEGER PRIMARY KEY,
  application_id INTEGER NOT NULL REFERENCES applications(id) ON DELETE CASCADE,
  kind TEXT NOT NULL,
  value TEXT NOT NULL,
  verification TEXT NOT NULL DEFAULT 'unchecked',
  detail TEXT NOT NULL DEFAULT '',
  checked_at INTEGER NOT NULL DEFAULT 0,
  dns_token TEXT NOT NULL DEFAULT '',
  UNIQUE(application_id, kind, value));
CREATE INDEX application_resources_by_value ON application_resources(kind, value);
CREATE TABLE messages(
  id INTEGER PRIMARY KEY,
  application_id INTEGER NOT NULL REFERENCES applications(id) ON DELETE CASCADE,
  at INTEGER NOT NULL,
  author_kind TEXT NOT NULL,
  author TEXT NOT NULL,
  body TEXT NOT NULL);
)sql";

constexpr const char* kAccountColumns =
    "id, login, display_name, role, org_id, application_id, password_hash, totp_sealed IS NOT "
    "NULL, totp_last_step, created_at, disabled";

Account read_account(const Stmt& s) {
  Account a;
  a.id = s.i64(0);
  a.login = s.str(1);
  a.display_name = s.str(2);
  a.role = parse_role(s.str(3)).value_or(Role::kApplicant);
  if (!s.is_null(4)) a.org_id = s.i64(4);
  if (!s.is_null(5)) a.application_id = s.i64(5);
  a.password_hash = s.str(6);
  a.totp_enabled = s.i64(7) != 0;
  a.totp_last_step = s.i64(8);
  a.created_at = s.i64(9);
  a.disabled = s.i64(10) != 0;
  return a;
}

constexpr const char* kAppColumns =
    "id, kind, status, org_id, applicant_name, applicant_email, applicant_title, "
    "applicant_phone, org_name, short_name, pgp_key, report_email, references_json, "
    "confirm_nonce, email_confirmed_at, created_at, updated_at, decided_by, decided_at";

Application read_app(const Stmt& s) {
  Application a;
  a.id = s.i64(0);
  a.kind = s.str(1) == "claim" ? AppKind::kClaim : AppKind::kRegistration;
  a.status = parse_app_status(s.str(2)).value_or(AppStatus::kQueued);
  if (!s.is_null(3)) a.org_id = s.i64(3);
  a.applicant = {0, s.str(4), s.str(5), s.str(6), s.str(7)};
  a.org_name = s.str(8);
  a.short_name = s.str(9);
  if (!s.is_null(10)) a.pgp_key = s.str(10);
  a.report_email = s.str(11);
  auto refs = nlohmann::json::parse(s.str(12), nullptr, false);
  if (refs.is_array()) {
    for (const auto& r : refs) {
      if (!r.is_object()) continue;
      a.references.push_back({0, r.value("name", ""), r.value("email", ""), r.value("title", ""),
                              r.value("phone", "")});
    }
  }
  a.confirm_nonce = s.str(13);
  a.email_confirmed_at = s.i64(14);
  a.created_at = s.i64(15);
  a.updated_at = s.i64(16);
  a.decided_by = s.str(17);
  a.decided_at = s.i64(18);
  return a;
}

}  // namespace

const char* role_name(Role r) {
  switch (r) {
    case Role::kApplicant: return "applicant";
    case Role::kOrg: return "org";
    case Role::kOperator: return "operator";
    case Role::kViewer: return "viewer";
  }
  return "applicant";
}

std::optional<Role> parse_role(std::string_view s) {
  if (s == "applicant") return Role::kApplicant;
  if (s == "org") return Role::kOrg;
  if (s == "operator") return Role::kOperator;
  if (s == "viewer") return Role::kViewer;
  return std::nullopt;
}

const char* app_kind_name(AppKind k) {
  return k == AppKind::kClaim ? "claim" : "registration";
}

const char* app_status_name(AppStatus s) {
  switch (s) {
    case AppStatus::kUnconfirmed: return "unconfirmed";
    case AppStatus::kQueued: return "queued";
    case AppStatus::kNeedsInfo: return "needs_info";
    case AppStatus::kApproved: return "approved";
    case AppStatus::kRejected: return "rejected";
  }
  return "queued";
}

std::optional<AppStatus> parse_app_status(std::string_view s) {
  for (auto st : {AppStatus::kUnconfirmed, AppStatus::kQueued, AppStatus::kNeedsInfo,
                  AppStatus::kApproved, AppStatus::kRejected})
    if (s == app_status_name(st)) return st;
  return std::nullopt;
}

Result<std::unique_ptr<PortalStore>> PortalStore::open(const std::string& path) {
  // Password hashes, contact details and sealed TOTP secrets: owner only.
  if (int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600); fd >= 0) ::close(fd);
  VANTAGE_ASSIGN_OR_RETURN(auto conn, registry::sqlite::Connection::open(path));
  std::unique_ptr<PortalStore> s(new PortalStore(std::move(conn)));
  VANTAGE_RETURN_IF_ERROR(s->migrate());
  return s;
}

Status PortalStore::migrate() {
  for (const char* pragma :
       {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL", "PRAGMA foreign_keys=ON"})
    VANTAGE_RETURN_IF_ERROR(db_->exec(pragma));
  return db_->transaction([&]() -> Status {
    VANTAGE_ASSIGN_OR_RETURN(auto s, db_->prepare("PRAGMA user_version"));
    VANTAGE_ASSIGN_OR_RETURN(bool row, s.step());
    int64_t version = row ? s.i64(0) : 0;
    if (version > kSchemaVersion)
      return Error{ErrorCode::kFailedPrecondition,
                   "portal schema version " + std::to_string(version) +
                       " is newer than this binary supports; upgrade vantage"};
    if (version == 0) {
      VANTAGE_RETURN_IF_ERROR(db_->exec(kSchemaV1));
      VANTAGE_RETURN_IF_ERROR(db_->exec(AuditLog::schema()));
      VANTAGE_RETURN_IF_ERROR(db_->exec("PRAGMA user_version=" + std::to_string(kSchemaVersion)));
    }
    return {};
  });
}

// ---- accounts -------------------------------------------------------------------------------

Result<Account> PortalStore::create_account(const Account& in) {
  VANTAGE_ASSIGN_OR_RETURN(
      auto s, db_->prepare("INSERT INTO accounts(login, display_name, role, org_id, "
                           "application_id, password_hash, created_at) VALUES(?,?,?,?,?,?,?)"));
  s.bind(1, in.login).bind(2, in.display_name).bind(3, std::string_view(role_name(in.role)));
  in.org_id ? s.bind(4, *in.org_id) : s.bind_null(4);
  in.application_id ? s.bind(5, *in.application_id) : s.bind_null(5);
  s.bind(6, in.password_hash).bind(7, in.created_at);
  if (auto st = s.run(); !st) {
    if (st.error().code == ErrorCode::kAlreadyExists)
      return Error{ErrorCode::kAlreadyExists, "an account '" + in.login + "' already exists"};
    return st.error();
  }
  Account out = in;
  out.id = db_->last_insert_rowid();
  return out;
}

Result<std::optional<Account>> PortalStore::account_by_login(std::string_view login) {
  VANTAGE_ASSIGN_OR_RETURN(auto s, db_->prepare(std::string("SELECT ") + kAccountColumns +
                                                " FROM accounts WHERE login = ?"));
  s.bind(1, login);
  VANTAGE_ASSIGN_OR_RETURN(bool row, s.step());
  if (!row) return std::optional<Account>();
  return std::optional<Account>(read_account(s));
}

Result<Account> PortalStore::account(int64_t id) {
  VANTAGE_ASSIGN_OR_RETURN(auto s, db_->prepare(std::string("SELECT ") + kAccountColumns +
                                                " FROM accounts WHERE id = ?"));
  s.bind(1, id);
  VANTAGE_ASSIGN_OR_RETURN(bool row, s.step());
  if (!row) return Error::not_found("no such account");
  return read_account(s);
}

Result<std::vector<Account>> PortalStore::accounts() {
  VANTAGE_ASSIGN_OR_RETURN(auto s, db_->prepare(std::string("SELECT ") + kAccountColumns +
                                                " FROM accounts ORDER BY id"));
  std::vector<Account> out;
  while (true) {
    VANTAGE_ASSIGN_OR_RETURN(bool row, s.step());
    if (!row) break;
    out.push_back(read_account(s));
  }
  return out;
}

namespace {
Status expect_one(registry::sqlite::Connection& db, const char* what) {
  if (db.changes() == 0) return Error::not_found(what);
  return {};
}
}  // namespace

Status PortalStore::set_password_hash(int64_t id, std::string_view hash) {
  VANTAGE_ASSIGN_OR_RETURN(auto s, db_->prepare("UPDATE accounts SET password_hash=? WHERE id=?"));
  s.bind(1, hash).bind(2, id);
  VANTAGE_RETURN_IF_ERROR(s.run());
  return expect_one(*db_, "no such account");
}

Status PortalStore::set_totp(int64_t id, std::optional<std::string> sealed) {
  VANTAGE_ASSIGN_OR_RETURN(auto s, db_->prepare("UPDATE accounts SET totp_sealed=?, "
                                                "totp_pending_sealed=NULL WHERE id=?"));
  sealed ? s.bind_blob(1, *sealed) : s.bind_null(1);
  s.bind(2, id);
  VANTAGE_RETURN_IF_ERROR(s.run());
  return expect_one(*db_, "no such account");
}

Status PortalStore::set_totp_pending(int64_t id, std::optional<std::string> sealed) {
  VANTAGE_ASSIGN_OR_RETURN(auto s,
                           db_->prepare("UPDATE accounts SET totp_pending_sealed=? WHERE id=?"));
  sealed ? s.bind_blob(1, *sealed) : s.bind_null(1);
  s.bind(2, id);
  VANTAGE_RETURN_IF_ERROR(s.run());
  return expect_one(*db_, "no such account");
}

Result<std::optional<std::string>> PortalStore::totp_sealed(int64_t id, bool pending) {
  VANTAGE_ASSIGN_OR_RETURN(
      auto s, db_->prepare(pending ? "SELECT totp_pending_sealed FROM accounts WHERE id=?"
                                   : "SELECT totp_sealed FROM accounts WHERE id=?"));
  s.bind(1, id);
  VANTAGE_ASSIGN_OR_RETURN(bool row, s.step());
  if (!row || s.is_null(0)) return std::optional<std::string>();
  return std::optional<std::string>(s.str(0));
}

Status PortalStore::use_totp_step(int64_t id, int64_t step) {
  VANTAGE_ASSIGN_OR_RETURN(auto s, db_->prepare("UPDATE accounts SET totp_last_step=? WHERE id=? "
                                                "AND totp_last_step < ?"));
  s.bind(1, step).bind(2, id).bind(3, step);
  VANTAGE_RETURN_IF_ERROR(s.run());
  if (db_->changes() == 0) return Error{ErrorCode::kAlreadyExists, "code already used"};
  return {};
}

Status PortalStore::make_org_account(int64_t id, int64_t org_id) {
  VANTAGE_ASSIGN_OR_RETURN(auto s,
                           db_->prepare("UPDATE accounts SET role='org', org_id=? WHERE id=?"));
  s.bind(1, org_id).bind(2, id);
  VANTAGE_RETURN_IF_ERROR(s.run());
  return expect_one(*db_, "no such account");
}

Status PortalStore::set_disabled(int64_t id, bool disabled) {
  VANTAGE_ASSIGN_OR_RETURN(auto s, db_->prepare("UPDATE accounts SET disabled=? WHERE id=?"));
  s.bind(1, int64_t{disabled ? 1 : 0}).bind(2, id);
  VANTAGE_RETURN_IF_ERROR(s.run());
  return expect_one(*db_, "no such account");
}

// ---- sessions -------------------------------------------------------------------------------

Status PortalStore::create_session(const Session& x) {
  VANTAGE_ASSIGN_OR_RETURN(auto s, db_->prepare("INSERT INTO sessions(id_hash, account_id, csrf, "
                                                "created_at, last_seen, expires_at) "
                                                "VALUES(?,?,?,?,?,?)"));
  s.bind(1, x.id_hash).bind(2, x.account_id).bind(3, x.csrf).bind(4, x.created_at);
  s.bind(5, x.last_seen).bind(6, x.expires_at);
  return s.run();
}

Result<std::optional<Session>> PortalStore::session(std::string_view id_hash) {
  VANTAGE_ASSIGN_OR_RETURN(auto s, db_->prepare("SELECT id_hash, account_id, csrf, created_at, "
                                                "last_seen, expires_at FROM sessions WHERE "
                                                "id_hash=?"));
  s.bind(1, id_hash);
  VANTAGE_ASSIGN_OR_RETURN(bool row, s.step());
  if (!row) return std::optional<Session>();
  return std::optional<Session>(
      Session{s.str(0), s.i64(1), s.str(2), s.i64(3), s.i64(4), s.i64(5)});
}

Status PortalStore::touch_session(std::string_view id_hash, UnixSeconds now) {
  VANTAGE_ASSIGN_OR_RETURN(auto s, db_->prepare("UPDATE sessions SET last_seen=? WHERE id_hash=?"));
  s.bind(1, now).bind(2, id_hash);
  return s.run();
}

Status PortalStore::delete_session(std::string_view id_hash) {
  VANTAGE_ASSIGN_OR_RETURN(auto s, db_->prepare("DELETE FROM sessions WHERE id_hash=?"));
  s.bind(1, id_hash);
  return s.run();
}

Status PortalStore::delete_sessions_of(int64_t account_id, std::string_view keep) {
  VANTAGE_ASSIGN_OR_RETURN(auto s, db_->prepare("DELETE FROM sessions WHERE account_id=? AND "
                                                "id_hash != ?"));
  s.bind(1, account_id).bind(2, keep);
  return s.run();
}

Status PortalStore::purge_sessions(UnixSeconds now) {
  VANTAGE_ASSIGN_OR_RETURN(auto s, db_->prepare("DELETE FROM sessions WHERE expires_at < ?"));
  s.bind(1, now);
  return s.run();
}

// ---- failed sign-ins ------------------------------------------------------------------------

Status PortalStore::add_failure(std::string_view scope, UnixSeconds at) {
  VANTAGE_ASSIGN_OR_RETURN(auto s,
                           db_->prepare("INSERT INTO login_failures(scope, at) VALUES(?,?)"));
  s.bind(1, scope).bind(2, at);
  return s.run();
}

Result<std::pair<int64_t, UnixSeconds>> PortalStore::failures_since(std::string_view scope,
                                                                    UnixSeconds since) {
  VANTAGE_ASSIGN_OR_RETURN(auto s, db_->prepare("SELECT count(*), coalesce(min(at), 0) FROM "
                                                "login_failures WHERE scope=? AND at >= ?"));
  s.bind(1, scope).bind(2, since);
  VANTAGE_RETURN_IF_ERROR(s.step().status());
  return std::pair<int64_t, UnixSeconds>{s.i64(0), s.i64(1)};
}

Status PortalStore::clear_failures(std::string_view scope) {
  VANTAGE_ASSIGN_OR_RETURN(auto s, db_->prepare("DELETE FROM login_failures WHERE scope=?"));
  s.bind(1, scope);
  return s.run();
}

// ---- applications ---------------------------------------------------------------------------

Result<int64_t> PortalStore::create_application(const Application& a) {
  int64_t id = 0;
  VANTAGE_RETURN_IF_ERROR(db_->transaction([&]() -> Status {
    VANTAGE_ASSIGN_OR_RETURN(
        auto s, db_->prepare("INSERT INTO applications(kind, status, org_id, applicant_name, "
                             "applicant_email, applicant_title, applicant_phone, org_name, "
                             "short_name, pgp_key, report_email, references_json, confirm_nonce, "
                             "email_confirmed_at, created_at, updated_at) "
                             "VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"));
    nlohmann::json refs = nlohmann::json::array();
    for (const auto& r : a.references)
      refs.push_back(
          {{"name", r.name}, {"email", r.email}, {"title", r.title}, {"phone", r.phone}});
    s.bind(1, std::string_view(app_kind_name(a.kind)))
        .bind(2, std::string_view(app_status_name(a.status)));
    a.org_id ? s.bind(3, *a.org_id) : s.bind_null(3);
    s.bind(4, a.applicant.name).bind(5, a.applicant.email).bind(6, a.applicant.title);
    s.bind(7, a.applicant.phone).bind(8, a.org_name).bind(9, a.short_name);
    a.pgp_key ? s.bind(10, *a.pgp_key) : s.bind_null(10);
    s.bind(11, a.report_email).bind(12, refs.dump()).bind(13, a.confirm_nonce);
    s.bind(14, a.email_confirmed_at).bind(15, a.created_at).bind(16, a.updated_at);
    VANTAGE_RETURN_IF_ERROR(s.run());
    id = db_->last_insert_rowid();
    VANTAGE_ASSIGN_OR_RETURN(auto r, db_->prepare("INSERT INTO application_resources("
                                                  "application_id, kind, value, verification, "
                                                  "detail, checked_at, dns_token) "
                                                  "VALUES(?,?,?,?,?,?,?)"));
    for (const auto& res : a.resources) {
      r.reset();
      r.bind(1, id).bind(2, std::string_view(registry::resource_kind_name(res.kind)));
      r.bind(3, res.value).bind(4, std::string_view(registry::verification_name(res.verification)));
      r.bind(5, res.detail).bind(6, res.checked_at).bind(7, res.dns_token);
      VANTAGE_RETURN_IF_ERROR(r.run());
    }
    return {};
  }));
  return id;
}

Status PortalStore::load_children(Application& app) {
  VANTAGE_ASSIGN_OR_RETURN(auto r, db_->prepare("SELECT id, kind, value, verification, detail, "
                                                "checked_at, dns_token FROM "
                                                "application_resources WHERE application_id=? "
                                                "ORDER BY kind, value"));
  r.bind(1, app.id);
  while (true) {
    VANTAGE_ASSIGN_OR_RETURN(bool row, r.step());
    if (!row) break;
    AppResource x;
    x.id = r.i64(0);
    x.kind = registry::parse_resource_kind(r.str(1)).value_or(registry::ResourceKind::kCidr);
    x.value = r.str(2);
    x.verification =
        registry::parse_verification(r.str(3)).value_or(registry::Verification::kUnchecked);
    x.detail = r.str(4);
    x.checked_at = r.i64(5);
    x.dns_token = r.str(6);
    app.resources.push_back(std::move(x));
  }
  VANTAGE_ASSIGN_OR_RETURN(auto m, db_->prepare("SELECT id, at, author_kind, author, body FROM "
                                                "messages WHERE application_id=? ORDER BY id"));
  m.bind(1, app.id);
  while (true) {
    VANTAGE_ASSIGN_OR_RETURN(bool row, m.step());
    if (!row) break;
    app.messages.push_back({m.i64(0), m.i64(1), m.str(2), m.str(3), m.str(4)});
  }
  return {};
}

Result<Application> PortalStore::application(int64_t id) {
  Application app;
  VANTAGE_RETURN_IF_ERROR(db_->read_transaction([&]() -> Status {
    VANTAGE_ASSIGN_OR_RETURN(auto s, db_->prepare(std::string("SELECT ") + kAppColumns +
                                                  " FROM applications WHERE id=?"));
    s.bind(1, id);
    VANTAGE_ASSIGN_OR_RETURN(bool row, s.step());
    if (!row) return Error::not_found("no application " + std::to_string(id));
    app = read_app(s);
    return load_children(app);
  }));
  return app;
}

Result<std::vector<Application>> PortalStore::applications(const std::vector<AppStatus>& statuses) {
  std::vector<Application> out;
  VANTAGE_RETURN_IF_ERROR(db_->read_transaction([&]() -> Status {
    VANTAGE_ASSIGN_OR_RETURN(auto s, db_->prepare(std::string("SELECT ") + kAppColumns +
                                                  " FROM applications ORDER BY id DESC"));
    while (true) {
      VANTAGE_ASSIGN_OR_RETURN(bool row, s.step());
      if (!row) break;
      Application a = read_app(s);
      if (!statuses.empty() &&
          std::find(statuses.begin(), statuses.end(), a.status) == statuses.end())
        continue;
      out.push_back(std::move(a));
    }
    for (auto& a : out) VANTAGE_RETURN_IF_ERROR(load_children(a));
    return {};
  }));
  return out;
}

Status PortalStore::set_status(int64_t id, AppStatus status, std::string_view who,
                               UnixSeconds now) {
  const bool decided = status == AppStatus::kApproved || status == AppStatus::kRejected;
  VANTAGE_ASSIGN_OR_RETURN(auto s, db_->prepare("UPDATE applications SET status=?, updated_at=?, "
                                                "decided_by=CASE WHEN ? THEN ? ELSE decided_by "
                                                "END, decided_at=CASE WHEN ? THEN ? ELSE "
                                                "decided_at END WHERE id=?"));
  s.bind(1, std::string_view(app_status_name(status))).bind(2, now);
  s.bind(3, int64_t{decided}).bind(4, who).bind(5, int64_t{decided}).bind(6, now).bind(7, id);
  VANTAGE_RETURN_IF_ERROR(s.run());
  return expect_one(*db_, "no such application");
}

Status PortalStore::confirm_email(int64_t id, std::string_view nonce, UnixSeconds now) {
  if (nonce.empty()) return Error::invalid("the link is not valid");
  VANTAGE_ASSIGN_OR_RETURN(auto s, db_->prepare("UPDATE applications SET confirm_nonce='', "
                                                "email_confirmed_at=?, updated_at=?, status="
                                                "CASE status WHEN 'unconfirmed' THEN 'queued' "
                                                "ELSE status END WHERE id=? AND confirm_nonce=?"));
  s.bind(1, now).bind(2, now).bind(3, id).bind(4, nonce);
  VANTAGE_RETURN_IF_ERROR(s.run());
  if (db_->changes() == 0)
    return Error{ErrorCode::kFailedPrecondition, "this link was already used or is not valid"};
  return {};
}

Status PortalStore::set_org(int64_t id, int64_t org_id) {
  VANTAGE_ASSIGN_OR_RETURN(auto s, db_->prepare("UPDATE applications SET org_id=? WHERE id=?"));
  s.bind(1, org_id).bind(2, id);
  VANTAGE_RETURN_IF_ERROR(s.run());
  return expect_one(*db_, "no such application");
}

Status PortalStore::set_short_name(int64_t id, std::string_view short_name) {
  VANTAGE_ASSIGN_OR_RETURN(auto s, db_->prepare("UPDATE applications SET short_name=? WHERE id=?"));
  s.bind(1, short_name).bind(2, id);
  VANTAGE_RETURN_IF_ERROR(s.run());
  return expect_one(*db_, "no such application");
}

Status PortalStore::set_verification(int64_t resource_id, registry::Verification v,
                                     std::string_view detail, UnixSeconds now) {
  VANTAGE_ASSIGN_OR_RETURN(auto s, db_->prepare("UPDATE application_resources SET "
                                                "verification=?, detail=?, checked_at=? WHERE "
                                                "id=?"));
  s.bind(1, std::string_view(registry::verification_name(v))).bind(2, detail).bind(3, now);
  s.bind(4, resource_id);
  VANTAGE_RETURN_IF_ERROR(s.run());
  return expect_one(*db_, "no such resource");
}

Status PortalStore::add_message(int64_t app_id, const AppMessage& m) {
  VANTAGE_ASSIGN_OR_RETURN(auto s, db_->prepare("INSERT INTO messages(application_id, at, "
                                                "author_kind, author, body) VALUES(?,?,?,?,?)"));
  s.bind(1, app_id).bind(2, m.at).bind(3, m.author_kind).bind(4, m.author).bind(5, m.body);
  return s.run();
}

Result<std::vector<std::pair<int64_t, std::string>>> PortalStore::open_claims_of(
    registry::ResourceKind kind, std::string_view value, int64_t except) {
  VANTAGE_ASSIGN_OR_RETURN(
      auto s, db_->prepare("SELECT a.id, a.org_name FROM application_resources r JOIN "
                           "applications a ON a.id = r.application_id WHERE r.kind=? AND "
                           "r.value=? AND a.id != ? AND a.status IN ('unconfirmed', 'queued', "
                           "'needs_info') ORDER BY a.id"));
  s.bind(1, std::string_view(registry::resource_kind_name(kind))).bind(2, value).bind(3, except);
  std::vector<std::pair<int64_t, std::string>> out;
  while (true) {
    VANTAGE_ASSIGN_OR_RETURN(bool row, s.step());
    if (!row) break;
    out.emplace_back(s.i64(0), s.str(1));
  }
  return out;
}

}  // namespace vantage::portal

#include "registry/sqlite/sqlite_registry.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <set>
#include <tuple>

#include "common/strings.h"
#include "registry/validate.h"

// Error propagation for the many SQLite steps below (the Abseil RETURN_IF_ERROR idiom).
#define VR_CONCAT_INNER(a, b) a##b
#define VR_CONCAT(a, b) VR_CONCAT_INNER(a, b)
#define VR_RETURN_IF_ERROR(expr) VR_RETURN_IMPL(VR_CONCAT(vr_status_, __COUNTER__), expr)
#define VR_RETURN_IMPL(tmp, expr)      \
  do {                                 \
    auto tmp = (expr);                 \
    if (!tmp.ok()) return tmp.error(); \
  } while (0)
#define VR_ASSIGN_OR_RETURN(lhs, expr) VR_ASSIGN_IMPL(VR_CONCAT(vr_result_, __COUNTER__), lhs, expr)
#define VR_ASSIGN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                   \
  if (!tmp.ok()) return tmp.error();   \
  lhs = std::move(*tmp)

namespace vantage::registry {
namespace {

using sqlite::Stmt;

// Version 1. Later versions append a migration step in SqliteRegistry::migrate().
constexpr const char* kSchemaV1 = R"sql(
CREATE TABLE meta(name TEXT PRIMARY KEY, value INTEGER NOT NULL);
INSERT INTO meta VALUES('generation', 0);
CREATE TABLE orgs(
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  short_name TEXT NOT NULL UNIQUE,
  kind TEXT NOT NULL,
  pgp_key TEXT,
  min_severity TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL);
CREATE TABLE contacts(
  id INTEGER PRIMARY KEY,
  org_id INTEGER NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
  name TEXT NOT NULL, email TEXT NOT NULL,
  title TEXT NOT NULL DEFAULT '', phone TEXT NOT NULL DEFAULT '');
CREATE TABLE recipients(
  org_id INTEGER NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
  email TEXT NOT NULL,
  PRIMARY KEY(org_id, email));
CREATE TABLE resources(
  id INTEGER PRIMARY KEY,
  org_id INTEGER NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
  kind TEXT NOT NULL, value TEXT NOT NULL,
  verification TEXT NOT NULL DEFAULT 'unchecked',
  verification_detail TEXT NOT NULL DEFAULT '',
  checked_at INTEGER NOT NULL DEFAULT 0,
  approval TEXT NOT NULL DEFAULT 'pending',
  dns_token TEXT NOT NULL DEFAULT '',
  created_at INTEGER NOT NULL,
  UNIQUE(org_id, kind, value));
CREATE INDEX resources_by_value ON resources(kind, value);
CREATE TABLE ignores(
  org_id INTEGER NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
  cidr TEXT NOT NULL,
  PRIMARY KEY(org_id, cidr));
CREATE TABLE opt_outs(
  org_id INTEGER NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
  report_type TEXT NOT NULL,
  PRIMARY KEY(org_id, report_type));
CREATE TABLE api_keys(
  id INTEGER PRIMARY KEY,
  key TEXT NOT NULL UNIQUE,
  kind TEXT NOT NULL,
  org_id INTEGER REFERENCES orgs(id) ON DELETE CASCADE,
  label TEXT NOT NULL DEFAULT '',
  created_at INTEGER NOT NULL,
  revoked_at INTEGER NOT NULL DEFAULT 0);
CREATE TABLE api_key_secrets(
  id INTEGER PRIMARY KEY,
  key_id INTEGER NOT NULL REFERENCES api_keys(id) ON DELETE CASCADE,
  sealed BLOB NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL DEFAULT 0);
)sql";

// Version 2: push subscriptions (src/integrations). The secret is sealed with the server key
// and bound to "subscription:<id>" so that it cannot be moved to another row.
constexpr const char* kSchemaV2 = R"sql(
CREATE TABLE subscriptions(
  id INTEGER PRIMARY KEY,
  org_id INTEGER NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  kind TEXT NOT NULL,
  address TEXT NOT NULL,
  options TEXT NOT NULL DEFAULT '{}',
  report_types TEXT NOT NULL DEFAULT '',
  min_severity TEXT NOT NULL,
  batch_window_s INTEGER NOT NULL,
  max_batch INTEGER NOT NULL,
  enabled INTEGER NOT NULL DEFAULT 1,
  sealed_secret BLOB,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  UNIQUE(org_id, name));
)sql";

constexpr const char* kOrgColumns =
    "id, name, short_name, kind, pgp_key, min_severity, created_at, updated_at";

Organisation read_org(const Stmt& s) {
  Organisation o;
  o.id = s.i64(0);
  o.name = s.str(1);
  o.short_name = s.str(2);
  o.kind = parse_org_kind(s.str(3)).value_or(OrgKind::kOrganisation);
  if (!s.is_null(4)) o.pgp_key = s.str(4);
  o.min_severity = parse_severity(s.str(5)).value_or(Severity::kInfo);
  o.created_at = s.i64(6);
  o.updated_at = s.i64(7);
  return o;
}

constexpr const char* kResourceColumns =
    "id, kind, value, verification, verification_detail, checked_at, approval, dns_token, "
    "created_at";

Resource read_resource(const Stmt& s) {
  Resource r;
  r.id = s.i64(0);
  r.kind = parse_resource_kind(s.str(1)).value_or(ResourceKind::kCidr);
  r.value = s.str(2);
  r.verification = parse_verification(s.str(3)).value_or(Verification::kUnchecked);
  r.verification_detail = s.str(4);
  r.checked_at = s.i64(5);
  r.approval = parse_approval(s.str(6)).value_or(Approval::kPending);
  r.dns_token = s.str(7);
  r.created_at = s.i64(8);
  return r;
}

bool is_all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

Status validate_new_org(const NewOrganisation& org) {
  VR_RETURN_IF_ERROR(validate_short_name(org.short_name));
  if (trim(org.name).empty()) return Error::invalid("organisation name must not be empty");
  if (has_control(org.name) || !is_valid_utf8(org.name)) {
    return Error::invalid("organisation name contains control characters or invalid UTF-8");
  }
  if (org.pgp_key) VR_RETURN_IF_ERROR(validate_pgp_key(*org.pgp_key));
  return {};
}

Status validate_contact(Contact& c) {
  if (trim(c.name).empty()) return Error::invalid("contact name must not be empty");
  for (const auto* field : {&c.name, &c.title, &c.phone}) {
    if (has_control(*field) || !is_valid_utf8(*field)) {
      return Error::invalid("contact fields must be UTF-8 without control characters");
    }
  }
  VR_ASSIGN_OR_RETURN(c.email, normalise_email(c.email));
  return {};
}

std::string key_kind_label(const ApiKey& k) {
  return key_kind_name(k.kind);
}

std::string subscription_aad(int64_t id) {
  return "subscription:" + std::to_string(id);
}

std::string join_types(const std::vector<std::string>& types) {
  std::string out;
  for (const auto& t : types) out += (out.empty() ? "" : ",") + t;
  return out;
}

// Report types as given (comma lists allowed), validated, sorted, without duplicates.
Result<std::vector<std::string>> normalise_types(const std::vector<std::string>& in) {
  std::vector<std::string> out;
  for (const auto& item : in) {
    for (auto t : split(item, ',')) {
      t = trim(t);
      if (t.empty()) continue;
      std::string type(t);
      std::replace(type.begin(), type.end(), '-', '_');
      VR_RETURN_IF_ERROR(validate_report_type(type));
      out.push_back(std::move(type));
    }
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

Status check_batching(int64_t window, int64_t max_batch) {
  if (window < 0 || window > 3600)
    return Error::invalid("batch window must be 0..3600 seconds (alerts are due within a minute)");
  if (max_batch < 1 || max_batch > 10000) return Error::invalid("max batch must be 1..10000");
  return {};
}

}  // namespace

Result<std::unique_ptr<SqliteRegistry>> SqliteRegistry::open(const std::string& path,
                                                             SecretBox box) {
  // The file holds contact details and sealed secrets: create it 0600 (SQLite gives the
  // -wal and -shm files the same mode). Only when it does not exist yet (O_EXCL): closing a
  // descriptor of a file drops every POSIX lock this process holds on it, so touching a
  // database that other connections of the process have open would take their locks away --
  // and a CLI process would then take itself for the last user, checkpoint and delete the WAL
  // under them, leaving them reading a stale snapshot for good.
  if (int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600); fd >= 0)
    ::close(fd);
  VR_ASSIGN_OR_RETURN(auto conn, sqlite::Connection::open(path));
  std::unique_ptr<SqliteRegistry> reg(new SqliteRegistry(std::move(conn), std::move(box)));
  VR_RETURN_IF_ERROR(reg->migrate());
  return reg;
}

Result<std::unique_ptr<SqliteRegistry>> SqliteRegistry::open_in_data_dir(
    const std::string& data_dir) {
  VR_ASSIGN_OR_RETURN(auto box, SecretBox::load_or_create(data_dir));
  return open(data_dir + "/registry.sqlite", std::move(box));
}

Status SqliteRegistry::migrate() {
  for (const char* pragma :
       {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL", "PRAGMA foreign_keys=ON"}) {
    VR_RETURN_IF_ERROR(db_->exec(pragma));
  }
  return db_->transaction([&]() -> Status {
    VR_ASSIGN_OR_RETURN(auto s, db_->prepare("PRAGMA user_version"));
    VR_ASSIGN_OR_RETURN(bool row, s.step());
    int64_t version = row ? s.i64(0) : 0;
    if (version > kSchemaVersion) {
      return Error{ErrorCode::kFailedPrecondition,
                   "registry schema version " + std::to_string(version) +
                       " is newer than this binary supports (" + std::to_string(kSchemaVersion) +
                       "); upgrade vantage"};
    }
    if (version == 0) VR_RETURN_IF_ERROR(db_->exec(kSchemaV1));
    if (version < 2) VR_RETURN_IF_ERROR(db_->exec(kSchemaV2));
    if (version != kSchemaVersion) {
      VR_RETURN_IF_ERROR(db_->exec("PRAGMA user_version=" + std::to_string(kSchemaVersion)));
    }
    return {};
  });
}

Status SqliteRegistry::bump_generation() {
  return db_->exec("UPDATE meta SET value = value + 1 WHERE name = 'generation'");
}

Result<uint64_t> SqliteRegistry::generation() {
  if (!generation_stmt_) {
    VR_ASSIGN_OR_RETURN(auto s, db_->prepare("SELECT value FROM meta WHERE name='generation'"));
    generation_stmt_.emplace(std::move(s));
  }
  auto& s = *generation_stmt_;
  auto row = s.step();
  uint64_t value = row && *row ? static_cast<uint64_t>(s.i64(0)) : 0;
  // Reset at once: a statement left mid-result keeps its read transaction, and later calls
  // (outside a transaction) would keep seeing this snapshot instead of new commits.
  s.reset();
  if (!row) return row.error();
  if (!*row) return Error::internal("registry meta table has no generation");
  return value;
}

Result<Organisation> SqliteRegistry::org_by_id(OrgId id) {
  VR_ASSIGN_OR_RETURN(
      auto s, db_->prepare(std::string("SELECT ") + kOrgColumns + " FROM orgs WHERE id = ?"));
  s.bind(1, id);
  VR_ASSIGN_OR_RETURN(bool row, s.step());
  if (!row) return Error::not_found("no organisation with id " + std::to_string(id));
  return read_org(s);
}

Status SqliteRegistry::touch_org(OrgId id) {
  VR_ASSIGN_OR_RETURN(auto s, db_->prepare("UPDATE orgs SET updated_at = ? WHERE id = ?"));
  s.bind(1, now()).bind(2, id);
  VR_RETURN_IF_ERROR(s.run());
  if (db_->changes() == 0) return Error::not_found("no organisation with id " + std::to_string(id));
  return bump_generation();
}

Result<int64_t> SqliteRegistry::insert_org(const Organisation& o) {
  VR_ASSIGN_OR_RETURN(
      auto s, db_->prepare("INSERT INTO orgs(name, short_name, kind, pgp_key, min_severity, "
                           "created_at, updated_at) VALUES(?,?,?,?,?,?,?)"));
  s.bind(1, o.name).bind(2, o.short_name).bind(3, std::string_view(org_kind_name(o.kind)));
  if (o.pgp_key) {
    s.bind(4, *o.pgp_key);
  } else {
    s.bind_null(4);
  }
  s.bind(5, std::string_view(severity_name(o.min_severity)))
      .bind(6, o.created_at)
      .bind(7, o.updated_at);
  if (auto st = s.run(); !st) {
    if (st.error().code == ErrorCode::kAlreadyExists) {
      return Error{ErrorCode::kAlreadyExists,
                   "an organisation with short name '" + o.short_name + "' already exists"};
    }
    return st.error();
  }
  return db_->last_insert_rowid();
}

Result<Organisation> SqliteRegistry::add_org(const NewOrganisation& in) {
  VR_RETURN_IF_ERROR(validate_new_org(in));
  Organisation o;
  o.name = std::string(trim(in.name));
  o.short_name = in.short_name;
  o.kind = in.kind;
  o.pgp_key = in.pgp_key;
  o.min_severity = in.min_severity;
  o.created_at = o.updated_at = now();
  VR_RETURN_IF_ERROR(db_->transaction([&]() -> Status {
    VR_ASSIGN_OR_RETURN(o.id, insert_org(o));
    return bump_generation();
  }));
  return o;
}

Result<Organisation> SqliteRegistry::find_org(std::string_view ref) {
  if (is_all_digits(ref)) {
    auto id = parse_int(ref);
    if (id) {
      auto o = org_by_id(*id);
      if (o || o.error().code != ErrorCode::kNotFound) return o;
    }
  }
  VR_ASSIGN_OR_RETURN(auto s, db_->prepare(std::string("SELECT ") + kOrgColumns +
                                           " FROM orgs WHERE short_name = ?"));
  s.bind(1, ref);
  VR_ASSIGN_OR_RETURN(bool row, s.step());
  if (!row)
    return Error::not_found("no organisation '" + std::string(ref) + "' (id or short name)");
  return read_org(s);
}

Result<std::vector<Organisation>> SqliteRegistry::list_orgs() {
  VR_ASSIGN_OR_RETURN(auto s, db_->prepare(std::string("SELECT ") + kOrgColumns +
                                           " FROM orgs ORDER BY short_name"));
  std::vector<Organisation> out;
  while (true) {
    VR_ASSIGN_OR_RETURN(bool row, s.step());
    if (!row) break;
    out.push_back(read_org(s));
  }
  return out;
}

Result<Organisation> SqliteRegistry::update_org(OrgId id, const OrgUpdate& u) {
  Organisation o;
  VR_RETURN_IF_ERROR(db_->transaction([&]() -> Status {
    VR_ASSIGN_OR_RETURN(o, org_by_id(id));
    if (u.name) o.name = std::string(trim(*u.name));
    if (u.kind) o.kind = *u.kind;
    if (u.min_severity) o.min_severity = *u.min_severity;
    if (u.clear_pgp_key) o.pgp_key.reset();
    if (u.pgp_key) o.pgp_key = *u.pgp_key;
    NewOrganisation check{o.name, o.short_name, o.kind, o.min_severity, o.pgp_key};
    VR_RETURN_IF_ERROR(validate_new_org(check));
    if (o.kind != OrgKind::kNationalCsirt) {
      VR_ASSIGN_OR_RETURN(auto c, db_->prepare("SELECT count(*) FROM resources WHERE org_id = ? "
                                               "AND kind = 'country'"));
      c.bind(1, id);
      VR_RETURN_IF_ERROR(c.step());
      if (c.i64(0) > 0) {
        return Error::invalid("organisation claims countries; only a national CSIRT may");
      }
    }
    o.updated_at = now();
    VR_ASSIGN_OR_RETURN(auto s, db_->prepare("UPDATE orgs SET name=?, kind=?, pgp_key=?, "
                                             "min_severity=?, updated_at=? WHERE id=?"));
    s.bind(1, o.name).bind(2, std::string_view(org_kind_name(o.kind)));
    if (o.pgp_key) {
      s.bind(3, *o.pgp_key);
    } else {
      s.bind_null(3);
    }
    s.bind(4, std::string_view(severity_name(o.min_severity))).bind(5, o.updated_at).bind(6, id);
    VR_RETURN_IF_ERROR(s.run());
    return bump_generation();
  }));
  return o;
}

Status SqliteRegistry::remove_org(OrgId id) {
  return db_->transaction([&]() -> Status {
    VR_ASSIGN_OR_RETURN(auto s, db_->prepare("DELETE FROM orgs WHERE id = ?"));
    s.bind(1, id);
    VR_RETURN_IF_ERROR(s.run());
    if (db_->changes() == 0)
      return Error::not_found("no organisation with id " + std::to_string(id));
    return bump_generation();
  });
}

Result<OrgRecord> SqliteRegistry::org_record(OrgId id) {
  OrgRecord rec;
  VR_RETURN_IF_ERROR(db_->read_transaction([&]() -> Status {
    VR_ASSIGN_OR_RETURN(rec.org, org_by_id(id));
    {
      VR_ASSIGN_OR_RETURN(auto s, db_->prepare("SELECT id, name, email, title, phone FROM "
                                               "contacts WHERE org_id=? ORDER BY id"));
      s.bind(1, id);
      while (true) {
        VR_ASSIGN_OR_RETURN(bool row, s.step());
        if (!row) break;
        rec.contacts.push_back({s.i64(0), s.str(1), s.str(2), s.str(3), s.str(4)});
      }
    }
    {
      VR_ASSIGN_OR_RETURN(auto s, db_->prepare(std::string("SELECT ") + kResourceColumns +
                                               " FROM resources WHERE org_id=? ORDER BY kind, "
                                               "value"));
      s.bind(1, id);
      while (true) {
        VR_ASSIGN_OR_RETURN(bool row, s.step());
        if (!row) break;
        rec.resources.push_back(read_resource(s));
      }
    }
    for (auto [table, column, out] : {std::tuple{"recipients", "email", &rec.recipients},
                                      std::tuple{"ignores", "cidr", &rec.ignores},
                                      std::tuple{"opt_outs", "report_type", &rec.opt_outs}}) {
      VR_ASSIGN_OR_RETURN(auto s, db_->prepare(std::string("SELECT ") + column + " FROM " + table +
                                               " WHERE org_id=? ORDER BY " + column));
      s.bind(1, id);
      while (true) {
        VR_ASSIGN_OR_RETURN(bool row, s.step());
        if (!row) break;
        out->push_back(s.str(0));
      }
    }
    VR_ASSIGN_OR_RETURN(rec.keys, read_keys("k.org_id = ?", id, false));
    return {};
  }));
  return rec;
}

Result<Contact> SqliteRegistry::add_contact(OrgId org, const Contact& in) {
  Contact c = in;
  c.name = std::string(trim(c.name));
  VR_RETURN_IF_ERROR(validate_contact(c));
  VR_RETURN_IF_ERROR(db_->transaction([&]() -> Status {
    VR_ASSIGN_OR_RETURN(auto s, db_->prepare("INSERT INTO contacts(org_id, name, email, title, "
                                             "phone) VALUES(?,?,?,?,?)"));
    s.bind(1, org).bind(2, c.name).bind(3, c.email).bind(4, c.title).bind(5, c.phone);
    VR_RETURN_IF_ERROR(s.run());
    c.id = db_->last_insert_rowid();
    return touch_org(org);
  }));
  return c;
}

Status SqliteRegistry::remove_contact(OrgId org, int64_t contact_id) {
  return db_->transaction([&]() -> Status {
    VR_ASSIGN_OR_RETURN(auto s, db_->prepare("DELETE FROM contacts WHERE org_id=? AND id=?"));
    s.bind(1, org).bind(2, contact_id);
    VR_RETURN_IF_ERROR(s.run());
    if (db_->changes() == 0) return Error::not_found("no such contact");
    return touch_org(org);
  });
}

Result<std::string> SqliteRegistry::add_recipient(OrgId org, std::string_view email) {
  VR_ASSIGN_OR_RETURN(std::string e, normalise_email(email));
  VR_RETURN_IF_ERROR(db_->transaction([&]() -> Status {
    VR_ASSIGN_OR_RETURN(auto s, db_->prepare("INSERT INTO recipients(org_id, email) VALUES(?,?)"));
    s.bind(1, org).bind(2, e);
    if (auto st = s.run(); !st) {
      if (st.error().code == ErrorCode::kAlreadyExists) {
        // Either a duplicate or an unknown org (foreign key); tell them apart.
        VR_RETURN_IF_ERROR(org_by_id(org).status());
        return Error{ErrorCode::kAlreadyExists, "recipient " + e + " is already listed"};
      }
      return st;
    }
    return touch_org(org);
  }));
  return e;
}

Status SqliteRegistry::remove_recipient(OrgId org, std::string_view email) {
  VR_ASSIGN_OR_RETURN(std::string e, normalise_email(email));
  return db_->transaction([&]() -> Status {
    VR_ASSIGN_OR_RETURN(auto s, db_->prepare("DELETE FROM recipients WHERE org_id=? AND email=?"));
    s.bind(1, org).bind(2, e);
    VR_RETURN_IF_ERROR(s.run());
    if (db_->changes() == 0) return Error::not_found("recipient " + e + " is not listed");
    return touch_org(org);
  });
}

Result<std::vector<Claimant>> SqliteRegistry::other_claimants(OrgId org, ResourceKind kind,
                                                              std::string_view canonical) {
  VR_ASSIGN_OR_RETURN(auto s, db_->prepare("SELECT o.id, o.short_name FROM resources r JOIN "
                                           "orgs o ON o.id = r.org_id WHERE r.kind=? AND "
                                           "r.value=? AND r.org_id != ? ORDER BY o.short_name"));
  s.bind(1, std::string_view(resource_kind_name(kind))).bind(2, canonical).bind(3, org);
  std::vector<Claimant> out;
  while (true) {
    VR_ASSIGN_OR_RETURN(bool row, s.step());
    if (!row) break;
    out.push_back({s.i64(0), s.str(1)});
  }
  return out;
}

Result<AddedResource> SqliteRegistry::add_resource(OrgId org, ResourceKind kind,
                                                   std::string_view text) {
  VR_ASSIGN_OR_RETURN(ResourceValue v, normalise_resource(kind, text));
  AddedResource out;
  out.warning = v.warning;
  out.resource.kind = kind;
  out.resource.value = v.value;
  out.resource.created_at = now();
  if (kind == ResourceKind::kDomain) {
    VR_ASSIGN_OR_RETURN(out.resource.dns_token, random_hex(16));
  }
  VR_RETURN_IF_ERROR(db_->transaction([&]() -> Status {
    VR_ASSIGN_OR_RETURN(Organisation o, org_by_id(org));
    if (kind == ResourceKind::kCountry && o.kind != OrgKind::kNationalCsirt) {
      return Error::invalid("only a national CSIRT can claim a country; '" + o.short_name +
                            "' is an " + org_kind_name(o.kind) +
                            " (change it with: vantage org set " + o.short_name +
                            " --kind national_csirt)");
    }
    VR_ASSIGN_OR_RETURN(auto s, db_->prepare("INSERT INTO resources(org_id, kind, value, "
                                             "dns_token, created_at) VALUES(?,?,?,?,?)"));
    s.bind(1, org).bind(2, std::string_view(resource_kind_name(kind))).bind(3, v.value);
    s.bind(4, out.resource.dns_token).bind(5, out.resource.created_at);
    if (auto st = s.run(); !st) {
      if (st.error().code == ErrorCode::kAlreadyExists) {
        return Error{ErrorCode::kAlreadyExists, "'" + o.short_name + "' already claims " +
                                                    resource_kind_name(kind) + " " + v.value};
      }
      return st;
    }
    out.resource.id = db_->last_insert_rowid();
    VR_ASSIGN_OR_RETURN(out.also_claimed_by, other_claimants(org, kind, v.value));
    return touch_org(org);
  }));
  return out;
}

Status SqliteRegistry::remove_resource(OrgId org, ResourceKind kind, std::string_view text) {
  VR_ASSIGN_OR_RETURN(ResourceValue v, normalise_resource(kind, text));
  return db_->transaction([&]() -> Status {
    VR_ASSIGN_OR_RETURN(auto s, db_->prepare("DELETE FROM resources WHERE org_id=? AND kind=? "
                                             "AND value=?"));
    s.bind(1, org).bind(2, std::string_view(resource_kind_name(kind))).bind(3, v.value);
    VR_RETURN_IF_ERROR(s.run());
    if (db_->changes() == 0) {
      return Error::not_found(std::string("organisation does not claim ") +
                              resource_kind_name(kind) + " " + v.value);
    }
    return touch_org(org);
  });
}

Status SqliteRegistry::set_verification(int64_t resource_id, Verification v,
                                        std::string_view detail) {
  return db_->transaction([&]() -> Status {
    VR_ASSIGN_OR_RETURN(auto s, db_->prepare("UPDATE resources SET verification=?, "
                                             "verification_detail=?, checked_at=? WHERE id=?"));
    s.bind(1, std::string_view(verification_name(v))).bind(2, detail).bind(3, now());
    s.bind(4, resource_id);
    VR_RETURN_IF_ERROR(s.run());
    if (db_->changes() == 0)
      return Error::not_found("no resource with id " + std::to_string(resource_id));
    return bump_generation();
  });
}

Status SqliteRegistry::set_approval(int64_t resource_id, Approval a) {
  return db_->transaction([&]() -> Status {
    VR_ASSIGN_OR_RETURN(auto s, db_->prepare("UPDATE resources SET approval=? WHERE id=?"));
    s.bind(1, std::string_view(approval_name(a))).bind(2, resource_id);
    VR_RETURN_IF_ERROR(s.run());
    if (db_->changes() == 0)
      return Error::not_found("no resource with id " + std::to_string(resource_id));
    return bump_generation();
  });
}

Result<std::string> SqliteRegistry::add_ignore(OrgId org, std::string_view cidr) {
  VR_ASSIGN_OR_RETURN(CidrValue c, parse_cidr(cidr));
  std::string canonical = c.prefix.to_string();
  VR_RETURN_IF_ERROR(db_->transaction([&]() -> Status {
    VR_ASSIGN_OR_RETURN(auto s, db_->prepare("INSERT INTO ignores(org_id, cidr) VALUES(?,?)"));
    s.bind(1, org).bind(2, canonical);
    if (auto st = s.run(); !st) {
      if (st.error().code == ErrorCode::kAlreadyExists) {
        VR_RETURN_IF_ERROR(org_by_id(org).status());
        return Error{ErrorCode::kAlreadyExists, canonical + " is already ignored"};
      }
      return st;
    }
    return touch_org(org);
  }));
  return canonical;
}

Status SqliteRegistry::remove_ignore(OrgId org, std::string_view cidr) {
  VR_ASSIGN_OR_RETURN(CidrValue c, parse_cidr(cidr));
  return db_->transaction([&]() -> Status {
    VR_ASSIGN_OR_RETURN(auto s, db_->prepare("DELETE FROM ignores WHERE org_id=? AND cidr=?"));
    s.bind(1, org).bind(2, c.prefix.to_string());
    VR_RETURN_IF_ERROR(s.run());
    if (db_->changes() == 0) return Error::not_found(c.prefix.to_string() + " is not ignored");
    return touch_org(org);
  });
}

Status SqliteRegistry::add_opt_out(OrgId org, std::string_view report_type) {
  VR_RETURN_IF_ERROR(validate_report_type(report_type));
  return db_->transaction([&]() -> Status {
    VR_ASSIGN_OR_RETURN(auto s, db_->prepare("INSERT INTO opt_outs(org_id, report_type) "
                                             "VALUES(?,?)"));
    s.bind(1, org).bind(2, report_type);
    if (auto st = s.run(); !st) {
      if (st.error().code == ErrorCode::kAlreadyExists) {
        VR_RETURN_IF_ERROR(org_by_id(org).status());
        return Error{ErrorCode::kAlreadyExists,
                     "already opted out of '" + std::string(report_type) + "'"};
      }
      return st;
    }
    return touch_org(org);
  });
}

Status SqliteRegistry::remove_opt_out(OrgId org, std::string_view report_type) {
  return db_->transaction([&]() -> Status {
    VR_ASSIGN_OR_RETURN(auto s, db_->prepare("DELETE FROM opt_outs WHERE org_id=? AND "
                                             "report_type=?"));
    s.bind(1, org).bind(2, report_type);
    VR_RETURN_IF_ERROR(s.run());
    if (db_->changes() == 0)
      return Error::not_found("not opted out of '" + std::string(report_type) + "'");
    return touch_org(org);
  });
}

Status SqliteRegistry::insert_key(const ApiKey& k, const std::vector<std::string>& secrets) {
  VR_ASSIGN_OR_RETURN(auto s, db_->prepare("INSERT INTO api_keys(key, kind, org_id, label, "
                                           "created_at, revoked_at) VALUES(?,?,?,?,?,?)"));
  s.bind(1, k.key).bind(2, key_kind_label(k));
  if (k.org_id) {
    s.bind(3, *k.org_id);
  } else {
    s.bind_null(3);
  }
  s.bind(4, k.label).bind(5, k.created_at).bind(6, k.revoked_at);
  VR_RETURN_IF_ERROR(s.run());
  const int64_t key_row = db_->last_insert_rowid();
  for (size_t i = 0; i < secrets.size(); ++i) {
    VR_ASSIGN_OR_RETURN(std::string sealed, box_.seal(secrets[i], k.key));
    VR_ASSIGN_OR_RETURN(auto ins, db_->prepare("INSERT INTO api_key_secrets(key_id, sealed, "
                                               "created_at, expires_at) VALUES(?,?,?,?)"));
    const KeySecret* meta = i < k.secrets.size() ? &k.secrets[i] : nullptr;
    ins.bind(1, key_row).bind_blob(2, sealed).bind(3, meta ? meta->created_at : k.created_at);
    ins.bind(4, meta ? meta->expires_at : 0);
    VR_RETURN_IF_ERROR(ins.run());
  }
  return {};
}

Result<IssuedKey> SqliteRegistry::issue_key(std::optional<OrgId> org, KeyKind kind,
                                            std::string_view label) {
  if (!org && kind == KeyKind::kApi) {
    return Error::invalid("an API key belongs to an organisation; only ingest keys may have none");
  }
  if (has_control(label) || !is_valid_utf8(label)) {
    return Error::invalid("key label must be UTF-8 without control characters");
  }
  IssuedKey out;
  out.kind = kind;
  out.org_id = org;
  VR_ASSIGN_OR_RETURN(out.key, random_hex(12));
  VR_ASSIGN_OR_RETURN(out.secret, random_hex(24));
  ApiKey k;
  k.key = out.key;
  k.kind = kind;
  k.org_id = org;
  k.label = std::string(label);
  k.created_at = now();
  VR_RETURN_IF_ERROR(db_->transaction([&]() -> Status {
    if (org) VR_RETURN_IF_ERROR(org_by_id(*org).status());
    VR_RETURN_IF_ERROR(insert_key(k, {out.secret}));
    return bump_generation();
  }));
  return out;
}

Result<IssuedKey> SqliteRegistry::rotate_key(std::string_view key, int64_t overlap_seconds) {
  if (overlap_seconds < 0) return Error::invalid("overlap must not be negative");
  IssuedKey out;
  VR_ASSIGN_OR_RETURN(out.secret, random_hex(24));
  const UnixSeconds t = now();
  VR_RETURN_IF_ERROR(db_->transaction([&]() -> Status {
    VR_ASSIGN_OR_RETURN(auto s, db_->prepare("SELECT id, kind, org_id, revoked_at FROM api_keys "
                                             "WHERE key = ?"));
    s.bind(1, key);
    VR_ASSIGN_OR_RETURN(bool row, s.step());
    if (!row) return Error::not_found("no API key '" + std::string(key) + "'");
    if (s.i64(3) != 0) return Error{ErrorCode::kFailedPrecondition, "key is revoked"};
    const int64_t key_row = s.i64(0);
    out.key = std::string(key);
    out.kind = parse_key_kind(s.str(1)).value_or(KeyKind::kApi);
    if (!s.is_null(2)) out.org_id = s.i64(2);
    // Old secrets stay valid until t + overlap (never longer than they already were), and
    // secrets whose window has closed are deleted rather than kept around.
    VR_ASSIGN_OR_RETURN(auto exp, db_->prepare("UPDATE api_key_secrets SET expires_at = ?1 WHERE "
                                               "key_id = ?2 AND (expires_at = 0 OR expires_at > "
                                               "?1)"));
    exp.bind(1, t + overlap_seconds).bind(2, key_row);
    VR_RETURN_IF_ERROR(exp.run());
    VR_ASSIGN_OR_RETURN(auto del, db_->prepare("DELETE FROM api_key_secrets WHERE key_id = ? AND "
                                               "expires_at != 0 AND expires_at <= ?"));
    del.bind(1, key_row).bind(2, t);
    VR_RETURN_IF_ERROR(del.run());
    VR_ASSIGN_OR_RETURN(std::string sealed, box_.seal(out.secret, key));
    VR_ASSIGN_OR_RETURN(auto ins, db_->prepare("INSERT INTO api_key_secrets(key_id, sealed, "
                                               "created_at, expires_at) VALUES(?,?,?,0)"));
    ins.bind(1, key_row).bind_blob(2, sealed).bind(3, t);
    VR_RETURN_IF_ERROR(ins.run());
    return bump_generation();
  }));
  return out;
}

Status SqliteRegistry::revoke_key(std::string_view key) {
  return db_->transaction([&]() -> Status {
    VR_ASSIGN_OR_RETURN(auto s, db_->prepare("UPDATE api_keys SET revoked_at = ? WHERE key = ? "
                                             "AND revoked_at = 0"));
    s.bind(1, now()).bind(2, key);
    VR_RETURN_IF_ERROR(s.run());
    if (db_->changes() == 0)
      return Error::not_found("no active API key '" + std::string(key) + "'");
    // A revoked key needs no secret any more: destroy them.
    VR_ASSIGN_OR_RETURN(auto d, db_->prepare("DELETE FROM api_key_secrets WHERE key_id = "
                                             "(SELECT id FROM api_keys WHERE key = ?)"));
    d.bind(1, key);
    VR_RETURN_IF_ERROR(d.run());
    return bump_generation();
  });
}

Result<std::vector<ApiKey>> SqliteRegistry::read_keys(const std::string& where,
                                                      std::optional<OrgId> org, bool with_secrets) {
  VR_ASSIGN_OR_RETURN(auto s, db_->prepare("SELECT k.id, k.key, k.kind, k.org_id, k.label, "
                                           "k.created_at, k.revoked_at FROM api_keys k WHERE " +
                                           where + " ORDER BY k.created_at, k.id"));
  if (org) s.bind(1, *org);
  std::vector<ApiKey> out;
  std::vector<int64_t> rows;
  while (true) {
    VR_ASSIGN_OR_RETURN(bool row, s.step());
    if (!row) break;
    ApiKey k;
    rows.push_back(s.i64(0));
    k.key = s.str(1);
    k.kind = parse_key_kind(s.str(2)).value_or(KeyKind::kApi);
    if (!s.is_null(3)) k.org_id = s.i64(3);
    k.label = s.str(4);
    k.created_at = s.i64(5);
    k.revoked_at = s.i64(6);
    out.push_back(std::move(k));
  }
  const UnixSeconds t = now();
  for (size_t i = 0; i < out.size(); ++i) {
    VR_ASSIGN_OR_RETURN(auto q, db_->prepare("SELECT sealed, created_at, expires_at FROM "
                                             "api_key_secrets WHERE key_id = ? AND (expires_at "
                                             "= 0 OR expires_at > ?) ORDER BY expires_at = 0 "
                                             "DESC, created_at DESC"));
    q.bind(1, rows[i]).bind(2, t);
    while (true) {
      VR_ASSIGN_OR_RETURN(bool row, q.step());
      if (!row) break;
      KeySecret ks;
      ks.created_at = q.i64(1);
      ks.expires_at = q.i64(2);
      if (with_secrets) {
        VR_ASSIGN_OR_RETURN(ks.secret, box_.open(q.str(0), out[i].key));
      }
      out[i].secrets.push_back(std::move(ks));
    }
  }
  return out;
}

Result<std::vector<ApiKey>> SqliteRegistry::list_keys(std::optional<OrgId> org) {
  return read_keys(org ? "k.org_id = ?" : "1", org, false);
}

Result<KeyCredentials> SqliteRegistry::key_credentials(std::string_view key) {
  VR_ASSIGN_OR_RETURN(auto s, db_->prepare("SELECT id FROM api_keys WHERE key = ?"));
  s.bind(1, key);
  VR_ASSIGN_OR_RETURN(bool row, s.step());
  if (!row) return Error::not_found("unknown API key");
  VR_ASSIGN_OR_RETURN(auto keys,
                      read_keys("k.id = " + std::to_string(s.i64(0)), std::nullopt, true));
  if (keys.empty()) return Error::not_found("unknown API key");
  ApiKey& k = keys.front();
  if (k.revoked_at != 0) return Error{ErrorCode::kPermissionDenied, "API key is revoked"};
  KeyCredentials c;
  c.key = k.key;
  c.kind = k.kind;
  c.org_id = k.org_id;
  c.label = k.label;
  for (auto& ks : k.secrets) c.secrets.push_back(std::move(ks.secret));
  return c;
}

Result<RegistrySnapshot> SqliteRegistry::snapshot(bool with_secrets) {
  RegistrySnapshot snap;
  // One read transaction: the snapshot is consistent even while another process writes.
  VR_RETURN_IF_ERROR(db_->read_transaction([&]() -> Status {
    VR_ASSIGN_OR_RETURN(snap, read_snapshot(with_secrets));
    return {};
  }));
  return snap;
}

Result<RegistrySnapshot> SqliteRegistry::read_snapshot(bool with_secrets) {
  RegistrySnapshot snap;
  auto body = [&]() -> Status {
    VR_ASSIGN_OR_RETURN(snap.generation, generation());
    std::map<OrgId, size_t> index;
    {
      VR_ASSIGN_OR_RETURN(auto s, db_->prepare(std::string("SELECT ") + kOrgColumns +
                                               " FROM orgs ORDER BY short_name"));
      while (true) {
        VR_ASSIGN_OR_RETURN(bool row, s.step());
        if (!row) break;
        index[s.i64(0)] = snap.orgs.size();
        snap.orgs.push_back({read_org(s), {}, {}, {}, {}, {}, {}});
      }
    }
    {
      VR_ASSIGN_OR_RETURN(auto s, db_->prepare("SELECT org_id, id, name, email, title, phone FROM "
                                               "contacts ORDER BY id"));
      while (true) {
        VR_ASSIGN_OR_RETURN(bool row, s.step());
        if (!row) break;
        snap.orgs[index[s.i64(0)]].contacts.push_back(
            {s.i64(1), s.str(2), s.str(3), s.str(4), s.str(5)});
      }
    }
    {
      VR_ASSIGN_OR_RETURN(auto s, db_->prepare(std::string("SELECT org_id, ") + kResourceColumns +
                                               " FROM resources ORDER BY org_id, kind, value"));
      while (true) {
        VR_ASSIGN_OR_RETURN(bool row, s.step());
        if (!row) break;
        // read_resource expects its columns from 0; shift by re-selecting through a view
        // would cost a second query, so read the org id and the rest by offset.
        Resource r;
        r.id = s.i64(1);
        r.kind = parse_resource_kind(s.str(2)).value_or(ResourceKind::kCidr);
        r.value = s.str(3);
        r.verification = parse_verification(s.str(4)).value_or(Verification::kUnchecked);
        r.verification_detail = s.str(5);
        r.checked_at = s.i64(6);
        r.approval = parse_approval(s.str(7)).value_or(Approval::kPending);
        r.dns_token = s.str(8);
        r.created_at = s.i64(9);
        snap.orgs[index[s.i64(0)]].resources.push_back(std::move(r));
      }
    }
    using Member = std::vector<std::string> OrgRecord::*;
    for (auto [table, column, member] :
         {std::tuple<const char*, const char*, Member>{"recipients", "email",
                                                       &OrgRecord::recipients},
          std::tuple<const char*, const char*, Member>{"ignores", "cidr", &OrgRecord::ignores},
          std::tuple<const char*, const char*, Member>{"opt_outs", "report_type",
                                                       &OrgRecord::opt_outs}}) {
      VR_ASSIGN_OR_RETURN(auto s, db_->prepare(std::string("SELECT org_id, ") + column + " FROM " +
                                               table + " ORDER BY org_id, " + column));
      while (true) {
        VR_ASSIGN_OR_RETURN(bool row, s.step());
        if (!row) break;
        (snap.orgs[index[s.i64(0)]].*member).push_back(s.str(1));
      }
    }
    VR_ASSIGN_OR_RETURN(auto keys, read_keys("1", std::nullopt, with_secrets));
    for (auto& k : keys) {
      if (k.org_id) {
        snap.orgs[index[*k.org_id]].keys.push_back(std::move(k));
      } else {
        snap.unowned_keys.push_back(std::move(k));
      }
    }
    return {};
  };
  VR_RETURN_IF_ERROR(body());
  return snap;
}

Result<ImportReport> SqliteRegistry::import(const RegistrySnapshot& snap,
                                            const ImportOptions& options) {
  ImportReport report;
  const UnixSeconds t = now();

  // Validate and normalise the whole file before touching the database, so a bad entry
  // deep in the file fails the import with nothing written.
  RegistrySnapshot in = snap;
  std::set<std::string> short_names;
  for (auto& rec : in.orgs) {
    auto& o = rec.org;
    NewOrganisation check{o.name, o.short_name, o.kind, o.min_severity, o.pgp_key};
    if (auto st = validate_new_org(check); !st) {
      return Error::invalid("organisation '" + o.short_name + "': " + st.message());
    }
    if (!short_names.insert(o.short_name).second) {
      return Error::invalid("organisation '" + o.short_name + "' appears twice");
    }
    for (auto& c : rec.contacts) {
      if (auto st = validate_contact(c); !st) {
        return Error::invalid("organisation '" + o.short_name + "': " + st.message());
      }
    }
    std::set<std::pair<ResourceKind, std::string>> seen;
    for (auto& r : rec.resources) {
      auto v = normalise_resource(r.kind, r.value);
      if (!v) return Error::invalid("organisation '" + o.short_name + "': " + v.error().message);
      r.value = v->value;
      if (r.kind == ResourceKind::kCountry && o.kind != OrgKind::kNationalCsirt) {
        return Error::invalid("organisation '" + o.short_name +
                              "' claims a country but is not a national CSIRT");
      }
      if (!seen.emplace(r.kind, r.value).second) {
        return Error::invalid("organisation '" + o.short_name + "' claims " +
                              resource_kind_name(r.kind) + " " + r.value + " twice");
      }
    }
    for (auto& e : rec.recipients) {
      auto n = normalise_email(e);
      if (!n) return Error::invalid("organisation '" + o.short_name + "': " + n.error().message);
      e = *n;
    }
    for (auto& c : rec.ignores) {
      auto p = parse_cidr(c);
      if (!p) return Error::invalid("organisation '" + o.short_name + "': " + p.error().message);
      c = p->prefix.to_string();
    }
    for (auto& type : rec.opt_outs) {
      if (auto st = validate_report_type(type); !st) {
        return Error::invalid("organisation '" + o.short_name + "': " + st.message());
      }
    }
    for (auto* v : {&rec.recipients, &rec.ignores, &rec.opt_outs}) {
      std::sort(v->begin(), v->end());
      v->erase(std::unique(v->begin(), v->end()), v->end());
    }
  }

  VR_RETURN_IF_ERROR(db_->transaction([&]() -> Status {
    VR_ASSIGN_OR_RETURN(RegistrySnapshot current, read_snapshot(false));
    std::map<std::string, const OrgRecord*> existing;
    for (const auto& rec : current.orgs) existing[rec.org.short_name] = &rec;
    std::set<std::string> existing_keys;
    for (const auto& rec : current.orgs) {
      for (const auto& k : rec.keys) existing_keys.insert(k.key);
    }
    for (const auto& k : current.unowned_keys) existing_keys.insert(k.key);

    auto exec_bound = [&](const char* sql, OrgId org, std::string_view a) -> Status {
      VR_ASSIGN_OR_RETURN(auto s, db_->prepare(sql));
      s.bind(1, org).bind(2, a);
      return s.run();
    };

    for (const auto& rec : in.orgs) {
      const auto& o = rec.org;
      auto it = existing.find(o.short_name);
      OrgId id = 0;
      std::vector<std::string> changes;
      bool replace_contacts = false;
      if (it == existing.end()) {
        Organisation n = o;
        n.created_at = o.created_at ? o.created_at : t;
        n.updated_at = t;
        VR_ASSIGN_OR_RETURN(id, insert_org(n));
        ++report.orgs_added;
        report.lines.push_back("added organisation " + o.short_name);
      } else {
        const OrgRecord& cur = *it->second;
        id = cur.org.id;
        if (cur.org.name != o.name || cur.org.kind != o.kind ||
            cur.org.min_severity != o.min_severity || cur.org.pgp_key != o.pgp_key) {
          VR_ASSIGN_OR_RETURN(auto s, db_->prepare("UPDATE orgs SET name=?, kind=?, pgp_key=?, "
                                                   "min_severity=? WHERE id=?"));
          s.bind(1, o.name).bind(2, std::string_view(org_kind_name(o.kind)));
          if (o.pgp_key) {
            s.bind(3, *o.pgp_key);
          } else {
            s.bind_null(3);
          }
          s.bind(4, std::string_view(severity_name(o.min_severity))).bind(5, id);
          VR_RETURN_IF_ERROR(s.run());
          changes.push_back("attributes");
        }
        // Contacts: compared as a list; replaced when different.
        auto contact_tuple = [](const Contact& c) {
          return std::tie(c.name, c.email, c.title, c.phone);
        };
        bool same_contacts = cur.contacts.size() == rec.contacts.size() &&
                             std::equal(cur.contacts.begin(), cur.contacts.end(),
                                        rec.contacts.begin(), [&](const auto& a, const auto& b) {
                                          return contact_tuple(a) == contact_tuple(b);
                                        });
        if (!same_contacts) {
          VR_ASSIGN_OR_RETURN(auto d, db_->prepare("DELETE FROM contacts WHERE org_id=?"));
          d.bind(1, id);
          VR_RETURN_IF_ERROR(d.run());
          changes.push_back("contacts");
          replace_contacts = true;
        }
      }
      const OrgRecord* cur = it == existing.end() ? nullptr : it->second;
      if (!cur || replace_contacts) {
        for (const auto& c : rec.contacts) {
          VR_ASSIGN_OR_RETURN(auto s, db_->prepare("INSERT INTO contacts(org_id, name, email, "
                                                   "title, phone) VALUES(?,?,?,?,?)"));
          s.bind(1, id).bind(2, c.name).bind(3, c.email).bind(4, c.title).bind(5, c.phone);
          VR_RETURN_IF_ERROR(s.run());
        }
      }
      // Set-valued children: apply the difference.
      struct SetSpec {
        const char* what;
        const std::vector<std::string>* want;
        const std::vector<std::string>* have;
        const char* insert_sql;
        const char* delete_sql;
      };
      static const std::vector<std::string> kNone;
      for (const SetSpec& spec :
           {SetSpec{"recipient", &rec.recipients, cur ? &cur->recipients : &kNone,
                    "INSERT INTO recipients(org_id, email) VALUES(?,?)",
                    "DELETE FROM recipients WHERE org_id=? AND email=?"},
            SetSpec{"ignore", &rec.ignores, cur ? &cur->ignores : &kNone,
                    "INSERT INTO ignores(org_id, cidr) VALUES(?,?)",
                    "DELETE FROM ignores WHERE org_id=? AND cidr=?"},
            SetSpec{"opt-out", &rec.opt_outs, cur ? &cur->opt_outs : &kNone,
                    "INSERT INTO opt_outs(org_id, report_type) VALUES(?,?)",
                    "DELETE FROM opt_outs WHERE org_id=? AND report_type=?"}}) {
        std::set<std::string> want(spec.want->begin(), spec.want->end());
        std::set<std::string> have(spec.have->begin(), spec.have->end());
        for (const auto& v : want) {
          if (have.count(v)) continue;
          VR_RETURN_IF_ERROR(exec_bound(spec.insert_sql, id, v));
          if (cur) changes.push_back(std::string("+") + spec.what + " " + v);
        }
        for (const auto& v : have) {
          if (want.count(v)) continue;
          VR_RETURN_IF_ERROR(exec_bound(spec.delete_sql, id, v));
          changes.push_back(std::string("-") + spec.what + " " + v);
        }
      }
      // Resources: keyed by (kind, value); state (verification, approval, token) follows the file.
      std::map<std::pair<ResourceKind, std::string>, const Resource*> have;
      if (cur) {
        for (const auto& r : cur->resources) have[{r.kind, r.value}] = &r;
      }
      std::set<std::pair<ResourceKind, std::string>> want;
      for (const auto& r : rec.resources) {
        want.emplace(r.kind, r.value);
        auto h = have.find({r.kind, r.value});
        if (h == have.end()) {
          VR_ASSIGN_OR_RETURN(auto s, db_->prepare("INSERT INTO resources(org_id, kind, value, "
                                                   "verification, verification_detail, "
                                                   "checked_at, approval, dns_token, created_at) "
                                                   "VALUES(?,?,?,?,?,?,?,?,?)"));
          s.bind(1, id).bind(2, std::string_view(resource_kind_name(r.kind))).bind(3, r.value);
          s.bind(4, std::string_view(verification_name(r.verification)));
          s.bind(5, r.verification_detail).bind(6, r.checked_at);
          s.bind(7, std::string_view(approval_name(r.approval))).bind(8, r.dns_token);
          s.bind(9, r.created_at ? r.created_at : t);
          VR_RETURN_IF_ERROR(s.run());
          if (cur) changes.push_back(std::string("+") + resource_kind_name(r.kind) + " " + r.value);
        } else if (h->second->verification != r.verification || h->second->approval != r.approval ||
                   h->second->verification_detail != r.verification_detail ||
                   h->second->dns_token != r.dns_token) {
          VR_ASSIGN_OR_RETURN(auto s, db_->prepare("UPDATE resources SET verification=?, "
                                                   "verification_detail=?, checked_at=?, "
                                                   "approval=?, dns_token=? WHERE id=?"));
          s.bind(1, std::string_view(verification_name(r.verification)));
          s.bind(2, r.verification_detail).bind(3, r.checked_at);
          s.bind(4, std::string_view(approval_name(r.approval))).bind(5, r.dns_token);
          s.bind(6, h->second->id);
          VR_RETURN_IF_ERROR(s.run());
          changes.push_back(std::string("~") + resource_kind_name(r.kind) + " " + r.value);
        }
      }
      for (const auto& [k, r] : have) {
        if (want.count(k)) continue;
        VR_ASSIGN_OR_RETURN(auto s, db_->prepare("DELETE FROM resources WHERE id=?"));
        s.bind(1, r->id);
        VR_RETURN_IF_ERROR(s.run());
        changes.push_back(std::string("-") + resource_kind_name(k.first) + " " + k.second);
      }
      if (cur) {
        if (changes.empty()) {
          ++report.orgs_unchanged;
        } else {
          ++report.orgs_updated;
          VR_ASSIGN_OR_RETURN(auto s, db_->prepare("UPDATE orgs SET updated_at=? WHERE id=?"));
          s.bind(1, t).bind(2, id);
          VR_RETURN_IF_ERROR(s.run());
          report.lines.push_back("updated " + o.short_name + ": " + join(changes, ", "));
        }
      }
      // Keys.
      for (const auto& k : rec.keys) {
        if (existing_keys.count(k.key)) continue;
        std::vector<std::string> secrets;
        for (const auto& ks : k.secrets) {
          if (!ks.secret.empty()) secrets.push_back(ks.secret);
        }
        if (secrets.empty() && k.revoked_at == 0) {
          ++report.keys_skipped;
          report.lines.push_back("skipped key " + k.key + " of " + o.short_name +
                                 ": the file has no secret for it (export with --with-secrets)");
          continue;
        }
        ApiKey copy = k;
        copy.org_id = id;
        VR_RETURN_IF_ERROR(insert_key(copy, secrets));
        existing_keys.insert(k.key);
        ++report.keys_added;
        report.lines.push_back("added key " + k.key + " for " + o.short_name);
      }
    }
    for (const auto& k : in.unowned_keys) {
      if (existing_keys.count(k.key)) continue;
      std::vector<std::string> secrets;
      for (const auto& ks : k.secrets) {
        if (!ks.secret.empty()) secrets.push_back(ks.secret);
      }
      if (secrets.empty() && k.revoked_at == 0) {
        ++report.keys_skipped;
        report.lines.push_back("skipped ingest key " + k.key + ": the file has no secret for it");
        continue;
      }
      ApiKey copy = k;
      copy.org_id.reset();
      VR_RETURN_IF_ERROR(insert_key(copy, secrets));
      existing_keys.insert(k.key);
      ++report.keys_added;
      report.lines.push_back("added ingest key " + k.key);
    }
    if (options.remove_missing) {
      for (const auto& [name, rec] : existing) {
        if (short_names.count(name)) continue;
        VR_ASSIGN_OR_RETURN(auto s, db_->prepare("DELETE FROM orgs WHERE id=?"));
        s.bind(1, rec->org.id);
        VR_RETURN_IF_ERROR(s.run());
        ++report.orgs_removed;
        report.lines.push_back("removed organisation " + name);
      }
    }
    if (report.orgs_added + report.orgs_updated + report.orgs_removed + report.keys_added > 0) {
      return bump_generation();
    }
    return {};
  }));
  return report;
}

// ---- push subscriptions ----

Result<Subscription> SqliteRegistry::add_subscription(OrgId org, const NewSubscription& in) {
  VR_RETURN_IF_ERROR(validate_subscription_name(in.name));
  Subscription sub;
  sub.org_id = org;
  sub.name = in.name;
  sub.kind = in.kind;
  VR_ASSIGN_OR_RETURN(sub.address, normalise_subscription_address(in.kind, in.address));
  VR_ASSIGN_OR_RETURN(sub.options, normalise_subscription_options(in.options));
  VR_ASSIGN_OR_RETURN(sub.report_types, normalise_types(in.report_types));
  VR_RETURN_IF_ERROR(check_batching(in.batch_window_s, in.max_batch));
  sub.min_severity = in.min_severity;
  sub.batch_window_s = in.batch_window_s;
  sub.max_batch = in.max_batch;
  sub.enabled = in.enabled;
  sub.has_secret = !in.secret.empty();
  sub.created_at = sub.updated_at = now();
  VR_RETURN_IF_ERROR(db_->transaction([&]() -> Status {
    VR_RETURN_IF_ERROR(org_by_id(org).status());
    VR_ASSIGN_OR_RETURN(
        auto s, db_->prepare("INSERT INTO subscriptions(org_id, name, kind, address, options, "
                             "report_types, min_severity, batch_window_s, max_batch, enabled, "
                             "created_at, updated_at) VALUES(?,?,?,?,?,?,?,?,?,?,?,?)"));
    s.bind(1, org)
        .bind(2, sub.name)
        .bind(3, std::string_view(subscription_kind_name(sub.kind)))
        .bind(4, sub.address)
        .bind(5, sub.options)
        .bind(6, join_types(sub.report_types))
        .bind(7, std::string_view(severity_name(sub.min_severity)))
        .bind(8, sub.batch_window_s)
        .bind(9, sub.max_batch)
        .bind(10, sub.enabled ? 1 : 0)
        .bind(11, sub.created_at)
        .bind(12, sub.updated_at);
    if (auto st = s.run(); !st) {
      if (st.error().code == ErrorCode::kAlreadyExists)
        return Error{ErrorCode::kAlreadyExists,
                     "the organisation already has a subscription named '" + sub.name + "'"};
      return st;
    }
    sub.id = db_->last_insert_rowid();
    if (!in.secret.empty()) {
      VR_ASSIGN_OR_RETURN(std::string sealed, box_.seal(in.secret, subscription_aad(sub.id)));
      VR_ASSIGN_OR_RETURN(auto u,
                          db_->prepare("UPDATE subscriptions SET sealed_secret = ? WHERE id = ?"));
      u.bind_blob(1, sealed).bind(2, sub.id);
      VR_RETURN_IF_ERROR(u.run());
    }
    return bump_generation();
  }));
  return sub;
}

Result<Subscription> SqliteRegistry::update_subscription(int64_t id, const SubscriptionUpdate& u) {
  Subscription sub;
  VR_RETURN_IF_ERROR(db_->transaction([&]() -> Status {
    VR_ASSIGN_OR_RETURN(auto found, read_subscriptions("id = ?", id, /*with_secrets=*/false));
    if (found.empty()) return Error::not_found("no subscription with id " + std::to_string(id));
    sub = std::move(found.front());
    if (u.address) {
      VR_ASSIGN_OR_RETURN(sub.address, normalise_subscription_address(sub.kind, *u.address));
    }
    if (u.options) {
      VR_ASSIGN_OR_RETURN(sub.options, normalise_subscription_options(*u.options));
    }
    if (u.report_types) {
      VR_ASSIGN_OR_RETURN(sub.report_types, normalise_types(*u.report_types));
    }
    if (u.min_severity) sub.min_severity = *u.min_severity;
    if (u.batch_window_s) sub.batch_window_s = *u.batch_window_s;
    if (u.max_batch) sub.max_batch = *u.max_batch;
    if (u.enabled) sub.enabled = *u.enabled;
    VR_RETURN_IF_ERROR(check_batching(sub.batch_window_s, sub.max_batch));
    sub.updated_at = now();
    VR_ASSIGN_OR_RETURN(
        auto s, db_->prepare("UPDATE subscriptions SET address = ?, options = ?, report_types = ?, "
                             "min_severity = ?, batch_window_s = ?, max_batch = ?, enabled = ?, "
                             "updated_at = ? WHERE id = ?"));
    s.bind(1, sub.address)
        .bind(2, sub.options)
        .bind(3, join_types(sub.report_types))
        .bind(4, std::string_view(severity_name(sub.min_severity)))
        .bind(5, sub.batch_window_s)
        .bind(6, sub.max_batch)
        .bind(7, sub.enabled ? 1 : 0)
        .bind(8, sub.updated_at)
        .bind(9, id);
    VR_RETURN_IF_ERROR(s.run());
    if (u.secret || u.clear_secret) {
      VR_ASSIGN_OR_RETURN(auto w,
                          db_->prepare("UPDATE subscriptions SET sealed_secret = ? WHERE id = ?"));
      if (u.secret && !u.secret->empty()) {
        VR_ASSIGN_OR_RETURN(std::string sealed, box_.seal(*u.secret, subscription_aad(id)));
        w.bind_blob(1, sealed);
        sub.has_secret = true;
      } else {
        w.bind_null(1);
        sub.has_secret = false;
      }
      w.bind(2, id);
      VR_RETURN_IF_ERROR(w.run());
    }
    return bump_generation();
  }));
  return sub;
}

Status SqliteRegistry::remove_subscription(int64_t id) {
  return db_->transaction([&]() -> Status {
    VR_ASSIGN_OR_RETURN(auto s, db_->prepare("DELETE FROM subscriptions WHERE id = ?"));
    s.bind(1, id);
    VR_RETURN_IF_ERROR(s.run());
    if (db_->changes() == 0)
      return Error::not_found("no subscription with id " + std::to_string(id));
    return bump_generation();
  });
}

Result<std::vector<Subscription>> SqliteRegistry::list_subscriptions(std::optional<OrgId> org,
                                                                     bool with_secrets) {
  std::vector<Subscription> out;
  VR_RETURN_IF_ERROR(db_->read_transaction([&]() -> Status {
    VR_ASSIGN_OR_RETURN(out, org ? read_subscriptions("org_id = ?", *org, with_secrets)
                                 : read_subscriptions("?1 = ?1", 0, with_secrets));
    return {};
  }));
  return out;
}

Result<std::vector<Subscription>> SqliteRegistry::read_subscriptions(const std::string& where,
                                                                     int64_t param,
                                                                     bool with_secrets) {
  VR_ASSIGN_OR_RETURN(
      auto s, db_->prepare("SELECT id, org_id, name, kind, address, options, report_types, "
                           "min_severity, batch_window_s, max_batch, enabled, sealed_secret, "
                           "created_at, updated_at FROM subscriptions WHERE " +
                           where + " ORDER BY id"));
  s.bind(1, param);
  std::vector<Subscription> out;
  while (true) {
    VR_ASSIGN_OR_RETURN(bool row, s.step());
    if (!row) break;
    Subscription sub;
    sub.id = s.i64(0);
    sub.org_id = s.i64(1);
    sub.name = s.str(2);
    sub.kind = parse_subscription_kind(s.str(3)).value_or(SubscriptionKind::kWebhook);
    sub.address = s.str(4);
    sub.options = s.str(5);
    const std::string types = s.str(6);
    for (auto t : split(types, ',')) {
      if (!t.empty()) sub.report_types.emplace_back(t);
    }
    sub.min_severity = parse_severity(s.str(7)).value_or(Severity::kHigh);
    sub.batch_window_s = s.i64(8);
    sub.max_batch = s.i64(9);
    sub.enabled = s.i64(10) != 0;
    sub.has_secret = !s.is_null(11);
    if (with_secrets && sub.has_secret) {
      VR_ASSIGN_OR_RETURN(sub.secret, box_.open(s.str(11), subscription_aad(sub.id)));
    }
    sub.created_at = s.i64(12);
    sub.updated_at = s.i64(13);
    out.push_back(std::move(sub));
  }
  return out;
}

}  // namespace vantage::registry

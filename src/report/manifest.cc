#include "report/manifest.h"

#include <openssl/rand.h>

#include <optional>

#include "store/sqlite/sqlite_db.h"

namespace vantage::report {

using store::Db;
using store::Statement;

struct Manifest::Impl {
  std::unique_ptr<Db> db;
  // Prepared once: the builder writes hundreds of thousands of entries a day.
  std::optional<Statement> find, insert;
};

namespace {

// cache_size: a day's build writes every entry in one transaction, and the index on the random
// download ids takes them at random places; with SQLite's default 2 MB cache the transaction
// spilled pages to the WAL and read them back (about 8% of a 175,000-report build's CPU).
constexpr const char* kSchema = R"sql(
PRAGMA journal_mode=WAL;
PRAGMA synchronous=FULL;
PRAGMA cache_size=-32768;
CREATE TABLE IF NOT EXISTS reports(
  id TEXT PRIMARY KEY, org_id INTEGER NOT NULL, report TEXT NOT NULL, type TEXT NOT NULL,
  day INTEGER NOT NULL, filter TEXT NOT NULL, file_name TEXT NOT NULL, path TEXT NOT NULL,
  size INTEGER NOT NULL, sha256 TEXT NOT NULL, rows INTEGER NOT NULL, created INTEGER NOT NULL,
  pack_offset INTEGER NOT NULL DEFAULT -1,
  UNIQUE(org_id, type, day, filter));
CREATE INDEX IF NOT EXISTS reports_org_day ON reports(org_id, day);
)sql";

constexpr const char* kColumns =
    "id, org_id, report, type, day, filter, file_name, path, size, sha256, rows, created, "
    "pack_offset";

// Manifests written before report packs have no pack_offset column: add it (-1: every old
// entry is a file of its own, read as before). ALTER TABLE ADD COLUMN appends, so old and
// new tables have the same column order.
Status add_pack_offset_column(Db& db) {
  auto st = db.prepare("SELECT 1 FROM pragma_table_info('reports') WHERE name = 'pack_offset'");
  if (!st) return st.error();
  auto has = st->step();
  if (!has) return has.error();
  if (*has) return {};
  return db.exec("ALTER TABLE reports ADD COLUMN pack_offset INTEGER NOT NULL DEFAULT -1");
}

ReportEntry read_entry(const Statement& s) {
  ReportEntry e;
  e.id = std::string(s.text(0));
  e.org_id = static_cast<uint32_t>(s.int64(1));
  e.report = std::string(s.text(2));
  e.type = std::string(s.text(3));
  e.day = static_cast<DayNumber>(s.int64(4));
  e.filter = std::string(s.text(5));
  e.file_name = std::string(s.text(6));
  e.path = std::string(s.text(7));
  e.size = s.int64(8);
  e.sha256 = std::string(s.text(9));
  e.rows = s.int64(10);
  e.created = s.int64(11);
  e.pack_offset = s.int64(12);
  return e;
}

// Every row a statement gives, as entries.
Result<std::vector<ReportEntry>> read_all(Statement& st) {
  std::vector<ReportEntry> out;
  while (true) {
    auto has = st.step();
    if (!has) return has.error();
    if (!*has) break;
    out.push_back(read_entry(st));
  }
  return out;
}

}  // namespace

Manifest::Manifest(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Manifest::~Manifest() = default;

Result<std::unique_ptr<Manifest>> Manifest::open(const std::string& path) {
  auto db = Db::open(path);
  if (!db) return db.error();
  if (auto st = (*db)->exec(kSchema); !st) return st.error();
  if (auto st = add_pack_offset_column(**db); !st) return st.error();
  auto impl = std::make_unique<Impl>();
  impl->db = std::move(*db);
  return std::unique_ptr<Manifest>(new Manifest(std::move(impl)));
}

std::string Manifest::new_id() {
  static const char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  unsigned char bytes[50];
  if (RAND_bytes(bytes, sizeof bytes) != 1) std::abort();  // no randomness: never guess ids
  std::string id(50, 'A');
  for (size_t i = 0; i < 50; ++i) id[i] = kAlphabet[bytes[i] & 63];
  return id;
}

Result<ReportEntry> Manifest::upsert(ReportEntry e) {
  auto all = upsert_all({std::move(e)});
  if (!all) return all.error();
  return std::move(all->front());
}

Result<std::vector<ReportEntry>> Manifest::upsert_all(std::vector<ReportEntry> entries) {
  Db& db = *impl_->db;
  if (!impl_->find) {
    auto find = db.prepare(
        "SELECT id FROM reports WHERE org_id = ? AND type = ? AND day = ? AND filter = ?");
    if (!find) return find.error();
    auto insert = db.prepare(
        "INSERT INTO reports VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT(org_id, type, day, "
        "filter) DO UPDATE SET report = excluded.report, file_name = excluded.file_name, path = "
        "excluded.path, size = excluded.size, sha256 = excluded.sha256, rows = excluded.rows, "
        "created = excluded.created, pack_offset = excluded.pack_offset");
    if (!insert) return insert.error();
    impl_->find = std::move(*find);
    impl_->insert = std::move(*insert);
  }
  UnixSeconds now = now_seconds();
  auto write_all = [&]() -> Status {
    for (auto& e : entries) {
      Statement& find = *impl_->find;
      find.bind(1, e.org_id).bind(2, e.type).bind(3, e.day).bind(4, e.filter);
      auto has = find.step();
      if (!has) return has.error();
      if (*has) {
        e.id = std::string(find.text(0));  // a rebuilt report keeps its download id
      } else if (e.id.empty()) {
        e.id = new_id();
      }
      find.reset();
      if (e.created == 0) e.created = now;
      Statement& st = *impl_->insert;
      st.bind(1, e.id)
          .bind(2, e.org_id)
          .bind(3, e.report)
          .bind(4, e.type)
          .bind(5, e.day)
          .bind(6, e.filter)
          .bind(7, e.file_name)
          .bind(8, e.path)
          .bind(9, e.size)
          .bind(10, e.sha256)
          .bind(11, e.rows)
          .bind(12, e.created)
          .bind(13, e.pack_offset);
      if (auto r = st.run(); !r) return r;
    }
    return {};
  };
  auto written = db.transaction([&] {
    Status st = write_all();
    if (!st) {  // leave the statements reusable before the rollback
      impl_->find->reset();
      impl_->insert->reset();
    }
    return st;
  });
  if (!written) return written.error();
  return entries;
}

Result<std::vector<ReportEntry>> Manifest::list(const ListQuery& q) {
  std::string sql = std::string("SELECT ") + kColumns +
                    " FROM reports WHERE org_id = ? AND day >= ? AND day <= ?";
  if (!q.types.empty()) {
    sql += " AND type IN (";
    for (size_t i = 0; i < q.types.size(); ++i) sql += i ? ",?" : "?";
    sql += ")";
  }
  sql += " ORDER BY day, type, file_name";
  if (q.limit >= 0) sql += " LIMIT " + std::to_string(q.limit);
  auto st = impl_->db->prepare(sql);
  if (!st) return st.error();
  st->bind(1, q.org_id).bind(2, q.first_day).bind(3, q.last_day);
  for (size_t i = 0; i < q.types.size(); ++i) st->bind(static_cast<int>(4 + i), q.types[i]);
  return read_all(*st);
}

Result<std::optional<ReportEntry>> Manifest::find(std::string_view id) {
  auto st = impl_->db->prepare(std::string("SELECT ") + kColumns + " FROM reports WHERE id = ?");
  if (!st) return st.error();
  st->bind(1, id);
  auto has = st->step();
  if (!has) return has.error();
  if (!*has) return std::optional<ReportEntry>();
  return std::optional<ReportEntry>(read_entry(*st));
}

Result<std::vector<ReportEntry>> Manifest::entries_of_day(DayNumber day) {
  auto st = impl_->db->prepare(std::string("SELECT ") + kColumns +
                               " FROM reports WHERE day = ? ORDER BY org_id, type, filter");
  if (!st) return st.error();
  st->bind(1, day);
  return read_all(*st);
}

Result<std::set<std::string>> Manifest::pack_paths_of_day(DayNumber day) {
  auto st =
      impl_->db->prepare("SELECT DISTINCT path FROM reports WHERE day = ? AND pack_offset >= 0");
  if (!st) return st.error();
  st->bind(1, day);
  std::set<std::string> out;
  while (true) {
    auto has = st->step();
    if (!has) return has.error();
    if (!*has) break;
    out.emplace(st->text(0));
  }
  return out;
}

Result<std::optional<Manifest::BuildInfo>> Manifest::latest_build() {
  auto st = impl_->db->prepare(
      "SELECT day, count(*), sum(rows), max(created) FROM reports WHERE day = (SELECT max(day) "
      "FROM reports) GROUP BY day");
  if (!st) return st.error();
  auto has = st->step();
  if (!has) return has.error();
  if (!*has) return std::optional<BuildInfo>();
  return std::optional<BuildInfo>(
      BuildInfo{static_cast<DayNumber>(st->int64(0)), st->int64(1), st->int64(2), st->int64(3)});
}

Result<int64_t> Manifest::drop_before(DayNumber day) {
  auto st = impl_->db->prepare("DELETE FROM reports WHERE day < ?");
  if (!st) return st.error();
  st->bind(1, day);
  if (auto r = st->run(); !r) return r.error();
  return impl_->db->changes();
}

}  // namespace vantage::report

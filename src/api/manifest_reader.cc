#include "api/manifest_reader.h"

#include <sqlite3.h>

#include <algorithm>

namespace vantage::api {

namespace {

// The columns report::Manifest writes (src/report/manifest.cc), in read_entry's order.
constexpr const char* kColumns =
    "id, org_id, report, type, day, filter, file_name, path, size, sha256, rows, created, "
    "pack_offset";

std::string text(sqlite3_stmt* s, int col) {
  const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(s, col));
  return p ? std::string(p, static_cast<size_t>(sqlite3_column_bytes(s, col))) : std::string();
}

report::ReportEntry read_entry(sqlite3_stmt* s) {
  report::ReportEntry e;
  e.id = text(s, 0);
  e.org_id = static_cast<uint32_t>(sqlite3_column_int64(s, 1));
  e.report = text(s, 2);
  e.type = text(s, 3);
  e.day = static_cast<DayNumber>(sqlite3_column_int64(s, 4));
  e.filter = text(s, 5);
  e.file_name = text(s, 6);
  e.path = text(s, 7);
  e.size = sqlite3_column_int64(s, 8);
  e.sha256 = text(s, 9);
  e.rows = sqlite3_column_int64(s, 10);
  e.created = sqlite3_column_int64(s, 11);
  e.pack_offset = sqlite3_column_int64(s, 12);
  return e;
}

// Resets a cached statement when a call ends, however it ends, so that its read
// transaction does not outlive the call (it would pin the WAL and hide later commits).
struct ResetOnExit {
  sqlite3_stmt* s;
  ~ResetOnExit() {
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
  }
};

}  // namespace

Result<std::unique_ptr<ManifestReader>> ManifestReader::open(const std::string& path) {
  std::unique_ptr<ManifestReader> r(new ManifestReader());
  // NOMUTEX: the object is used by one thread at a time, so SQLite's own per-connection
  // mutex would only cost time.
  int rc =
      sqlite3_open_v2(path.c_str(), &r->db_, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) return r->error("open");
  sqlite3_busy_timeout(r->db_, 5000);
  std::string list_sql = std::string("SELECT ") + kColumns +
                         " FROM reports WHERE org_id = ?1 AND day >= ?2 AND day <= ?3"
                         " ORDER BY day, type, file_name LIMIT ?4";
  std::string find_sql = std::string("SELECT ") + kColumns + " FROM reports WHERE id = ?1";
  if (sqlite3_prepare_v3(r->db_, list_sql.c_str(), -1, SQLITE_PREPARE_PERSISTENT, &r->list_,
                         nullptr) != SQLITE_OK)
    return r->error("prepare list");
  if (sqlite3_prepare_v3(r->db_, find_sql.c_str(), -1, SQLITE_PREPARE_PERSISTENT, &r->find_,
                         nullptr) != SQLITE_OK)
    return r->error("prepare find");
  return r;
}

ManifestReader::~ManifestReader() {
  sqlite3_finalize(list_);
  sqlite3_finalize(find_);
  sqlite3_close(db_);
}

Error ManifestReader::error(const char* what) const {
  return Error::io(std::string("report manifest ") + what + ": " +
                   (db_ ? sqlite3_errmsg(db_) : "out of memory"));
}

Result<std::vector<report::ReportEntry>> ManifestReader::list(const report::ListQuery& q) {
  std::vector<report::ReportEntry> out;
  if (q.limit == 0) return out;
  ResetOnExit reset{list_};
  sqlite3_bind_int64(list_, 1, q.org_id);
  sqlite3_bind_int64(list_, 2, q.first_day);
  sqlite3_bind_int64(list_, 3, q.last_day);
  // The type filter runs here, so the limit can only go to SQL without one (-1: none).
  sqlite3_bind_int64(list_, 4, q.types.empty() ? q.limit : -1);
  for (;;) {
    int rc = sqlite3_step(list_);
    if (rc == SQLITE_DONE) break;
    if (rc != SQLITE_ROW) return error("list");
    if (!q.types.empty()) {
      std::string type = text(list_, 3);
      if (std::find(q.types.begin(), q.types.end(), type) == q.types.end()) continue;
    }
    out.push_back(read_entry(list_));
    if (q.limit >= 0 && static_cast<int64_t>(out.size()) >= q.limit) break;
  }
  return out;
}

Result<std::optional<report::ReportEntry>> ManifestReader::find(std::string_view id) {
  ResetOnExit reset{find_};
  sqlite3_bind_text(find_, 1, id.data(), static_cast<int>(id.size()), SQLITE_STATIC);
  int rc = sqlite3_step(find_);
  if (rc == SQLITE_DONE) return std::optional<report::ReportEntry>();
  if (rc != SQLITE_ROW) return error("find");
  return std::optional<report::ReportEntry>(read_entry(find_));
}

}  // namespace vantage::api

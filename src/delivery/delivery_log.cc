#include "delivery/delivery_log.h"

#include <sqlite3.h>

namespace vantage::delivery {

namespace {

constexpr const char* kSchema = R"sql(
PRAGMA journal_mode = WAL;
PRAGMA busy_timeout = 10000;
CREATE TABLE IF NOT EXISTS deliveries (
  id INTEGER PRIMARY KEY,
  at INTEGER NOT NULL,
  day TEXT NOT NULL,
  org TEXT NOT NULL,
  unit TEXT NOT NULL,
  kind TEXT NOT NULL,
  reports TEXT NOT NULL,
  recipient TEXT NOT NULL,
  message_id TEXT NOT NULL,
  attempt INTEGER NOT NULL,
  status TEXT NOT NULL,
  smtp_code INTEGER NOT NULL,
  reason TEXT NOT NULL,
  encrypted INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS deliveries_org_day ON deliveries(org, day);
CREATE INDEX IF NOT EXISTS deliveries_day ON deliveries(day);
)sql";

// A prepared statement finalized on scope exit.
class Stmt {
 public:
  Stmt(sqlite3* db, const char* sql) { sqlite3_prepare_v2(db, sql, -1, &s_, nullptr); }
  ~Stmt() { sqlite3_finalize(s_); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  sqlite3_stmt* get() const { return s_; }
  void text(int i, const std::string& v) {
    sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  }
  void num(int i, int64_t v) { sqlite3_bind_int64(s_, i, v); }
  std::string col_text(int i) const {
    const auto* p = sqlite3_column_text(s_, i);
    return p ? std::string(reinterpret_cast<const char*>(p),
                           static_cast<size_t>(sqlite3_column_bytes(s_, i)))
             : std::string();
  }

 private:
  sqlite3_stmt* s_ = nullptr;
};

}  // namespace

std::string default_delivery_log_path(const std::string& data_dir) {
  return (data_dir.empty() ? std::string(".") : data_dir) + "/deliveries.sqlite";
}

Result<std::unique_ptr<DeliveryLog>> DeliveryLog::open(const std::string& path) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) !=
      SQLITE_OK) {
    std::string msg = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    return Error::io("delivery log " + path + ": " + msg);
  }
  char* err = nullptr;
  if (sqlite3_exec(db, kSchema, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : "schema failed";
    sqlite3_free(err);
    sqlite3_close(db);
    return Error::io("delivery log " + path + ": " + msg);
  }
  return std::unique_ptr<DeliveryLog>(new DeliveryLog(db));
}

DeliveryLog::~DeliveryLog() {
  sqlite3_close(db_);
}

Status DeliveryLog::append(const DeliveryRecord& r) {
  Stmt st(db_,
          "INSERT INTO deliveries(at, day, org, unit, kind, reports, recipient, message_id, "
          "attempt, status, smtp_code, reason, encrypted) "
          "VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13)");
  if (!st.get()) return Error::io(std::string("delivery log: ") + sqlite3_errmsg(db_));
  st.num(1, r.at);
  st.text(2, r.day);
  st.text(3, r.org);
  st.text(4, r.unit);
  st.text(5, r.kind);
  st.text(6, r.reports);
  st.text(7, r.recipient);
  st.text(8, r.message_id);
  st.num(9, r.attempt);
  st.text(10, r.status);
  st.num(11, r.smtp_code);
  st.text(12, r.reason);
  st.num(13, r.encrypted ? 1 : 0);
  if (sqlite3_step(st.get()) != SQLITE_DONE) {
    return Error::io(std::string("delivery log: ") + sqlite3_errmsg(db_));
  }
  return {};
}

Result<std::vector<DeliveryRecord>> DeliveryLog::query(const DeliveryQuery& q) const {
  Stmt st(db_,
          "SELECT at, day, org, unit, kind, reports, recipient, message_id, attempt, status, "
          "smtp_code, reason, encrypted FROM deliveries "
          "WHERE (?1 IS NULL OR org = ?1) AND (?2 IS NULL OR day = ?2) ORDER BY id");
  if (!st.get()) return Error::io(std::string("delivery log: ") + sqlite3_errmsg(db_));
  if (q.org) st.text(1, *q.org);
  if (q.day) st.text(2, *q.day);
  std::vector<DeliveryRecord> out;
  int rc = 0;
  while ((rc = sqlite3_step(st.get())) == SQLITE_ROW) {
    DeliveryRecord r;
    r.at = sqlite3_column_int64(st.get(), 0);
    r.day = st.col_text(1);
    r.org = st.col_text(2);
    r.unit = st.col_text(3);
    r.kind = st.col_text(4);
    r.reports = st.col_text(5);
    r.recipient = st.col_text(6);
    r.message_id = st.col_text(7);
    r.attempt = sqlite3_column_int(st.get(), 8);
    r.status = st.col_text(9);
    r.smtp_code = sqlite3_column_int(st.get(), 10);
    r.reason = st.col_text(11);
    r.encrypted = sqlite3_column_int(st.get(), 12) != 0;
    out.push_back(std::move(r));
  }
  if (rc != SQLITE_DONE) return Error::io(std::string("delivery log: ") + sqlite3_errmsg(db_));
  return out;
}

}  // namespace vantage::delivery

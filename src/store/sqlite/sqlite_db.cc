#include "store/sqlite/sqlite_db.h"

namespace vantage::store {

namespace {

// SQLite's memory statistics (sqlite3_memory_used) take a process-wide mutex on every
// allocation; nothing in Vantage reads them, and the store's writer allocates per row. This
// runs before main(), ahead of the first sqlite3_initialize(); if some other code initialised
// SQLite first, the call fails harmlessly (SQLITE_MISUSE) and the default stays.
const int kMemstatusOff = sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);

}  // namespace

Statement& Statement::operator=(Statement&& o) noexcept {
  if (this != &o) {
    if (stmt_) sqlite3_finalize(stmt_);
    db_ = o.db_;
    stmt_ = o.stmt_;
    o.stmt_ = nullptr;
  }
  return *this;
}

Statement::~Statement() {
  if (stmt_) sqlite3_finalize(stmt_);
}

Statement& Statement::bind(int i, int64_t v) {
  sqlite3_bind_int64(stmt_, i, v);
  return *this;
}

Statement& Statement::bind(int i, std::string_view text) {
  sqlite3_bind_text(stmt_, i, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
  return *this;
}

Statement& Statement::bind_blob(int i, std::string_view bytes) {
  sqlite3_bind_blob(stmt_, i, bytes.data(), static_cast<int>(bytes.size()), SQLITE_TRANSIENT);
  return *this;
}

Statement& Statement::bind_null(int i) {
  sqlite3_bind_null(stmt_, i);
  return *this;
}

Result<bool> Statement::step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return Error{rc == SQLITE_FULL ? ErrorCode::kResourceExhausted : ErrorCode::kIo,
               std::string("sqlite: ") + sqlite3_errmsg(db_)};
}

Status Statement::run() {
  while (true) {
    auto r = step();
    if (!r) return r.error();
    if (!*r) break;
  }
  reset();
  return {};
}

void Statement::reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

std::string_view Statement::text(int col) const {
  const auto* p = sqlite3_column_blob(stmt_, col);
  int n = sqlite3_column_bytes(stmt_, col);
  if (!p) return {};
  return {static_cast<const char*>(p), static_cast<size_t>(n)};
}

Result<std::unique_ptr<Db>> Db::open(const std::string& path) {
  sqlite3* raw = nullptr;
  int rc =
      sqlite3_open_v2(path.c_str(), &raw,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = raw ? sqlite3_errmsg(raw) : "out of memory";
    sqlite3_close(raw);
    return Error::io("cannot open " + path + ": " + msg);
  }
  sqlite3_busy_timeout(raw, 10000);
  return std::unique_ptr<Db>(new Db(raw));
}

Db::~Db() {
  sqlite3_close_v2(db_);
}

Status Db::exec(const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : "unknown";
    sqlite3_free(err);
    return Error::io(std::string("sqlite: ") + msg);
  }
  return {};
}

Result<Statement> Db::prepare(std::string_view sql) {
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                              SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
  if (rc != SQLITE_OK) {
    return Error::internal(std::string("sqlite prepare: ") + sqlite3_errmsg(db_) +
                           " in: " + std::string(sql.substr(0, 200)));
  }
  return Statement(db_, stmt);
}

Status BulkInsert::prepare(Db& db, std::string_view into, int columns, std::string_view tail) {
  std::string row = "(";
  for (int c = 0; c < columns; ++c) row += c ? ",?" : "?";
  row += ")";
  std::string sql = "INSERT INTO " + std::string(into) + " SELECT * FROM (VALUES ";
  for (int r = 0; r < kRows; ++r) sql += (r ? "," : "") + row;
  sql += ") WHERE column1 IS NOT NULL " + std::string(tail);
  auto st = db.prepare(sql);
  if (!st) return st.error();
  stmt_ = std::move(*st);
  columns_ = columns;
  rows_ = 0;
  return {};
}

void BulkInsert::start() {
  stmt_.reset();
  rows_ = 0;
}

BulkInsert& BulkInsert::bind(int column, int64_t v) {
  stmt_.bind(param(column), v);
  return *this;
}

BulkInsert& BulkInsert::bind(int column, std::string_view text) {
  stmt_.bind(param(column), text);
  return *this;
}

BulkInsert& BulkInsert::bind_blob(int column, std::string_view bytes) {
  stmt_.bind_blob(param(column), bytes);
  return *this;
}

BulkInsert& BulkInsert::bind_null(int column) {
  stmt_.bind_null(param(column));
  return *this;
}

Status BulkInsert::end_row() {
  if (++rows_ < kRows) return {};
  return finish();
}

Status BulkInsert::finish() {
  if (rows_ == 0) return {};
  rows_ = 0;
  return stmt_.run();  // after an error, start() clears what is left bound
}

}  // namespace vantage::store

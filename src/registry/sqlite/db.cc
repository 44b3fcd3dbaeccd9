#include "registry/sqlite/db.h"

namespace vantage::registry::sqlite {
namespace {

Error sqlite_error(sqlite3* db, int rc) {
  std::string msg = std::string("sqlite: ") + sqlite3_errmsg(db);
  switch (rc & 0xff) {
    case SQLITE_CONSTRAINT: return {ErrorCode::kAlreadyExists, msg};
    case SQLITE_FULL: return {ErrorCode::kResourceExhausted, msg};
    case SQLITE_BUSY:
    case SQLITE_LOCKED: return {ErrorCode::kUnavailable, msg};
    default: return {ErrorCode::kIo, msg};
  }
}

}  // namespace

Stmt& Stmt::bind(int i, int64_t v) {
  sqlite3_bind_int64(stmt_, i, v);
  return *this;
}
Stmt& Stmt::bind(int i, std::string_view text) {
  sqlite3_bind_text(stmt_, i, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
  return *this;
}
Stmt& Stmt::bind_blob(int i, std::string_view bytes) {
  sqlite3_bind_blob(stmt_, i, bytes.data(), static_cast<int>(bytes.size()), SQLITE_TRANSIENT);
  return *this;
}
Stmt& Stmt::bind_null(int i) {
  sqlite3_bind_null(stmt_, i);
  return *this;
}

Result<bool> Stmt::step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return sqlite_error(db_, rc);
}

Status Stmt::run() {
  while (true) {
    auto r = step();
    if (!r) return r.error();
    if (!*r) return {};
  }
}

std::string Stmt::str(int col) const {
  const auto* p = sqlite3_column_blob(stmt_, col);
  int n = sqlite3_column_bytes(stmt_, col);
  if (!p) return {};
  return {static_cast<const char*>(p), static_cast<size_t>(n)};
}

Result<std::unique_ptr<Connection>> Connection::open(const std::string& path) {
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
  return std::unique_ptr<Connection>(new Connection(raw));
}

Status Connection::exec(const std::string& sql) {
  char* err = nullptr;
  int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    Error e = sqlite_error(db_, rc);
    if (err) e.message = std::string("sqlite: ") + err;
    sqlite3_free(err);
    return e;
  }
  return {};
}

Result<Stmt> Connection::prepare(std::string_view sql) {
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &stmt, nullptr);
  if (rc != SQLITE_OK) {
    return Error::internal(std::string("sqlite prepare: ") + sqlite3_errmsg(db_));
  }
  return Stmt(db_, stmt);
}

}  // namespace vantage::registry::sqlite

#pragma once
// The registry's edge to the SQLite C API: RAII connection and statements, errors as values.
// Not thread-safe: one Connection per thread.

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/result.h"
#include "common/sql_transaction.h"

namespace vantage::registry::sqlite {

class Stmt {
 public:
  Stmt(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  Stmt(Stmt&& o) noexcept : db_(o.db_), stmt_(o.stmt_) { o.stmt_ = nullptr; }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  Stmt& operator=(Stmt&&) = delete;
  ~Stmt() { sqlite3_finalize(stmt_); }

  // 1-based parameter indices, like SQLite.
  Stmt& bind(int i, int64_t v);
  Stmt& bind(int i, std::string_view text);
  Stmt& bind_blob(int i, std::string_view bytes);
  Stmt& bind_null(int i);

  // true: a row is available; false: done.
  Result<bool> step();
  // Steps to completion.
  Status run();
  // Rewinds a statement kept for reuse; ends the read transaction it held.
  void reset() { sqlite3_reset(stmt_); }

  int64_t i64(int col) const { return sqlite3_column_int64(stmt_, col); }
  std::string str(int col) const;
  bool is_null(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_;
};

class Connection {
 public:
  static Result<std::unique_ptr<Connection>> open(const std::string& path);
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection() { sqlite3_close_v2(db_); }

  Status exec(const std::string& sql);
  Result<Stmt> prepare(std::string_view sql);
  int64_t changes() const { return sqlite3_changes64(db_); }
  int64_t last_insert_rowid() const { return sqlite3_last_insert_rowid(db_); }

  // Runs `body` inside BEGIN IMMEDIATE ... COMMIT; rolls back if it returns an error.
  template <typename F>
  Status transaction(F&& body) {
    return run_in_transaction(*this, "BEGIN IMMEDIATE", body);
  }
  // Runs `body` in a deferred (read) transaction: a consistent view, no write lock.
  template <typename F>
  Status read_transaction(F&& body) {
    return run_in_transaction(*this, "BEGIN", body);
  }

 private:
  explicit Connection(sqlite3* db) : db_(db) {}
  sqlite3* db_;
};

}  // namespace vantage::registry::sqlite

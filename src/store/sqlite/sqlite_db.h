#pragma once
// A thin RAII layer over the SQLite C API: a connection and prepared statements whose
// errors come back as vantage::Error values. Not thread-safe: one Db per thread.

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"
#include "common/sql_transaction.h"

namespace vantage::store {

class Statement {
 public:
  Statement() = default;
  Statement(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  Statement(Statement&& o) noexcept : db_(o.db_), stmt_(o.stmt_) { o.stmt_ = nullptr; }
  Statement& operator=(Statement&& o) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement();

  // Binders take 1-based parameter indices, like SQLite.
  Statement& bind(int i, int64_t v);
  Statement& bind(int i, std::string_view text);
  Statement& bind_blob(int i, std::string_view bytes);
  Statement& bind_null(int i);

  // Returns true while a row is available, false when done; errors as values.
  Result<bool> step();
  Status run();  // step to completion, ignoring rows
  void reset();

  int64_t int64(int col) const { return sqlite3_column_int64(stmt_, col); }
  std::string_view text(int col) const;
  bool is_null(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }

 private:
  sqlite3* db_ = nullptr;
  sqlite3_stmt* stmt_ = nullptr;
};

class Db;

// Many rows into one table through one statement of up to kRows rows:
//   INSERT INTO <into> SELECT * FROM (VALUES (?,..),(?,..),..) WHERE column1 IS NOT NULL <tail>
// SQLite's per-statement work (starting the program, step, reset) is then paid once per kRows
// rows instead of per row: the fold's counters are written about 1.5x faster. Rows left
// unbound are NULL and the WHERE drops them, so the last, partial statement needs no SQL of
// its own -- hence the first column must never be NULL. (The WHERE is also what lets SQLite
// parse an upsert clause after a SELECT.)
class BulkInsert {
 public:
  static constexpr int kRows = 64;

  Status prepare(Db& db, std::string_view into, int columns, std::string_view tail);
  void start();  // forgets rows that a failed use left bound: call before each use
  // A column (1-based) of the current row.
  BulkInsert& bind(int column, int64_t v);
  BulkInsert& bind(int column, std::string_view text);
  BulkInsert& bind_blob(int column, std::string_view bytes);
  BulkInsert& bind_null(int column);
  Status end_row();  // runs the statement once kRows rows are bound
  Status finish();   // runs the rows bound so far

 private:
  int param(int column) const { return rows_ * columns_ + column; }
  Statement stmt_;
  int columns_ = 0;
  int rows_ = 0;
};

class Db {
 public:
  static Result<std::unique_ptr<Db>> open(const std::string& path);
  ~Db();

  Status exec(const char* sql);
  Result<Statement> prepare(std::string_view sql);
  int64_t changes() const { return sqlite3_changes64(db_); }
  int64_t last_insert_rowid() const { return sqlite3_last_insert_rowid(db_); }
  std::string last_error() const { return sqlite3_errmsg(db_); }
  sqlite3* raw() { return db_; }

  // Runs `body` inside BEGIN IMMEDIATE ... COMMIT; rolls back if it or the commit fails.
  // (common/sql_transaction.h: the same code as the registry's Connection::transaction.)
  template <typename F>
  Status transaction(F&& body) {
    return run_in_transaction(*this, "BEGIN IMMEDIATE", body);
  }
  // Runs `body` in a deferred (read) transaction: one consistent snapshot, no write lock.
  template <typename F>
  Status read_transaction(F&& body) {
    return run_in_transaction(*this, "BEGIN", body);
  }

 private:
  explicit Db(sqlite3* db) : db_(db) {}
  sqlite3* db_;
};

// Runs a read of several statements in one snapshot (a read transaction) and returns the
// body's answer (Status or Result); nothing is written to `main`.
template <typename F>
auto in_read_snapshot(Db& db, F&& body) -> decltype(body()) {
  std::optional<decltype(body())> answer;
  auto st = db.read_transaction([&] {
    answer.emplace(body());
    return Status{};  // a read has nothing to roll back: the body's error is its answer
  });
  if (!answer || (!st && answer->ok())) return st.error();  // BEGIN or COMMIT failed
  return std::move(*answer);
}

}  // namespace vantage::store

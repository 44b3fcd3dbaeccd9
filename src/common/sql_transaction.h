#pragma once
// The transaction contract of the project's two SQLite wrappers (the registry's Connection and
// the event store's Db), written once: begin, run the body, commit; when the body or the
// COMMIT fails, roll back and return that error.

#include "common/result.h"

namespace vantage {

// `conn.exec(sql)` runs one statement and returns a Status. `begin` is "BEGIN" (a deferred
// read transaction: one consistent snapshot) or "BEGIN IMMEDIATE" (takes the write lock).
template <typename Connection, typename F>
Status run_in_transaction(Connection& conn, const char* begin, F& body) {
  if (auto st = conn.exec(begin); !st) return st;
  Status st = body();
  if (!st) {
    (void)conn.exec("ROLLBACK");
    return st;
  }
  if (auto c = conn.exec("COMMIT"); !c) {
    (void)conn.exec("ROLLBACK");
    return c;
  }
  return {};
}

}  // namespace vantage

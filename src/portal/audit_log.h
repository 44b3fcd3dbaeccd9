#pragma once
// The audit log of the portal and console: who did what, when, to what, from where. Append-only
// twice over: SQLite triggers refuse UPDATE and DELETE on the table, and each entry carries the
// SHA-256 of the previous entry's hash and its own fields, so an entry edited or removed behind
// the triggers' back (with the sqlite3 shell, say) breaks the chain at that point, which
// verify() reports and the console shows.
//
// Entries never hold secrets: no passwords, TOTP secrets, API-key secrets, session ids or
// confirmation links -- only what was done and to what.
//
// Thread-safety: borrows its PortalStore's connection; same thread rules.

#include <cstdint>
#include <string>
#include <vector>

#include "common/result.h"
#include "common/time.h"
#include "registry/sqlite/db.h"

namespace vantage::portal {

struct AuditEntry {
  int64_t seq = 0;
  UnixSeconds at = 0;
  std::string actor;   // account login, or "-" for an anonymous action (a registration)
  std::string role;    // the actor's role then
  std::string action;  // "application.approve", "org.recipient.add", "login.fail", ...
  std::string target;  // "application:12", "org:example_org", "key:abc...", ...
  std::string detail;  // free text, never a secret
  std::string remote;  // client address
  std::string prev_hash;
  std::string hash;
};

class AuditLog {
 public:
  explicit AuditLog(registry::sqlite::Connection& db) : db_(db) {}
  static const char* schema();

  // Appends one entry (seq, prev_hash and hash are filled here). Call inside the transaction of
  // the change it records when there is one, so the two commit together.
  Result<AuditEntry> append(AuditEntry entry);
  // Newest first; `before_seq` 0: from the newest.
  Result<std::vector<AuditEntry>> list(int64_t limit, int64_t before_seq = 0);
  // 0 when the chain is intact, else the seq of the first entry whose hash does not match.
  Result<int64_t> verify();

  static std::string entry_hash(const AuditEntry& e);

 private:
  registry::sqlite::Connection& db_;
};

}  // namespace vantage::portal

#include "portal/audit_log.h"

#include "common/status_macros.h"
#include "portal/request_security.h"

namespace vantage::portal {

const char* AuditLog::schema() {
  return R"sql(
CREATE TABLE audit(
  seq INTEGER PRIMARY KEY,
  at INTEGER NOT NULL,
  actor TEXT NOT NULL,
  role TEXT NOT NULL,
  action TEXT NOT NULL,
  target TEXT NOT NULL,
  detail TEXT NOT NULL,
  remote TEXT NOT NULL,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL);
CREATE TRIGGER audit_append_only_u BEFORE UPDATE ON audit
  BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_append_only_d BEFORE DELETE ON audit
  BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
)sql";
}

std::string AuditLog::entry_hash(const AuditEntry& e) {
  std::string msg = e.prev_hash;
  for (const std::string& f : {std::to_string(e.seq), std::to_string(e.at), e.actor, e.role,
                               e.action, e.target, e.detail, e.remote}) {
    msg.push_back('\x1f');
    msg += f;
  }
  return sha256_hex(msg);
}

Result<AuditEntry> AuditLog::append(AuditEntry e) {
  VANTAGE_ASSIGN_OR_RETURN(auto last,
                           db_.prepare("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1"));
  VANTAGE_ASSIGN_OR_RETURN(bool row, last.step());
  e.seq = row ? last.i64(0) + 1 : 1;
  e.prev_hash = row ? last.str(1) : std::string(64, '0');
  last.reset();
  e.hash = entry_hash(e);
  VANTAGE_ASSIGN_OR_RETURN(auto s, db_.prepare("INSERT INTO audit(seq, at, actor, role, action, "
                                               "target, detail, remote, prev_hash, hash) "
                                               "VALUES(?,?,?,?,?,?,?,?,?,?)"));
  s.bind(1, e.seq).bind(2, e.at).bind(3, e.actor).bind(4, e.role).bind(5, e.action);
  s.bind(6, e.target).bind(7, e.detail).bind(8, e.remote).bind(9, e.prev_hash).bind(10, e.hash);
  VANTAGE_RETURN_IF_ERROR(s.run());
  return e;
}

Result<std::vector<AuditEntry>> AuditLog::list(int64_t limit, int64_t before_seq) {
  VANTAGE_ASSIGN_OR_RETURN(auto s, db_.prepare("SELECT seq, at, actor, role, action, target, "
                                               "detail, remote, prev_hash, hash FROM audit WHERE "
                                               "(?1 = 0 OR seq < ?1) ORDER BY seq DESC LIMIT ?2"));
  s.bind(1, before_seq).bind(2, limit);
  std::vector<AuditEntry> out;
  while (true) {
    VANTAGE_ASSIGN_OR_RETURN(bool row, s.step());
    if (!row) break;
    out.push_back({s.i64(0), s.i64(1), s.str(2), s.str(3), s.str(4), s.str(5), s.str(6), s.str(7),
                   s.str(8), s.str(9)});
  }
  return out;
}

Result<int64_t> AuditLog::verify() {
  VANTAGE_ASSIGN_OR_RETURN(auto s, db_.prepare("SELECT seq, at, actor, role, action, target, "
                                               "detail, remote, prev_hash, hash FROM audit ORDER "
                                               "BY seq"));
  std::string prev(64, '0');
  int64_t expect_seq = 1;
  while (true) {
    VANTAGE_ASSIGN_OR_RETURN(bool row, s.step());
    if (!row) break;
    AuditEntry e{s.i64(0), s.i64(1), s.str(2), s.str(3), s.str(4),
                 s.str(5), s.str(6), s.str(7), s.str(8), s.str(9)};
    // A gap in the sequence is a removed entry; a wrong link or hash an edited one.
    if (e.seq != expect_seq || e.prev_hash != prev || entry_hash(e) != e.hash) return e.seq;
    prev = e.hash;
    ++expect_seq;
  }
  return int64_t{0};
}

}  // namespace vantage::portal

#include "integrations/delivery_state.h"

#include <fcntl.h>
#include <unistd.h>

#include <functional>
#include <map>

#include "store/sqlite/sqlite_db.h"

namespace vantage::integrations {

namespace {

using store::Statement;

constexpr int kSchemaVersion = 1;

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS cursors(
  sub_id INTEGER PRIMARY KEY, after_id INTEGER NOT NULL, next_seq INTEGER NOT NULL,
  updated INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS batches(
  sub_id INTEGER NOT NULL, seq INTEGER NOT NULL, first_event INTEGER NOT NULL,
  last_event INTEGER NOT NULL, events INTEGER NOT NULL, payload BLOB NOT NULL,
  state TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, created INTEGER NOT NULL,
  next_attempt INTEGER NOT NULL DEFAULT 0, queued_ms INTEGER NOT NULL DEFAULT 0,
  last_error TEXT NOT NULL DEFAULT '', PRIMARY KEY(sub_id, seq)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS batches_by_state ON batches(state, sub_id);
CREATE TABLE IF NOT EXISTS attempts(
  id INTEGER PRIMARY KEY, sub_id INTEGER NOT NULL, seq INTEGER NOT NULL, at_ms INTEGER NOT NULL,
  attempt INTEGER NOT NULL, outcome TEXT NOT NULL, status INTEGER NOT NULL,
  detail TEXT NOT NULL, events INTEGER NOT NULL, bytes INTEGER NOT NULL, millis INTEGER NOT NULL,
  latency_ms INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS attempts_by_sub ON attempts(sub_id, id);
CREATE TABLE IF NOT EXISTS rejected(
  id INTEGER PRIMARY KEY, sub_id INTEGER NOT NULL, seq INTEGER NOT NULL,
  event_id INTEGER NOT NULL, at INTEGER NOT NULL, reason TEXT NOT NULL);
)sql";

constexpr const char* kBatchColumns =
    "sub_id, seq, first_event, last_event, events, payload, state, attempts, created, "
    "next_attempt, queued_ms, last_error";

BatchState parse_state(std::string_view s) {
  if (s == "delivered") return BatchState::kDelivered;
  if (s == "dead") return BatchState::kDead;
  return BatchState::kPending;
}

Batch read_batch(const Statement& s) {
  Batch b;
  b.sub_id = s.int64(0);
  b.seq = s.int64(1);
  b.first_event = s.int64(2);
  b.last_event = s.int64(3);
  b.events = s.int64(4);
  b.payload = std::string(s.text(5));
  b.state = parse_state(s.text(6));
  b.attempts = s.int64(7);
  b.created = s.int64(8);
  b.next_attempt = s.int64(9);
  b.queued_ms = s.int64(10);
  b.last_error = std::string(s.text(11));
  return b;
}

// Runs `sql` with `bind` and collects the rows with `read`.
template <class T, class Bind, class Read>
Result<std::vector<T>> rows(store::Db& db, const std::string& sql, Bind bind, Read read) {
  auto st = db.prepare(sql);
  if (!st) return st.error();
  bind(*st);
  std::vector<T> out;
  while (true) {
    auto has = st->step();
    if (!has) return has.error();
    if (!*has) break;
    out.push_back(read(*st));
  }
  return out;
}

Status run(store::Db& db, const char* sql, const std::function<void(Statement&)>& bind) {
  auto st = db.prepare(sql);
  if (!st) return st.error();
  bind(*st);
  return st->run();
}

}  // namespace

const char* batch_state_name(BatchState s) {
  switch (s) {
    case BatchState::kPending: return "pending";
    case BatchState::kDelivered: return "delivered";
    case BatchState::kDead: return "dead";
  }
  return "pending";
}

DeliveryState::DeliveryState(std::unique_ptr<store::Db> db) : db_(std::move(db)) {}
DeliveryState::~DeliveryState() = default;

Result<std::unique_ptr<DeliveryState>> DeliveryState::open(const std::string& path) {
  // Bodies of pending and dead batches are the organisations' events: owner-only, like the
  // registry.
  // Created only when absent (O_EXCL): closing a descriptor of a file the process has open
  // elsewhere would drop that connection's POSIX locks (see SqliteRegistry::open).
  if (int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600); fd >= 0)
    ::close(fd);
  auto db = store::Db::open(path);
  if (!db) return db.error();
  for (const char* pragma : {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL"}) {
    if (auto st = (*db)->exec(pragma); !st) return st.error();
  }
  std::unique_ptr<DeliveryState> state(new DeliveryState(std::move(*db)));
  auto version = rows<int64_t>(
      *state->db_, "PRAGMA user_version", [](Statement&) {},
      [](const Statement& s) { return s.int64(0); });
  if (!version) return version.error();
  int64_t v = version->empty() ? 0 : version->front();
  if (v > kSchemaVersion)
    return Error{ErrorCode::kFailedPrecondition,
                 path + " was written by a newer Vantage (schema " + std::to_string(v) + ")"};
  if (v < kSchemaVersion) {
    auto st = state->db_->transaction([&]() -> Status {
      if (auto s = state->db_->exec(kSchema); !s) return s;
      return state->db_->exec(("PRAGMA user_version=" + std::to_string(kSchemaVersion)).c_str());
    });
    if (!st) return st.error();
  }
  return state;
}

Result<std::optional<DeliveryState::Cursor>> DeliveryState::cursor(int64_t sub_id) {
  auto r = rows<Cursor>(
      *db_, "SELECT after_id, next_seq FROM cursors WHERE sub_id = ?",
      [&](Statement& s) { s.bind(1, sub_id); },
      [](const Statement& s) {
        return Cursor{s.int64(0), s.int64(1)};
      });
  if (!r) return r.error();
  if (r->empty()) return std::optional<Cursor>();
  return std::optional<Cursor>(r->front());
}

Status DeliveryState::start_cursor(int64_t sub_id, int64_t after_id) {
  return run(*db_,
             "INSERT INTO cursors VALUES(?, ?, 1, strftime('%s','now')) ON CONFLICT DO NOTHING",
             [&](Statement& s) { s.bind(1, sub_id).bind(2, after_id); });
}

Status DeliveryState::advance_cursor(int64_t sub_id, int64_t after_id) {
  return run(*db_,
             "UPDATE cursors SET after_id = max(after_id, ?2), updated = strftime('%s','now') "
             "WHERE sub_id = ?1",
             [&](Statement& s) { s.bind(1, sub_id).bind(2, after_id); });
}

Status DeliveryState::reset_cursor(int64_t sub_id, int64_t after_id) {
  return run(*db_,
             "UPDATE cursors SET after_id = ?2, updated = strftime('%s','now') WHERE sub_id = ?1",
             [&](Statement& s) { s.bind(1, sub_id).bind(2, after_id); });
}

Result<Batch> DeliveryState::create_batch(int64_t sub_id, int64_t seq, int64_t cursor_after,
                                          int64_t first_event, int64_t last_event, int64_t events,
                                          std::string payload, int64_t queued_ms) {
  Batch b;
  b.sub_id = sub_id;
  b.first_event = first_event;
  b.last_event = last_event;
  b.events = events;
  b.created = now_seconds();
  b.queued_ms = queued_ms;
  const int64_t seq_wanted = seq;
  auto st = db_->transaction([&]() -> Status {
    auto next = rows<int64_t>(
        *db_, "SELECT next_seq FROM cursors WHERE sub_id = ?",
        [&](Statement& s) { s.bind(1, sub_id); }, [](const Statement& s) { return s.int64(0); });
    if (!next) return next.error();
    if (next->empty())
      return Error::internal("subscription " + std::to_string(sub_id) + " has no cursor");
    b.seq = next->front();
    if (b.seq != seq_wanted)
      return Error::internal("subscription " + std::to_string(sub_id) + ": batch " +
                             std::to_string(seq_wanted) + " rendered, but " +
                             std::to_string(b.seq) + " is next (a second writer?)");
    auto ins = db_->prepare(
        "INSERT INTO batches(sub_id, seq, first_event, last_event, events, payload, state, "
        "created, queued_ms) VALUES(?,?,?,?,?,?,'pending',?,?)");
    if (!ins) return ins.error();
    ins->bind(1, sub_id)
        .bind(2, b.seq)
        .bind(3, first_event)
        .bind(4, last_event)
        .bind(5, events)
        .bind_blob(6, payload)
        .bind(7, b.created)
        .bind(8, queued_ms);
    if (auto r = ins->run(); !r) return r;
    return run(*db_,
               "UPDATE cursors SET after_id = max(after_id, ?2), next_seq = next_seq + 1, "
               "updated = strftime('%s','now') WHERE sub_id = ?1",
               [&](Statement& s) { s.bind(1, sub_id).bind(2, cursor_after); });
  });
  if (!st) return st.error();
  b.payload = std::move(payload);
  return b;
}

Result<std::optional<Batch>> DeliveryState::pending(int64_t sub_id) {
  auto r = rows<Batch>(
      *db_,
      std::string("SELECT ") + kBatchColumns +
          " FROM batches WHERE sub_id = ? AND state = 'pending' ORDER BY seq LIMIT 1",
      [&](Statement& s) { s.bind(1, sub_id); }, read_batch);
  if (!r) return r.error();
  if (r->empty()) return std::optional<Batch>();
  return std::optional<Batch>(std::move(r->front()));
}

Status DeliveryState::record(const AttemptRecord& a, const Batch& b,
                             const std::vector<RejectedItem>& rejected) {
  return db_->transaction([&]() -> Status {
    auto st = run(*db_,
                  "INSERT INTO attempts(sub_id, seq, at_ms, attempt, outcome, status, detail, "
                  "events, bytes, millis, latency_ms) VALUES(?,?,?,?,?,?,?,?,?,?,?)",
                  [&](Statement& s) {
                    s.bind(1, a.sub_id)
                        .bind(2, a.seq)
                        .bind(3, a.at_ms)
                        .bind(4, a.attempt)
                        .bind(5, a.outcome)
                        .bind(6, static_cast<int64_t>(a.status))
                        .bind(7, a.detail)
                        .bind(8, a.events)
                        .bind(9, a.bytes)
                        .bind(10, a.millis)
                        .bind(11, a.latency_ms);
                  });
    if (!st) return st;
    st = run(*db_,
             "UPDATE batches SET state = ?3, attempts = ?4, next_attempt = ?5, last_error = ?6, "
             "payload = CASE WHEN ?3 = 'delivered' THEN x'' ELSE payload END "
             "WHERE sub_id = ?1 AND seq = ?2",
             [&](Statement& s) {
               s.bind(1, b.sub_id)
                   .bind(2, b.seq)
                   .bind(3, std::string_view(batch_state_name(b.state)))
                   .bind(4, b.attempts)
                   .bind(5, b.next_attempt)
                   .bind(6, b.last_error);
             });
    if (!st) return st;
    for (const auto& item : rejected) {
      st = run(*db_,
               "INSERT INTO rejected(sub_id, seq, event_id, at, reason) "
               "VALUES(?,?,?,strftime('%s','now'),?)",
               [&](Statement& s) {
                 s.bind(1, b.sub_id).bind(2, b.seq).bind(3, item.event_id).bind(4, item.reason);
               });
      if (!st) return st;
    }
    return {};
  });
}

Result<std::vector<AttemptRecord>> DeliveryState::attempts(std::optional<int64_t> sub_id,
                                                           int64_t limit) {
  std::string sql =
      "SELECT sub_id, seq, at_ms, attempt, outcome, status, detail, events, bytes, millis, "
      "latency_ms FROM attempts";
  if (sub_id) sql += " WHERE sub_id = ?1";
  sql += " ORDER BY id DESC LIMIT " + std::to_string(limit);
  return rows<AttemptRecord>(
      *db_, sql,
      [&](Statement& s) {
        if (sub_id) s.bind(1, *sub_id);
      },
      [](const Statement& s) {
        AttemptRecord a;
        a.sub_id = s.int64(0);
        a.seq = s.int64(1);
        a.at_ms = s.int64(2);
        a.attempt = s.int64(3);
        a.outcome = std::string(s.text(4));
        a.status = static_cast<long>(s.int64(5));
        a.detail = std::string(s.text(6));
        a.events = s.int64(7);
        a.bytes = s.int64(8);
        a.millis = s.int64(9);
        a.latency_ms = s.int64(10);
        return a;
      });
}

Result<std::vector<Batch>> DeliveryState::dead_letters(std::optional<int64_t> sub_id,
                                                       bool with_payload, int64_t limit) {
  std::string sql = std::string("SELECT ") + kBatchColumns + " FROM batches WHERE state = 'dead'";
  if (sub_id) sql += " AND sub_id = ?1";
  sql += " ORDER BY sub_id, seq LIMIT " + std::to_string(limit);
  auto r = rows<Batch>(
      *db_, sql,
      [&](Statement& s) {
        if (sub_id) s.bind(1, *sub_id);
      },
      read_batch);
  if (r && !with_payload)
    for (auto& b : *r) b.payload.clear();
  return r;
}

Result<std::vector<SubscriptionState>> DeliveryState::summary() {
  std::map<int64_t, SubscriptionState> by_sub;
  auto st = db_->read_transaction([&]() -> Status {
    auto cursors = rows<std::pair<int64_t, int64_t>>(
        *db_, "SELECT sub_id, after_id FROM cursors", [](Statement&) {},
        [](const Statement& s) { return std::make_pair(s.int64(0), s.int64(1)); });
    if (!cursors) return cursors.error();
    for (auto [sub, after] : *cursors) {
      by_sub[sub].sub_id = sub;
      by_sub[sub].cursor = after;
    }
    auto counts = db_->prepare(
        "SELECT sub_id, state, count(*), sum(events), max(attempts), min(next_attempt), "
        "max(last_error) FROM batches GROUP BY sub_id, state");
    if (!counts) return counts.error();
    while (true) {
      auto has = counts->step();
      if (!has) return has.error();
      if (!*has) break;
      auto& s = by_sub[counts->int64(0)];
      s.sub_id = counts->int64(0);
      BatchState state = parse_state(counts->text(1));
      if (state == BatchState::kDelivered) {
        s.delivered_batches = counts->int64(2);
        s.delivered_events = counts->int64(3);
      } else if (state == BatchState::kDead) {
        s.dead_batches = counts->int64(2);
        s.dead_events = counts->int64(3);
      } else {
        s.pending_events = counts->int64(3);
        s.pending_attempts = counts->int64(4);
        s.next_attempt = counts->int64(5);
        s.last_error = std::string(counts->text(6));
      }
    }
    auto last = db_->prepare(
        "SELECT sub_id, max(at_ms) FROM attempts WHERE outcome = 'delivered' GROUP BY sub_id");
    if (!last) return last.error();
    while (true) {
      auto has = last->step();
      if (!has) return has.error();
      if (!*has) break;
      by_sub[last->int64(0)].last_delivered_ms = last->int64(1);
    }
    auto failed = db_->prepare(
        "SELECT a.sub_id, a.detail FROM attempts a JOIN (SELECT sub_id, max(id) AS id FROM "
        "attempts WHERE outcome != 'delivered' GROUP BY sub_id) m ON a.id = m.id");
    if (!failed) return failed.error();
    while (true) {
      auto has = failed->step();
      if (!has) return has.error();
      if (!*has) break;
      auto& s = by_sub[failed->int64(0)];
      if (s.last_error.empty()) s.last_error = std::string(failed->text(1));
    }
    auto rejected = db_->prepare("SELECT sub_id, count(*) FROM rejected GROUP BY sub_id");
    if (!rejected) return rejected.error();
    while (true) {
      auto has = rejected->step();
      if (!has) return has.error();
      if (!*has) break;
      by_sub[rejected->int64(0)].rejected_items = rejected->int64(1);
    }
    return {};
  });
  if (!st) return st.error();
  std::vector<SubscriptionState> out;
  for (auto& [id, s] : by_sub) {
    s.sub_id = id;
    out.push_back(std::move(s));
  }
  return out;
}

Status DeliveryState::prune(UnixSeconds before) {
  return db_->transaction([&]() -> Status {
    auto st = run(*db_, "DELETE FROM batches WHERE state = 'delivered' AND created < ?",
                  [&](Statement& s) { s.bind(1, before); });
    if (!st) return st;
    return run(*db_, "DELETE FROM attempts WHERE at_ms < ?",
               [&](Statement& s) { s.bind(1, static_cast<int64_t>(before) * 1000); });
  });
}

}  // namespace vantage::integrations

// The segment store (store.engine = "segment"): events in append-only segment files
// (segment_file.h), everything small -- types, checkpoints, quarantine, statistics, rollups,
// the report spool's runs, and the mutable state of events that got repeats -- in a SQLite
// meta database beside them. docs/store.md tells the design and the exactly-once argument:
//
//   a batch appends its new events' records (buffered), fdatasyncs the segment, then commits
//   one SQLite transaction with the checkpoint, quarantine, repeat states, late routes and
//   the new committed end of the log. Bytes past the committed end belong to no batch: the
//   writer truncates them at open, readers never look past the end they read in their own
//   SQLite read transaction.
//
// Deduplication runs in the writer's memory: (day, event key) -> what a repeat needs. It is
// built at the first write from the segments and the state table.

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <unordered_set>

#include "common/hash.h"
#include "common/strings.h"
#include "store/segment/dedup_table.h"
#include "store/segment/fold_tail.h"
#include "store/segment/segment_file.h"
#include "store/sqlite/report_chunk.h"
#include "store/sqlite/rollups.h"
#include "store/sqlite/spool.h"
#include "store/sqlite/sqlite_db.h"
#include "store/sqlite/store_tables.h"
#include "store/store.h"

namespace vantage::store {

namespace {

constexpr int kSchemaVersion = 1;

// event_state: one row per event that got a repeat -- its first/last seen and count, the
// rank of its representative occurrence and, when that is not the record's own, its fields
// (`repr`, encode_representative), and its routes when a repeat added some (NULL: the
// record's). day_keys: the event keys of each day, one sorted blob per fold, for
// new_since_previous_day. day_counts: events per day (what retention drops). segments: the
// newest day in each segment file (when retention may remove it).
constexpr const char* kSegmentSchema = R"sql(
CREATE TABLE IF NOT EXISTS event_state(
  id INTEGER PRIMARY KEY, day INTEGER NOT NULL, event_key INTEGER NOT NULL,
  first_seen INTEGER NOT NULL, last_seen INTEGER NOT NULL, count INTEGER NOT NULL,
  rep INTEGER NOT NULL, routes TEXT, repr BLOB);
CREATE INDEX IF NOT EXISTS event_state_day ON event_state(day);
CREATE TABLE IF NOT EXISTS day_keys(
  day INTEGER NOT NULL, through_id INTEGER NOT NULL, keys BLOB NOT NULL,
  PRIMARY KEY(day, through_id));
CREATE TABLE IF NOT EXISTS day_counts(day INTEGER PRIMARY KEY, events INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS segments(n INTEGER PRIMARY KEY, max_day INTEGER NOT NULL);
)sql";

// store_meta keys besides the spool's.
constexpr const char* kEnd = "segment_end";  // the committed end of the log (the last id)
constexpr const char* kSegmentBytes = "segment_bytes";
constexpr const char* kEventsTotal = "events_total";
constexpr const char* kEventsFolded = "events_folded";
constexpr const char* kRetentionDay = "retention_day";
constexpr const char* kWatermark = "spool_watermark";

// scan_reports reads a chunk's event_state rows in one range when its events lie at most this
// many log bytes apart on average (a record is ~500 bytes and about one event in six has a
// state row: ~3 rows read per wanted event, cheaper than a B-tree lookup each); else one
// lookup per event.
constexpr int64_t kDenseStateBytesPerId = 8192;

// The fields of the occurrence an event shows (its representative): beside its identity,
// what a new event's record holds, and what a repeat stores when it takes over the row.
SegmentRecord representative_fields(const EventRecord& ev, int64_t rank) {
  SegmentRecord r;
  r.rank = rank;
  r.asn = ev.asn;
  r.severity = ev.severity;
  r.ip = ev.ip;
  r.geo = ev.geo;
  r.region = ev.region;
  r.tag = ev.tag;
  r.row = ev.row;
  return r;
}

uint64_t routes_hash(std::string_view encoded) {
  Hash64 h;
  h.add(encoded);
  return h.finish();
}

// An event_state row as a batch rewrites it.
struct PendingState {
  DayNumber day = 0;
  uint64_t event_key = 0;
  std::optional<std::string> repr;
  std::optional<std::string> routes;
};

// The committed view a read (or the fold) works on, read in one SQLite transaction.
struct Snapshot {
  int64_t end = 0;
  int64_t watermark = 0;
  DayNumber retention = INT32_MIN;
};

// The state of a tail event, for the fold and the readers' tail.
struct TailState {
  int64_t first_seen = 0, last_seen = 0, count = 0;
  std::optional<std::string> routes, repr;
};

class SegmentStore final : public EventStore {
 public:
  SegmentStore(std::string dir, std::unique_ptr<Db> db, SegmentStoreOptions options)
      : dir_(std::move(dir)), db_(std::move(db)), options_(options) {}

  ~SegmentStore() override {
    // Leave the spool settled for the readers that follow (a crash just leaves a longer tail).
    if (writer_ready_ && last_event_id_ > flushed_through_) (void)settle();
    if (lock_fd_ >= 0) ::close(lock_fd_);
  }

  Status init() {
    for (const char* pragma :
         {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL", "PRAGMA temp_store=MEMORY",
          "PRAGMA cache_size=-65536", "PRAGMA foreign_keys=OFF"}) {
      if (auto st = db_->exec(pragma); !st) return st;
    }
    auto v = select_count(*db_, "PRAGMA user_version");
    if (!v) return v.error();
    if (*v > kSchemaVersion) {
      return Error{ErrorCode::kFailedPrecondition,
                   "segment store was written by a newer Vantage (schema " + std::to_string(*v) +
                       ", this build knows " + std::to_string(kSchemaVersion) + ")"};
    }
    if (*v < kSchemaVersion) {
      auto created = db_->transaction([&]() -> Status {
        auto again = select_count(*db_, "PRAGMA user_version");
        if (!again) return again.error();
        if (*again >= kSchemaVersion) return {};  // another process created it meanwhile
        for (const char* ddl : {kStoreTablesSchema, kRollupSchema, kSpoolSchema, kSegmentSchema}) {
          if (auto st = db_->exec(ddl); !st) return st;
        }
        if (auto st = set_meta(kSegmentBytes, options_.segment_bytes); !st) return st;
        return db_->exec(("PRAGMA user_version=" + std::to_string(kSchemaVersion)).c_str());
      });
      if (!created) return created;
    }
    auto bytes = meta(kSegmentBytes);
    if (!bytes) return bytes.error();
    if (*bytes <= 0) return Error::internal("segment store without a segment size");
    log_ = std::make_unique<SegmentLog>(dir_, *bytes);
    return {};
  }

  // ---------------------------------------------------------------- writing

  Result<BatchOutcome> write(const IngestBatch& batch) override {
    std::lock_guard lock(mu_);
    if (auto st = ensure_writer(); !st) return st.error();
    BatchOutcome outcome;
    int64_t new_end = 0;
    auto written = db_->transaction([&]() -> Status {
      auto out = write_locked(batch, new_end);
      if (!out) return out.error();
      outcome = *out;
      return {};
    });
    if (!written) {
      // Nothing of the batch is committed: its bytes go, the dedup map forgets it.
      types_.forget_created();
      undo_batch();
      tail_.invalidate();  // the batch's changes to it are not undone: the next fold reads disk
      log_->drop_pending();
      (void)log_->truncate_to(end_);
      return written.error();
    }
    undo_.clear();
    inserted_.clear();
    end_ = new_end;
    last_event_id_ = std::max(last_event_id_, end_);
    auto now = std::chrono::steady_clock::now();
    bool input_done = batch.checkpoint && batch.checkpoint->done;
    if (unfolded_ >= options_.fold.spool_flush_events || input_done ||
        (unfolded_ > 0 && now - last_flush_ >= options_.fold.spool_flush_interval)) {
      last_flush_ = now;
      (void)settle_locked();
    }
    return outcome;
  }

  Status settle() override {
    std::lock_guard lock(mu_);
    return settle_locked();
  }

  Result<int64_t> unsettled_events() override {
    std::lock_guard lock(mu_);
    return in_snapshot([&]() -> Result<int64_t> {
      auto total = meta(kEventsTotal);
      if (!total) return total.error();
      auto folded = meta(kEventsFolded);
      if (!folded) return folded.error();
      return *total - *folded;
    });
  }

  Result<std::optional<SourceCheckpoint>> checkpoint(std::string_view source_key) override {
    std::lock_guard lock(mu_);
    return select_checkpoint(*db_, source_key);
  }

  Result<std::vector<SourceCheckpoint>> checkpoints() override {
    std::lock_guard lock(mu_);
    return select_checkpoints(*db_);
  }

  Result<std::vector<QuarantineRecord>> quarantine(int64_t limit) override {
    std::lock_guard lock(mu_);
    return select_quarantine(*db_, limit);
  }

  Result<int64_t> quarantine_count() override {
    std::lock_guard lock(mu_);
    return select_count(*db_, "SELECT count(*) FROM quarantine");
  }

  Result<int64_t> last_event_id() override {
    std::lock_guard lock(mu_);
    return meta(kEnd);
  }

  // ---------------------------------------------------------------- reading

  Result<std::vector<ReportKey>> report_keys(DayNumber day,
                                             std::optional<uint32_t> org_id) override {
    std::lock_guard lock(mu_);
    return in_snapshot([&]() -> Result<std::vector<ReportKey>> {
      auto snap = snapshot();
      if (!snap) return snap.error();
      ReportGroupRows rows;
      auto st = spool_groups(*snap, day, day, org_id, [&](const SpoolGroup& g) {
        rows[{g.org_id, g.type_id, g.filter}] += g.count;
      });
      if (!st) return st.error();
      return report_keys_from(*db_, types_, day, rows);
    });
  }

  Status scan_report(const ReportKey& key,
                     const std::function<bool(const StoredEvent&)>& row) override {
    std::lock_guard lock(mu_);
    return in_snapshot([&]() -> Status { return scan_report_locked(key, row); });
  }

  // Bulk: whole organisations at a time, about options_.report_chunk_rows rows per chunk, each
  // chunk in its own read snapshot (scan_report_chunk; between them the writer may go on). An
  // organisation too large to hold in memory is read report by report.
  Status scan_reports(
      std::span<const ReportKey> keys,
      const std::function<bool(const ReportKey&, const StoredEvent&)>& row) override {
    if (auto st = check_report_scan_keys(keys); !st) return st;
    Status st = scan_reports_in_chunks(*this, keys, options_.report_chunk_rows,
                                       options_.report_bulk_org_rows_max, row,
                                       [&](std::span<const ReportKey> chunk, bool& go_on) {
                                         return scan_report_chunk(chunk, row, go_on);
                                       });
    release_bulk_scratch();
    return st;
  }

  Result<std::vector<StatsRow>> stats(const StatsQuery& q) override {
    std::lock_guard lock(mu_);
    return in_snapshot([&]() -> Result<std::vector<StatsRow>> {
      if (auto st = check_stats_dimensions(q); !st) return st.error();
      auto rolled = rollup_stats(*db_, q);
      if (!rolled) return rolled.error();
      if (*rolled) return std::move(**rolled);
      if (!q.org_id) return global_stats(*db_, q);
      auto snap = snapshot();
      if (!snap) return snap.error();
      bool wants_other = !within_org_counters(q);
      if (!wants_other) {
        // Day, type and severity: the organisation's counters (kept by retention) plus the
        // tail's events, as the SQLite store's org_stats_source.
        if (auto st = fill_org_tail(*snap, *q.org_id); !st) return st.error();
        return stats_from(*db_, q,
                          "(SELECT day, type_id, severity, events FROM org_stats WHERE org_id = " +
                              std::to_string(*q.org_id) +
                              " UNION ALL SELECT day, type_id, severity, events FROM "
                              "temp.org_events) r");
      }
      // Other dimensions come from the organisation's own events (one row per distinct event),
      // as the SQLite store answers them.
      auto ids = org_event_ids(*snap, *q.org_id, q.first_day, q.last_day, {}, {});
      if (!ids) return ids.error();
      if (auto st = fill_org_events(*ids); !st) return st.error();
      return stats_from(*db_, q, "temp.org_events r");
    });
  }

  Result<std::vector<StoredEvent>> query(const EventQuery& q) override {
    std::lock_guard lock(mu_);
    return in_snapshot([&]() -> Result<std::vector<StoredEvent>> {
      auto snap = snapshot();
      if (!snap) return snap.error();
      std::vector<StoredEvent> hits;
      auto consider = [&](StoredEvent&& e) {
        if (e.day < q.first_day || e.day > q.last_day) return;
        if (!q.types.empty() && !contains(q.types, e.type)) return;
        if (!q.ips.empty() && !contains(q.ips, e.ip)) return;
        if (!q.geos.empty() && !contains(q.geos, e.geo)) return;
        if (!q.regions.empty() && !contains(q.regions, e.region)) return;
        if (!q.asns.empty() && std::find(q.asns.begin(), q.asns.end(), e.asn) == q.asns.end())
          return;
        if (!q.tags.empty() && !std::any_of(q.tags.begin(), q.tags.end(),
                                            [&](const auto& t) { return tag_list_has(e.tag, t); }))
          return;
        hits.push_back(std::move(e));
      };
      if (q.org_id) {
        auto ids = org_event_ids(*snap, *q.org_id, q.first_day, q.last_day, {}, {});
        if (!ids) return ids.error();
        for (int64_t id : *ids) {
          StoredEvent e;
          auto st = load_event(id, e, nullptr);
          if (!st) {
            if (st.error().code == ErrorCode::kNotFound) continue;
            return st.error();
          }
          consider(std::move(e));
        }
      } else {
        // No organisation (the API always names one): every committed record is read.
        Status inner;
        auto st = log_->scan(0, snap->end, [&](int64_t id, const SegmentRecord& r) {
          if (r.day < snap->retention || r.day < q.first_day || r.day > q.last_day) return true;
          StoredEvent e;
          inner = record_event(id, r, e, nullptr);
          if (!inner) return false;
          consider(std::move(e));
          return true;
        });
        if (!st) return st.error();
        if (!inner) return inner.error();
      }
      if (q.descending) {
        std::sort(hits.begin(), hits.end(),
                  [](const auto& a, const auto& b) { return report_row_less(b, a); });
      } else {
        std::sort(hits.begin(), hits.end(), report_row_less);
      }
      std::vector<StoredEvent> out;
      for (int64_t i = std::max<int64_t>(q.offset, 0);
           i < static_cast<int64_t>(hits.size()) && static_cast<int64_t>(out.size()) < q.limit;
           ++i) {
        out.push_back(std::move(hits[static_cast<size_t>(i)]));
      }
      return out;
    });
  }

  Result<TailPage> read_after(
      const TailQuery& q,
      const std::function<bool(const StoredEvent&, const std::vector<OrgRoute>&)>& event) override {
    std::lock_guard lock(mu_);
    return in_snapshot([&]() -> Result<TailPage> {
      TailPage page;
      auto snap = snapshot();
      if (!snap) return snap.error();
      int64_t through = std::min(q.through_id, snap->end);
      page.examined_to = std::max(q.after_id, through);
      if (through <= q.after_id || q.limit <= 0) return page;
      std::vector<OrgRoute> routes;
      std::string routes_text;
      Status inner;
      // The scan runs to the committed end and stops at the first record past `through`: a
      // caller's through_id may fall inside a record (ids are record ends), and examined_to
      // must stay a record boundary, where the next page's scan can start.
      int64_t boundary = q.after_id;
      auto st = log_->scan(q.after_id, snap->end, [&](int64_t id, const SegmentRecord& r) {
        if (id > through) {
          page.examined_to = boundary;
          return false;
        }
        boundary = id;
        if (r.day < snap->retention) return true;
        StoredEvent e;
        inner = record_event(id, r, e, &routes_text);
        if (!inner) return false;
        if (e.severity < q.min_severity) return true;
        decode_routes(routes_text, routes);
        if (q.org_id && std::none_of(routes.begin(), routes.end(),
                                     [&](const OrgRoute& o) { return o.org_id == *q.org_id; }))
          return true;
        ++page.events;
        bool go_on = event(e, routes);
        if (page.events >= q.limit || !go_on) {
          page.examined_to = id;  // the records after it were not looked at
          return false;
        }
        return true;
      });
      if (!st) return st.error();
      if (!inner) return inner.error();
      return page;
    });
  }

  // ---------------------------------------------------------------- retention

  Result<int64_t> drop_events_before(DayNumber day) override {
    std::lock_guard lock(mu_);
    int64_t dropped = 0;
    std::vector<int64_t> files;
    auto st = db_->transaction([&]() -> Status {
      auto retention = meta(kRetentionDay);
      if (!retention) return retention.error();
      if (auto s = set_meta(kRetentionDay, std::max<int64_t>(*retention, day)); !s) return s;
      auto count =
          count_where("SELECT coalesce(sum(events), 0) FROM day_counts WHERE day < ?", day);
      if (!count) return count.error();
      dropped = *count;
      auto end = meta(kEnd);
      if (!end) return end.error();
      // The file being written stays; older files whose events are all dropped go.
      int64_t current = *end > 0 ? log_->segment_of(*end - 1) : 0;
      auto sel = db_->prepare("SELECT n FROM segments WHERE max_day < ?1 AND n < ?2");
      if (!sel) return sel.error();
      sel->bind(1, day).bind(2, current);
      while (true) {
        auto has = sel->step();
        if (!has) return has.error();
        if (!*has) break;
        files.push_back(sel->int64(0));
      }
      for (const char* sql :
           {"DELETE FROM day_counts WHERE day < ?", "DELETE FROM spool_runs WHERE day < ?",
            "DELETE FROM day_keys WHERE day < ?", "DELETE FROM event_state WHERE day < ?"}) {
        auto del = db_->prepare(sql);
        if (!del) return del.error();
        del->bind(1, day);
        if (auto s = del->run(); !s) return s;
      }
      auto del = db_->prepare("DELETE FROM segments WHERE max_day < ?1 AND n < ?2");
      if (!del) return del.error();
      del->bind(1, day).bind(2, current);
      return del->run();
    });
    if (!st) return st.error();
    // After the commit: a crash in between leaves files no segment row names, which only
    // cost space (their events are invisible: older than the retention day).
    for (int64_t n : files) {
      if (auto s = log_->remove_segment(n); !s) return s.error();
    }
    if (writer_ready_) {
      dedup_.erase_days_before(day);
      dedup_retention_ = std::max<int64_t>(dedup_retention_, day);
    }
    day_keys_cache_.reset();
    return dropped;
  }

  // `vantage store migrate` into this store: the statistics of a day whose events are gone.
  Status import_dropped_day_statistics(const DayStatistics& day) override {
    std::lock_guard lock(mu_);
    return counters_.import_dropped_day(*db_, types_, day);
  }

 private:
  // ---------------------------------------------------------------- helpers

  template <typename F>
  auto in_snapshot(F&& body) -> decltype(body()) {
    return in_read_snapshot(*db_, std::forward<F>(body));
  }

  static bool contains(const std::vector<std::string>& list, const std::string& v) {
    return std::find(list.begin(), list.end(), v) != list.end();
  }

  // The SQLite store's `(',' || tag || ',') LIKE ('%,' || t || ',%')`: an element of the
  // list, ASCII case-insensitive.
  static bool tag_list_has(std::string_view list, std::string_view t) {
    std::string hay = "," + to_lower(list) + ",";
    std::string needle = "," + to_lower(t) + ",";
    return hay.find(needle) != std::string::npos;
  }

  Result<int64_t> meta(const char* key) {
    auto st = db_->prepare("SELECT value FROM store_meta WHERE key = ?");
    if (!st) return st.error();
    st->bind(1, std::string_view(key));
    auto has = st->step();
    if (!has) return has.error();
    return *has ? st->int64(0) : 0;
  }

  Status set_meta(const char* key, int64_t value) {
    auto st = db_->prepare(
        "INSERT INTO store_meta VALUES(?, ?) ON CONFLICT DO UPDATE SET value = excluded.value");
    if (!st) return st.error();
    st->bind(1, std::string_view(key)).bind(2, value);
    return st->run();
  }

  Result<int64_t> count_where(const char* sql, int64_t arg) {
    auto st = db_->prepare(sql);
    if (!st) return st.error();
    st->bind(1, arg);
    auto has = st->step();
    if (!has) return has.error();
    return *has ? st->int64(0) : 0;
  }

  Result<Snapshot> snapshot() {
    Snapshot s;
    auto end = meta(kEnd);
    if (!end) return end.error();
    auto watermark = meta(kWatermark);
    if (!watermark) return watermark.error();
    auto retention = meta(kRetentionDay);
    if (!retention) return retention.error();
    s.end = *end;
    s.watermark = std::min(*watermark, *end);
    if (*retention != 0) s.retention = static_cast<DayNumber>(*retention);
    return s;
  }

  Result<std::optional<int64_t>> known_type_id(const std::string& name) {
    return types_.find(*db_, name);
  }
  Result<int64_t> type_id(const std::string& name) { return types_.get_or_create(*db_, name); }
  Result<std::string> type_name(int64_t id) { return types_.name(*db_, id); }

  // The state rows of the tail (ids in (watermark, end]): a fold or a reader reads them in
  // one range instead of one lookup per event.
  Result<std::unordered_map<int64_t, TailState>> tail_states(const Snapshot& s) {
    std::unordered_map<int64_t, TailState> out;
    auto st = db_->prepare(
        "SELECT id, first_seen, last_seen, count, routes, repr FROM event_state WHERE id > ?1 "
        "AND id <= ?2");
    if (!st) return st.error();
    st->bind(1, s.watermark).bind(2, s.end);
    while (true) {
      auto has = st->step();
      if (!has) return has.error();
      if (!*has) break;
      auto& t = out[st->int64(0)];
      t.first_seen = st->int64(1);
      t.last_seen = st->int64(2);
      t.count = st->int64(3);
      if (!st->is_null(4)) t.routes = std::string(st->text(4));
      if (!st->is_null(5)) t.repr = std::string(st->text(5));
    }
    return out;
  }

  // Every tail record (not dropped by retention) with its state applied: `r` shows the
  // representative's fields, `routes` the event's routes.
  Status for_each_tail(const Snapshot& s,
                       const std::function<bool(int64_t, const SegmentRecord&, std::string_view,
                                                const TailState*)>& record) {
    if (s.end <= s.watermark) return {};
    auto states = tail_states(s);
    if (!states) return states.error();
    Status inner;
    auto st = log_->scan(s.watermark, s.end, [&](int64_t id, const SegmentRecord& rec) {
      if (rec.day < s.retention) return record(id, rec, {}, nullptr);
      SegmentRecord r = rec;
      const TailState* state = nullptr;
      if (auto it = states->find(id); it != states->end()) {
        state = &it->second;
        if (state->repr && !decode_representative(*state->repr, r)) {
          inner = Error::internal("damaged representative of event " + std::to_string(id));
          return false;
        }
      }
      std::string_view routes = state && state->routes ? *state->routes : rec.routes;
      return record(id, r, routes, state);
    });
    if (!st) return st;
    return inner;
  }

  // The spool's groups of these days (optionally one organisation): the runs, then the tail.
  Status spool_groups(const Snapshot& s, DayNumber first_day, DayNumber last_day,
                      std::optional<uint32_t> org_id,
                      const std::function<void(const SpoolGroup&)>& group) {
    if (auto st = SpoolReader(*db_).for_each_run(first_day, last_day, org_id, group); !st)
      return st;
    std::vector<OrgRoute> routes;
    return for_each_tail(
        s, [&](int64_t id, const SegmentRecord& r, std::string_view text, const TailState*) {
          if (r.day < s.retention || r.day < first_day || r.day > last_day) return true;
          decode_routes(text, routes);
          SpoolGroup g;
          g.event_id = id;
          g.day = r.day;
          g.type_id = r.type_id;
          g.count = 1;
          for (const auto& route : routes) {
            if (org_id && route.org_id != *org_id) continue;
            g.org_id = route.org_id;
            g.filter = route.filter;
            group(g);
          }
          return true;
        });
  }

  // The ids of an organisation's events on those days (one type and filter, or all),
  // ascending and unique.
  Result<std::vector<int64_t>> org_event_ids(const Snapshot& s, uint32_t org_id,
                                             DayNumber first_day, DayNumber last_day,
                                             std::optional<int64_t> type,
                                             std::optional<MatchFilter> filter) {
    std::vector<int64_t> ids;
    auto st = spool_groups(s, first_day, last_day, org_id, [&](const SpoolGroup& g) {
      if ((type && g.type_id != *type) || (filter && g.filter != *filter)) return;
      g.for_each_id([&](int64_t id) { ids.push_back(id); });
    });
    if (!st) return st.error();
    std::sort(ids.begin(), ids.end());
    ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
    return ids;
  }

  // What a repeat changed of an event (its event_state row), as views.
  struct StateView {
    int64_t first_seen = 0, last_seen = 0, count = 0;
    std::string_view repr;  // empty: the record's own occurrence is the representative
  };

  // Fills `e` (reusing its strings' memory: a bulk read keeps its events) from the event's
  // record and its state (null: no repeat).
  Status fill_event(int64_t id, const SegmentRecord& rec, const StateView* state, StoredEvent& e) {
    const SegmentRecord* shown = &rec;
    SegmentRecord r;
    if (state && !state->repr.empty()) {
      r = rec;
      if (!decode_representative(state->repr, r)) {
        return Error::internal("damaged representative of event " + std::to_string(id));
      }
      shown = &r;
    }
    auto name = type_name(rec.type_id);
    if (!name) return name.error();
    e.id = id;
    e.day = rec.day;
    e.type.assign(*name);
    e.event_key = rec.event_key;
    e.first_seen = state ? state->first_seen : rec.timestamp;
    e.last_seen = state ? state->last_seen : rec.timestamp;
    e.count = state ? static_cast<uint32_t>(state->count) : 1;
    e.ip.assign(shown->ip);
    e.asn = shown->asn;
    e.geo.assign(shown->geo);
    e.region.assign(shown->region);
    e.severity = shown->severity;
    e.tag.assign(shown->tag);
    e.row.assign(shown->row);
    e.new_since_previous_day = true;
    return {};
  }

  Status prepare_select_state() {
    if (select_state_ready_) return {};
    auto st = db_->prepare(
        "SELECT first_seen, last_seen, count, routes, repr FROM event_state WHERE id = ?");
    if (!st) return st.error();
    select_state_ = std::move(*st);
    select_state_ready_ = true;
    return {};
  }

  // A stored event from its record and its state row (if any); `routes` gets its routes.
  Status record_event(int64_t id, const SegmentRecord& rec, StoredEvent& e, std::string* routes) {
    if (auto st = prepare_select_state(); !st) return st;
    if (routes) routes->assign(rec.routes);
    select_state_.bind(1, id);
    auto has = select_state_.step();
    if (!has) {
      select_state_.reset();
      return has.error();
    }
    Status st;
    if (*has) {
      if (routes && !select_state_.is_null(3)) routes->assign(select_state_.text(3));
      StateView state{select_state_.int64(0), select_state_.int64(1), select_state_.int64(2),
                      select_state_.is_null(4) ? std::string_view() : select_state_.text(4)};
      st = fill_event(id, rec, &state, e);
    } else {
      st = fill_event(id, rec, nullptr, e);
    }
    select_state_.reset();
    return st;
  }

  Status load_event(int64_t id, StoredEvent& e, std::string* routes) {
    SegmentRecord rec;
    if (auto st = log_->read(id, read_buffer_, rec); !st) return st;
    return record_event(id, rec, e, routes);
  }

  // The event keys of `day` (for new_since_previous_day): the folds' blobs plus the tail's,
  // cached while the store does not change.
  Result<const std::unordered_set<uint64_t>*> day_keys(const Snapshot& s, DayNumber day) {
    if (day_keys_cache_ && day_keys_day_ == day && day_keys_end_ == s.end &&
        day_keys_watermark_ == s.watermark && day_keys_retention_ == s.retention) {
      return day_keys_cache_.get();
    }
    auto keys = std::make_unique<std::unordered_set<uint64_t>>();
    if (day >= s.retention) {
      auto st = db_->prepare("SELECT keys FROM day_keys WHERE day = ? AND through_id <= ?");
      if (!st) return st.error();
      st->bind(1, day).bind(2, s.watermark);
      while (true) {
        auto has = st->step();
        if (!has) return has.error();
        if (!*has) break;
        std::string_view blob = st->text(0);
        for (size_t i = 0; i + 8 <= blob.size(); i += 8) {
          uint64_t k;
          std::memcpy(&k, blob.data() + i, 8);
          keys->insert(k);
        }
      }
      auto tail = log_->scan(s.watermark, s.end, [&](int64_t, const SegmentRecord& r) {
        if (r.day == day) keys->insert(r.event_key);
        return true;
      });
      if (!tail) return tail.error();
    }
    day_keys_cache_ = std::move(keys);
    day_keys_day_ = day;
    day_keys_end_ = s.end;
    day_keys_watermark_ = s.watermark;
    day_keys_retention_ = s.retention;
    return day_keys_cache_.get();
  }

  Status scan_report_locked(const ReportKey& key,
                            const std::function<bool(const StoredEvent&)>& row) {
    auto tid = known_type_id(key.type);
    if (!tid) return tid.error();
    if (!*tid) return {};  // no event of this type was ever stored
    auto snap = snapshot();
    if (!snap) return snap.error();
    auto ids = org_event_ids(*snap, key.org_id, key.day, key.day, **tid, key.filter);
    if (!ids) return ids.error();
    if (ids->empty()) return {};
    // A report's rows are held to sort them (bounded by the report, as SQLite's sorter).
    std::vector<StoredEvent> rows;
    rows.reserve(ids->size());
    for (int64_t id : *ids) {
      StoredEvent e;
      auto st = load_event(id, e, nullptr);
      if (!st) {
        if (st.error().code == ErrorCode::kNotFound) continue;
        return st;
      }
      rows.push_back(std::move(e));
    }
    std::sort(rows.begin(), rows.end(), report_row_less);
    auto previous = day_keys(*snap, key.day - 1);
    if (!previous) return previous.error();
    for (auto& e : rows) {
      e.new_since_previous_day = !(*previous)->contains(e.event_key);
      if (!row(e)) break;
    }
    return {};
  }

  // One chunk of scan_reports, in one read snapshot: the (report, event) pairs of the chunk's
  // organisations from the spool's runs and the tail, the state rows of their events, every
  // event read once in offset order (SegmentLog::read_sorted: a pread per stretch of the log,
  // not per row), then each report's rows in scan_report's order (report_row_less).
  Status scan_report_chunk(std::span<const ReportKey> keys,
                           const std::function<bool(const ReportKey&, const StoredEvent&)>& row,
                           bool& go_on) {
    std::lock_guard lock(mu_);
    return in_snapshot([&]() -> Status {
      auto snap = snapshot();
      if (!snap) return snap.error();
      const DayNumber day = keys[0].day;
      if (auto st = bulk_chunk_.start(*db_, types_, keys); !st) return st;
      auto st = SpoolReader(*db_).for_each_run_of_orgs(
          day, bulk_chunk_.orgs(), [&](const SpoolGroup& g) { bulk_chunk_.add(g); });
      if (!st) return st;
      // The tail: records past the watermark, with the routes their repeats added.
      std::vector<OrgRoute> routes;
      st = for_each_tail(
          *snap, [&](int64_t id, const SegmentRecord& r, std::string_view text, const TailState*) {
            if (r.day < snap->retention || r.day != day) return true;
            decode_routes(text, routes);
            for (const auto& route : routes)
              bulk_chunk_.add(route.org_id, r.type_id, route.filter, id);
            return true;
          });
      if (!st) return st;
      const auto& all_ids = bulk_chunk_.event_ids();
      // Never past the snapshot's committed end (bytes there belong to no committed batch).
      std::span<const int64_t> ids(
          all_ids.data(),
          static_cast<size_t>(std::upper_bound(all_ids.begin(), all_ids.end(), snap->end) -
                              all_ids.begin()));
      if (auto s = read_bulk_states(ids); !s) return s;
      // Each event once, in offset order: bulk_events_[i] is event all_ids[i] (or absent).
      if (bulk_events_.size() < all_ids.size()) bulk_events_.resize(all_ids.size());
      bulk_found_.assign(all_ids.size(), false);
      auto previous = day_keys(*snap, day - 1);
      if (!previous) return previous.error();
      size_t next_state = 0;
      Status inner;
      st = log_->read_sorted(ids, [&](size_t i, const SegmentRecord& rec) {
        if (!inner) return;
        while (next_state < bulk_states_used_ && bulk_states_[next_state].index < i) ++next_state;
        const BulkState* state =
            next_state < bulk_states_used_ && bulk_states_[next_state].index == i
                ? &bulk_states_[next_state]
                : nullptr;
        StateView view;
        if (state) {
          view = {state->first_seen, state->last_seen, state->count,
                  state->has_repr ? std::string_view(state->repr) : std::string_view()};
        }
        StoredEvent& e = bulk_events_[i];
        inner = fill_event(ids[i], rec, state ? &view : nullptr, e);
        if (!inner) return;
        e.new_since_previous_day = !(*previous)->contains(e.event_key);
        bulk_found_[i] = true;
      });
      if (!st) return st;
      if (!inner) return inner;
      go_on = bulk_chunk_.hand_out(bulk_events_, bulk_found_, row);
      return {};
    });
  }

  // The event_state rows of `ids` (ascending) into bulk_states_[0, bulk_states_used_), in id order.
  // Where the wanted ids lie densely (a chunk of a small day touches most of its events) one
  // range read of the table beats a lookup per id; where they are sparse (a large day), the
  // lookups read far fewer rows.
  Status read_bulk_states(std::span<const int64_t> ids) {
    bulk_states_used_ = 0;
    if (ids.empty()) return {};
    auto take = [&](size_t index, int64_t first_seen, int64_t last_seen, int64_t count,
                    bool has_repr, std::string_view repr) {
      if (bulk_states_used_ == bulk_states_.size()) bulk_states_.emplace_back();
      BulkState& b = bulk_states_[bulk_states_used_++];
      b.index = index;
      b.first_seen = first_seen;
      b.last_seen = last_seen;
      b.count = count;
      b.has_repr = has_repr;
      b.repr.assign(repr);
    };
    int64_t log_bytes = ids.back() - ids.front();
    if (log_bytes <= static_cast<int64_t>(ids.size()) * kDenseStateBytesPerId) {
      auto st = db_->prepare(
          "SELECT id, first_seen, last_seen, count, repr FROM event_state WHERE id >= ?1 AND "
          "id <= ?2");
      if (!st) return st.error();
      st->bind(1, ids.front()).bind(2, ids.back());
      size_t at = 0;
      while (true) {
        auto has = st->step();
        if (!has) return has.error();
        if (!*has) break;
        int64_t id = st->int64(0);
        at = static_cast<size_t>(
            std::lower_bound(ids.begin() + static_cast<long>(at), ids.end(), id) - ids.begin());
        if (at == ids.size()) break;
        if (ids[at] != id) continue;
        take(at, st->int64(1), st->int64(2), st->int64(3), !st->is_null(4),
             st->is_null(4) ? std::string_view() : st->text(4));
      }
      return {};
    }
    if (auto st = prepare_select_state(); !st) return st;
    for (size_t i = 0; i < ids.size(); ++i) {
      select_state_.bind(1, ids[i]);
      auto has = select_state_.step();
      if (!has) {
        select_state_.reset();
        return has.error();
      }
      if (*has) {
        take(i, select_state_.int64(0), select_state_.int64(1), select_state_.int64(2),
             !select_state_.is_null(4),
             select_state_.is_null(4) ? std::string_view() : select_state_.text(4));
      }
      select_state_.reset();
    }
    return {};
  }

  // A chunk may have held one large organisation's rows: give the memory back after a scan.
  void release_bulk_scratch() {
    std::lock_guard lock(mu_);
    bulk_chunk_.release();
    bulk_events_ = {};
    bulk_found_ = {};
    bulk_states_ = {};
    bulk_states_used_ = 0;
  }

  // An empty temp.org_events (this connection's own) and its insert statement.
  Result<Statement> clear_org_events() {
    if (auto st = db_->exec(
            "CREATE TEMP TABLE IF NOT EXISTS org_events(day INTEGER, type_id INTEGER, geo TEXT, "
            "region TEXT, asn INTEGER, severity INTEGER, tag TEXT, events INTEGER)");
        !st)
      return st.error();
    if (auto st = db_->exec("DELETE FROM temp.org_events"); !st) return st.error();
    return db_->prepare("INSERT INTO temp.org_events VALUES(?,?,?,?,?,?,?,1)");
  }

  // temp.org_events: the tail's events routed to `org_id` (day, type and severity).
  Status fill_org_tail(const Snapshot& s, uint32_t org_id) {
    auto ins = clear_org_events();
    if (!ins) return ins.error();
    std::vector<OrgRoute> routes;
    Status inner;
    auto st = for_each_tail(
        s, [&](int64_t, const SegmentRecord& r, std::string_view text, const TailState*) {
          if (r.day < s.retention) return true;
          decode_routes(text, routes);
          if (std::none_of(routes.begin(), routes.end(),
                           [&](const OrgRoute& o) { return o.org_id == org_id; }))
            return true;
          ins->bind(1, r.day)
              .bind(2, r.type_id)
              .bind(3, std::string_view())
              .bind(4, std::string_view())
              .bind(5, int64_t{0})
              .bind(6, static_cast<int64_t>(r.severity))
              .bind(7, std::string_view());
          inner = ins->run();
          return inner.ok();
        });
    if (!st) return st;
    return inner;
  }

  // temp.org_events: one row per event of `ids`, for stats_from.
  Status fill_org_events(const std::vector<int64_t>& ids) {
    auto ins = clear_org_events();
    if (!ins) return ins.error();
    for (int64_t id : ids) {
      SegmentRecord rec;
      if (auto st = log_->read(id, read_buffer_, rec); !st) {
        if (st.error().code == ErrorCode::kNotFound) continue;
        return st;
      }
      StoredEvent e;
      if (auto st = record_event(id, rec, e, nullptr); !st) return st;
      ins->bind(1, e.day)
          .bind(2, rec.type_id)
          .bind(3, e.geo)
          .bind(4, e.region)
          .bind(5, static_cast<int64_t>(e.asn))
          .bind(6, static_cast<int64_t>(e.severity))
          .bind(7, e.tag);
      if (auto st = ins->run(); !st) return st;
    }
    return {};
  }

  // ---------------------------------------------------------------- the writer

  // The first write takes the store's writer lock (one writing process: the dedup map is
  // this process's), drops an uncommitted batch's bytes and builds the dedup map.
  Status ensure_writer() {
    if (writer_ready_) return {};
    std::string lock_path = dir_ + "/LOCK";
    lock_fd_ = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0640);
    if (lock_fd_ < 0) return Error::io("cannot open " + lock_path);
    if (::flock(lock_fd_, LOCK_EX | LOCK_NB) != 0) {
      ::close(lock_fd_);
      lock_fd_ = -1;
      return Error{ErrorCode::kFailedPrecondition,
                   "the segment store " + dir_ + " is being written by another process"};
    }
    for (Status s : {batch_tables_.prepare(*db_), counters_.prepare(*db_), spool_.prepare(*db_),
                     upsert_state_.prepare(
                         *db_,
                         "event_state(id, day, event_key, first_seen, last_seen, count, rep, "
                         "routes, repr)",
                         9,
                         "ON CONFLICT(id) DO UPDATE SET first_seen = excluded.first_seen, "
                         "last_seen = excluded.last_seen, count = excluded.count, rep = "
                         "excluded.rep, routes = coalesce(excluded.routes, routes), repr = "
                         "coalesce(excluded.repr, repr)")}) {
      if (!s) return s;
    }
    fold_ready_ = true;
    Snapshot snap;
    auto st = db_->read_transaction([&]() -> Status {
      auto s = snapshot();
      if (!s) return s.error();
      snap = *s;
      return {};
    });
    if (!st) return st;
    end_ = snap.end;
    if (auto s = log_->truncate_to(end_); !s) return s;
    // The tail of an earlier process is on disk only: the first fold reads it from there.
    if (snap.end <= snap.watermark) {
      tail_.reset(snap.end);
    } else {
      tail_.invalidate();
    }
    dedup_.clear();
    // The scan below skips the days before the retention day (0 in store_meta: none yet).
    dedup_retention_ = std::max<int64_t>(0, snap.retention);
    // Index room for a day of a busy sensor network before the first rehash (8 MB).
    dedup_.reserve(size_t{1} << 19);
    Status inner;
    st = log_->scan(0, end_, [&](int64_t id, const SegmentRecord& r) {
      if (r.day < snap.retention) return true;
      dedup_.put({r.day, r.event_key},
                 {id, r.timestamp, r.timestamp, r.rank, routes_hash(r.routes), 1});
      return true;
    });
    if (!st) return st;
    auto states = db_->prepare(
        "SELECT day, event_key, first_seen, last_seen, count, rep, routes FROM event_state");
    if (!states) return states.error();
    while (true) {
      auto has = states->step();
      if (!has) return has.error();
      if (!*has) break;
      DedupEntry* found = dedup_.find(
          {static_cast<DayNumber>(states->int64(0)), static_cast<uint64_t>(states->int64(1))});
      if (!found) continue;
      auto& e = *found;
      e.first_seen = states->int64(2);
      e.last_seen = states->int64(3);
      e.count = static_cast<uint32_t>(states->int64(4));
      e.rep = states->int64(5);
      if (!states->is_null(6)) e.routes_hash = routes_hash(states->text(6));
    }
    auto folded = db_->read_transaction([&]() -> Status {
      auto total = meta(kEventsTotal);
      auto done = meta(kEventsFolded);
      if (!total || !done) return Error::internal("cannot read the store's counters");
      unfolded_ = *total - *done;
      return {};
    });
    if (!folded) return folded;
    writer_ready_ = true;
    return {};
  }

  void undo_batch() {
    for (auto it = undo_.rbegin(); it != undo_.rend(); ++it) dedup_.put(it->first, it->second);
    for (const auto& k : inserted_) dedup_.erase(k);
    undo_.clear();
    inserted_.clear();
  }

  // The routes the event has now: this batch's, its state row's, or its record's.
  Status current_routes(int64_t id, std::string& out) {
    if (auto it = pending_.find(id); it != pending_.end() && it->second.routes) {
      out = *it->second.routes;
      return {};
    }
    auto st = db_->prepare("SELECT routes FROM event_state WHERE id = ? AND routes IS NOT NULL");
    if (!st) return st.error();
    st->bind(1, id);
    auto has = st->step();
    if (!has) return has.error();
    if (*has) {
      out.assign(st->text(0));
      return {};
    }
    SegmentRecord rec;
    if (auto bytes = log_->pending(id); !bytes.empty()) {
      if (!decode_segment_record(bytes, rec)) return Error::internal("damaged pending event");
    } else if (auto s = log_->read(id, read_buffer_, rec); !s) {
      // Its file went with retention (run by another process): the event is gone for readers.
      if (s.error().code != ErrorCode::kNotFound) return s;
      out.clear();
      return {};
    }
    out.assign(rec.routes);
    return {};
  }

  Result<BatchOutcome> write_locked(const IngestBatch& batch, int64_t& new_end) {
    BatchOutcome out;
    late_.clear();
    org_stats_.clear();
    pending_.clear();
    undo_.clear();
    inserted_.clear();
    day_counts_.clear();
    segment_days_.clear();
    auto watermark = spool_.watermark();
    if (!watermark) return watermark.error();
    // Retention run by another process (`vantage serve`'s job) moves the retention day under
    // this writer: forget the dropped days' keys, so that a late occurrence of a dropped event
    // becomes a new record (invisible, as the SQLite store's new row is), not a repeat of a
    // record that is gone.
    auto retention = meta(kRetentionDay);
    if (!retention) return retention.error();
    if (*retention > dedup_retention_) {
      dedup_.erase_days_before(static_cast<DayNumber>(*retention));
      dedup_retention_ = *retention;
    }
    int64_t end = end_;
    for (const auto& ev : batch.events) {
      auto tid = type_id(ev.type);
      if (!tid) return tid.error();
      route_scratch_.assign(ev.routes.begin(), ev.routes.end());
      sort_routes(route_scratch_);
      encode_routes(route_scratch_, routes_blob_);
      uint64_t hash = routes_hash(routes_blob_);
      int64_t rank = occurrence_rank(ev.occurrence_id);
      DayKey dk{ev.day, ev.event_key};
      DedupEntry* found = dedup_.find(dk);
      if (!found) {
        SegmentRecord r = representative_fields(ev, rank);
        r.day = ev.day;
        r.type_id = *tid;
        r.event_key = ev.event_key;
        r.timestamp = ev.timestamp;
        r.routes = routes_blob_;
        record_.clear();
        encode_segment_record(r, record_);
        auto id = log_->append(end, record_);
        if (!id) return id.error();
        end = *id;
        dedup_.put(dk, DedupEntry{*id, ev.timestamp, ev.timestamp, rank, hash, 1});
        if (tail_.valid()) tail_.append(*id, ev.day, *tid, ev.event_key, r, route_scratch_);
        inserted_.push_back(dk);
        ++out.inserted;
        out.routed += static_cast<int64_t>(route_scratch_.size());
        ++day_counts_[ev.day];
        auto& max_day = segment_days_[log_->segment_of(*id - 1)];
        max_day = std::max(max_day, ev.day);
        continue;
      }
      // A repeat: widen first/last seen and the count; take over the row when earlier.
      undo_.emplace_back(dk, *found);
      DedupEntry& e = *found;
      ++out.deduplicated;
      bool takes_over = std::tie(ev.timestamp, rank) < std::tie(e.first_seen, e.rep);
      e.first_seen = std::min(e.first_seen, ev.timestamp);
      e.last_seen = std::max(e.last_seen, ev.timestamp);
      ++e.count;
      auto& state = pending_[e.id];
      state.day = ev.day;
      state.event_key = ev.event_key;
      // The event's copy in the tail, when the fold has not taken it yet; looked up only when
      // the repeat changes what the fold counts (its row or its routes).
      bool routes_differ = !route_scratch_.empty() && hash != e.routes_hash;
      FoldTail::Event* in_tail = (takes_over || routes_differ) && tail_.valid() && e.id > *watermark
                                     ? tail_.find(e.id)
                                     : nullptr;
      if (takes_over) {
        e.rep = rank;
        state.repr.emplace();
        SegmentRecord fields = representative_fields(ev, rank);
        encode_representative(fields, *state.repr);
        if (in_tail && !tail_.set_representative(*in_tail, fields)) in_tail = nullptr;
      }
      if (!routes_differ) continue;
      // This occurrence may reach organisations the event did not (the registry changed).
      if (in_tail) {
        tail_.routes(*in_tail, stored_routes_);
      } else {
        if (auto st = current_routes(e.id, stored_blob_); !st) return st.error();
        decode_routes(stored_blob_, stored_routes_);
      }
      added_routes_.clear();
      for (const auto& r : route_scratch_) {
        if (!std::binary_search(stored_routes_.begin(), stored_routes_.end(), r)) {
          added_routes_.push_back(r);
        }
      }
      if (added_routes_.empty()) continue;
      // An event in the tail is counted by the fold, from its final routes; one before the
      // watermark was counted already, for the organisations it had then.
      bool flushed = e.id <= *watermark;
      uint32_t last_org = 0;
      bool any = false;
      for (const auto& r : added_routes_) {
        bool org_known = std::any_of(stored_routes_.begin(), stored_routes_.end(),
                                     [&](const OrgRoute& s) { return s.org_id == r.org_id; });
        if (flushed && !org_known && (!any || r.org_id != last_org)) {
          org_stats_.push_back({r.org_id, ev.day, *tid, ev.severity});
        }
        any = true;
        last_org = r.org_id;
        if (flushed) late_.push_back({r.org_id, ev.day, *tid, r.filter, e.id});
      }
      out.routed += static_cast<int64_t>(added_routes_.size());
      stored_routes_.insert(stored_routes_.end(), added_routes_.begin(), added_routes_.end());
      sort_routes(stored_routes_);
      state.routes.emplace();
      encode_routes(stored_routes_, *state.routes);
      e.routes_hash = routes_hash(*state.routes);
      if (in_tail) tail_.set_routes(*in_tail, stored_routes_);
    }
    // The records are durable before the transaction that makes them part of the store.
    if (auto st = log_->sync(); !st) return st.error();
    if (auto st = spool_.write_entries(late_); !st) return st.error();
    if (auto st = spool_.add_org_stats(org_stats_); !st) return st.error();
    if (auto st = write_states(); !st) return st.error();
    if (auto st = batch_tables_.write_quarantine(batch.quarantined); !st) return st.error();
    if (batch.checkpoint) {
      if (auto st = batch_tables_.write_checkpoint(*batch.checkpoint, out); !st) return st.error();
    }
    if (out.inserted > 0) {
      auto total = meta(kEventsTotal);
      if (!total) return total.error();
      if (auto st = set_meta(kEventsTotal, *total + out.inserted); !st) return st.error();
      if (auto st = set_meta(kEnd, end); !st) return st.error();
      if (auto st = write_day_counts(); !st) return st.error();
    }
    new_end = end;
    unfolded_ += out.inserted;
    return out;
  }

  // One multi-row upsert per 64 states, through a statement prepared once per writer.
  Status write_states() {
    if (pending_.empty()) return {};
    upsert_state_.start();
    for (const auto& [id, p] : pending_) {
      const DedupEntry& e = *dedup_.find({p.day, p.event_key});
      upsert_state_.bind(1, id)
          .bind(2, p.day)
          .bind(3, static_cast<int64_t>(p.event_key))
          .bind(4, e.first_seen)
          .bind(5, e.last_seen)
          .bind(6, static_cast<int64_t>(e.count))
          .bind(7, e.rep);
      if (p.routes) {
        upsert_state_.bind(8, std::string_view(*p.routes));
      } else {
        upsert_state_.bind_null(8);
      }
      if (p.repr) {
        upsert_state_.bind_blob(9, *p.repr);
      } else {
        upsert_state_.bind_null(9);
      }
      if (auto s = upsert_state_.end_row(); !s) return s;
    }
    return upsert_state_.finish();
  }

  Status write_day_counts() {
    auto days = db_->prepare(
        "INSERT INTO day_counts VALUES(?, ?) ON CONFLICT DO UPDATE SET events = events + "
        "excluded.events");
    auto segs = db_->prepare(
        "INSERT INTO segments VALUES(?, ?) ON CONFLICT DO UPDATE SET max_day = "
        "max(max_day, excluded.max_day)");
    if (!days) return days.error();
    if (!segs) return segs.error();
    for (const auto& [day, n] : day_counts_) {
      days->bind(1, day).bind(2, n);
      if (auto s = days->run(); !s) return s;
    }
    for (const auto& [n, day] : segment_days_) {
      segs->bind(1, n).bind(2, day);
      if (auto s = segs->run(); !s) return s;
    }
    return {};
  }

  // ---------------------------------------------------------------- the fold

  // As the SQLite store's fold (spool.h): the tail -- records past the watermark, read from
  // the segment with their state rows -- becomes spool runs, counters and day key blobs, and
  // the watermark moves, in one transaction; kill -9 leaves the old watermark or all of it.
  Status settle_locked() {
    if (!fold_ready_) {  // a reader's settle() prepares the fold's statements on first use
      for (Status s : {counters_.prepare(*db_), spool_.prepare(*db_)}) {
        if (!s) return s;
      }
      fold_ready_ = true;
    }
    bool more = true;
    while (more) {
      int64_t through = 0;
      auto folded = db_->transaction([&] {
        more = false;
        auto st = fold_locked(more, through);
        spool_.end_fold();
        counters_.discard();
        return st;
      });
      if (!folded) return folded;
      if (tail_.valid()) tail_.drop_through(through);
    }
    // Everything the writer committed is folded: from here its tail is complete in memory.
    if (writer_ready_ && !tail_.valid()) tail_.reset(end_);
    flushed_through_ = last_event_id_;
    unfolded_ = 0;
    day_keys_cache_.reset();
    return {};
  }

  // `through`: the new watermark once the transaction commits (0: unchanged).
  Status fold_locked(bool& more, int64_t& through) {
    auto snap = snapshot();
    if (!snap) return snap.error();
    if (snap->end <= snap->watermark) return {};
    spool_.begin_fold();
    counters_.discard();
    std::map<DayNumber, std::vector<uint64_t>> keys;
    int64_t last_id = 0, examined = 0;
    // The writer's copy of the tail when it covers (watermark, end]; else the segment. Another
    // process's fold (a reader's settle()) may have moved the watermark into the copy.
    bool from_memory =
        writer_ready_ && tail_.valid() && tail_.after() <= snap->watermark && snap->end == end_;
    if (from_memory) {
      tail_.drop_through(snap->watermark);
      for (const auto& t : tail_.events()) {
        if (spool_.fold_entries() >= options_.fold.fold_max_entries) {
          more = true;  // this event and the rest wait for the next fold
          break;
        }
        last_id = t.id;
        ++examined;
        if (t.day < snap->retention) continue;
        tail_.routes(t, tail_routes_);
        spool_.add_tail_event(t.id, t.day, t.type_id, t.severity, tail_routes_);
        counters_.add(t.day, t.type_id, t.severity, tail_.geo(t), tail_.region(t), t.asn,
                      tail_.tag(t));
        keys[t.day].push_back(t.event_key);
      }
      // Everything is copied into the fold: its memory goes before the fold sorts its entries
      // (settle_locked makes the tail valid again after the commit; a failed commit leaves it
      // invalid, and the next fold reads the disk).
      if (!more) tail_.invalidate();
    }
    auto st = from_memory
                  ? Status{}
                  : for_each_tail(*snap, [&](int64_t id, const SegmentRecord& r,
                                             std::string_view routes, const TailState*) {
                      if (spool_.fold_entries() >= options_.fold.fold_max_entries) {
                        more = true;  // this event and the rest wait for the next fold
                        return false;
                      }
                      last_id = id;
                      ++examined;
                      if (r.day < snap->retention) return true;
                      spool_.add_tail_event(id, r.day, r.type_id, r.severity, routes);
                      counters_.add(r.day, r.type_id, r.severity, r.geo, r.region, r.asn, r.tag);
                      keys[r.day].push_back(r.event_key);
                      return true;
                    });
    if (!st) return st;
    if (last_id == 0) return {};
    if (auto s = spool_.finish_fold(last_id); !s) return s;
    if (auto s = counters_.flush(); !s) return s;
    auto ins = db_->prepare("INSERT INTO day_keys VALUES(?, ?, ?)");
    if (!ins) return ins.error();
    std::string blob;
    for (auto& [day, list] : keys) {
      std::sort(list.begin(), list.end());
      blob.assign(reinterpret_cast<const char*>(list.data()), list.size() * 8);
      ins->bind(1, day).bind(2, last_id).bind_blob(3, blob);
      if (auto s = ins->run(); !s) return s;
    }
    auto folded = meta(kEventsFolded);
    if (!folded) return folded.error();
    through = last_id;
    return set_meta(kEventsFolded, *folded + examined);
  }

  std::mutex mu_;
  std::string dir_;
  std::unique_ptr<Db> db_;
  SegmentStoreOptions options_;
  std::unique_ptr<SegmentLog> log_;
  TypeIds types_;
  Statement select_state_;
  bool select_state_ready_ = false;
  std::string read_buffer_;
  // scan_reports' chunk: its reports and events, the events read and whether each was found,
  // and the state rows of the events.
  struct BulkState {
    size_t index = 0;  // into the chunk's event ids
    int64_t first_seen = 0, last_seen = 0, count = 0;
    bool has_repr = false;
    std::string repr;
  };
  ReportChunk bulk_chunk_;
  std::vector<StoredEvent> bulk_events_;
  std::vector<bool> bulk_found_;
  std::vector<BulkState> bulk_states_;
  size_t bulk_states_used_ = 0;
  // new_since_previous_day's key set of one day, and the state it was read at.
  std::unique_ptr<std::unordered_set<uint64_t>> day_keys_cache_;
  DayNumber day_keys_day_ = 0, day_keys_retention_ = 0;
  int64_t day_keys_end_ = -1, day_keys_watermark_ = -1;

  // The writer (after ensure_writer).
  bool writer_ready_ = false;
  bool fold_ready_ = false;  // counters_ and spool_ prepared
  int lock_fd_ = -1;
  int64_t end_ = 0;  // the committed end of the log
  // The retention day the dedup map holds no key before (another process may move it).
  int64_t dedup_retention_ = 0;
  DedupTable dedup_;  // (day, event key) -> what a repeat needs (dedup_table.h)
  FoldTail tail_;     // the fold's inputs since the last fold (fold_tail.h)
  BatchTablesWriter batch_tables_;
  BulkInsert upsert_state_;  // event_state rows (write_states)
  FoldCounters counters_;
  SpoolWriter spool_;
  int64_t last_event_id_ = 0, flushed_through_ = 0, unfolded_ = 0;
  std::chrono::steady_clock::time_point last_flush_ = std::chrono::steady_clock::now();
  // Per-batch scratch.
  std::unordered_map<int64_t, PendingState> pending_;
  std::vector<std::pair<DayKey, DedupEntry>> undo_;
  std::vector<DayKey> inserted_;
  std::map<DayNumber, int64_t> day_counts_;
  std::map<int64_t, DayNumber> segment_days_;
  std::vector<SpoolEntry> late_;
  std::vector<SpoolWriter::OrgStat> org_stats_;
  std::vector<OrgRoute> route_scratch_, stored_routes_, added_routes_, tail_routes_;
  std::string routes_blob_, stored_blob_, record_;
};

}  // namespace

Result<std::unique_ptr<EventStore>> open_segment_store(const std::string& dir,
                                                       SegmentStoreOptions options) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Error::io("cannot create " + dir + ": " + ec.message());
  auto db = Db::open(dir + "/meta.sqlite");
  if (!db) return db.error();
  auto store = std::make_unique<SegmentStore>(dir, std::move(*db), options);
  if (auto st = store->init(); !st) return st.error();
  return std::unique_ptr<EventStore>(std::move(store));
}

}  // namespace vantage::store

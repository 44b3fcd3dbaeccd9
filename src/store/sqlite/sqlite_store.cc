// The embedded-default event store: one SQLite file holding events, the report spool, the
// statistics rollups, quarantine and source checkpoints, so that one transaction covers a
// whole ingest batch (SQLite's WAL mode cannot commit atomically across attached files).

#include <algorithm>
#include <map>
#include <mutex>
#include <tuple>
#include <unordered_map>
#include <unordered_set>

#include "common/equal_runs.h"
#include "common/strings.h"
#include "store/sqlite/report_chunk.h"
#include "store/sqlite/rollups.h"
#include "store/sqlite/spool.h"
#include "store/sqlite/sqlite_db.h"
#include "store/sqlite/store_tables.h"
#include "store/store.h"

namespace vantage::store {

namespace {

// 1: events, spool, stats, stats_tags, org_stats, quarantine, sources.
// 2: + the dashboard rollups (rollups.h), backfilled from stats/stats_tags on upgrade.
// 3: the spool moves from one row per (event, organisation) to events.routes + spool_runs
//    (spool.h); an older store's spool rows are converted on upgrade. org_stats is keyed by
//    organisation first: the fold writes it in that order and every reader asks for one.
// 4: events.rep, the rank of the occurrence whose row the event shows (see kRepeatEvent); an
//    older store's rows get the rank of an unknown occurrence id.
constexpr int kSchemaVersion = 4;

// The events table; the other tables are store_tables.h's.
constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS events(
  id INTEGER PRIMARY KEY,
  day INTEGER NOT NULL,
  type_id INTEGER NOT NULL,
  event_key INTEGER NOT NULL,
  first_seen INTEGER NOT NULL,
  last_seen INTEGER NOT NULL,
  count INTEGER NOT NULL,
  ip TEXT NOT NULL,
  asn INTEGER NOT NULL,
  geo TEXT NOT NULL,
  region TEXT NOT NULL,
  severity INTEGER NOT NULL,
  tag TEXT NOT NULL,
  row BLOB NOT NULL,
  routes TEXT NOT NULL DEFAULT '[]',
  rep INTEGER NOT NULL DEFAULT 9223372036854775807);
CREATE UNIQUE INDEX IF NOT EXISTS events_day_key ON events(day, event_key);
)sql";

// SQLite integers are signed 64-bit; event keys are unsigned. Store the same bits.
int64_t to_db(uint64_t v) {
  return static_cast<int64_t>(v);
}
uint64_t from_db(int64_t v) {
  return static_cast<uint64_t>(v);
}

// A repeat occurrence widens first/last seen and the count, and takes over the row when it
// sorts before the representative (every SET reads the row's old values). ?1 day, ?2 key,
// ?3 timestamp, ?4 rank, ?5.. the fields. type_id stays: the type is part of the event key.
constexpr const char* kRepeatEvent =
    "UPDATE events SET ip = iif((?3, ?4) < (first_seen, rep), ?5, ip), asn = iif((?3, ?4) < "
    "(first_seen, rep), ?6, asn), geo = iif((?3, ?4) < (first_seen, rep), ?7, geo), region = "
    "iif((?3, ?4) < (first_seen, rep), ?8, region), severity = iif((?3, ?4) < (first_seen, rep), "
    "?9, severity), tag = iif((?3, ?4) < (first_seen, rep), ?10, tag), row = iif((?3, ?4) < "
    "(first_seen, rep), ?11, row), rep = iif((?3, ?4) < (first_seen, rep), ?4, rep), first_seen = "
    "min(first_seen, ?3), last_seen = max(last_seen, ?3), count = count + 1 WHERE day = ?1 AND "
    "event_key = ?2 RETURNING id, routes";

// The order of a report's rows (and of query answers): by first seen, then by event key (as
// the unsigned number it is) -- nothing that depends on arrival, unlike the row id.
constexpr const char* kReportOrder = "e.first_seen, e.event_key < 0, e.event_key";
constexpr const char* kReportOrderDescending =
    "e.first_seen DESC, e.event_key < 0 DESC, e.event_key DESC";

const char* const kEventColumns =
    "e.id, e.day, t.name, e.event_key, e.first_seen, e.last_seen, e.count, e.ip, e.asn, e.geo, "
    "e.region, e.severity, e.tag, e.row";

// Fills `e` in place, reusing its strings' memory (a bulk read keeps its events).
void read_event_into(const Statement& s, StoredEvent& e) {
  e.id = s.int64(0);
  e.day = static_cast<DayNumber>(s.int64(1));
  e.type.assign(s.text(2));
  e.event_key = from_db(s.int64(3));
  e.first_seen = s.int64(4);
  e.last_seen = s.int64(5);
  e.count = static_cast<uint32_t>(s.int64(6));
  e.ip.assign(s.text(7));
  e.asn = static_cast<uint32_t>(s.int64(8));
  e.geo.assign(s.text(9));
  e.region.assign(s.text(10));
  e.severity = static_cast<uint8_t>(s.int64(11));
  e.tag.assign(s.text(12));
  e.row.assign(s.text(13));
}

StoredEvent read_event(const Statement& s) {
  StoredEvent e;
  read_event_into(s, e);
  return e;
}

class SqliteStore final : public EventStore {
 public:
  SqliteStore(std::unique_ptr<Db> db, SqliteStoreOptions options)
      : db_(std::move(db)), options_(options) {}

  ~SqliteStore() override {
    // Leave the spool settled for the readers that follow (a crash just leaves a longer tail).
    if (last_event_id_ > flushed_through_) (void)settle();
  }

  Status init() {
    // FULL: a batch acknowledged to a sensor survives an OS crash, not just kill -9.
    // page_size applies to a new store only (first, before WAL mode is on). Big pages, because
    // the dedup index takes each batch's events at random places: a commit writes every page
    // it touched to the WAL, and fewer, larger pages cost less per event written.
    for (const char* pragma :
         {"PRAGMA page_size=16384", "PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL",
          "PRAGMA temp_store=MEMORY", "PRAGMA cache_size=-131072", "PRAGMA foreign_keys=OFF"}) {
      if (auto st = db_->exec(pragma); !st) return st;
    }
    auto v = schema_version();
    if (!v) return v.error();
    if (*v > kSchemaVersion) {
      return Error{ErrorCode::kFailedPrecondition,
                   "event store was written by a newer Vantage (schema " + std::to_string(*v) +
                       ", this build knows " + std::to_string(kSchemaVersion) + ")"};
    }
    if (*v < kSchemaVersion) {
      // Create or upgrade in one write transaction, re-checking the version inside it: several
      // processes (serve, the API's readers, `vantage status`) may open the store at once, and
      // only one of them must do the work. An up-to-date store is opened without writing.
      if (auto st = db_->transaction([&] { return upgrade_locked(); }); !st) return st;
    }
    if (auto st = register_spool_functions(*db_); !st) return st;
    return prepare_writers();
  }

  Result<int64_t> schema_version() {
    auto version = db_->prepare("PRAGMA user_version");
    if (!version) return version.error();
    auto has = version->step();
    if (!has) return has.error();
    return version->int64(0);  // the statement ends here, before any write
  }

  Status upgrade_locked() {
    auto v = schema_version();
    if (!v) return v.error();
    if (*v >= kSchemaVersion) return {};  // another process upgraded it meanwhile
    if (*v > 0) {
      auto has_routes =
          count_rows("SELECT count(*) FROM pragma_table_info('events') WHERE name = 'routes'");
      if (!has_routes) return has_routes.error();
      if (*has_routes == 0) {
        if (auto st = db_->exec("ALTER TABLE events ADD COLUMN routes TEXT NOT NULL DEFAULT '[]'");
            !st)
          return st;
      }
      auto has_rep =
          count_rows("SELECT count(*) FROM pragma_table_info('events') WHERE name = 'rep'");
      if (!has_rep) return has_rep.error();
      if (*has_rep == 0) {
        // Before schema 4 the row was the first-arriving occurrence's: an unknown rank, so a
        // later occurrence that is earlier (or equally early with a known id) takes over.
        if (auto st = db_->exec(
                "ALTER TABLE events ADD COLUMN rep INTEGER NOT NULL DEFAULT 9223372036854775807");
            !st)
          return st;
      }
    }
    if (auto st = db_->exec(kSchema); !st) return st;
    if (auto st = db_->exec(kStoreTablesSchema); !st) return st;
    if (auto st = db_->exec(kRollupSchema); !st) return st;
    if (auto st = db_->exec(kSpoolSchema); !st) return st;
    if (*v < 2) {
      if (auto st = backfill_rollups(*db_); !st) return st;
    }
    if (auto st = migrate_spool_rows(); !st) return st;
    if (*v > 0 && *v < 3) {
      if (auto st = db_->exec(
              "CREATE TABLE org_stats_by_org(day INTEGER NOT NULL, org_id INTEGER NOT NULL, "
              "type_id INTEGER NOT NULL, severity INTEGER NOT NULL, events INTEGER NOT NULL, "
              "PRIMARY KEY(org_id, day, type_id, severity)) WITHOUT ROWID; "
              "INSERT INTO org_stats_by_org SELECT * FROM org_stats ORDER BY org_id, day, "
              "type_id, severity; DROP TABLE org_stats; "
              "ALTER TABLE org_stats_by_org RENAME TO org_stats");
          !st)
        return st;
    }
    return db_->exec(("PRAGMA user_version=" + std::to_string(kSchemaVersion)).c_str());
  }

  Result<int64_t> count_rows(const char* sql) { return select_count(*db_, sql); }

  // Before schema 3 the spool was one row per (day, organisation, type, filter, event): give
  // each event its routes, turn the rows into runs (a day at a time, to bound memory), drop the
  // old table, and put the watermark after the last event so that nothing is counted twice.
  Status migrate_spool_rows() {
    auto has_spool =
        count_rows("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'spool'");
    if (!has_spool) return has_spool.error();
    if (*has_spool == 0) return {};
    SpoolWriter writer;
    if (auto st = writer.prepare(*db_); !st) return st;
    auto rows = db_->prepare("SELECT event_id, org_id, filter FROM spool ORDER BY event_id");
    auto update = db_->prepare("UPDATE events SET routes = ? WHERE id = ?");
    if (!rows) return rows.error();
    if (!update) return update.error();
    std::vector<OrgRoute> routes;
    std::string blob;
    int64_t event_id = 0;
    auto flush_event = [&]() -> Status {
      if (routes.empty()) return {};
      sort_routes(routes);
      encode_routes(routes, blob);
      update->bind(1, std::string_view(blob)).bind(2, event_id);
      routes.clear();
      return update->run();
    };
    while (true) {
      auto has = rows->step();
      if (!has) return has.error();
      if (!*has) break;
      if (rows->int64(0) != event_id) {
        if (auto st = flush_event(); !st) return st;
        event_id = rows->int64(0);
      }
      routes.push_back(
          {static_cast<uint32_t>(rows->int64(1)), static_cast<MatchFilter>(rows->int64(2) & 3)});
    }
    if (auto st = flush_event(); !st) return st;
    auto days = db_->prepare("SELECT DISTINCT day FROM spool ORDER BY day");
    if (!days) return days.error();
    std::vector<int64_t> day_list;
    while (true) {
      auto has = days->step();
      if (!has) return has.error();
      if (!*has) break;
      day_list.push_back(days->int64(0));
    }
    auto of_day = db_->prepare("SELECT org_id, type_id, filter, event_id FROM spool WHERE day = ?");
    if (!of_day) return of_day.error();
    std::vector<SpoolEntry> entries;
    for (int64_t day : day_list) {
      entries.clear();
      of_day->bind(1, day);
      while (true) {
        auto has = of_day->step();
        if (!has) return has.error();
        if (!*has) break;
        entries.push_back({static_cast<uint32_t>(of_day->int64(0)), static_cast<DayNumber>(day),
                           of_day->int64(1), static_cast<MatchFilter>(of_day->int64(2) & 3),
                           of_day->int64(3)});
      }
      of_day->reset();
      if (auto st = writer.write_entries(entries); !st) return st;
    }
    if (auto st = db_->exec("DROP TABLE spool"); !st) return st;
    return db_->exec(
        "INSERT INTO store_meta VALUES('spool_watermark', (SELECT coalesce(max(id), 0) FROM "
        "events)) ON CONFLICT DO UPDATE SET value = excluded.value");
  }

  Result<BatchOutcome> write(const IngestBatch& batch) override {
    std::lock_guard lock(mu_);
    BatchOutcome outcome;
    auto written = db_->transaction([&]() -> Status {
      auto out = write_locked(batch);
      if (!out) return out.error();
      outcome = *out;
      return {};
    });
    if (!written) {
      types_.forget_created();  // types created by the batch are gone with it
      return written.error();
    }
    // The spool's tail is moved into runs when it is long, when the writer has been quiet
    // about it for a while (a trickle of pushes), or when an input is complete -- so readers
    // after an ingest find it settled. A failed flush only leaves the tail longer.
    auto now = std::chrono::steady_clock::now();
    bool input_done = batch.checkpoint && batch.checkpoint->done;
    if (last_event_id_ - flushed_through_ >= options_.spool_flush_events || input_done ||
        (last_event_id_ > flushed_through_ && now - last_flush_ >= options_.spool_flush_interval)) {
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
    // A rowid range: cheap while the tail is short, which is the point of folding.
    return count_rows(
        (std::string("SELECT count(*) FROM events WHERE id > ") + kWatermarkSql).c_str());
  }

  // The fold: one transaction that reads the events written since the watermark (the tail:
  // exactly the new events, each once) and adds them to the spool's runs and to every counter
  // -- stats, stats_tags, the dashboard rollups and org_stats -- then moves the watermark. Per
  // fold rather than per batch: a group reached many times between folds costs one upsert.
  // kill -9 leaves either the old watermark (the tail is folded again) or all of it done.
  Status settle_locked() {
    // One transaction per fold; a fold stops at options_.fold_max_entries spool entries (its
    // memory is bounded by entries, not events: a registry may route one event to thousands
    // of organisations), and the next one takes the rest of the tail.
    bool more = true;
    while (more) {
      auto folded = db_->transaction([&] {
        more = false;
        auto st = fold_locked(more);
        spool_.end_fold();
        counters_.discard();
        return st;
      });
      if (!folded) return folded;
    }
    flushed_through_ = last_event_id_;
    return {};
  }

  // Sets `more` when it stopped before the end of the tail.
  Status fold_locked(bool& more) {
    auto watermark = spool_.watermark();
    if (!watermark) return watermark.error();
    spool_.begin_fold();
    counters_.discard();
    int64_t last_id = 0;
    read_tail_.bind(1, *watermark);
    while (true) {
      auto has = read_tail_.step();
      if (!has) {
        read_tail_.reset();
        return has.error();
      }
      if (!*has) break;
      if (spool_.fold_entries() >= options_.fold_max_entries) {
        more = true;  // this event and the rest wait for the next fold
        break;
      }
      last_id = read_tail_.int64(0);
      auto day = static_cast<DayNumber>(read_tail_.int64(1));
      int64_t type_id = read_tail_.int64(2);
      auto severity = static_cast<uint8_t>(read_tail_.int64(3));
      spool_.add_tail_event(last_id, day, type_id, severity, read_tail_.text(4));
      counters_.add(day, type_id, severity, read_tail_.text(5), read_tail_.text(6),
                    static_cast<uint32_t>(read_tail_.int64(7)), read_tail_.text(8));
    }
    read_tail_.reset();
    if (last_id == 0) return {};  // nothing new since the last fold
    if (auto st = spool_.finish_fold(last_id); !st) return st;
    return counters_.flush();
  }

  Result<std::optional<SourceCheckpoint>> checkpoint(std::string_view source_key) override {
    std::lock_guard lock(mu_);
    return select_checkpoint(*db_, source_key);
  }

  Result<std::vector<SourceCheckpoint>> checkpoints() override {
    std::lock_guard lock(mu_);
    return select_checkpoints(*db_);
  }

  Result<std::vector<ReportKey>> report_keys(DayNumber day,
                                             std::optional<uint32_t> org_id) override {
    std::lock_guard lock(mu_);
    return in_snapshot([&]() -> Result<std::vector<ReportKey>> {
      ReportGroupRows rows;
      auto st = SpoolReader(*db_).for_each(day, day, org_id, [&](const SpoolGroup& g) {
        rows[{g.org_id, g.type_id, g.filter}] += g.count;
      });
      if (!st) return st.error();
      return report_keys_from(*db_, types_, day, rows);
    });
  }

  Status scan_report(const ReportKey& key,
                     const std::function<bool(const StoredEvent&)>& row) override {
    std::lock_guard lock(mu_);
    return in_snapshot([&]() -> Status {
      auto tid = known_type_id(key.type);
      if (!tid) return tid.error();
      if (!*tid) return {};  // no event of this type was ever stored
      if (auto st = fill_org_ids(key.org_id, key.day, key.day, **tid, key.filter); !st) return st;
      std::string sql =
          std::string("SELECT ") + kEventColumns +
          ", (SELECT count(*) FROM events p WHERE p.day = e.day - 1 AND "
          "p.event_key = e.event_key) "
          "FROM temp.org_ids s CROSS JOIN events e ON e.id = s.id JOIN types t ON t.id = "
          "e.type_id ORDER BY " +
          std::string(kReportOrder);
      auto st = db_->prepare(sql);
      if (!st) return st.error();
      while (true) {
        auto has = st->step();
        if (!has) return has.error();
        if (!*has) break;
        StoredEvent e = read_event(*st);
        e.new_since_previous_day = st->int64(14) == 0;
        if (!row(e)) break;
      }
      return {};
    });
  }

  // Bulk: whole organisations at a time, about options_.report_chunk_rows rows per chunk, each
  // chunk in its own read snapshot (scan_report_chunk). An organisation too large to hold in
  // memory is read report by report through scan_report, whose sort SQLite spills to disk.
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

  // A chunk may have held one large organisation's rows: give the memory back after a scan.
  void release_bulk_scratch() {
    std::lock_guard lock(mu_);
    bulk_chunk_.release();
    bulk_events_ = {};
    bulk_found_ = {};
  }

  Result<std::vector<StatsRow>> stats(const StatsQuery& q) override {
    std::lock_guard lock(mu_);
    return in_snapshot([&]() -> Result<std::vector<StatsRow>> {
      // Pick the narrowest rollup that has every requested dimension; an organisation's view
      // beyond day/type/severity falls back to its spool (bounded by the organisation's size).
      if (auto st = check_stats_dimensions(q); !st) return st.error();
      bool wants_other = !within_org_counters(q);
      auto rolled = rollup_stats(*db_, q);
      if (!rolled) return rolled.error();
      if (*rolled) return std::move(**rolled);
      if (!q.org_id) return global_stats(*db_, q);
      // Per-organisation counters cover day/type/severity; other dimensions come from the
      // organisation's own spool rows (one row per distinct event).
      if (!wants_other) return stats_from(*db_, q, org_stats_source(*q.org_id) + " r");
      auto st = fill_org_ids(*q.org_id, q.first_day, q.last_day, std::nullopt, std::nullopt);
      if (!st) return st.error();
      return stats_from(*db_, q,
                        "(SELECT e.day AS day, e.type_id AS type_id, e.geo AS geo, e.region AS "
                        "region, e.asn AS asn, e.severity AS severity, e.tag AS tag, 1 AS events "
                        "FROM temp.org_ids s CROSS JOIN events e ON e.id = s.id) r");
    });
  }

  Result<std::vector<StoredEvent>> query(const EventQuery& q) override {
    std::lock_guard lock(mu_);
    return in_snapshot([&]() -> Result<std::vector<StoredEvent>> {
      std::string sql = std::string("SELECT DISTINCT ") + kEventColumns + " FROM ";
      if (q.org_id) {
        auto st = fill_org_ids(*q.org_id, q.first_day, q.last_day, std::nullopt, std::nullopt);
        if (!st) return st.error();
        sql += "temp.org_ids s CROSS JOIN events e ON e.id = s.id ";
      } else {
        sql += "events e ";
      }
      sql += "JOIN types t ON t.id = e.type_id WHERE e.day >= ?1 AND e.day <= ?2";
      int param = 3;
      std::vector<std::pair<int, std::string>> text_params;
      auto in_list = [&](const char* column, const std::vector<std::string>& values) {
        if (values.empty()) return;
        sql += std::string(" AND ") + column + " IN (";
        for (size_t i = 0; i < values.size(); ++i) {
          sql += i ? ",?" : "?";
          text_params.emplace_back(param++, values[i]);
        }
        sql += ")";
      };
      in_list("t.name", q.types);
      in_list("e.ip", q.ips);
      in_list("e.geo", q.geos);
      in_list("e.region", q.regions);
      if (!q.asns.empty()) {
        sql += " AND e.asn IN (";
        for (size_t i = 0; i < q.asns.size(); ++i) {
          sql += (i ? "," : "") + std::to_string(q.asns[i]);
        }
        sql += ")";
      }
      if (!q.tags.empty()) {
        sql += " AND (";
        for (size_t i = 0; i < q.tags.size(); ++i) {
          sql += i ? " OR " : "";
          sql += "(',' || e.tag || ',') LIKE ('%,' || ? || ',%')";
          text_params.emplace_back(param++, q.tags[i]);
        }
        sql += ")";
      }
      sql += std::string(" ORDER BY ") + (q.descending ? kReportOrderDescending : kReportOrder);
      sql += " LIMIT " + std::to_string(q.limit) + " OFFSET " + std::to_string(q.offset);
      auto st = db_->prepare(sql);
      if (!st) return st.error();
      st->bind(1, q.first_day).bind(2, q.last_day);
      for (auto& [i, v] : text_params) st->bind(i, v);
      std::vector<StoredEvent> out;
      while (true) {
        auto has = st->step();
        if (!has) return has.error();
        if (!*has) break;
        out.push_back(read_event(*st));
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
      auto head = count_rows("SELECT coalesce(max(id), 0) FROM events");
      if (!head) return head.error();
      int64_t through = std::min(q.through_id, *head);
      page.examined_to = std::max(q.after_id, through);
      if (through <= q.after_id || q.limit <= 0) return page;
      std::string sql = std::string("SELECT ") + kEventColumns +
                        ", e.routes FROM events e JOIN types t ON t.id = e.type_id WHERE e.id > ?1 "
                        "AND e.id <= ?2";
      if (q.min_severity > 0) sql += " AND e.severity >= " + std::to_string(q.min_severity);
      if (q.org_id) sql += " AND spool_has_org(e.routes, " + std::to_string(*q.org_id) + ")";
      sql += " ORDER BY e.id LIMIT " + std::to_string(q.limit);
      auto st = db_->prepare(sql);
      if (!st) return st.error();
      st->bind(1, q.after_id).bind(2, through);
      std::vector<OrgRoute> routes;
      while (true) {
        auto has = st->step();
        if (!has) return has.error();
        if (!*has) break;
        StoredEvent e = read_event(*st);
        routes.clear();
        decode_routes(st->text(14), routes);
        ++page.events;
        bool go_on = event(e, routes);
        if (page.events >= q.limit || !go_on) {
          page.examined_to = e.id;  // the rows after it were not looked at
          break;
        }
      }
      return page;
    });
  }

  Result<int64_t> last_event_id() override {
    std::lock_guard lock(mu_);
    return count_rows("SELECT coalesce(max(id), 0) FROM events");
  }

  Result<std::vector<QuarantineRecord>> quarantine(int64_t limit) override {
    std::lock_guard lock(mu_);
    return select_quarantine(*db_, limit);
  }

  Result<int64_t> quarantine_count() override {
    std::lock_guard lock(mu_);
    return select_count(*db_, "SELECT count(*) FROM quarantine");
  }

  Result<int64_t> drop_events_before(DayNumber day) override {
    std::lock_guard lock(mu_);
    int64_t dropped = 0;
    auto st = db_->transaction([&]() -> Status {
      // The greatest id stays taken after its row is gone (see next_event_id).
      if (auto s = db_->exec("INSERT INTO store_meta VALUES('event_id_floor', (SELECT "
                             "coalesce(max(id), 0) FROM events)) ON CONFLICT DO UPDATE SET "
                             "value = max(value, excluded.value)");
          !s)
        return s;
      auto del_spool = db_->prepare("DELETE FROM spool_runs WHERE day < ?");
      auto del_events = db_->prepare("DELETE FROM events WHERE day < ?");
      if (!del_spool || !del_events) return Error::internal("cannot prepare retention statements");
      del_spool->bind(1, day);
      del_events->bind(1, day);
      if (auto s = del_spool->run(); !s) return s;
      if (auto s = del_events->run(); !s) return s;
      dropped = db_->changes();
      return {};
    });
    if (!st) return st.error();
    return dropped;
  }

  // Written straight into the counters the fold keeps (stats, stats_tags, their rollups,
  // org_stats): the day has no events, so no fold will touch it again.
  Status import_dropped_day_statistics(const DayStatistics& day) override {
    std::lock_guard lock(mu_);
    return counters_.import_dropped_day(*db_, types_, day);
  }

 private:
  // A read of several statements in one snapshot (the spool's runs and its tail must come
  // from the same state).
  template <typename F>
  auto in_snapshot(F&& body) -> decltype(body()) {
    return in_read_snapshot(*db_, std::forward<F>(body));
  }

  // One chunk of scan_reports, in one read snapshot: the spool groups of the chunk's
  // organisations (runs and tail), every event among them read once in id order (one ordered
  // pass over the events table), then each report's rows ordered as scan_report orders them
  // (kReportOrder: first seen, then the event key as the unsigned number it is).
  Status scan_report_chunk(std::span<const ReportKey> keys,
                           const std::function<bool(const ReportKey&, const StoredEvent&)>& row,
                           bool& go_on) {
    std::lock_guard lock(mu_);
    return in_snapshot([&]() -> Status {
      if (auto st = bulk_chunk_.start(*db_, types_, keys); !st) return st;
      auto st = SpoolReader(*db_).for_each_of_orgs(
          keys[0].day, bulk_chunk_.orgs(), [&](const SpoolGroup& g) { bulk_chunk_.add(g); });
      if (!st) return st;
      const auto& ids = bulk_chunk_.event_ids();
      // Each event once, in id order: bulk_events_[i] is event ids[i] (or absent).
      if (bulk_events_.size() < ids.size()) bulk_events_.resize(ids.size());
      bulk_found_.assign(ids.size(), false);
      if (!bulk_event_ready_) {
        auto prepared =
            db_->prepare(std::string("SELECT ") + kEventColumns +
                         ", (SELECT count(*) FROM events p WHERE p.day = e.day - 1 AND "
                         "p.event_key = e.event_key) "
                         "FROM events e JOIN types t ON t.id = e.type_id WHERE e.id = ?");
        if (!prepared) return prepared.error();
        bulk_event_ = std::move(*prepared);
        bulk_event_ready_ = true;
      }
      for (size_t i = 0; i < ids.size(); ++i) {
        bulk_event_.bind(1, ids[i]);
        auto has = bulk_event_.step();
        if (!has) {
          bulk_event_.reset();
          return has.error();
        }
        if (*has) {
          read_event_into(bulk_event_, bulk_events_[i]);
          bulk_events_[i].new_since_previous_day = bulk_event_.int64(14) == 0;
          bulk_found_[i] = true;
        }
        bulk_event_.reset();
      }
      go_on = bulk_chunk_.hand_out(bulk_events_, bulk_found_, row);
      return {};
    });
  }

  // Fills temp.org_ids with the events spooled to `org_id` on those days (one type and filter,
  // or all), so that the queries can join them like a table. The temp schema is this
  // connection's own: concurrent readers do not see each other's.
  Status fill_org_ids(uint32_t org_id, DayNumber first_day, DayNumber last_day,
                      std::optional<int64_t> type_id, std::optional<MatchFilter> filter) {
    if (!org_ids_ready_) {
      if (auto st = db_->exec("CREATE TEMP TABLE IF NOT EXISTS org_ids(id INTEGER PRIMARY KEY)");
          !st)
        return st;
      auto ins = db_->prepare("INSERT OR IGNORE INTO temp.org_ids VALUES(?)");
      if (!ins) return ins.error();
      insert_org_id_ = std::move(*ins);
      org_ids_ready_ = true;
    }
    if (auto st = db_->exec("DELETE FROM temp.org_ids"); !st) return st;
    ids_scratch_.clear();
    auto st = SpoolReader(*db_).for_each(first_day, last_day, org_id, [&](const SpoolGroup& g) {
      if ((type_id && g.type_id != *type_id) || (filter && g.filter != *filter)) return;
      g.for_each_id([&](int64_t id) { ids_scratch_.push_back(id); });
    });
    if (!st) return st;
    // Ascending ids append to the temp B-tree instead of inserting at random.
    std::sort(ids_scratch_.begin(), ids_scratch_.end());
    ids_scratch_.erase(std::unique(ids_scratch_.begin(), ids_scratch_.end()), ids_scratch_.end());
    for (int64_t id : ids_scratch_) {
      insert_org_id_.bind(1, id);
      if (auto r = insert_org_id_.run(); !r) return r;
    }
    return {};
  }

  Result<std::optional<int64_t>> known_type_id(const std::string& name) {
    return types_.find(*db_, name);
  }
  Result<std::string> type_name(int64_t id) { return types_.name(*db_, id); }

  Status prepare_writers() {
    auto p = [&](Statement& out, const char* sql) -> Status {
      auto st = db_->prepare(sql);
      if (!st) return st.error();
      out = std::move(*st);
      return {};
    };
    Status s;
    // Two statements rather than one upsert with RETURNING: RETURNING makes SQLite buffer its
    // result in a temporary table at every step, which cost the writer more than the second
    // statement does for the one occurrence in six that repeats.
    if (!(s = p(insert_event_,
                "INSERT INTO events(day, type_id, event_key, first_seen, last_seen, count, ip, "
                "asn, geo, region, severity, tag, row, routes, id, rep) "
                "VALUES(?,?,?,?,?,1,?,?,?,?,?,?,?,?,?,?) ON CONFLICT(day, event_key) DO NOTHING")))
      return s;
    if (!(s = p(repeat_event_, kRepeatEvent))) return s;
    if (!(s = p(update_routes_, "UPDATE events SET routes = ? WHERE id = ?"))) return s;
    if (!(s = batch_tables_.prepare(*db_))) return s;
    if (!(s = counters_.prepare(*db_))) return s;
    if (!(s = p(read_tail_,
                "SELECT id, day, type_id, severity, routes, geo, region, asn, tag FROM events "
                "WHERE id > ? ORDER BY id")))
      return s;
    return spool_.prepare(*db_);
  }

  // The id of a type name, created on first use (inside the batch's transaction).
  Result<int64_t> type_id(const std::string& name) { return types_.get_or_create(*db_, name); }

  // Adds `ev`'s routes that the stored event (routes `stored`) lacks: they go into its row,
  // into the spool (the tail holds them until the next flush; an event before the watermark
  // gets them as a run of this batch), and each organisation it reaches for the first time
  // counts in that organisation's statistics -- its report gets the row, so its statistics
  // must count it too.
  Status add_late_routes(const EventRecord& ev, int64_t type_id, int64_t event_id,
                         std::string_view stored, int64_t watermark, BatchOutcome& out) {
    decode_routes(stored, stored_routes_);
    added_routes_.clear();
    for (const auto& r : route_scratch_) {
      if (!std::binary_search(stored_routes_.begin(), stored_routes_.end(), r)) {
        added_routes_.push_back(r);
      }
    }
    if (added_routes_.empty()) return {};
    // An event in the tail is counted by the flush, from its final routes; one before the
    // watermark was counted already, for the organisations it had then.
    bool flushed = event_id <= watermark;
    uint32_t last_org = 0;
    bool any = false;
    for (const auto& r : added_routes_) {
      bool org_known = std::any_of(stored_routes_.begin(), stored_routes_.end(),
                                   [&](const OrgRoute& s) { return s.org_id == r.org_id; });
      if (flushed && !org_known && (!any || r.org_id != last_org)) {
        org_stats_.push_back({r.org_id, ev.day, type_id, ev.severity});
      }
      any = true;
      last_org = r.org_id;
      if (flushed) late_.push_back({r.org_id, ev.day, type_id, r.filter, event_id});
    }
    out.routed += static_cast<int64_t>(added_routes_.size());
    stored_routes_.insert(stored_routes_.end(), added_routes_.begin(), added_routes_.end());
    sort_routes(stored_routes_);
    encode_routes(stored_routes_, routes_blob_);
    update_routes_.bind(1, std::string_view(routes_blob_)).bind(2, event_id);
    return update_routes_.run();
  }

  // The id for this write transaction's first new event: above every id the store ever gave,
  // not just above the rows it still holds. SQLite's own choice (max(rowid) + 1) would hand out
  // again the ids of the newest events once retention dropped them, and a reused id sits at or
  // below the spool's watermark and the integrations' cursors: that event would never reach its
  // reports or its push subscriptions. Read inside the write transaction, so another process's
  // earlier writes are seen.
  Result<int64_t> next_event_id() {
    auto greatest = count_rows(
        "SELECT max(coalesce((SELECT max(id) FROM events), 0), coalesce((SELECT value FROM "
        "store_meta WHERE key = 'event_id_floor'), 0))");
    if (!greatest) return greatest.error();
    return *greatest + 1;
  }

  Result<BatchOutcome> write_locked(const IngestBatch& batch) {
    BatchOutcome out;
    late_.clear();
    auto watermark = spool_.watermark();
    if (!watermark) return watermark.error();
    auto next_id = next_event_id();
    if (!next_id) return next_id.error();
    // Organisations newly reached by repeats of events before the watermark (the other
    // counters are the fold's: see settle_locked).
    org_stats_.clear();
    for (const auto& ev : batch.events) {
      auto tid = type_id(ev.type);
      if (!tid) {
        types_.forget_created();
        return tid.error();
      }
      route_scratch_.assign(ev.routes.begin(), ev.routes.end());
      sort_routes(route_scratch_);
      encode_routes(route_scratch_, routes_blob_);
      insert_event_.bind(1, ev.day)
          .bind(2, *tid)
          .bind(3, to_db(ev.event_key))
          .bind(4, ev.timestamp)
          .bind(5, ev.timestamp)
          .bind(6, ev.ip)
          .bind(7, static_cast<int64_t>(ev.asn))
          .bind(8, ev.geo)
          .bind(9, ev.region)
          .bind(10, static_cast<int64_t>(ev.severity))
          .bind(11, ev.tag)
          .bind_blob(12, ev.row)
          .bind(13, std::string_view(routes_blob_))
          .bind(14, *next_id)
          .bind(15, occurrence_rank(ev.occurrence_id));
      if (auto st = insert_event_.run(); !st) {
        types_.forget_created();
        return st.error();
      }
      if (db_->changes() == 0) {  // a repeat of a stored (day, event_key)
        repeat_event_.bind(1, ev.day)
            .bind(2, to_db(ev.event_key))
            .bind(3, ev.timestamp)
            .bind(4, occurrence_rank(ev.occurrence_id))
            .bind(5, ev.ip)
            .bind(6, static_cast<int64_t>(ev.asn))
            .bind(7, ev.geo)
            .bind(8, ev.region)
            .bind(9, static_cast<int64_t>(ev.severity))
            .bind(10, ev.tag)
            .bind_blob(11, ev.row);
        auto has = repeat_event_.step();
        if (!has || !*has) {
          repeat_event_.reset();
          types_.forget_created();
          return has ? Error::internal("a conflicting event row is missing") : has.error();
        }
        int64_t event_id = repeat_event_.int64(0);
        ++out.deduplicated;
        // The stored row's routes: this occurrence may reach organisations it did not (the
        // registry changed in between), whether the row came from an earlier batch or this one.
        if (!route_scratch_.empty()) {
          stored_blob_.assign(repeat_event_.text(1));
          repeat_event_.reset();
          if (auto st = add_late_routes(ev, *tid, event_id, stored_blob_, *watermark, out); !st)
            return st.error();
        } else {
          repeat_event_.reset();
        }
        continue;
      }
      int64_t event_id = (*next_id)++;
      ++out.inserted;
      last_event_id_ = std::max(last_event_id_, event_id);
      // Its spool entries and every counter of it come from its row at the next fold.
      out.routed += static_cast<int64_t>(route_scratch_.size());
    }
    if (auto st = spool_.write_entries(late_); !st) return st.error();
    if (auto st = spool_.add_org_stats(org_stats_); !st) return st.error();
    if (auto st = batch_tables_.write_quarantine(batch.quarantined); !st) return st.error();
    if (batch.checkpoint) {
      if (auto st = batch_tables_.write_checkpoint(*batch.checkpoint, out); !st) return st.error();
    }
    return out;
  }

  std::mutex mu_;
  std::unique_ptr<Db> db_;
  TypeIds types_;
  Statement insert_org_id_;
  bool org_ids_ready_ = false;
  // scan_reports' chunk scratch, kept to reuse its memory (events' strings included).
  Statement bulk_event_;
  bool bulk_event_ready_ = false;
  ReportChunk bulk_chunk_;
  std::vector<StoredEvent> bulk_events_;
  std::vector<bool> bulk_found_;
  std::vector<int64_t> ids_scratch_;
  Statement insert_event_, repeat_event_, update_routes_;
  BatchTablesWriter batch_tables_;
  FoldCounters counters_;
  SpoolWriter spool_;
  SqliteStoreOptions options_;
  int64_t last_event_id_ = 0;    // the highest event id this writer has inserted
  int64_t flushed_through_ = 0;  // ... and the highest one covered by its last flush
  std::chrono::steady_clock::time_point last_flush_ = std::chrono::steady_clock::now();
  // Per-batch scratch, kept to reuse its memory.
  std::vector<SpoolEntry> late_;  // late routes of events before the watermark
  std::vector<OrgRoute> route_scratch_, stored_routes_, added_routes_;
  std::string routes_blob_, stored_blob_;
  std::vector<SpoolWriter::OrgStat> org_stats_;  // organisations reached late
  Statement read_tail_;
};

}  // namespace

const char* match_filter_name(MatchFilter f) {
  switch (f) {
    case MatchFilter::kAsn: return "asn";
    case MatchFilter::kCidr: return "cidr";
    case MatchFilter::kGeo: return "geo";
    case MatchFilter::kDomain: return "domain";
  }
  return "cidr";
}

bool report_order_less(const ReportKey& a, const ReportKey& b) {
  return std::tie(a.org_id, a.type, a.filter) < std::tie(b.org_id, b.type, b.filter);
}

Status check_report_scan_keys(std::span<const ReportKey> keys) {
  for (size_t i = 1; i < keys.size(); ++i) {
    if (keys[i].day != keys[0].day) return Error::invalid("scan_reports: keys of several days");
    if (!report_order_less(keys[i - 1], keys[i])) {
      return Error::invalid("scan_reports: keys not in report order (organisation, type, filter)");
    }
  }
  return {};
}

ReportScanChunk next_report_scan_chunk(std::span<const ReportKey> keys, size_t begin,
                                       int64_t chunk_rows, int64_t org_rows_max) {
  ReportScanChunk chunk{begin, false};
  int64_t rows = 0;
  while (chunk.end < keys.size()) {
    size_t org_end = chunk.end;
    int64_t org_rows = 0;
    for (; org_end < keys.size() && keys[org_end].org_id == keys[chunk.end].org_id; ++org_end)
      org_rows += std::max<int64_t>(keys[org_end].rows, 1);
    bool org_too_large = org_rows > org_rows_max;
    // A too-large organisation gets a chunk of its own.
    if (chunk.end > begin && (org_too_large || rows + org_rows > chunk_rows)) break;
    chunk.org_too_large = org_too_large;
    rows += org_rows;
    chunk.end = org_end;
    if (org_too_large || rows >= chunk_rows) break;
  }
  return chunk;
}

std::optional<MatchFilter> parse_match_filter(std::string_view s) {
  if (s == "asn") return MatchFilter::kAsn;
  if (s == "cidr") return MatchFilter::kCidr;
  if (s == "geo") return MatchFilter::kGeo;
  if (s == "domain") return MatchFilter::kDomain;
  return std::nullopt;
}

Result<std::unique_ptr<EventStore>> open_sqlite_store(const std::string& path,
                                                      SqliteStoreOptions options) {
  auto db = Db::open(path);
  if (!db) return db.error();
  auto store = std::make_unique<SqliteStore>(std::move(*db), options);
  if (auto st = store->init(); !st) return st.error();
  return std::unique_ptr<EventStore>(std::move(store));
}

}  // namespace vantage::store

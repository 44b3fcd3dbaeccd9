// The cluster event store: ClickHouse over its HTTP interface, sharded by event key.
//
// ClickHouse cannot commit a batch and its checkpoint together, so exactness comes from the
// data instead of a transaction: every occurrence carries a deterministic id
// (EventRecord::occurrence_id), and everything a reader sees is computed from the occurrences
// with aggregates that a repeated occurrence cannot change -- count is uniqExact over the ids,
// first/last seen are min/max, the stored row is the representative occurrence's (the
// earliest, ties by occurrence id: the same whatever the arrival order), the event id is the
// earliest stored copy's insertion sequence number, routes are a set. A batch delivered twice,
// or written half and then again, reads exactly like one delivery. docs/cluster.md has the
// whole argument and the layout.
//
// Sharded tables (on every shard, behind Distributed tables sharded by intHash64(event_key),
// so every occurrence and route of one event key lives on one shard and the per-event
// subqueries below run shard-locally):
//   occurrences  one row per occurrence (ReplacingMergeTree keeps the earliest copy)
//   routes       one row per (day, organisation, type, filter, event key): the report spool
// Small tables on the first node only: checkpoints (ReplacingMergeTree by version),
// quarantine, commits (the read_after watermark), retention and the sealed_* statistics of
// days whose raw events were dropped.

#include <algorithm>
#include <map>
#include <mutex>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "common/hash.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "common/time.h"
#include "store/clickhouse/http.h"
#include "store/store.h"

namespace vantage::store {

namespace {

using clickhouse::append_tsv_escaped;
using clickhouse::ClickHouseHttp;
using clickhouse::parse_uint_array;
using clickhouse::sql_quote;

constexpr size_t kMaxQuarantineRaw = 4096;

// Sequence numbers of bus-fed rows: 2^62 | bus sequence << 26 | line. Unique across writers
// (a stream sequence is one message, a line one record of it) and the same on redelivery, so
// any number of workers can write at once. The flag puts them above every number a direct
// writer gave before; 26 bits hold the lines of the largest message NATS carries (64 MiB),
// and 36 bits of stream sequence are 68 billion messages.
constexpr int kBusLineBits = 26;
constexpr uint64_t kBusFlag = uint64_t{1} << 62;
constexpr uint64_t kMaxBusSequence = (uint64_t{1} << 36) - 1;
uint64_t bus_seq(uint64_t bus_sequence, int64_t line) {
  return kBusFlag + (bus_sequence << kBusLineBits) + static_cast<uint64_t>(line);
}

// A route as one integer: organisation * 4 + filter (the filter takes two bits).
uint64_t route_code(const OrgRoute& r) {
  return uint64_t{r.org_id} * 4 + static_cast<uint64_t>(r.filter);
}
OrgRoute route_of(uint64_t code) {
  return {static_cast<uint32_t>(code / 4), static_cast<MatchFilter>(code & 3)};
}

int64_t to_int(std::string_view s) {
  return parse_int(s).value_or(0);
}
uint64_t to_uint(std::string_view s) {
  return parse_uint(s).value_or(0);
}

// Normalised tags as the statistics count them: lower case, trimmed, unique, sorted.
std::vector<std::string> normalised_tags(std::string_view tag) {
  std::vector<std::string> tags;
  for (auto t : split(tag, ',')) {
    t = trim(t);
    if (!t.empty()) tags.push_back(to_lower(t));
  }
  std::sort(tags.begin(), tags.end());
  tags.erase(std::unique(tags.begin(), tags.end()), tags.end());
  return tags;
}

// The columns of one deduplicated event, aggregated over its occurrences (GROUP BY day,
// event_key). Every aggregate gives the same answer with or without repeated copies, and in
// whatever order the occurrences were stored: the row and the indexed fields are those of the
// representative occurrence, the one with the smallest (timestamp, occurrence id), an unknown
// id (0) after every known one and, among those, the first stored (seq) -- the SQLite store's
// rule (occurrence_rank there). One argMin over a tuple of the fields: eight argMins over a
// tuple key each cost twice the memory of the whole query. The id (for read_after) is the
// earliest stored copy's sequence number.
constexpr const char* kEventAggregates =
    "min(seq) AS id, day, tupleElement(argMin((type, ip, asn, geo, region, severity, tag, row), "
    "(ts, if(occurrence_id = 0, 18446744073709551615, occurrence_id), seq)) AS rep, 1), "
    "event_key, min(ts) AS first_seen, max(ts), uniqExact(occurrence_id, dup), tupleElement(rep, "
    "2), tupleElement(rep, 3), tupleElement(rep, 4), tupleElement(rep, 5), tupleElement(rep, 6) "
    "AS sev, tupleElement(rep, 7), tupleElement(rep, 8)";
// The order of a report's rows and of query answers, over kEventAggregates: first seen, then
// the event key -- as in the SQLite store, nothing that depends on arrival.
constexpr const char* kReportOrder = "first_seen, event_key";
constexpr const char* kReportOrderDescending = "first_seen DESC, event_key DESC";
constexpr size_t kEventFields = 14;

// Into an existing event, so that a long scan reuses its strings' buffers.
void read_event_into(const std::vector<std::string_view>& f, StoredEvent& e) {
  e.id = to_int(f[0]);
  e.day = static_cast<DayNumber>(to_int(f[1]));
  e.type.assign(f[2]);
  e.event_key = to_uint(f[3]);
  e.first_seen = to_int(f[4]);
  e.last_seen = to_int(f[5]);
  e.count = static_cast<uint32_t>(to_uint(f[6]));
  e.ip.assign(f[7]);
  e.asn = static_cast<uint32_t>(to_uint(f[8]));
  e.geo.assign(f[9]);
  e.region.assign(f[10]);
  e.severity = static_cast<uint8_t>(to_uint(f[11]));
  e.tag.assign(f[12]);
  e.row.assign(f[13]);
}

StoredEvent read_event(const std::vector<std::string_view>& f) {
  StoredEvent e;
  read_event_into(f, e);
  return e;
}

std::string in_list(const std::vector<std::string>& values) {
  std::string s = "(";
  for (size_t i = 0; i < values.size(); ++i) s += (i ? "," : "") + sql_quote(values[i]);
  return s + ")";
}

template <typename T>
std::string number_list(const T& values) {
  std::string s = "(";
  bool first = true;
  for (const auto& v : values) {
    s += (first ? "" : ",") + std::to_string(v);
    first = false;
  }
  return s + ")";
}

class ClickHouseStore final : public EventStore {
 public:
  explicit ClickHouseStore(ClickHouseStoreOptions options)
      : options_(std::move(options)),
        http_(clickhouse::HttpOptions{std::chrono::milliseconds(options_.connect_timeout_ms),
                                      std::chrono::milliseconds(options_.request_timeout_ms),
                                      options_.retries,
                                      std::chrono::milliseconds(options_.retry_backoff_ms)}),
        db_(options_.database) {
    if (options_.shard_urls.empty()) options_.shard_urls.push_back(options_.url);
  }

  Status init() {
    if (!is_identifier(options_.database) || !is_identifier(options_.cluster)) {
      return Error::invalid("ClickHouse database and cluster names must be identifiers");
    }
    // ON CLUSTER needs ZooKeeper, so the DDL runs on each node; IF NOT EXISTS makes a second
    // opener (or another role) a no-op.
    for (const auto& url : options_.shard_urls) {
      VANTAGE_RETURN_IF_ERROR(http_.execute(url, "CREATE DATABASE IF NOT EXISTS " + db_));
      VANTAGE_RETURN_IF_ERROR(http_.execute(
          url, "CREATE TABLE IF NOT EXISTS " + db_ +
                   ".occurrences (day Int32, type String, event_key UInt64, occurrence_id UInt64, "
                   "dup UInt64, seq UInt64, keep UInt64, ts Int64, ip String, asn UInt32, geo "
                   "String, region String, severity UInt8, tag String, tags Array(String), row "
                   "String, routes Array(UInt64)) ENGINE = ReplacingMergeTree(keep) PARTITION BY "
                   "day ORDER BY (day, event_key, occurrence_id, dup)"));
      VANTAGE_RETURN_IF_ERROR(http_.execute(
          url, "CREATE TABLE IF NOT EXISTS " + db_ +
                   ".routes (day Int32, org_id UInt32, filter UInt8, type String, event_key "
                   "UInt64) ENGINE = ReplacingMergeTree PARTITION BY day ORDER BY (day, org_id, "
                   "type, filter, event_key)"));
      for (const char* t : {"occurrences", "routes"}) {
        VANTAGE_RETURN_IF_ERROR(
            http_.execute(url, "CREATE TABLE IF NOT EXISTS " + db_ + "." + t + "_all AS " + db_ +
                                   "." + t + " ENGINE = Distributed(" + options_.cluster + ", " +
                                   db_ + ", " + t + ", intHash64(event_key))"));
      }
    }
    for (const char* ddl :
         {".checkpoints (source_key String, source_name String, offset Int64, line Int64, done "
          "UInt8, accepted Int64, rejected Int64, allowlisted Int64, deduplicated Int64, routed "
          "Int64, version UInt64) ENGINE = ReplacingMergeTree(version) ORDER BY source_key",
          ".quarantine (seq UInt64, keep UInt64, source String, line Int64, field String, reason "
          "String, raw String, raw_hash UInt64) ENGINE = ReplacingMergeTree(keep) ORDER BY "
          "(source, line, field, reason, raw_hash)",
          ".commits (seq UInt64) ENGINE = MergeTree ORDER BY seq",
          ".retention (before_day Int32) ENGINE = MergeTree ORDER BY before_day",
          ".sealed_stats (day Int32, type String, geo String, region String, asn UInt32, "
          "severity UInt8, events Int64) ENGINE = ReplacingMergeTree ORDER BY (day, type, geo, "
          "region, asn, severity)",
          ".sealed_tags (day Int32, type String, geo String, tag String, events Int64) ENGINE = "
          "ReplacingMergeTree ORDER BY (day, type, geo, tag)",
          ".sealed_org (day Int32, org_id UInt32, type String, severity UInt8, events Int64) "
          "ENGINE = ReplacingMergeTree ORDER BY (day, org_id, type, severity)"}) {
      VANTAGE_RETURN_IF_ERROR(
          http_.execute(options_.url, "CREATE TABLE IF NOT EXISTS " + db_ + ddl));
    }
    return {};
  }

  Result<BatchOutcome> write(const IngestBatch& batch) override {
    std::lock_guard lock(mu_);
    // A bus-fed batch numbers its rows from its place on the bus; a direct writer continues
    // its own sequence above everything stored.
    const bool from_bus = batch.bus_sequence != 0;
    if (from_bus) {
      if (batch.bus_sequence > kMaxBusSequence) {
        return Error::invalid("bus sequence " + std::to_string(batch.bus_sequence) +
                              " is beyond the ClickHouse store's 2^36 messages");
      }
      auto out_of_range = [](int64_t line) {
        return line < 0 || line >= (int64_t{1} << kBusLineBits);
      };
      bool bad = batch.checkpoint && out_of_range(batch.checkpoint->line);
      for (const auto& ev : batch.events) bad = bad || out_of_range(ev.line);
      for (const auto& q : batch.quarantined) bad = bad || out_of_range(q.line);
      if (bad) {
        return Error::invalid("bus message " + std::to_string(batch.bus_sequence) +
                              " has more lines than the ClickHouse store numbers (2^26)");
      }
    } else {
      VANTAGE_RETURN_IF_ERROR(refresh_sequence());
    }
    auto seq_of = [&](int64_t line) {
      return from_bus ? bus_seq(batch.bus_sequence, line) : next_seq_++;
    };
    BatchOutcome out;
    // What is stored already of this batch's events, apart from this batch's own occurrences
    // (a redelivery may have stored some or all of them): the outcome is counted against that
    // state, so a redelivered batch reports what its first delivery did, and its checkpoint's
    // counters stay exact.
    std::set<std::pair<DayNumber, uint64_t>> keys;
    std::unordered_set<uint64_t> batch_ids;
    for (const auto& ev : batch.events) {
      keys.insert({ev.day, ev.event_key});
      if (ev.occurrence_id) batch_ids.insert(ev.occurrence_id);
    }
    struct Known {
      bool stored = false;
      std::vector<uint64_t> routes;  // sorted
    };
    std::map<std::pair<DayNumber, uint64_t>, Known> known;
    std::unordered_set<uint64_t> stored_ids;  // occurrences of this batch already stored
    if (!keys.empty()) {
      std::set<DayNumber> days;
      std::vector<uint64_t> key_list;
      for (const auto& [d, k] : keys) {
        days.insert(d);
        key_list.push_back(k);
      }
      std::string ids = batch_ids.empty() ? "(0)" : number_list(batch_ids);
      std::string where = " FROM " + db_ + ".occurrences_all WHERE day IN " + number_list(days) +
                          " AND event_key IN " + number_list(key_list);
      // A redelivered batch is counted against the state before its first delivery: only the
      // occurrences stored before the earliest stored copy of its own ones count as earlier.
      auto first_copy =
          http_.query(options_.url, "SELECT min(seq)" + where + " AND occurrence_id IN " + ids +
                                        " FORMAT TabSeparated");
      if (!first_copy) return first_copy.error();
      uint64_t before = to_uint(trim(*first_copy));
      if (before == 0) before = UINT64_MAX;
      std::string earlier =
          "NOT (occurrence_id IN " + ids + ") AND seq < " + std::to_string(before);
      std::string sql = "SELECT day, event_key, countIf(" + earlier +
                        "), groupUniqArrayArrayIf(routes, " + earlier +
                        "), groupUniqArrayIf(occurrence_id, occurrence_id IN " + ids + ")" + where +
                        " GROUP BY day, event_key";
      auto st = http_.query_rows(options_.url, sql, [&](const std::vector<std::string_view>& f) {
        if (f.size() < 5) return true;
        auto key = std::make_pair(static_cast<DayNumber>(to_int(f[0])), to_uint(f[1]));
        if (!keys.count(key)) return true;
        Known& k = known[key];
        k.stored = to_int(f[2]) > 0;
        k.routes = parse_uint_array(f[3]);
        std::sort(k.routes.begin(), k.routes.end());
        for (uint64_t id : parse_uint_array(f[4])) stored_ids.insert(id);
        return true;
      });
      if (!st) return st.error();
    }

    std::string occurrences, routes;
    std::unordered_set<uint64_t> seen_ids;
    std::vector<uint64_t> codes;
    for (const auto& ev : batch.events) {
      if (ev.occurrence_id && !seen_ids.insert(ev.occurrence_id).second) continue;
      codes.clear();
      for (const auto& r : ev.routes) codes.push_back(route_code(r));
      std::sort(codes.begin(), codes.end());
      codes.erase(std::unique(codes.begin(), codes.end()), codes.end());
      Known& k = known[{ev.day, ev.event_key}];
      if (!k.stored) {
        k.stored = true;
        ++out.inserted;
        out.routed += static_cast<int64_t>(codes.size());
        k.routes = codes;
      } else {
        ++out.deduplicated;
        std::vector<uint64_t> merged;
        std::set_union(k.routes.begin(), k.routes.end(), codes.begin(), codes.end(),
                       std::back_inserter(merged));
        out.routed += static_cast<int64_t>(merged.size() - k.routes.size());
        k.routes = std::move(merged);
      }
      // Route rows always go (idempotent); an occurrence stored before is not stored again.
      for (uint64_t c : codes) {
        auto r = route_of(c);
        routes += std::to_string(ev.day) + '\t' + std::to_string(r.org_id) + '\t' +
                  std::to_string(static_cast<int>(r.filter)) + '\t';
        append_tsv_escaped(routes, ev.type);
        routes += '\t' + std::to_string(ev.event_key) + '\n';
      }
      if (ev.occurrence_id && stored_ids.count(ev.occurrence_id)) continue;
      append_occurrence(occurrences, ev, codes, seq_of(ev.line));
    }
    const std::string occ_cols =
        " (day, type, event_key, occurrence_id, dup, seq, keep, ts, ip, asn, geo, region, "
        "severity, tag, tags, row, routes) FORMAT TabSeparated";
    if (!occurrences.empty()) {
      VANTAGE_RETURN_IF_ERROR(http_.insert(
          options_.url, "INSERT INTO " + db_ + ".occurrences_all" + occ_cols, occurrences));
    }
    if (!routes.empty()) {
      VANTAGE_RETURN_IF_ERROR(
          http_.insert(options_.url,
                       "INSERT INTO " + db_ +
                           ".routes_all (day, org_id, filter, type, event_key) FORMAT TabSeparated",
                       routes));
    }
    if (!batch.quarantined.empty()) {
      // raw_hash completes a record's identity (a redelivered copy collapses with it): its
      // bytes and its input's source key. Without the key, two bus messages of one file (the
      // same source name, lines counted per message) could hold records with the same line
      // and bytes, and the second one would be taken for a copy of the first and lost.
      const std::string input_key = batch.checkpoint ? batch.checkpoint->source_key : "";
      std::string rows;
      for (const auto& q : batch.quarantined) {
        std::string_view raw = q.raw;
        if (raw.size() > kMaxQuarantineRaw) raw = raw.substr(0, kMaxQuarantineRaw);
        Hash64 h;
        if (!input_key.empty()) {
          h.add_u64(input_key.size());
          h.add(input_key);
        }
        h.add(raw);
        uint64_t seq = seq_of(q.line);
        rows += std::to_string(seq) + '\t' + std::to_string(~seq) + '\t';
        append_tsv_escaped(rows, q.source);
        rows += '\t' + std::to_string(q.line) + '\t';
        append_tsv_escaped(rows, q.field);
        rows += '\t';
        append_tsv_escaped(rows, q.reason);
        rows += '\t';
        append_tsv_escaped(rows, raw);
        rows += '\t' + std::to_string(h.finish()) + '\n';
      }
      VANTAGE_RETURN_IF_ERROR(http_.insert(
          options_.url,
          "INSERT INTO " + db_ +
              ".quarantine (seq, keep, source, line, field, reason, raw, raw_hash) FORMAT "
              "TabSeparated",
          rows));
    }
    if (batch.checkpoint) {
      const auto& c = *batch.checkpoint;
      std::string row;
      append_tsv_escaped(row, c.source_key);
      row += '\t';
      append_tsv_escaped(row, c.source_name);
      for (int64_t v : {c.offset, c.line, int64_t{c.done ? 1 : 0}, c.accepted, c.rejected,
                        c.allowlisted, c.deduplicated + out.deduplicated, c.routed + out.routed}) {
        row += '\t' + std::to_string(v);
      }
      // The version: a later checkpoint of the same source (further into it) has a greater one.
      row += '\t' + std::to_string(seq_of(c.line)) + '\n';
      VANTAGE_RETURN_IF_ERROR(http_.insert(
          options_.url, "INSERT INTO " + db_ + ".checkpoints FORMAT TabSeparated", row));
    }
    // Last: the watermark that lets read_after hand out the ids of this batch. Every shard has
    // acknowledged its part (insert_distributed_sync), so no id below it can still appear. A
    // bus-fed batch moves it only through bus_committed(): another worker may still be writing
    // a message before this one.
    if (!from_bus) {
      VANTAGE_RETURN_IF_ERROR(http_.insert(options_.url,
                                           "INSERT INTO " + db_ + ".commits FORMAT TabSeparated",
                                           std::to_string(next_seq_ - 1) + "\n"));
    }
    return out;
  }

  // The consumer's acknowledgement floor: every message up to it is stored, so every row
  // numbered from them (below the next message's first number) is final.
  Status bus_committed(uint64_t through) override {
    std::lock_guard lock(mu_);
    if (through == 0 || through <= bus_committed_) return {};
    through = std::min(through, kMaxBusSequence);
    VANTAGE_RETURN_IF_ERROR(
        http_.insert(options_.url, "INSERT INTO " + db_ + ".commits FORMAT TabSeparated",
                     std::to_string(bus_seq(through + 1, 0) - 1) + "\n"));  // < 2^63
    bus_committed_ = through;
    return {};
  }

  Result<std::optional<SourceCheckpoint>> checkpoint(std::string_view source_key) override {
    std::lock_guard lock(mu_);
    auto all = read_checkpoints(" WHERE source_key = " + sql_quote(source_key));
    if (!all) return all.error();
    if (all->empty()) return std::optional<SourceCheckpoint>();
    return std::optional<SourceCheckpoint>(std::move(all->front()));
  }

  Result<std::vector<SourceCheckpoint>> checkpoints() override {
    std::lock_guard lock(mu_);
    return read_checkpoints("");
  }

  Result<std::vector<ReportKey>> report_keys(DayNumber day,
                                             std::optional<uint32_t> org_id) override {
    std::lock_guard lock(mu_);
    std::string sql = "SELECT org_id, type, filter, uniqExact(event_key) FROM " + db_ +
                      ".routes_all WHERE day = " + std::to_string(day);
    if (org_id) sql += " AND org_id = " + std::to_string(*org_id);
    sql += " GROUP BY org_id, type, filter";
    std::vector<ReportKey> out;
    auto st = http_.query_rows(options_.url, sql, [&](const std::vector<std::string_view>& f) {
      if (f.size() < 4) return true;
      out.push_back({day, static_cast<uint32_t>(to_uint(f[0])), std::string(f[1]),
                     static_cast<MatchFilter>(to_uint(f[2]) & 3), to_int(f[3])});
      return true;
    });
    if (!st) return st.error();
    std::sort(out.begin(), out.end(), [](const ReportKey& a, const ReportKey& b) {
      return std::tie(a.org_id, a.type, a.filter) < std::tie(b.org_id, b.type, b.filter);
    });
    return out;
  }

  Status scan_report(const ReportKey& key,
                     const std::function<bool(const StoredEvent&)>& row) override {
    std::lock_guard lock(mu_);
    std::string day = std::to_string(key.day);
    // Shard-local subqueries (the local tables): an event's occurrences and routes share its
    // shard, and so does the same key on the day before.
    std::string report_keys = "SELECT event_key FROM " + db_ + ".routes WHERE day = " + day +
                              " AND org_id = " + std::to_string(key.org_id) +
                              " AND type = " + sql_quote(key.type) +
                              " AND filter = " + std::to_string(static_cast<int>(key.filter));
    // max(): inside an aggregate the IN runs on the shards, beside the day-before's rows; as
    // a plain expression of the group key it would run on the initiator after the merge.
    std::string sql = std::string("SELECT ") + kEventAggregates + ", max(event_key IN (SELECT " +
                      "event_key FROM " + db_ +
                      ".occurrences WHERE day = " + std::to_string(key.day - 1) +
                      " AND event_key IN (" + report_keys + "))) FROM " + db_ +
                      ".occurrences_all WHERE day = " + day + " AND event_key IN (" + report_keys +
                      ") GROUP BY day, event_key ORDER BY " + kReportOrder;
    std::string bad;
    auto st = http_.query_rows(options_.url, sql, [&](const std::vector<std::string_view>& f) {
      if (f.size() != kEventFields + 1) {
        bad = "a report row with " + std::to_string(f.size()) + " fields";
        return false;
      }
      StoredEvent e = read_event(f);
      e.new_since_previous_day = f[kEventFields] == "0";
      return row(e);
    });
    if (!st) return st;
    if (!bad.empty()) return Error::io("ClickHouse at " + options_.url + " sent " + bad);
    return {};
  }

  // One query per chunk of whole organisations (about options_.report_chunk_rows rows): the
  // events of the chunk's reports aggregated shard-locally (an event's occurrences and routes
  // share its shard, like scan_report's), joined on the answering node with the chunk's routes
  // -- once per report an event belongs to -- and sorted by report, then scan_report's order.
  // The answer is decoded as it arrives; the rows of reports not in `keys` (organisations in
  // the chunk's range that the caller left out) are skipped.
  Status scan_reports(
      std::span<const ReportKey> keys,
      const std::function<bool(const ReportKey&, const StoredEvent&)>& row) override {
    if (auto st = check_report_scan_keys(keys); !st) return st;
    std::lock_guard lock(mu_);
    size_t begin = 0;
    while (begin < keys.size()) {
      // Whole organisations: a chunk ends where the next organisation would pass the budget.
      size_t end = begin;
      int64_t rows = 0;
      while (end < keys.size()) {
        size_t org_end = end;
        int64_t org_rows = 0;
        while (org_end < keys.size() && keys[org_end].org_id == keys[end].org_id) {
          org_rows += std::max<int64_t>(keys[org_end].rows, 1);
          ++org_end;
        }
        if (end > begin && rows + org_rows > options_.report_chunk_rows) break;
        rows += org_rows;
        end = org_end;
      }
      bool go_on = true;
      auto st = scan_report_chunk(keys.subspan(begin, end - begin), row, go_on);
      if (!st) return st;
      if (!go_on) break;
      begin = end;
    }
    return {};
  }

  Result<std::vector<StatsRow>> stats(const StatsQuery& q) override {
    std::lock_guard lock(mu_);
    bool wants_tag = false, wants_geo_region_asn = false;
    std::set<std::string> dims(q.group_by.begin(), q.group_by.end());
    for (const auto& g : q.group_by) {
      if (g == "tag") wants_tag = true;
      if (g == "geo" || g == "region" || g == "asn") wants_geo_region_asn = true;
      if (g != "day" && g != "type" && g != "geo" && g != "region" && g != "asn" &&
          g != "severity" && g != "tag") {
        return Error::invalid("unknown statistics dimension '" + g + "'");
      }
    }
    bool uses_tag = wants_tag || !q.tag.empty();
    if (!q.org_id && uses_tag) {
      // The same limits as the embedded store's tag rollups, so both answer alike.
      std::set<std::string> all = dims;
      if (!q.region.empty()) all.insert("region");
      if (q.min_severity || !q.severities.empty()) all.insert("severity");
      if (!all.count("asn")) {
        for (const char* other : {"region", "severity"}) {
          if (all.count(other)) {
            return Error::invalid(std::string("tag statistics cannot be combined with ") + other +
                                  " (as a filter or a grouping)");
          }
        }
      }
      for (const auto& g : q.group_by) {
        if (g == "region" || g == "asn" || g == "severity") {
          return Error::invalid("tag statistics group by day, type, geo and tag only");
        }
      }
      if (q.min_severity) return Error::invalid("tag statistics cannot filter on severity");
    }
    auto cutoff = retention_cutoff();
    if (!cutoff) return cutoff.error();

    std::string range =
        "day >= " + std::to_string(q.first_day) + " AND day <= " + std::to_string(q.last_day);
    std::string filters;
    if (!q.types.empty()) filters += " AND type IN " + in_list(q.types);
    if (!q.geo.empty()) filters += " AND geo = " + sql_quote(q.geo);
    if (!q.region.empty()) filters += " AND region = " + sql_quote(q.region);
    if (q.min_severity) filters += " AND severity >= " + std::to_string(*q.min_severity);
    if (!q.severities.empty()) filters += " AND severity IN " + number_list(q.severities);

    // Live part: distinct (day, event_key) per group of the stored occurrences.
    bool tag_rows = !q.org_id && uses_tag;  // one row per normalised tag
    std::string live_keys, sealed_keys;
    for (size_t i = 0; i < q.group_by.size(); ++i) {
      const auto& g = q.group_by[i];
      std::string alias = " AS g" + std::to_string(i) + ", ";
      live_keys += (g == "tag" && tag_rows ? std::string("tg") : g) + alias;
      sealed_keys += g + alias;
    }
    std::string live = "SELECT " + live_keys + "toInt64(uniqExact(day, event_key)) AS n FROM " +
                       db_ + ".occurrences_all";
    if (tag_rows) live += " ARRAY JOIN if(empty(tags), [''], tags) AS tg";
    live += " WHERE " + range + " AND day >= " + std::to_string(*cutoff) + filters;
    if (!q.tag.empty()) {
      live += tag_rows ? " AND tg = " + sql_quote(q.tag)
                       : " AND positionCaseInsensitive(concat(',', tag, ','), " +
                             sql_quote("," + q.tag + ",") + ") > 0";
    }
    if (q.org_id) {
      live += " AND (day, event_key) IN (SELECT day, event_key FROM " + db_ +
              ".routes WHERE org_id = " + std::to_string(*q.org_id) + " AND " + range + ")";
    }
    std::string groups;
    for (size_t i = 0; i < q.group_by.size(); ++i) groups += (i ? ", g" : "g") + std::to_string(i);
    if (!groups.empty()) live += " GROUP BY " + groups;

    // Sealed part: the days whose raw events retention dropped keep their counters.
    std::string sealed;
    bool org_detail =
        q.org_id && (uses_tag || wants_geo_region_asn || !q.geo.empty() || !q.region.empty());
    if (*cutoff > q.first_day && !org_detail) {
      std::string table = q.org_id ? "sealed_org" : (uses_tag ? "sealed_tags" : "sealed_stats");
      sealed = "SELECT " + sealed_keys + "toInt64(sum(events)) AS n FROM " + db_ + "." + table +
               " FINAL WHERE " + range + " AND day < " + std::to_string(*cutoff) + filters;
      if (!q.tag.empty()) sealed += " AND tag = " + sql_quote(q.tag);
      if (q.org_id) sealed += " AND org_id = " + std::to_string(*q.org_id);
      if (!groups.empty()) sealed += " GROUP BY " + groups;
    }
    std::string sql = "SELECT " + groups + (groups.empty() ? "" : ", ") + "sum(n) FROM (" + live +
                      (sealed.empty() ? "" : " UNION ALL " + sealed) + ")";
    if (!groups.empty()) sql += " GROUP BY " + groups + " ORDER BY " + groups;
    std::vector<StatsRow> out;
    auto st = http_.query_rows(options_.url, sql, [&](const std::vector<std::string_view>& f) {
      if (f.size() != q.group_by.size() + 1) return true;
      StatsRow r;
      for (size_t i = 0; i < q.group_by.size(); ++i) {
        if (q.group_by[i] == "day") {
          r.keys.push_back(format_date(static_cast<DayNumber>(to_int(f[i]))));
        } else {
          r.keys.emplace_back(f[i]);
        }
      }
      r.events = to_int(f[q.group_by.size()]);
      if (r.events > 0) out.push_back(std::move(r));
      return true;
    });
    if (!st) return st.error();
    return out;
  }

  Result<std::vector<StoredEvent>> query(const EventQuery& q) override {
    std::lock_guard lock(mu_);
    std::string range =
        "day >= " + std::to_string(q.first_day) + " AND day <= " + std::to_string(q.last_day);
    std::string sql = std::string("SELECT ") + kEventAggregates + " FROM " + db_ +
                      ".occurrences_all WHERE " + range;
    if (!q.types.empty()) sql += " AND type IN " + in_list(q.types);
    if (!q.ips.empty()) sql += " AND ip IN " + in_list(q.ips);
    if (!q.geos.empty()) sql += " AND geo IN " + in_list(q.geos);
    if (!q.regions.empty()) sql += " AND region IN " + in_list(q.regions);
    if (!q.asns.empty()) sql += " AND asn IN " + number_list(q.asns);
    if (!q.tags.empty()) {
      sql += " AND (";
      for (size_t i = 0; i < q.tags.size(); ++i) {
        sql += std::string(i ? " OR " : "") + "positionCaseInsensitive(concat(',', tag, ','), " +
               sql_quote("," + q.tags[i] + ",") + ") > 0";
      }
      sql += ")";
    }
    if (q.org_id) {
      sql += " AND (day, event_key) IN (SELECT day, event_key FROM " + db_ +
             ".routes WHERE org_id = " + std::to_string(*q.org_id) + " AND " + range + ")";
    }
    sql += " GROUP BY day, event_key ORDER BY ";
    sql += q.descending ? kReportOrderDescending : kReportOrder;
    sql += " LIMIT " + std::to_string(std::max<int64_t>(q.offset, 0)) + ", " +
           std::to_string(std::max<int64_t>(q.limit, 0));
    std::vector<StoredEvent> out;
    auto st = http_.query_rows(options_.url, sql, [&](const std::vector<std::string_view>& f) {
      if (f.size() == kEventFields) out.push_back(read_event(f));
      return true;
    });
    if (!st) return st.error();
    return out;
  }

  Result<TailPage> read_after(
      const TailQuery& q,
      const std::function<bool(const StoredEvent&, const std::vector<OrgRoute>&)>& event) override {
    std::lock_guard lock(mu_);
    TailPage page;
    auto head = watermark();
    if (!head) return head.error();
    int64_t through = std::min(q.through_id, *head);
    page.examined_to = std::max(q.after_id, through);
    if (through <= q.after_id || q.limit <= 0) return page;
    std::string after = std::to_string(q.after_id), upto = std::to_string(through);
    // The events whose first occurrence lies in (after, through]: found through the
    // occurrences in that range (shard-locally), then aggregated whole.
    std::string sql = std::string("SELECT ") + kEventAggregates +
                      ", groupUniqArrayArray(routes) AS all_routes FROM " + db_ +
                      ".occurrences_all WHERE (day, event_key) IN (SELECT day, event_key FROM " +
                      db_ + ".occurrences WHERE seq > " + after + " AND seq <= " + upto +
                      ") GROUP BY day, event_key HAVING id > " + after + " AND id <= " + upto;
    if (q.min_severity > 0) sql += " AND sev >= " + std::to_string(q.min_severity);
    if (q.org_id) {
      sql += " AND arrayExists(r -> intDiv(r, 4) = " + std::to_string(*q.org_id) + ", all_routes)";
    }
    sql += " ORDER BY id LIMIT " + std::to_string(q.limit);
    std::vector<OrgRoute> routes;
    auto st = http_.query_rows(options_.url, sql, [&](const std::vector<std::string_view>& f) {
      if (f.size() != kEventFields + 1) return true;
      StoredEvent e = read_event(f);
      routes.clear();
      for (uint64_t c : parse_uint_array(f[kEventFields])) routes.push_back(route_of(c));
      std::sort(routes.begin(), routes.end());
      ++page.events;
      bool go_on = event(e, routes);
      if (page.events >= q.limit || !go_on) {
        page.examined_to = e.id;
        return false;
      }
      return true;
    });
    if (!st) return st.error();
    return page;
  }

  Result<int64_t> last_event_id() override {
    std::lock_guard lock(mu_);
    auto head = watermark();
    if (!head) return head.error();
    // The greatest event id (an event's id is its earliest occurrence's sequence number) at or
    // below the watermark; bounded to the newest days with committed occurrences.
    auto text =
        http_.query(options_.url, "SELECT max(id) FROM (SELECT min(seq) AS id FROM " + db_ +
                                      ".occurrences_all WHERE seq <= " + std::to_string(*head) +
                                      " GROUP BY day, event_key) FORMAT TabSeparated");
    if (!text) return text.error();
    return to_int(trim(*text));
  }

  Result<int64_t> unsettled_events() override {
    // Statistics are computed from the stored occurrences at query time: nothing waits.
    return int64_t{0};
  }

  Status settle() override { return {}; }

  Result<std::vector<QuarantineRecord>> quarantine(int64_t limit) override {
    std::lock_guard lock(mu_);
    std::vector<QuarantineRecord> out;
    auto st = http_.query_rows(
        options_.url,
        "SELECT source, line, field, reason, any(raw), min(seq) AS id FROM " + db_ +
            ".quarantine GROUP BY source, line, field, reason, raw_hash ORDER BY id DESC LIMIT " +
            std::to_string(std::max<int64_t>(limit, 0)),
        [&](const std::vector<std::string_view>& f) {
          if (f.size() == 6) {
            out.push_back({std::string(f[0]), to_int(f[1]), std::string(f[2]), std::string(f[3]),
                           std::string(f[4])});
          }
          return true;
        });
    if (!st) return st.error();
    return out;
  }

  Result<int64_t> quarantine_count() override {
    std::lock_guard lock(mu_);
    auto text =
        http_.query(options_.url, "SELECT uniqExact(source, line, field, reason, raw_hash) FROM " +
                                      db_ + ".quarantine FORMAT TabSeparated");
    if (!text) return text.error();
    return to_int(trim(*text));
  }

  // The day's counters go where retention would have sealed them, and the cutoff moves past
  // the day, so readers take them as a dropped day's (re-importing a day replaces its rows:
  // the sealed tables are keyed by the full group).
  Status import_dropped_day_statistics(const DayStatistics& day) override {
    std::lock_guard lock(mu_);
    const std::string d = std::to_string(day.day) + '\t';
    std::string rows;
    for (const auto& g : day.groups) {
      rows += d;
      append_tsv_escaped(rows, g.type);
      rows += '\t';
      append_tsv_escaped(rows, g.geo);
      rows += '\t';
      append_tsv_escaped(rows, g.region);
      rows += '\t' + std::to_string(g.asn) + '\t' + std::to_string(g.severity) + '\t' +
              std::to_string(g.events) + '\n';
    }
    if (!rows.empty()) {
      VANTAGE_RETURN_IF_ERROR(http_.insert(
          options_.url, "INSERT INTO " + db_ + ".sealed_stats FORMAT TabSeparated", rows));
    }
    rows.clear();
    for (const auto& g : day.tags) {
      rows += d;
      append_tsv_escaped(rows, g.type);
      rows += '\t';
      append_tsv_escaped(rows, g.geo);
      rows += '\t';
      append_tsv_escaped(rows, g.tag);
      rows += '\t' + std::to_string(g.events) + '\n';
    }
    if (!rows.empty()) {
      VANTAGE_RETURN_IF_ERROR(http_.insert(
          options_.url, "INSERT INTO " + db_ + ".sealed_tags FORMAT TabSeparated", rows));
    }
    rows.clear();
    for (const auto& g : day.orgs) {
      rows += d + std::to_string(g.org_id) + '\t';
      append_tsv_escaped(rows, g.type);
      rows += '\t' + std::to_string(g.severity) + '\t' + std::to_string(g.events) + '\n';
    }
    if (!rows.empty()) {
      VANTAGE_RETURN_IF_ERROR(http_.insert(
          options_.url, "INSERT INTO " + db_ + ".sealed_org FORMAT TabSeparated", rows));
    }
    auto cutoff = retention_cutoff();
    if (!cutoff) return cutoff.error();
    if (*cutoff <= day.day) {
      VANTAGE_RETURN_IF_ERROR(http_.insert(options_.url,
                                           "INSERT INTO " + db_ + ".retention FORMAT TabSeparated",
                                           std::to_string(day.day + 1) + "\n"));
    }
    return {};
  }

  // Seals the statistics of the days to drop (INSERT ... SELECT from the occurrences, keyed
  // so that a repeat collapses), records the new cutoff (readers take sealed counters below
  // it and live ones from it on), then drops the days' partitions on every shard. A crash in
  // between is repaired by running it again: sealing a day twice gives the same rows.
  Result<int64_t> drop_events_before(DayNumber day) override {
    std::lock_guard lock(mu_);
    auto cutoff = retention_cutoff();
    if (!cutoff) return cutoff.error();
    std::string below =
        " WHERE day < " + std::to_string(day) + " AND day >= " + std::to_string(*cutoff);
    auto counted =
        http_.query(options_.url, "SELECT uniqExact(day, event_key) FROM " + db_ +
                                      ".occurrences_all" + below + " FORMAT TabSeparated");
    if (!counted) return counted.error();
    int64_t dropped = to_int(trim(*counted));
    if (day > *cutoff) {
      VANTAGE_RETURN_IF_ERROR(http_.execute(
          options_.url, "INSERT INTO " + db_ +
                            ".sealed_stats SELECT day, type, geo, region, asn, severity, "
                            "toInt64(uniqExact(event_key)) FROM " +
                            db_ + ".occurrences_all" + below +
                            " GROUP BY day, type, geo, region, asn, severity"));
      VANTAGE_RETURN_IF_ERROR(http_.execute(
          options_.url, "INSERT INTO " + db_ +
                            ".sealed_tags SELECT day, type, geo, tg, toInt64(uniqExact(event_key)) "
                            "FROM " +
                            db_ + ".occurrences_all ARRAY JOIN if(empty(tags), [''], tags) AS tg" +
                            below + " GROUP BY day, type, geo, tg"));
      VANTAGE_RETURN_IF_ERROR(http_.execute(
          options_.url, "INSERT INTO " + db_ +
                            ".sealed_org SELECT day, org_id, type, severity, "
                            "toInt64(uniqExact(event_key)) FROM (SELECT day, event_key, "
                            "argMin(type, seq) AS type, argMin(severity, seq) AS severity, "
                            "groupUniqArrayArray(routes) AS rs FROM " +
                            db_ + ".occurrences_all" + below +
                            " GROUP BY day, event_key) ARRAY JOIN arrayDistinct(arrayMap(r -> "
                            "toUInt32(intDiv(r, 4)), rs)) AS org_id GROUP BY day, org_id, type, "
                            "severity"));
      VANTAGE_RETURN_IF_ERROR(http_.insert(options_.url,
                                           "INSERT INTO " + db_ + ".retention FORMAT TabSeparated",
                                           std::to_string(day) + "\n"));
    }
    // Every partition below the cutoff goes, including those a crash left behind.
    DayNumber limit = std::max(day, *cutoff);
    for (const auto& url : options_.shard_urls) {
      for (const char* table : {"occurrences", "routes"}) {
        std::vector<std::string> parts;
        auto st = http_.query_rows(
            url,
            "SELECT DISTINCT partition FROM system.parts WHERE active AND database = " +
                sql_quote(options_.database) + " AND table = " + sql_quote(table),
            [&](const std::vector<std::string_view>& f) {
              if (!f.empty() && to_int(f[0]) < limit) parts.emplace_back(f[0]);
              return true;
            });
        if (!st) return st.error();
        for (const auto& p : parts) {
          VANTAGE_RETURN_IF_ERROR(
              http_.execute(url, "ALTER TABLE " + db_ + "." + table + " DROP PARTITION " + p));
        }
      }
    }
    return dropped;
  }

 private:
  // scan_reports' query for the organisations of `keys` (one day, in report order).
  Status scan_report_chunk(std::span<const ReportKey> keys,
                           const std::function<bool(const ReportKey&, const StoredEvent&)>& row,
                           bool& go_on) {
    const DayNumber day = keys.front().day;
    std::string range = "day = " + std::to_string(day) +
                        " AND org_id >= " + std::to_string(keys.front().org_id) +
                        " AND org_id <= " + std::to_string(keys.back().org_id);
    std::string chunk_keys = "SELECT event_key FROM " + db_ + ".routes WHERE " + range;
    // The inner query runs on every shard against its local tables (as in scan_report), with
    // the day before's flag inside an aggregate so that it too is looked up shard-locally. The
    // routes are deduplicated (the table is a ReplacingMergeTree) and joined on the answering
    // node: joining them on the shards would aggregate every event once per report it is in.
    // `SELECT *` gives the event's columns, the flag, then the routes' side (event_key,
    // organisation, filter, type) -- 18.16 keeps the right-hand USING column.
    std::string sql =
        std::string("SELECT * FROM (SELECT ") + kEventAggregates +
        ", max(event_key IN (SELECT event_key FROM " + db_ +
        ".occurrences WHERE day = " + std::to_string(day - 1) + " AND event_key IN (" + chunk_keys +
        "))) FROM " + db_ + ".occurrences_all WHERE day = " + std::to_string(day) +
        " AND event_key IN (" + chunk_keys +
        ") GROUP BY day, event_key) ALL INNER JOIN (SELECT DISTINCT event_key, org_id "
        "AS report_org, filter AS report_filter, type AS report_type FROM " +
        db_ + ".routes_all WHERE " + range +
        ") USING event_key ORDER BY report_org, report_type, report_filter, " + kReportOrder;
    constexpr size_t kFields = kEventFields + 5;
    size_t next = 0;         // the first key a row may still belong to
    ReportKey at, previous;  // this row's report and the previous row's
    bool first = true;
    StoredEvent e;
    std::string bad;
    auto st = http_.query_rows(options_.url, sql, [&](const std::vector<std::string_view>& f) {
      if (f.size() != kFields) {
        bad = "a report row with " + std::to_string(f.size()) + " fields";
        return false;
      }
      at.org_id = static_cast<uint32_t>(to_uint(f[kFields - 3]));
      at.filter = static_cast<MatchFilter>(to_uint(f[kFields - 2]) & 3);
      at.type.assign(f[kFields - 1]);
      // The order is the contract the builder relies on: check it rather than trust it.
      if (!first && report_order_less(at, previous)) {
        bad = "report rows out of order";
        return false;
      }
      first = false;
      std::swap(at, previous);
      while (next < keys.size() && report_order_less(keys[next], previous)) ++next;
      if (next == keys.size()) return false;                     // past the last wanted report
      if (report_order_less(previous, keys[next])) return true;  // one the caller left out
      read_event_into(f, e);
      e.new_since_previous_day = f[kEventFields] == "0";
      go_on = row(keys[next], e);
      return go_on;
    });
    if (!st) return st;
    if (!bad.empty()) return Error::io("ClickHouse at " + options_.url + " sent " + bad);
    return {};
  }

  // The next sequence number: past every stored occurrence, quarantine record and commit, so
  // that ids only grow even after another process wrote (one writer at a time, as the
  // interface says; see docs/cluster.md for several writers).
  // The first write reads the highest sequence number of every table (a writer that crashed
  // may have stored occurrences without committing them); later writes only the small commits
  // table, which covers every write that finished since.
  Status refresh_sequence() {
    std::string commits = "(SELECT max(seq) FROM " + db_ + ".commits)";
    std::string sql = sequence_scanned_ ? "SELECT " + commits
                                        : "SELECT greatest(greatest((SELECT max(seq) FROM " + db_ +
                                              ".occurrences_all), " + commits +
                                              "), (SELECT max(seq) FROM " + db_ + ".quarantine))";
    auto text = http_.query(options_.url, sql + " FORMAT TabSeparated");
    if (!text) return text.error();
    next_seq_ = std::max<uint64_t>(next_seq_, to_uint(trim(*text)) + 1);
    sequence_scanned_ = true;
    return {};
  }

  Result<int64_t> watermark() {
    auto text =
        http_.query(options_.url, "SELECT max(seq) FROM " + db_ + ".commits FORMAT TabSeparated");
    if (!text) return text.error();
    return to_int(trim(*text));
  }

  Result<DayNumber> retention_cutoff() {
    auto text = http_.query(options_.url, "SELECT count(), max(before_day) FROM " + db_ +
                                              ".retention FORMAT TabSeparated");
    if (!text) return text.error();
    auto f = split(trim(*text), '\t');
    if (f.size() != 2 || to_int(f[0]) == 0) return DayNumber{INT32_MIN};
    return static_cast<DayNumber>(to_int(f[1]));
  }

  Result<std::vector<SourceCheckpoint>> read_checkpoints(const std::string& where) {
    std::vector<SourceCheckpoint> out;
    auto st = http_.query_rows(
        options_.url,
        "SELECT source_key, argMax(source_name, version), argMax(offset, version), "
        "argMax(line, version), argMax(done, version), argMax(accepted, version), "
        "argMax(rejected, version), argMax(allowlisted, version), argMax(deduplicated, version), "
        "argMax(routed, version), max(version) AS v FROM " +
            db_ + ".checkpoints" + where + " GROUP BY source_key ORDER BY v, source_key",
        [&](const std::vector<std::string_view>& f) {
          if (f.size() != 11) return true;
          SourceCheckpoint c;
          c.source_key = std::string(f[0]);
          c.source_name = std::string(f[1]);
          c.offset = to_int(f[2]);
          c.line = to_int(f[3]);
          c.done = f[4] != "0";
          c.accepted = to_int(f[5]);
          c.rejected = to_int(f[6]);
          c.allowlisted = to_int(f[7]);
          c.deduplicated = to_int(f[8]);
          c.routed = to_int(f[9]);
          out.push_back(std::move(c));
          return true;
        });
    if (!st) return st.error();
    return out;
  }

  static void append_occurrence(std::string& out, const EventRecord& ev,
                                const std::vector<uint64_t>& codes, uint64_t seq) {
    out += std::to_string(ev.day) + '\t';
    append_tsv_escaped(out, ev.type);
    // dup: an occurrence without an id is distinct from every other one (its sequence number).
    out += '\t' + std::to_string(ev.event_key) + '\t' + std::to_string(ev.occurrence_id) + '\t' +
           std::to_string(ev.occurrence_id ? 0 : seq) + '\t' + std::to_string(seq) + '\t' +
           std::to_string(~seq) + '\t' + std::to_string(ev.timestamp) + '\t';
    append_tsv_escaped(out, ev.ip);
    out += '\t' + std::to_string(ev.asn) + '\t';
    append_tsv_escaped(out, ev.geo);
    out += '\t';
    append_tsv_escaped(out, ev.region);
    out += '\t' + std::to_string(static_cast<int>(ev.severity)) + '\t';
    append_tsv_escaped(out, ev.tag);
    out += "\t[";
    bool first = true;
    for (const auto& t : normalised_tags(ev.tag)) {
      out += (first ? "" : ",") + sql_quote(t);
      first = false;
    }
    out += "]\t";
    append_tsv_escaped(out, ev.row);
    out += "\t[";
    for (size_t i = 0; i < codes.size(); ++i) out += (i ? "," : "") + std::to_string(codes[i]);
    out += "]\n";
  }

  std::mutex mu_;
  ClickHouseStoreOptions options_;
  ClickHouseHttp http_;
  std::string db_;
  uint64_t next_seq_ = 1;
  bool sequence_scanned_ = false;
  uint64_t bus_committed_ = 0;  // the last acknowledgement floor written to commits
};

}  // namespace

Result<std::unique_ptr<EventStore>> open_clickhouse_store(ClickHouseStoreOptions options) {
  if (options.url.empty()) return Error::invalid("the ClickHouse store needs a URL");
  auto store = std::make_unique<ClickHouseStore>(std::move(options));
  if (auto st = store->init(); !st) return st.error();
  return std::unique_ptr<EventStore>(std::move(store));
}

}  // namespace vantage::store

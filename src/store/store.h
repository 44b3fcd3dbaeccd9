#pragma once
// The event store: where deduplicated, enriched, routed events land, with the statistics
// rollups and the per-organisation report spool beside them.
//
// The interface is shaped so that a ClickHouse backend can implement it too: writes come in
// whole batches (one atomic unit: events, their routes, rollup deltas, quarantined records
// and the source checkpoint that says how far the input was consumed), reads are scans of a
// day/type/organisation, filtered queries and aggregates -- never "load everything".
//
// Exactly-once: a batch and the checkpoint of the input it came from commit together, so a
// restart after kill -9 resumes from the last committed checkpoint and nothing is counted
// twice or lost.
//
// Thread-safety: one writer at a time (the pipeline's sink thread); readers may run
// concurrently from other threads, each through its own EventStore::open_reader().

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "common/result.h"
#include "common/time.h"

namespace vantage::store {

// How an organisation was matched; it becomes the <filter> part of report file names.
enum class MatchFilter : uint8_t { kAsn = 0, kCidr = 1, kGeo = 2, kDomain = 3 };
const char* match_filter_name(MatchFilter f);
std::optional<MatchFilter> parse_match_filter(std::string_view s);

struct OrgRoute {
  uint32_t org_id = 0;
  MatchFilter filter = MatchFilter::kCidr;
  // By organisation, then filter: the order of an event's stored routes.
  auto operator<=>(const OrgRoute&) const = default;
};

// One occurrence of an event as the pipeline hands it to the store. The store deduplicates
// by (day, event_key): the first occurrence inserts a row, later ones widen first/last seen
// and bump the count. The row shows the representative occurrence, whatever the arrival order:
// the earliest (timestamp), among equally early ones the smallest occurrence_id, an unknown
// id (0) after every known one; reports list rows by (first_seen, event_key).
struct EventRecord {
  DayNumber day = 0;
  std::string type;        // report type name
  uint64_t event_key = 0;  // deterministic id over the normalised fields without timestamp
  // Deterministic id of this occurrence (its input and line): the same input read again after a
  // crash or a redelivery gives the same ids, so a store that cannot make a batch and its
  // checkpoint atomic (a cluster store) can still count each occurrence once. 0 = unknown.
  uint64_t occurrence_id = 0;
  // The record's line in its input. With IngestBatch::bus_sequence it places the occurrence on
  // the bus, and a store may number it from there (the ClickHouse store's ids, docs/cluster.md).
  int64_t line = 0;
  UnixSeconds timestamp = 0;
  // Indexed common fields, for queries and rollups. Empty string / 0 = unknown.
  std::string ip;
  uint32_t asn = 0;
  std::string geo;
  std::string region;
  uint8_t severity = 0;  // 0 info .. 4 critical
  std::string tag;       // comma-separated as in reports
  std::string row;       // every column value, encoded by the core row codec
  std::vector<OrgRoute> routes;
};

// A stored (deduplicated) row as read back.
struct StoredEvent {
  int64_t id = 0;
  DayNumber day = 0;
  std::string type;
  uint64_t event_key = 0;
  UnixSeconds first_seen = 0;
  UnixSeconds last_seen = 0;
  uint32_t count = 0;
  std::string ip;
  uint32_t asn = 0;
  std::string geo;
  std::string region;
  uint8_t severity = 0;
  std::string tag;
  std::string row;
  bool new_since_previous_day = true;  // false when the same event_key was seen the day before
};

// A record rejected by decode/validate, kept aside with the reason so nothing is lost.
struct QuarantineRecord {
  std::string source;  // file path, "stdin", "push:<key>", ...
  int64_t line = 0;
  std::string field;
  std::string reason;
  std::string raw;  // the offending bytes (truncated to a bounded size)
};

// How far a source has been consumed, committed atomically with the batch it ends.
struct SourceCheckpoint {
  std::string source_key;  // identity of the input (path + size + content hash prefix)
  std::string source_name;
  int64_t offset = 0;  // next byte to read
  int64_t line = 0;    // lines consumed so far
  bool done = false;
  // Cumulative counters for `vantage status`. accepted/rejected/allowlisted include this
  // batch; deduplicated/routed are the totals *before* this batch -- the store adds the
  // batch's own (it learns them while writing it), so the row stays exact under retries.
  int64_t accepted = 0;
  int64_t rejected = 0;
  int64_t allowlisted = 0;
  int64_t deduplicated = 0;
  int64_t routed = 0;
};

struct IngestBatch {
  std::vector<EventRecord> events;
  std::vector<QuarantineRecord> quarantined;
  std::optional<SourceCheckpoint> checkpoint;
  // The bus message the batch comes from (its JetStream stream sequence, the same on every
  // redelivery), 0 for none. Several bus workers may then write one ClickHouse database at
  // once: its ids come from (bus_sequence, line), not from a per-writer counter.
  uint64_t bus_sequence = 0;
};

struct BatchOutcome {
  int64_t inserted = 0;      // new (day, event_key) rows
  int64_t deduplicated = 0;  // occurrences folded into an existing row
  int64_t routed = 0;        // new (event, organisation) spool entries
};

// One (day, organisation, type, filter) report with at least one row.
struct ReportKey {
  DayNumber day = 0;
  uint32_t org_id = 0;
  std::string type;
  MatchFilter filter = MatchFilter::kCidr;
  int64_t rows = 0;
};

// report_keys()'s order: organisation, then type, then filter.
bool report_order_less(const ReportKey& a, const ReportKey& b);
// The order of a report's rows and of query() answers: first seen, then the event key as the
// unsigned number it is -- nothing that depends on arrival (the SQL stores sort alike).
inline bool report_row_less(const StoredEvent& a, const StoredEvent& b) {
  return std::tie(a.first_seen, a.event_key) < std::tie(b.first_seen, b.event_key);
}
// What EventStore::scan_reports needs of its keys: all of one day, strictly in that order.
Status check_report_scan_keys(std::span<const ReportKey> keys);
// How a bulk report read (scan_reports) cuts its keys into chunks: the chunk starting at
// keys[begin] ends before keys[end] -- whole organisations, up to about `chunk_rows` rows (at
// least one organisation). An organisation of more than `org_rows_max` rows gets a chunk of its
// own with `org_too_large` set: the store reads it report by report, so that the memory a chunk
// holds stays bounded whatever one organisation receives.
struct ReportScanChunk {
  size_t end = 0;
  bool org_too_large = false;
};
ReportScanChunk next_report_scan_chunk(std::span<const ReportKey> keys, size_t begin,
                                       int64_t chunk_rows, int64_t org_rows_max);

struct StatsQuery {
  DayNumber first_day = 0;
  DayNumber last_day = 0;
  std::vector<std::string> types;  // empty: all
  std::string geo;                 // empty: all
  std::string tag;                 // empty: all
  std::string region;              // empty: all
  std::optional<uint8_t> min_severity;
  std::vector<uint8_t> severities;  // empty: all; else exactly these levels
  std::optional<uint32_t> org_id;   // restrict to one organisation's spool
  // Group-by dimensions, any subset of: "day", "type", "geo", "region", "asn", "severity", "tag".
  std::vector<std::string> group_by;
};

struct StatsRow {
  std::vector<std::string> keys;  // in group_by order
  int64_t events = 0;
};

// Filters on the indexed columns; values are ORed within a field and ANDed across fields.
struct EventQuery {
  DayNumber first_day = 0;
  DayNumber last_day = 0;
  std::vector<std::string> types;
  std::optional<uint32_t> org_id;  // required by the API: every query is scoped to one org
  std::vector<std::string> ips;
  std::vector<uint32_t> asns;
  std::vector<std::string> geos;
  std::vector<std::string> regions;
  std::vector<std::string> tags;  // substring match within the tag list
  bool descending = false;
  int64_t limit = 1000;
  int64_t offset = 0;
};

// What the real-time integrations follow: events in the order they were stored.
struct TailQuery {
  int64_t after_id = 0;            // events with a greater id ...
  int64_t through_id = INT64_MAX;  // ... up to this one
  int64_t limit = 1000;            // at most this many events handed over
  std::optional<uint32_t> org_id;  // only events routed to this organisation
  uint8_t min_severity = 0;        // only events at least this severe
};

struct TailPage {
  int64_t events = 0;       // events handed to the callback
  int64_t examined_to = 0;  // every event with after_id < id <= examined_to was considered
};

// The statistics of one day whose events are gone (retention dropped them), exactly as stats()
// counts them: what `vantage store migrate` carries over for those days, since no event is
// left to count them from (store/copy.h).
struct DayStatistics {
  DayNumber day = 0;
  struct Group {  // distinct events by (type, geo, region, asn, severity)
    std::string type, geo, region;
    uint32_t asn = 0;
    uint8_t severity = 0;
    int64_t events = 0;
  };
  struct TagGroup {  // distinct events by (type, geo, normalised tag; "" = untagged)
    std::string type, geo, tag;
    int64_t events = 0;
  };
  struct OrgGroup {  // distinct events routed to an organisation, by (type, severity)
    uint32_t org_id = 0;
    std::string type;
    uint8_t severity = 0;
    int64_t events = 0;
  };
  std::vector<Group> groups;
  std::vector<TagGroup> tags;
  std::vector<OrgGroup> orgs;
};

class EventStore {
 public:
  virtual ~EventStore() = default;

  // Applies the batch atomically (all of it or none of it).
  virtual Result<BatchOutcome> write(const IngestBatch& batch) = 0;
  virtual Result<std::optional<SourceCheckpoint>> checkpoint(std::string_view source_key) = 0;
  virtual Result<std::vector<SourceCheckpoint>> checkpoints() = 0;

  // Reports available for a day (optionally one organisation).
  virtual Result<std::vector<ReportKey>> report_keys(DayNumber day,
                                                     std::optional<uint32_t> org_id) = 0;
  // Streams the rows of one report in a stable order (first_seen, event_key); constant memory.
  virtual Status scan_report(const ReportKey& key,
                             const std::function<bool(const StoredEvent&)>& row) = 0;
  // The bulk form of scan_report, for building a whole day (or many organisations) at once:
  // streams the rows of every report in `keys`, report after report in the order of `keys`,
  // each report's rows exactly as scan_report gives them (same values, same order). `keys` must
  // be one day's, in report_keys()'s order (organisation, type, filter; an invalid-argument
  // error otherwise) -- report_keys()'s answer or any subsequence of it.
  // `row` receives the element of `keys` the row belongs to (the same object, so a caller may
  // tell reports apart by its address): every row of keys[i] comes before any row of keys[j],
  // i < j. A report with no rows any more gets no call. Memory stays constant whatever the
  // day's size: a backend that reads several reports per query reads bounded chunks of
  // organisations and decodes its answer as it arrives. The callback returns false to stop
  // early (not an error).
  virtual Status scan_reports(
      std::span<const ReportKey> keys,
      const std::function<bool(const ReportKey&, const StoredEvent&)>& row) = 0;
  virtual Result<std::vector<StatsRow>> stats(const StatsQuery& query) = 0;
  virtual Result<std::vector<StoredEvent>> query(const EventQuery& query) = 0;
  virtual Result<std::vector<QuarantineRecord>> quarantine(int64_t limit) = 0;
  virtual Result<int64_t> quarantine_count() = 0;
  // Drops raw events (and their spool entries) older than `day`; statistics stay.
  virtual Result<int64_t> drop_events_before(DayNumber day) = 0;
  // Brings what was written into its read-optimised layout (the SQLite store's spool runs);
  // reads are correct without it, bulk reads such as a day's report build are faster after it.
  virtual Status settle() = 0;
  // The events after `q.after_id` in id order, each with its routes (the organisations that
  // receive it), within one read snapshot. Ids only grow: every new (day, event_key) row gets
  // a greater id than any stored row, and a repeat occurrence keeps its row's id -- so a
  // cursor over ids sees each new event once. (Routes that a repeat adds to an older row later
  // are not seen again; they reach the day's report.) `examined_to` tells a cursor how far it
  // may move even when the filter skipped every row. The callback returns false to stop.
  virtual Result<TailPage> read_after(
      const TailQuery& q,
      const std::function<bool(const StoredEvent&, const std::vector<OrgRoute>&)>& event) = 0;
  // The greatest event id stored (0 for an empty store).
  virtual Result<int64_t> last_event_id() = 0;
  // Bus workers call it after acknowledging: every bus message up to this stream sequence is
  // stored (or was set aside), so read_after may hand out the events numbered from them. A
  // store that numbers events itself (SQLite) has nothing to do.
  virtual Status bus_committed(uint64_t /*through_bus_sequence*/) { return {}; }
  // Events written but not settled yet: the statistics count them once settled. An operator's
  // view of how far the dashboard lags the pipeline.
  virtual Result<int64_t> unsettled_events() = 0;
  // Adds the statistics of days whose events retention dropped in another store (a migration's
  // source) as this store's own statistics of dropped days: stats() then answers them as the
  // source did. Only for days before any stored event (the store treats them as dropped: a
  // cluster store moves its retention cutoff past them). Into a store that holds nothing for
  // that day; a day may come in several parts (its groups, its organisations' counters in
  // chunks), each group in one of them only. An engine without it answers an unsupported-operation
  // error, and a migration that needs it stops with that message.
  virtual Status import_dropped_day_statistics(const DayStatistics& day) {
    return Error{ErrorCode::kFailedPrecondition,
                 "this store engine cannot import the statistics of days dropped by retention (" +
                     format_date(day.day) + ")"};
  }
};

struct SqliteStoreOptions {
  // The writer moves the spool's tail into runs after this many new events (each flush costs
  // about one row per organisation reached; readers scan the tail, so it must stay short) ...
  int64_t spool_flush_events = 262144;
  // ... or when the tail is older than this at a write.
  std::chrono::seconds spool_flush_interval{10};
  // A fold holds at most about this many spool entries (16 bytes each, twice while sorting);
  // a longer tail is folded in several transactions.
  size_t fold_max_entries = size_t{8} << 20;
  // scan_reports reads whole organisations, about this many report rows per read snapshot
  // (between them the writer may go on). Each chunk reads its events at places spread over the
  // whole day, so fewer, larger chunks read fewer pages: at 1 M events, 100,000 rows per chunk
  // took 46 s of CPU where 20,000 took 68 s (bench/README.md) ...
  int64_t report_chunk_rows = 100000;
  // ... and holds a chunk's rows in memory to put each report in order; an organisation with
  // more rows than this is read report by report instead (SQLite sorts those, spilling to
  // disk), so that memory stays bounded whatever one organisation receives.
  int64_t report_bulk_org_rows_max = 250000;
};

// Opens (creating if needed) the embedded SQLite store in `path`.
Result<std::unique_ptr<EventStore>> open_sqlite_store(const std::string& path,
                                                      SqliteStoreOptions options = {});

// The segment store (store/segment/, docs/store.md): events in append-only segment files in
// `dir`, deduplicated in the writer's memory; checkpoints, statistics, the report spool and the
// state of repeated events in a SQLite meta database beside them. One writing process at a
// time (it holds `dir`/LOCK from its first write); any number of readers.
struct SegmentStoreOptions {
  SqliteStoreOptions fold;  // when the spool's tail is folded, as the SQLite store's
  // A segment file's size limit; fixed when the store is created (event ids are offsets).
  int64_t segment_bytes = int64_t{1} << 30;
  // scan_reports reads whole organisations, about this many report rows per read snapshot:
  // their (report, event) pairs from the spool, each event once in offset order (sequential
  // reads), then each report's rows sorted in memory ...
  int64_t report_chunk_rows = 100000;
  // ... and an organisation with more rows than this is read report by report instead, so
  // that the memory a chunk holds stays bounded whatever one organisation receives.
  int64_t report_bulk_org_rows_max = 250000;
};

Result<std::unique_ptr<EventStore>> open_segment_store(const std::string& dir,
                                                       SegmentStoreOptions options = {});

// The cluster store (store/clickhouse/): ClickHouse over its HTTP interface, sharded by event
// key over the nodes of `cluster`. docs/cluster.md describes the tables and why redelivered
// batches count once.
struct ClickHouseStoreOptions {
  // The node that serves the Distributed tables and holds the small unsharded tables
  // (checkpoints, quarantine, commits, retention, sealed statistics).
  std::string url;
  // One node per shard (the url's node among them): the tables are created, and retention
  // drops partitions, on each. Empty: just `url`.
  std::vector<std::string> shard_urls;
  std::string database = "vantage";
  std::string cluster = "vantage";  // a <remote_servers> entry in every node's config
  int64_t connect_timeout_ms = 2000;
  int64_t request_timeout_ms = 120000;
  int retries = 2;  // extra attempts of a request that got no answer, doubling the back-off
  int64_t retry_backoff_ms = 200;
  // scan_reports reads whole organisations, about this many report rows per query: the node
  // that answers sorts a query's rows in memory (bounded by the server's max_memory_usage).
  int64_t report_chunk_rows = 100000;
};

// Connects and creates the database and tables where missing. Errors name the node's URL and
// the cause; a store that cannot be reached is an error the caller retries with back-off.
Result<std::unique_ptr<EventStore>> open_clickhouse_store(ClickHouseStoreOptions options);

}  // namespace vantage::store

#pragma once
// The per-organisation report spool of the SQLite store, kept as organisation-sorted runs.
//
// Why runs: every (event, organisation) pair is a spool entry -- an event reaches its national
// CSIRT, its AS holder, the holders of the prefixes around it, ... -- and one B-tree row per
// pair made the spool the store's largest write cost: each batch scattered its rows over the
// whole (day, organisation, type, filter) key space. Instead:
//
//   - each event row carries its routes (encode_routes: the sorted (organisation, filter)
//     pairs), so a batch writes nothing else for the spool: durable with the event, once.
//     These routes are the spool's truth; the runs below are an index over them;
//   - the store's fold (SqliteStore::settle, which drives begin_fold / add_tail_event /
//     finish_fold here) reads the events written since the previous fold -- the "tail":
//     rowids above the watermark in store_meta -- sorts their entries by organisation and
//     writes one spool_runs row per (organisation, day): a summary of its (type, filter)
//     groups and their event ids, delta-encoded. A fold touches each organisation's index
//     entry once, however many events it got;
//   - readers (SpoolReader) take the runs plus the tail, inside one read transaction, so a
//     concurrent fold cannot move entries from one to the other under them;
//   - a repeat occurrence that routes an already-folded event to a further organisation (the
//     registry changed during the day; rare) gets a run of its own at once (write_entries);
//   - the per-organisation counters (org_stats: day x organisation x type x severity) of the
//     tail's events are added by the same fold -- per fold rather than per batch, so an
//     organisation reached a hundred times between folds costs one upsert, not a hundred.
//     Readers add the tail's share with the SQL function spool_has_org(routes, org_id).
//
// A fold is a pure function of what is committed -- no in-memory state survives between
// folds -- so kill -9 at any point leaves either the old watermark (the tail is read again)
// or the new one with its runs and counters (one transaction).
//
// Thread-safety: none; the store serialises calls on its connection.

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "common/radix_sort.h"
#include "common/result.h"
#include "common/time.h"
#include "store/sqlite/sqlite_db.h"
#include "store/store.h"

namespace vantage::store {

// DDL for the spool tables (idempotent).
extern const char* const kSpoolSchema;
// The watermark as a SQL scalar subquery: events with a greater id are the tail.
extern const char* const kWatermarkSql;

// Registers spool_has_org(routes BLOB, org_id INTEGER) -> 0/1 on the connection.
Status register_spool_functions(Db& db);

// The rows of org_stats for one organisation, the tail's events included, as a SQL subquery
// with columns day, type_id, severity, events (`org_id` is inlined: it is a number).
std::string org_stats_source(uint32_t org_id);

// Routes as stored in an event row: the (org, filter) pairs sorted and unique, as a JSON array
// of org_id * 4 + filter -- compact, and open to plain SQL (json_each) for audits and tests:
//   SELECT e.id, j.value / 4 AS org_id, j.value % 4 AS filter FROM events e, json_each(e.routes) j
void sort_routes(std::vector<OrgRoute>& routes);  // sorts and removes duplicates
void encode_routes(const std::vector<OrgRoute>& sorted, std::string& out);
// Stops at the first malformed element (a damaged row yields the routes before the damage).
void decode_routes(std::string_view text, std::vector<OrgRoute>& out);

struct SpoolEntry {
  uint32_t org_id = 0;
  DayNumber day = 0;
  int64_t type_id = 0;
  MatchFilter filter = MatchFilter::kCidr;
  int64_t event_id = 0;
  auto key() const { return std::tie(org_id, day, type_id, filter, event_id); }
};

// One (organisation, day, type, filter) group of a run, or one tail entry (count 1).
struct SpoolGroup {
  uint32_t org_id = 0;
  DayNumber day = 0;
  int64_t type_id = 0;
  MatchFilter filter = MatchFilter::kCidr;
  int64_t count = 0;
  // The group's event ids, delta-encoded (runs), or empty with `event_id` set (tail).
  std::string_view packed_ids;
  int64_t event_id = 0;
  // Calls `id` for each event id of the group, ascending.
  void for_each_id(const std::function<void(int64_t)>& id) const;
};

class SpoolWriter {
 public:
  Status prepare(Db& db);
  // The watermark, read inside the caller's write transaction.
  Result<int64_t> watermark();
  // Writes `entries` (sorted here) as one new run, inside the caller's write transaction.
  Status write_entries(std::vector<SpoolEntry>& entries);

  // Folding the tail, inside the caller's write transaction: begin_fold(), then every tail
  // event in id order, then finish_fold() -- which writes the runs, the org_stats counters and
  // the new watermark -- or, on failure, end_fold() alone.
  void begin_fold();
  void add_tail_event(int64_t event_id, DayNumber day, int64_t type_id, int64_t severity,
                      std::string_view routes);
  // The same with the routes decoded (sorted and unique), for a writer that kept them.
  void add_tail_event(int64_t event_id, DayNumber day, int64_t type_id, int64_t severity,
                      std::span<const OrgRoute> routes);
  Status finish_fold(int64_t last_event_id);
  size_t fold_entries() const { return keyed_.size() + entries_.size(); }  // so far
  void end_fold();  // releases the fold's memory (finish_fold does it too)

  // One organisation counted for one event: org_stats' key.
  struct OrgStat {
    uint32_t org_id;
    DayNumber day;
    int64_t type_id;
    int64_t severity;
    auto operator<=>(const OrgStat&) const = default;
  };
  // Adds one count per element to org_stats (sorted here; one upsert per distinct key),
  // inside the caller's write transaction.
  Status add_org_stats(std::vector<OrgStat>& counts);

 private:
  Result<int64_t> meta(const char* key);
  Status set_meta(const char* key, int64_t value);
  // Writes n entries sorted by (organisation, day, type, filter, event id) as one run.
  template <class EntryAt>
  Status write_sorted(size_t n, EntryAt entry_at);
  // Adds n sorted counters to org_stats, one upsert per distinct key.
  template <class StatAt>
  Status upsert_org_stats(size_t n, StatAt stat_at);

  Db* db_ = nullptr;
  Statement get_meta_, set_meta_;
  BulkInsert insert_run_, upsert_org_stats_;
  // A fold's working memory, released after it.
  bool packed_ = true, stats_packed_ = true;
  std::vector<KeyValue> keyed_, scratch_;
  std::vector<SpoolEntry> entries_;
  std::vector<uint64_t> org_keys_, org_scratch_;
  std::vector<OrgStat> org_stats_;
  std::vector<OrgRoute> routes_;
  std::string summary_, ids_;
};

// Reads the spool on the caller's connection; call inside a read transaction.
class SpoolReader {
 public:
  explicit SpoolReader(Db& db) : db_(db) {}
  // Every group with first_day <= day <= last_day, optionally of one organisation: the runs'
  // groups, then the tail's entries one by one.
  Status for_each(DayNumber first_day, DayNumber last_day, std::optional<uint32_t> org_id,
                  const std::function<void(const SpoolGroup&)>& group);
  // The runs' groups alone: a store whose tail is not in an `events` table (the segment
  // store) adds its tail itself.
  Status for_each_run(DayNumber first_day, DayNumber last_day, std::optional<uint32_t> org_id,
                      const std::function<void(const SpoolGroup&)>& group);
  // Every group of one day of these organisations (sorted, unique): one index seek per
  // organisation into the runs, then one pass over the tail -- a bulk report read's chunk.
  Status for_each_of_orgs(DayNumber day, std::span<const uint32_t> sorted_org_ids,
                          const std::function<void(const SpoolGroup&)>& group);
  // The runs' groups alone of the same (the segment store adds its tail itself).
  Status for_each_run_of_orgs(DayNumber day, std::span<const uint32_t> sorted_org_ids,
                              const std::function<void(const SpoolGroup&)>& group);

 private:
  Db& db_;
};

}  // namespace vantage::store

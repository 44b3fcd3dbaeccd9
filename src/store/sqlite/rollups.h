#pragma once
// The dashboard's statistics rollups: small pre-aggregated tables, each at two grains (day and
// calendar month), so that a chart over a year reads a few thousand rows instead of every
// event (the dashboard's budget is < 50 ms per call at a year of data).
//
//   r_type        (type, severity)             totals, severity split, per-type series
//   r_geo         (type, geo, severity)        the map and per-country series, some types
//   r_geo_all     (geo, severity)              the same over all types
//   r_region      (type, geo, region, sev.)    a country's regions (asked with a geo)
//   r_tag         (type, tag)                  tag rankings and per-tag series, some types
//   r_tag_all     (tag)                        the same over all types
//   r_tag_geo     (type, geo, tag)             the map filtered by tag, some types
//   r_tag_geo_all (geo, tag)                   the same over all types
//
// Every row also has `grain` (0: `day` is that day; 1: `day` is the first day of a month whose
// totals the row holds) and `events`. A query that does not group by day reads whole months
// at grain 1 and the ragged edges of its range at grain 0 -- or, when an edge covers most of
// its month, the whole month minus the days outside the range, so no edge reads more than
// half a month of days. ASN-level and per-organisation statistics are not here: the store's
// `stats` / `org_stats` tables and the spool answer those.
//
// Thread-safety: a RollupWriter belongs to the store's single writer; rollup_stats() runs on
// the caller's connection.

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "common/result.h"
#include "common/time.h"
#include "store/sqlite/sqlite_db.h"
#include "store/store.h"

namespace vantage::store {

// DDL for the rollup tables (idempotent).
extern const char* const kRollupSchema;

// Fills empty rollup tables from the store's older `stats` / `stats_tags` tables (schema 1 ->
// 2), so an upgraded data directory shows its history at once.
Status backfill_rollups(Db& db);

// One rollup group: the full set of dimensions, the texts as ids of the writer's dictionary;
// each table uses its subset. All integers, so a batch's groups sort and compare cheaply.
struct RollupKey {
  DayNumber day = 0;
  int64_t type_id = 0;
  uint32_t geo = 0;
  uint32_t region = 0;
  uint32_t tag = 0;
  uint8_t severity = 0;
  auto operator<=>(const RollupKey&) const = default;
};

struct RollupTableSpec;  // which dimensions a rollup table holds (rollups.cc)

// Accumulates one batch's deltas in memory and writes each group once (two grains).
class RollupWriter {
 public:
  RollupWriter();
  Status prepare(Db& db);
  // `n` newly stored events (not duplicate occurrences) of one (day, type, geo, region,
  // severity) group, for the tables without a tag; texts are ids from intern(). The store
  // passes its own statistics' groups, so the rollups sort groups, not events.
  void add_events(DayNumber day, int64_t type_id, uint32_t geo, uint32_t region, uint8_t severity,
                  int64_t n);
  // `n` (event, tag) pairs of one (day, type, geo, tag) group, for the tag tables: an event
  // counts once under each normalised tag (lower case, trimmed, unique), an untagged one under
  // the empty tag.
  void add_tagged(DayNumber day, int64_t type_id, uint32_t geo, uint32_t tag, int64_t n);
  Status flush();  // inside the batch's transaction; clears the deltas
  void discard();  // the batch was rolled back: forget its deltas

  // The writer's dictionary of texts (geo, region, tag), shared with the store's other
  // statistics; ids stay valid until the next flush().
  uint32_t intern(std::string_view text);
  const std::string& text(uint32_t id) const { return texts_[id]; }

 private:
  struct TextHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
  };

  struct Table {
    const RollupTableSpec* spec;
    std::vector<std::pair<RollupKey, int64_t>> deltas;  // (group, events); summed at flush
    BulkInsert upsert;
  };
  // Projects a group onto each table of one kind (with or without a tag dimension).
  void add(const RollupKey& group, bool tagged, int64_t n);
  std::vector<Table> tables_;
  // Geo, region and tag texts seen by this writer (a few thousand in practice); emptied at a
  // flush when it grows past a bound, so hostile tag values cannot grow it without limit.
  std::unordered_map<std::string, uint32_t, TextHash, std::equal_to<>> ids_;
  std::vector<std::string> texts_;
};

// Answers a statistics query from the rollups, or nullopt when it is not theirs (an ASN
// dimension or an organisation's scope). Errors: a dimension combination no rollup holds (tag
// with region or severity) -- the message says which; SQLite failures.
Result<std::optional<std::vector<StatsRow>>> rollup_stats(Db& db, const StatsQuery& q);

// Reads a statistics query's result: the group_by keys in order (day as YYYY-MM-DD, asn and
// severity as numbers), then the count; rows with a count of 0 or less are dropped.
Result<std::vector<StatsRow>> read_stats_rows(Statement& st,
                                              const std::vector<std::string>& group_by);

// First day of the month containing `d`.
DayNumber month_start(DayNumber d);
// First day of the month after the one containing `d`.
DayNumber next_month_start(DayNumber d);

}  // namespace vantage::store

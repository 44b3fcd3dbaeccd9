#pragma once
// The dashboard's statistics rollups: small pre-aggregated tables, each at two grains (day and
// calendar month), so that a chart over a year reads a few thousand rows instead of every
// event (the dashboard's budget is < 50 ms per call at a year of data).
//
//   r_type    (day, type, severity)            totals, severity split, per-type series
//   r_geo     (day, type, geo, severity)       the map, per-country series
//   r_region  (day, type, geo, region, sev.)   a country's regions (always asked with a geo)
//   r_tag     (day, type, tag)                 tag rankings and per-tag series
//   r_tag_geo (day, type, geo, tag)            the map filtered by tag
//
// Each row has `grain` 0 (day = that day) or 1 (day = first day of its month). A query that
// does not group by day reads whole months at grain 1 and only the ragged edges of its range
// at grain 0. ASN-level statistics stay in the store's `stats` table (the API's reports/stats
// and per-organisation views read that and org_stats).
//
// Thread-safety: a RollupWriter belongs to the store's single writer; plan_rollup_query() is a
// pure function.

#include <cstdint>
#include <map>
#include <string>
#include <tuple>
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

// Accumulates one batch's deltas in memory and writes each group once (two grains).
class RollupWriter {
 public:
  Status prepare(Db& db);
  // One newly stored event (not a duplicate occurrence). `tags` are normalised (lower case,
  // trimmed, no empties); an untagged event counts under the empty tag.
  void add(DayNumber day, int64_t type_id, const std::string& geo, const std::string& region,
           uint8_t severity, const std::vector<std::string>& tags);
  Status flush();  // inside the batch's transaction; clears the deltas

 private:
  std::map<std::tuple<DayNumber, int64_t, uint8_t>, int64_t> type_;
  std::map<std::tuple<DayNumber, int64_t, std::string, uint8_t>, int64_t> geo_;
  std::map<std::tuple<DayNumber, int64_t, std::string, std::string, uint8_t>, int64_t> region_;
  std::map<std::tuple<DayNumber, int64_t, std::string>, int64_t> tag_;
  std::map<std::tuple<DayNumber, int64_t, std::string, std::string>, int64_t> tag_geo_;
  Statement type_up_, geo_up_, region_up_, tag_up_, tag_geo_up_;
};

// A rollup table expression (a FROM clause yielding day, type_id and the table's dimension
// columns plus `events`) and the parameters it binds, chosen for one StatsQuery.
struct RollupPlan {
  std::string from;                // "(SELECT ... UNION ALL ...) r"
  std::vector<int64_t> day_binds;  // bound first, in order
};

// Picks the narrowest table holding every dimension the query groups or filters by, and the
// grain split of its date range. Errors: a dimension combination no rollup holds (tag with
// region, ASN or severity) -- the message says which. nullopt-like empty `from` means "not a
// rollup query" (ASN dimension or organisation scope): the caller uses its own tables.
Result<RollupPlan> plan_rollup_query(const StatsQuery& q);

// First day of the month containing `d`.
DayNumber month_start(DayNumber d);
// First day of the month after the one containing `d`.
DayNumber next_month_start(DayNumber d);

}  // namespace vantage::store

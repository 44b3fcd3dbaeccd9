#pragma once
// The tables that both embedded stores keep in SQLite -- types, sources (checkpoints),
// quarantine, the statistics (stats, stats_tags, org_stats) -- and the code that writes and
// reads them, shared by the SQLite store (one file with its events) and the segment store
// (its meta database beside the event segments).
//
// Thread-safety: none; each store serialises calls on its connection.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "common/result.h"
#include "common/time.h"
#include "store/sqlite/rollups.h"
#include "store/sqlite/sqlite_db.h"
#include "store/store.h"

namespace vantage::store {

// DDL of the shared tables (idempotent).
extern const char* const kStoreTablesSchema;

// An event shows the row (and ip, asn, geo, region, severity, tag) of its representative
// occurrence: the one with the smallest (timestamp, occurrence rank). The rank orders known
// occurrence ids by value and puts an unknown id (0) after all of them; among equally early
// occurrences of unknown id the first stored stays. So the same occurrences give the same rows
// in whatever order they arrive (the ClickHouse store picks the same one: kRepresentative
// there). As a signed column value the rank keeps the ids' unsigned order.
int64_t occurrence_rank(uint64_t occurrence_id);

// Quarantined records and the source checkpoint of a batch, inside its write transaction.
class BatchTablesWriter {
 public:
  Status prepare(Db& db);
  Status write_quarantine(const std::vector<QuarantineRecord>& records);
  // The checkpoint with the batch's own deduplicated/routed counts added (store.h).
  Status write_checkpoint(const SourceCheckpoint& c, const BatchOutcome& batch);

 private:
  Statement insert_quarantine_, upsert_source_;
};

Result<std::optional<SourceCheckpoint>> select_checkpoint(Db& db, std::string_view source_key);
Result<std::vector<SourceCheckpoint>> select_checkpoints(Db& db);
Result<std::vector<QuarantineRecord>> select_quarantine(Db& db, int64_t limit);
Result<int64_t> select_count(Db& db, const char* sql);  // the first column of the first row

class TypeIds;

// The fold's counters of newly stored events: stats, stats_tags and the dashboard rollups.
// add() per event during a fold, then flush() inside its transaction (or discard()).
class FoldCounters {
 public:
  Status prepare(Db& db);
  void add(DayNumber day, int64_t type_id, uint8_t severity, std::string_view geo,
           std::string_view region, uint32_t asn, std::string_view tag_list);
  Status flush();
  void discard();
  // A day whose events retention dropped, as another store counted it (`vantage store
  // migrate`): its statistics go straight into stats, stats_tags, the rollups and org_stats,
  // in one transaction of its own -- no fold will see the day again, it has no events. On
  // failure nothing of it stays, in the tables or in these counters' and `types`' memory.
  Status import_dropped_day(Db& db, TypeIds& types, const DayStatistics& day);

 private:
  Status write_dropped_day(Db& db, TypeIds& types, const DayStatistics& day);
  struct StatKey {
    DayNumber day;
    int64_t type_id;
    uint32_t geo;
    uint32_t region;
    uint32_t asn;
    uint8_t severity;
    auto operator<=>(const StatKey&) const = default;
  };
  struct TagStatKey {
    DayNumber day;
    int64_t type_id;
    uint32_t geo;
    uint32_t tag;
    auto operator<=>(const TagStatKey&) const = default;
  };
  BulkInsert upsert_stats_, upsert_stats_tags_;
  RollupWriter rollups_;
  std::vector<StatKey> stats_;
  std::vector<TagStatKey> tag_stats_;
  std::vector<std::string> tags_;
};

// Report type names and their ids (the types table), cached: a type's id never changes.
class TypeIds {
 public:
  // The id of a type name, or nullopt when no event of it was ever stored (reads only).
  Result<std::optional<int64_t>> find(Db& db, const std::string& name);
  // The id of a type name, created on first use (inside the caller's write transaction).
  Result<int64_t> get_or_create(Db& db, const std::string& name);
  Result<std::string> name(Db& db, int64_t id);
  // A write transaction failed: ids it created are gone with it.
  void forget_created() { ids_.clear(); }

 private:
  std::unordered_map<std::string, int64_t> ids_;
  std::unordered_map<int64_t, std::string> names_;
};

// report_keys()'s answer from the row counts of a day's (organisation, type id, filter) groups.
using ReportGroupRows = std::map<std::tuple<uint32_t, int64_t, MatchFilter>, int64_t>;
Result<std::vector<ReportKey>> report_keys_from(Db& db, TypeIds& types, DayNumber day,
                                                const ReportGroupRows& rows);

// Checks a statistics query's group-by dimensions (an invalid-argument error names the
// unknown one).
Status check_stats_dimensions(const StatsQuery& q);
// Whether an organisation's statistics query needs only what org_stats counts (day, type,
// severity); else it is answered from the organisation's events.
bool within_org_counters(const StatsQuery& q);
// Answers a statistics query from `from`: a table or subquery aliased `r` with the columns
// day, type_id, geo, region, asn, severity, tag (or the ones the query uses) and events,
// joined to types for the type names. With q.org_id, `r.tag` is an event's tag list (matched
// by element), else one tag.
Result<std::vector<StatsRow>> stats_from(Db& db, const StatsQuery& q, const std::string& from);
// A query without an organisation that the rollups do not answer: from stats or stats_tags.
Result<std::vector<StatsRow>> global_stats(Db& db, const StatsQuery& q);

}  // namespace vantage::store

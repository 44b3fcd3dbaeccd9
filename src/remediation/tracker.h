#pragma once
// Remediation tracking: for each organisation, each (report type, subject) issue -- first seen,
// last seen, days open, fixed -- and time-to-fix distributions (docs/remediation.md).
//
// State lives in <data_dir>/remediation.sqlite: the issues, the days each was seen
// (`sightings`), the episodes derived from those and the scan cycles (episodes.h), the scan
// cycle log (scan_cycles.h), and per day the number of events the store held when the day was
// last read. It is kept up to date incrementally:
//
//   update(store, as_of) reads from the store only the days whose event count changed since
//   the last update (new days, and late data for old ones) -- never the whole history -- adds
//   their sightings, and re-derives the episodes of the issues that got new sightings, of the
//   open ones (the new day may fix them) and, when a type's scan cycles changed, of that
//   type's issues. Reads (issues(), distributions()) only read these tables.
//
// Days are closed UTC days: `as_of` is normally yesterday. Sightings stay when the store's
// retention drops the raw events, so remediation history outlives them.
//
// Thread-safety: one Tracker per thread (each owns its SQLite connection); several processes
// may open the file (WAL). update() is meant for one writer at a time.

#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/result.h"
#include "common/time.h"
#include "core/catalogue.h"
#include "remediation/episodes.h"
#include "remediation/scan_cycles.h"
#include "store/sqlite/sqlite_db.h"
#include "store/store.h"

namespace vantage::remediation {

struct TrackerOptions {
  int fixed_after = 3;                            // remediation.fixed_after_cycles
  CycleSource cycle_source = CycleSource::kAuto;  // remediation.cycle_source
  std::vector<std::string> types;                 // report types tracked; empty: all
};

struct UpdateSummary {
  int days_read = 0;  // days read from the store
  int64_t sightings_added = 0;
  int64_t issues_rederived = 0;
  DayNumber as_of = 0;
};

// One episode of one issue, as read back.
struct IssueRow {
  int64_t issue_id = 0;
  uint32_t org_id = 0;
  std::string type;
  std::string subject;  // "ip:port", "ip" or a domain
  std::string ip;
  int port = 0;  // 0: none
  std::string domain;
  std::string geo;
  std::string sector;
  Episode episode;
  int64_t days_open = 0;  // episode.days_open(as_of)
};

enum class IssueStatus { kAll, kOpen, kFixed };

struct IssueQuery {
  std::optional<uint32_t> org_id;  // the API and the portal always set it
  IssueStatus status = IssueStatus::kAll;
  std::vector<std::string> types;
  std::string geo;
  int64_t limit = 1000;
  int64_t offset = 0;
};

// Group-by dimension of a distribution query.
enum class Dimension { kNone, kOrg, kType, kGeo, kSector };
std::optional<Dimension> parse_dimension(std::string_view s);  // "", "org", "type", "geo", "sector"
const char* dimension_name(Dimension d);

struct DistributionQuery {
  Dimension group = Dimension::kNone;
  DayNumber first_day = 0;  // fixes dated (fixed_day) in [first_day, last_day] count
  DayNumber last_day = 0;
  std::optional<uint32_t> org_id;
  std::vector<std::string> types;
  std::string geo;
};

struct GroupDistribution {
  std::string key;  // the group's value ("" for kNone; the org id as text for kOrg)
  Distribution distribution;
};

class Tracker {
 public:
  static Result<std::unique_ptr<Tracker>> open(const std::string& path, TrackerOptions options);
  ~Tracker();

  ScanCycleLog& cycle_log() { return *log_; }

  // See the file comment. `catalogue` decodes event rows (port, hostname, sector).
  Result<UpdateSummary> update(store::EventStore& store, const core::Catalogue& catalogue,
                               DayNumber as_of);
  // The last update's as_of; nullopt before the first update.
  Result<std::optional<DayNumber>> as_of();

  Result<std::vector<IssueRow>> issues(const IssueQuery& query);
  // Fixed episodes in the date range and the currently open ones, per group; groups in key
  // order. Open episodes are counted whatever their dates.
  Result<std::vector<GroupDistribution>> distributions(const DistributionQuery& query);

 private:
  Tracker(std::unique_ptr<store::Db> db, TrackerOptions options);
  Status migrate();
  Result<int64_t> read_day(store::EventStore& store, const core::Catalogue& catalogue,
                           DayNumber day, std::set<int64_t>& touched);
  Status rederive(ScanCycles& cycles, const std::string& type, const std::vector<int64_t>& ids,
                  DayNumber as_of);

  std::unique_ptr<store::Db> db_;
  std::unique_ptr<ScanCycleLog> log_;
  TrackerOptions options_;
};

}  // namespace vantage::remediation

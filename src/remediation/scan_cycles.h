#pragma once
// Scan cycles: the days on which a report type was looked for over a subject. The remediation
// rule (episodes.h) counts them, so what counts as a cycle is a seam of its own:
//
//   ScanCycles            the interface the tracker asks: "cycles of type T between two days"
//   ScanCycleLog          an append-only record of scans (report type, finish time, source,
//                         scope) in remediation.sqlite -- written by `vantage up`'s scan schedule,
//                         `vantage remediation record-scan`, and import_scan_state()
//   EventDayCycles        the days on which the event store has any event of the type: for
//                         types that partners scan, whose schedules Vantage does not see
//   CycleSources          the policy joining the two (remediation.cycle_source): by default
//                         their union -- a day counts when a recorded scan covered the subject
//                         or when the store got any event of the type (a partner scanned)
//
// Why a log of our own rather than the scanner's <data_dir>/scan_state.json: that file keeps
// only each module's last scan, and counting N cycles needs the history. import_scan_state()
// appends every scan it finds there (idempotently), so once the scheduler writes that file,
// its scans count without further code (docs/remediation.md).
//
// Thread-safety: one object per thread (each owns or borrows one SQLite connection).

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/ip.h"
#include "common/result.h"
#include "common/time.h"
#include "store/sqlite/sqlite_db.h"
#include "store/store.h"

namespace vantage::remediation {

// One scan of one report type.
struct ScanCycle {
  std::string type;             // report type whose events the scan produces
  UnixSeconds at = 0;           // when it finished
  std::string source;           // who ran it: "up:http", "scan_state:ssh", "cli", ...
  std::vector<IpPrefix> scope;  // what it covered; empty: every subject of the type
};

// The cycles of one type on one day, merged: a day counts once however often it was scanned.
struct CycleDay {
  DayNumber day = 0;
  bool everything = false;      // some scan that day covered every subject
  std::vector<IpPrefix> scope;  // otherwise the union of the scans' scopes
  // Whether this day's scans covered `ip` (an issue without an address -- a domain -- is
  // covered only by a scan of everything).
  bool covers(const std::optional<IpAddress>& ip) const;
};

class ScanCycles {
 public:
  virtual ~ScanCycles() = default;
  // The cycle days of `type` in [first, last], ascending.
  virtual Result<std::vector<CycleDay>> cycles(const std::string& type, DayNumber first,
                                               DayNumber last) = 0;
  // Changes whenever the answer for `type` may have changed (a cycle added).
  virtual Result<std::string> mark(const std::string& type) = 0;
};

// The append-only log. The table lives in the tracker's database; the log borrows its
// connection. UPDATE and DELETE are refused by triggers.
class ScanCycleLog final : public ScanCycles {
 public:
  explicit ScanCycleLog(store::Db& db) : db_(db) {}
  static const char* schema();  // DDL, idempotent

  // Appends a cycle; a repeat of the same (type, at, source) is ignored, so importers can run
  // again. Returns whether a row was added. Errors: empty type or source, at <= 0.
  Result<bool> append(const ScanCycle& cycle);
  Result<std::vector<ScanCycle>> list(const std::string& type, int64_t limit);

  Result<std::vector<CycleDay>> cycles(const std::string& type, DayNumber first,
                                       DayNumber last) override;
  Result<std::string> mark(const std::string& type) override;

 private:
  store::Db& db_;
};

// Days with at least one event of the type in the store (its statistics), each a cycle of
// everything.
class EventDayCycles final : public ScanCycles {
 public:
  explicit EventDayCycles(store::EventStore& store) : store_(store) {}
  Result<std::vector<CycleDay>> cycles(const std::string& type, DayNumber first,
                                       DayNumber last) override;
  Result<std::string> mark(const std::string& type) override;

 private:
  store::EventStore& store_;
};

enum class CycleSource {
  kAuto,      // both: a recorded scan (over its scope) or any event of the type that day
  kRecorded,  // recorded scans only: a type nobody records never counts as fixed
  kEvents,    // event days only: a scan that found nothing anywhere is no cycle
};
const char* cycle_source_name(CycleSource s);
std::optional<CycleSource> parse_cycle_source(std::string_view s);

class CycleSources final : public ScanCycles {
 public:
  CycleSources(CycleSource policy, ScanCycleLog& log, ScanCycles& event_days)
      : policy_(policy), log_(log), events_(event_days) {}
  Result<std::vector<CycleDay>> cycles(const std::string& type, DayNumber first,
                                       DayNumber last) override;
  Result<std::string> mark(const std::string& type) override;

 private:
  CycleSource policy_;
  ScanCycleLog& log_;
  ScanCycles& events_;
};

// Appends every completed scan in the scheduler's state file (<data_dir>/scan_state.json,
// {"format":"vantage-scan-state/1","modules":[{module, report_types, finished, targets,
// status}, ...]}) to `log`: one cycle per report type, source "scan_state:<module>", scope
// the targets. A missing file is not an error (returns 0). Returns the cycles added.
Result<int> import_scan_state(const std::string& path, ScanCycleLog& log);

}  // namespace vantage::remediation

#pragma once
// Scheduled scanning (issue #18): which probe module runs how often over which targets, and
// the per-module "last scanned" record that remediation tracking reads.
//
// A schedule entry is written "module:minutes" or "module:minutes:cidr,cidr,..." (the
// scan.schedule setting): the module's default port is probed every `minutes` over the
// listed targets, or, without a list, over the default target set (scan.targets, else the
// constituency's own prefixes from the registry; see src/service/scan_schedule.cc).
//
// The record lives in <data_dir>/scan_state.json, one object per module:
//   {"module":"chargen","report_types":["scan_chargen"],"started":1767225600,
//    "finished":1767225612,"targets":["198.51.100.0/24"],"addresses":256,"events":3,
//    "status":"ok"}
// Writers replace their module's object under an flock(2) on scan_state.json.lock and an
// atomic rename, so `vantage status` (and any other reader) sees the previous or the next
// state, never half of one. Times are Unix seconds (UTC).

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"

namespace vantage::scanner {

struct ScheduleEntry {
  std::string module;
  std::chrono::minutes interval{60};
  std::vector<std::string> targets;  // empty: the default target set
};

// Parses scan.schedule items; an unknown module, a bad interval or a bad CIDR is an Error
// naming the item.
Result<std::vector<ScheduleEntry>> parse_schedule(const std::vector<std::string>& items);

struct ScanRecord {
  std::string module;
  std::vector<std::string> report_types;  // the types its events went to (scan_x, scan6_x)
  int64_t started = 0;
  int64_t finished = 0;
  std::vector<std::string> targets;  // the target set, as configured (CIDRs)
  uint64_t addresses = 0;            // addresses probed after the blocklist
  uint64_t events = 0;
  std::string status;  // "ok", or what went wrong
};

std::string scan_state_path(const std::string& data_dir);

// Every module's last scan (empty when nothing was scanned yet).
Result<std::vector<ScanRecord>> load_scan_state(const std::string& data_dir);
// Replaces `record.module`'s entry.
Status record_scan(const std::string& data_dir, const ScanRecord& record);
// The most recent scan that reported into `report_type` (several modules share scan_ics).
Result<std::optional<ScanRecord>> last_scan_of_type(const std::string& data_dir,
                                                    const std::string& report_type);

}  // namespace vantage::scanner

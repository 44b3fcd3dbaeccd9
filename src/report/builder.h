#pragma once
// Builds the day's reports: for each organisation x report type x match filter with at least
// one event in the spool, one CSV in Shadowserver's exact conventions, named
// YYYY-MM-DD-<type>-<org>-<filter>.csv (every part [A-Za-z0-9_], IntelMQ's and AbuseIO's
// file-name rules), written atomically (temp file, fsync, rename) under
// <report_dir>/YYYY/MM/DD/, and recorded in the manifest with size, sha256 and row count.
//
// Rows stream from the store through the CSV writer: a million-row report uses the same
// memory as a ten-row one. Delta mode writes only rows whose event was not seen the day
// before, and the full report on Sundays (Shadowserver's "Report Delta Mode"); a delta that
// comes out empty is not written (Shadowserver never sends empty reports).
//
// Not thread-safe: one build at a time per store.

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "core/catalogue.h"
#include "report/manifest.h"
#include "store/store.h"

namespace vantage::report {

struct BuildOptions {
  std::string report_dir;
  std::optional<uint32_t> org_id;  // only this organisation
  bool delta = false;
};

struct BuiltReport {
  ReportEntry entry;
  int64_t new_rows = 0;                  // not seen the previous day
  int64_t recurring_rows = 0;            // seen the previous day too
  std::array<int64_t, 5> by_severity{};  // info .. critical
};

struct BuildSummary {
  std::vector<BuiltReport> reports;
  int64_t rows = 0;
  int64_t bytes = 0;
  int64_t skipped_empty = 0;  // delta reports with no new rows
  double seconds = 0;
};

// `short_name(org_id)` gives the organisation's file-name part; organisations it does not
// know (removed since their events arrived) are skipped and counted as errors in the log.
using ShortNameLookup = std::function<std::optional<std::string>(uint32_t org_id)>;

Result<BuildSummary> build_reports(store::EventStore& store, const core::Catalogue& catalogue,
                                   Manifest& manifest, const ShortNameLookup& short_name,
                                   DayNumber day, const BuildOptions& options);

// "YYYY-MM-DD-<type>-<org>-<filter>.csv" with every part sanitised to [A-Za-z0-9_].
std::string report_file_name(DayNumber day, std::string_view type, std::string_view org,
                             std::string_view filter);

// The plain-text summary of one organisation's day for the mail body.
std::string summary_text(std::string_view org, DayNumber day,
                         const std::vector<const BuiltReport*>& reports);

}  // namespace vantage::report

#pragma once
// Builds the day's reports: for each organisation x report type x match filter with at least
// one event in the spool, one CSV in Shadowserver's exact conventions, named
// YYYY-MM-DD-<type>-<org>-<filter>.csv (every part [A-Za-z0-9_], IntelMQ's and AbuseIO's
// file-name rules), recorded in the manifest with size, sha256 and row count. Where the bytes
// go depends on the layout; they are the same bytes (and sha256) in both:
//  - kPack (default): appended to a new pack generation under <report_dir>/YYYY/MM/DD/
//    (report/pack.h), synced once, then every entry swapped to it in ONE manifest
//    transaction -- a crash before that commit leaves the previous entries untouched (the
//    orphan pack is removed by the next build of that day); packs no entry references any
//    more are removed after the commit.
//  - kFiles: one file per report under <report_dir>/YYYY/MM/DD/<file name>, written through a
//    temp name and renamed into place, committed to the manifest in batches.
//
// Rows stream from the store through the CSV writer: a million-row report uses the same
// memory as a ten-row one. Delta mode writes only rows whose event was not seen the day
// before, and the full report on Sundays (Shadowserver's "Report Delta Mode"); a delta that
// comes out empty is not written (Shadowserver never sends empty reports).
//
// Not thread-safe: one build at a time per store.

#include <array>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "core/catalogue.h"
#include "report/manifest.h"
#include "store/store.h"

namespace vantage::report {

enum class ReportLayout { kPack, kFiles };
// "pack" / "files" (the report.layout setting); nullopt for anything else.
std::optional<ReportLayout> parse_report_layout(std::string_view name);

struct BuildOptions {
  std::string report_dir;
  ReportLayout layout = ReportLayout::kPack;
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

// <report_dir>/YYYY/MM/DD: where a day's report files and packs are.
std::filesystem::path day_directory(const std::string& report_dir, DayNumber day);

// "YYYY-MM-DD-<type>-<org>-<filter>.csv" with every part sanitised to [A-Za-z0-9_].
std::string report_file_name(DayNumber day, std::string_view type, std::string_view org,
                             std::string_view filter);

// The plain-text summary of one organisation's day for the mail body.
std::string summary_text(std::string_view org, DayNumber day,
                         const std::vector<const BuiltReport*>& reports);

}  // namespace vantage::report

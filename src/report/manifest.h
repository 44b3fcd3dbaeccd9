#pragma once
// The report manifest: every report file built, with the capability id under which it is
// downloaded (Shadowserver's dl.shadowserver.org/<id> convention), its organisation, type,
// day, file name, size, sha256 and row count, and where its bytes are: a file of its own
// (pack_offset -1) or the range [pack_offset, pack_offset + size) of a day's pack file
// (report/pack.h). Written by the report builder, read by the API (reports/list, downloads),
// mail and the dashboard. SQLite file <data_dir>/reports.sqlite. Readers of the bytes use
// ReportEntry::bytes() with common/file_range.h, never `path` alone.
//
// Ids: 50 characters from [A-Za-z0-9_-] (300 random bits from OpenSSL's RAND_bytes) -- no
// '/', '?' or '%', so clients can append them to a URL as they are. A rebuilt report keeps
// its id, so links already mailed keep working.
//
// Thread-safety: one Manifest object per thread (each holds its own connection; WAL lets
// readers run beside the writer).

#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/file_range.h"
#include "common/result.h"
#include "common/time.h"

namespace vantage::report {

struct ReportEntry {
  std::string id;
  uint32_t org_id = 0;
  std::string report;  // the organisation's short name (Shadowserver's "report"/mailing list)
  std::string type;
  DayNumber day = 0;
  std::string filter;     // asn, cidr, geo, domain
  std::string file_name;  // YYYY-MM-DD-<type>-<report>-<filter>.csv
  std::string path;       // on disk: the report's own file, or the pack holding it
  int64_t size = 0;
  std::string sha256;  // hex
  int64_t rows = 0;
  UnixSeconds created = 0;
  int64_t pack_offset = -1;  // >= 0: the report is bytes [pack_offset, +size) of `path`

  // Where the report's bytes are, for FileRangeReader / read_file_range.
  FileRange bytes() const { return {path, pack_offset, pack_offset >= 0 ? size : 0}; }
};

struct ListQuery {
  uint32_t org_id = 0;
  DayNumber first_day = 0;
  DayNumber last_day = 0;
  std::vector<std::string> types;  // empty: all
  int64_t limit = -1;              // -1: no limit
};

class Manifest {
 public:
  static Result<std::unique_ptr<Manifest>> open(const std::string& path);
  ~Manifest();

  // Inserts, or updates the entry with the same (org, type, day, filter) keeping its id.
  // Returns the stored entry (with its id).
  Result<ReportEntry> upsert(ReportEntry entry);
  // The same for many entries in one transaction (one fsync): the report builder commits its
  // reports in batches. All or nothing.
  Result<std::vector<ReportEntry>> upsert_all(std::vector<ReportEntry> entries);
  // Sorted oldest first (day, then type, then file name), as reports/list answers.
  Result<std::vector<ReportEntry>> list(const ListQuery& query);
  Result<std::optional<ReportEntry>> find(std::string_view id);
  // Every entry of one day, all organisations (export, pack garbage collection), ordered by
  // organisation, type, filter.
  Result<std::vector<ReportEntry>> entries_of_day(DayNumber day);
  // The packs that entries of one day point into (pack garbage collection after a build: one
  // path per pack rather than every entry of the day).
  Result<std::set<std::string>> pack_paths_of_day(DayNumber day);
  // The newest report day: its reports, rows and when its last file was written.
  struct BuildInfo {
    DayNumber day = 0;
    int64_t reports = 0;
    int64_t rows = 0;
    UnixSeconds created = 0;
  };
  Result<std::optional<BuildInfo>> latest_build();
  // Removes entries of days before `day` (retention); returns how many.
  Result<int64_t> drop_before(DayNumber day);

  static std::string new_id();

 private:
  struct Impl;
  explicit Manifest(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace vantage::report

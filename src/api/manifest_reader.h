#pragma once
// The API's read-only view of the report manifest (<data_dir>/reports.sqlite, written by
// report::Manifest): reports/list and id lookups with their statements prepared once per
// connection.
//
// Why not report::Manifest itself: it prepares each statement per call, and parsing the SQL
// was the largest single cost of reports/list under load (a sixth of the server's CPU in a
// perf profile at 64 connections). This reader keeps one prepared statement per query shape
// and filters report types in C++, so one statement serves every reports/list call. It
// reads the same table and returns the same entries in the same order (Manifest::list's
// "day, type, file name"); api_test compares the two.
//
// The connection is opened read-only: the API never writes the manifest.
//
// Thread-safety: one object per thread at a time (ApiService keeps a pool of them).

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "report/manifest.h"

struct sqlite3;
struct sqlite3_stmt;

namespace vantage::api {

class ManifestReader {
 public:
  static Result<std::unique_ptr<ManifestReader>> open(const std::string& path);
  ~ManifestReader();
  ManifestReader(const ManifestReader&) = delete;
  ManifestReader& operator=(const ManifestReader&) = delete;

  // As report::Manifest::list: the org's entries of the day range, oldest first.
  Result<std::vector<report::ReportEntry>> list(const report::ListQuery& query);
  Result<std::optional<report::ReportEntry>> find(std::string_view id);

 private:
  ManifestReader() = default;
  Error error(const char* what) const;
  sqlite3* db_ = nullptr;
  sqlite3_stmt* list_ = nullptr;
  sqlite3_stmt* find_ = nullptr;
};

}  // namespace vantage::api

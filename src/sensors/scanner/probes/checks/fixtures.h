#pragma once
// Check fixtures: every check in a directory carries <dir>/fixtures/<id>.json with recorded or
// constructed replies and the decision each must produce (format in docs/checks.md). Used by
// the unit test over conf/checks and by `vantage checks test DIR`.

#include <string>
#include <vector>

#include "common/result.h"

namespace vantage::scanner {

struct FixtureFailure {
  std::string check;  // check id ("" for directory-level problems)
  std::string name;   // case name ("" for check-level problems)
  std::string reason;
};

struct FixtureReport {
  size_t checks = 0, cves = 0, cases = 0;
  std::vector<FixtureFailure> failures;
};

// Loads every check in `dir` (an Error when one does not load) and runs its fixture cases.
// A failure is recorded for: a check without a fixture file, without a case that must match
// or without one that must not; a case decided wrongly or missing an expected column value or
// request substring; a CVE check without CVSS (score and vector), vendor, product,
// description or references; a fixture file naming no check.
Result<FixtureReport> run_fixture_dir(const std::string& dir);

}  // namespace vantage::scanner

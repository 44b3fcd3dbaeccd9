#pragma once
// Test support: deterministic, realistic sample events for any report type, the source of
// the golden report files in tests/golden/csv/<type>.csv. Same type in, same bytes out, on
// every machine (own PRNG, no clock, no locale).
//
// Each type gets four rows: every column set; two with a mix of values, nulls and empty
// strings; and one with only the timestamp. String values exercise what real reports hold:
// commas, doubled quotes, UTF-8 in several scripts, CVE tags, URLs.

#include <string>
#include <vector>

#include "core/catalogue.h"
#include "core/event.h"

namespace vantage::core::testing {

std::vector<Event> golden_events(const ReportType& type);
// The whole report: header and the rows of golden_events(), as CsvWriter writes them.
std::string golden_csv(const ReportType& type);

}  // namespace vantage::core::testing

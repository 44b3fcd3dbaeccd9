#pragma once
// What receivers and upstreams send back -- network bytes, so parsed by pure functions that
// fuzz/fuzz_integrations.cc runs under ASan/UBSan: an Elasticsearch `_bulk` answer, an api2
// reports/list answer, a syslog stream (the demo receiver), HTTP Basic credentials (the
// MISP feed). None throws; a malformed input is an error value.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"
#include "integrations/sink.h"

namespace vantage::integrations {

// The verdict on one 2xx `_bulk` answer: items created (or already there: 409) are fine,
// 429/5xx items make the batch worth sending again, other 4xx items are refused for good
// (their event id is read back from the "<org>:<event id>" _id).
struct BulkAnswer {
  int64_t retryable = 0;
  std::vector<RejectedItem> rejected;
};
// Error when the body is not a bulk response (no "items").
Result<BulkAnswer> parse_bulk_answer(std::string_view body);

struct ListedReport {
  std::string id;
  std::string file;
  std::string type;
  std::string report;     // the mailing list
  std::string timestamp;  // the report's date
};
// A reports/list answer: a JSON array of {id, file, type, report, timestamp, ...}. The sample
// list (report "test") and ids that are empty, longer than 128 or hold control characters are
// left out. Error: not an array, or an entry without string id and file.
Result<std::vector<ListedReport>> parse_report_list(std::string_view body);

// "Basic <base64(user:password)>" -> (user, password); nullopt for anything else.
std::optional<std::pair<std::string, std::string>> parse_basic_credentials(std::string_view header);

}  // namespace vantage::integrations

#pragma once
// Vulnerability checks as data: each JSON file under conf/checks/ becomes one HTTP probe
// module at start-up, so an operator adds a check without recompiling. Format:
//
//   {"id": "example-server-status",          // module name: "check:<id>"
//    "tag": "CVE-XXXX-YYYY",                  // event tag
//    "severity": "high",                      // event severity
//    "report_type": "scan_http_vulnerable",   // default when absent
//    "port": 80,
//    "request": {"method": "GET", "path": "/server-status"},
//    "match": {                               // every rule given must hold (AND)
//      "status": [200],                       //   status code is one of these
//      "headers": {"server": "nginx/1\\.2[0-2]\\."},  // header (lower-case name) matches regex
//      "body_contains": ["Active connections"],       //   every substring present
//      "body_regex": "Reading: \\d+"},                //   ECMAScript regex search
//    "detail": "free text copied into the detail column"}
//
// The request path must start with "/" and the method be GET or HEAD (checks observe, they
// do not change state). Redirects are never followed.

#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "sensors/scanner/probes/probe.h"

namespace vantage::scanner {

Result<ProbeModule> parse_check(std::string_view json_text, std::string_view origin);
// Every *.json in `dir`, sorted by file name.
Result<std::vector<ProbeModule>> load_checks(const std::string& dir);

}  // namespace vantage::scanner

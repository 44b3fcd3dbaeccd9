#pragma once
// Vulnerability checks as data: each JSON file in a checks directory (conf/checks/) becomes one
// probe module ("check:<id>") at start-up, so a new check is a file, effective without
// rebuilding. The full reference with examples is docs/checks.md; in short:
//
//   {"id": "confluence-cve-2022-26134",            // module "check:<id>"; [a-z0-9._-]+
//    "info": {"name": "...", "cve": ["CVE-2022-26134"],
//             "cvss": {"score": 9.8, "vector": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"},
//             "severity": "critical", "vendor": "Atlassian", "product": "Confluence",
//             "description": "...", "references": ["https://..."]},
//    "protocol": "http",          // http (default) | tcp | udp
//    "tls": false,                // http/tcp inside TLS (SNI = the target's host name)
//    "port": 8090,                // default port (http: 80, or 443 with tls)
//    "report_type": "scan_http_vulnerable",   // default for http; required for tcp/udp
//    "tag": "...",                // default: the CVE ids, lower case, ";"-joined
//    "steps": [                   // in order; a step that does not match ends the check
//      {"request": {"method": "GET", "path": "/login.action", "headers": {"Accept": "*/*"}},
//       "extract": [{"name": "version", "regex": "ajs-version-number\" content=\"([\\d.]+)",
//                    "column": "version"}],
//       "match": {"all": [{"status": [200]},
//                         {"version": {"from": "version", "ranges": ["<7.4.17"]}}]}}]}
//
// - http steps: one connection each (Connection: close); later paths and headers may use
//   {{name}} from earlier extractors (path values are percent-encoded) and {{host}} {{ip}}
//   {{port}}. tcp steps share one connection: "send" (text) or "send_hex", then read until
//   "read": {"until": regex} or {"min_bytes": n} (default: the first bytes). udp: one step,
//   one datagram out, the replies' bytes in.
// - Matchers: {"all": [...]}, {"any": [...]}, {"not": {...}}, any of them with "negate": true;
//   a leaf object ANDs its conditions: "status": [codes], "regex", "contains" (with "part":
//   body|headers|all, or "header": name), "bytes": hex (+ "offset"), "version": {"from": name
//   | "regex": re, "ranges": [...], "scheme": dotted|semver} (version.h), "extracted": name.
//   The original keys "headers" {name: regex}, "body_contains", "body_regex" still work.
// - Extractors: {"name", "regex" (+ "group", "part"/"header") | "header" | "json": pointer |
//   "binary": {"offset", "length", "endian"}, optional "map": {value: replacement} and
//   "column": an event column of the report type}.
// - The original single-step form (top-level "request", "match", "severity", "detail") is
//   still accepted.
// - Non-intrusive by construction: the loader refuses anything safety.h forbids (only GET,
//   HEAD, OPTIONS; no bodies; no traversal or injection strings; harmless headers; raw
//   payloads only greetings or capped binary hellos).
// Errors name the file and the JSON path of the problem. Parsed checks are immutable and
// shared by every job that runs them.

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "sensors/scanner/probes/checks/template.h"
#include "sensors/scanner/probes/probe.h"

namespace vantage::scanner {

// The probe module of a parsed check.
ProbeModule make_check_module(std::shared_ptr<const CheckTemplate> check);
Result<ProbeModule> parse_check(std::string_view json_text, std::string_view origin);
// Every *.json in `dir` (not sub-directories), sorted by file name; the first bad file fails
// the load (with its name and the reason). Two files with one id are refused.
Result<std::vector<ProbeModule>> load_checks(const std::string& dir);
Result<std::vector<std::shared_ptr<const CheckTemplate>>> load_check_templates(
    const std::string& dir);

// Runs a check on scripted replies, one per step (a udp reply: the datagram's bytes): what
// the unit test and `vantage checks test` use for fixtures. `requests` (optional) receives
// the bytes each step would have sent.
Result<nlohmann::json> run_check_on_replies(std::shared_ptr<const CheckTemplate> check,
                                            const ProbeTarget& target,
                                            const std::vector<std::string>& replies,
                                            std::vector<std::string>* requests = nullptr);

}  // namespace vantage::scanner

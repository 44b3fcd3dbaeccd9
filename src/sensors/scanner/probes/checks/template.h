#pragma once
// A vulnerability check parsed from its JSON file (the language is documented in checks.h and
// docs/checks.md): immutable once built, shared by every probe job that runs it.

#include <re2/re2.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "sensors/scanner/probes/checks/version.h"

namespace vantage::scanner {

enum class CheckProtocol { http, tcp, udp };

// Which text of a reply a matcher or extractor reads.
struct ReplySource {
  enum class Part { body, headers, all } part = Part::body;  // tcp/udp: all three = the reply
  std::string header;  // non-empty: the values of this (lower-case) HTTP header, "\n"-joined
};

struct Extractor {
  enum class Kind { regex, whole, json, binary };
  std::string name;    // variable name, usable as {{name}} in later steps and by matchers
  std::string column;  // event column it fills ("" = none)
  Kind kind = Kind::regex;
  ReplySource source;
  std::shared_ptr<const RE2> regex;  // kind regex (also narrows a header for kind whole)
  int group = 0;
  std::string json_pointer;  // kind json (RFC 6901), on the HTTP body or the raw reply
  size_t offset = 0, length = 0;
  bool little_endian = false;              // kind binary: unsigned integer, decimal text
  std::map<std::string, std::string> map;  // non-empty: translate, unmapped = no value
};

struct Condition {
  enum class Kind { status, regex, contains, bytes, version, extracted };
  Kind kind = Kind::regex;
  ReplySource source;
  std::vector<int> status;
  std::shared_ptr<const RE2> regex;
  std::vector<std::string> needles;  // contains: all present; bytes: one needle
  std::optional<size_t> offset;      // bytes: exactly here
  // version / extracted
  std::string value_name;  // extractor name; "" = regex on source
  int group = 1;
  std::shared_ptr<const VersionRanges> ranges;
};

struct Matcher {
  enum class Kind { all, any, negate, condition };
  Kind kind = Kind::all;
  std::vector<Matcher> children;
  std::shared_ptr<const Condition> condition;
};

struct HttpRequestTemplate {
  std::string method = "GET";
  std::string path = "/";
  std::vector<std::pair<std::string, std::string>> headers;
};

struct CheckStep {
  std::optional<HttpRequestTemplate> http;  // protocol http
  std::string payload;                      // tcp/udp ("" = just read)
  std::shared_ptr<const RE2> until;         // tcp: the reply is complete once this matches
  size_t min_bytes = 0;                     // tcp: ... or once this many bytes arrived
  std::vector<Extractor> extract;
  std::optional<Matcher> match;
};

struct CheckInfo {
  std::string name, description, vendor, product, cvss_vector;
  std::vector<std::string> cves, references;
  std::optional<double> cvss_score;
};

struct CheckTemplate {
  std::string id, tag, severity, report_type, detail;
  CheckInfo info;
  CheckProtocol protocol = CheckProtocol::http;
  uint16_t port = 80;
  bool tls = false;
  std::vector<CheckStep> steps;
  std::vector<std::string> columns;  // event columns the check may fill (module columns)
};

// Parses and validates (syntax, regexes, version ranges, columns of the report type, and the
// non-intrusion rules of safety.h). `origin` prefixes error messages.
Result<std::shared_ptr<const CheckTemplate>> parse_check_template(std::string_view json_text,
                                                                  std::string_view origin);

// RE2 with the options checks use: bytes (Latin-1), so binary replies match; case-sensitive
// unless the pattern says (?i); bounded memory.
Result<std::shared_ptr<const RE2>> compile_check_regex(const std::string& pattern);

}  // namespace vantage::scanner

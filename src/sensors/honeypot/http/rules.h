#pragma once
// Exploit signatures as data: the HTTP honeypot classifies every request it logs against a
// rules file (conf/honeypot/http_rules.json, under honeypot.rules_dir), each rule naming a
// vulnerability (CVE, class, CVSS, MITRE ATT&CK tactic/technique, target vendor/product) and
// the request parts that reveal an attempt to exploit it. The format (docs/honeypots-scan.md):
//
//   {"format": "vantage-http-rules/1",
//    "rules": [{"id": "log4shell", "cve": "CVE-2021-44228", "name": "...",
//               "class": "remote code execution", "cvss": 10.0, "cvss_version": "3.1",
//               "severity": "critical", "tactic": "TA0001", "technique": "T1190",
//               "vendor": "Apache", "product": "Log4j2", "target_class": "library",
//               "tag": "log4shell", "references": ["https://nvd.nist.gov/..."],
//               "match": [{"field": "request", "contains": ["${jndi:"], "nocase": true}],
//               "tests": [{"method": "GET", "target": "/", "headers": {"User-Agent": "..."}}]}],
//    "benign": [{"target": "/index.html"}]}
//
// A rule matches when ALL its conditions hold; a condition looks at one field (method, uri,
// path, query, uri_decoded, header + "name", headers, body, request) with one operator:
// contains (a string or a list: any of them), prefix, equals, or regex (RE2: linear time, so
// hostile input cannot make it backtrack). Every rule needs one literal condition (contains,
// prefix, equals), checked before any regex, so most requests are dismissed by a substring
// search. The first matching rule in file order wins: put specific rules before generic ones.
//
// Every rule carries its own test requests, and the file may list benign requests: loading
// replays them through the same parser and classifier, so a rule that does not catch its own
// example, or catches a benign one, is an error (file, rule, field) and is never deployed.
//
// A RuleSet is immutable once loaded and shared by the loop threads (shared_ptr<const>);
// classify() is thread-safe.

#include <re2/re2.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"
#include "sensors/common/http_request.h"

namespace vantage::honeypot::http {

enum class Field : uint8_t {
  kMethod,
  kUri,         // the request target as sent ("/path?query")
  kPath,        // before '?'
  kQuery,       // after '?'
  kUriDecoded,  // the target with %XX decoded once
  kHeader,      // one header's value (Condition::header names it; the first of that name)
  kHeaders,     // every header line as sent ("Name: value\r\n"...)
  kBody,        // the body (chunked bodies decoded)
  kRequest,     // every byte of the request as sent: request line, headers, body
};

struct Condition {
  enum class Op : uint8_t { kContains, kPrefix, kEquals, kRegex };
  Field field = Field::kRequest;
  std::string header;  // kHeader: the header's name
  Op op = Op::kContains;
  bool nocase = false;
  std::vector<std::string> values;  // literals (lower-cased when nocase); any of them
  std::shared_ptr<const re2::RE2> regex;
};

// A request as the classifier sees it; views into the bytes the session received.
struct RequestView {
  std::string_view raw;  // the whole request as sent (head and body)
  const sensors::HttpRequest* request = nullptr;
};

// A request a rule must catch, or the benign list must not: how the test sends it.
struct TestRequest {
  std::string method = "GET";
  std::string target = "/";
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // The bytes on the wire (Host and, with a body, Content-Length added when absent).
  std::string wire() const;
};

struct Rule {
  std::string id;  // unique; the `pattern` column
  std::string cve;
  std::string name;
  std::string vulnerability_class;
  double cvss = 0;
  std::string cvss_version;
  std::string severity;  // low | medium | high | critical
  std::string tactic;    // MITRE ATT&CK tactic id, e.g. TA0001
  std::string technique;
  std::string vendor, product, target_class;
  std::string tag;
  std::vector<std::string> references;
  std::vector<Condition> conditions;  // literals first, then regexes
  std::vector<TestRequest> tests;
};

class RuleSet {
 public:
  // Reads, validates and self-tests a rules file. Errors name the file, the rule (id and
  // position) and the field.
  static Result<std::shared_ptr<const RuleSet>> load(const std::string& path);
  // The same from text already read; `origin` names it in errors.
  static Result<std::shared_ptr<const RuleSet>> parse(std::string_view json,
                                                      const std::string& origin);

  // The first rule the request matches, or null.
  const Rule* classify(const RequestView& request) const;

  const std::vector<Rule>& rules() const { return rules_; }
  const std::vector<TestRequest>& benign() const { return benign_; }
  const std::string& origin() const { return origin_; }

 private:
  std::string origin_;
  std::vector<Rule> rules_;
  std::vector<TestRequest> benign_;
};

// Decodes %XX escapes once ('+' is left alone); invalid escapes are kept as they are.
void percent_decode(std::string_view in, std::string& out);

}  // namespace vantage::honeypot::http

#pragma once
// Names the malware family behind a connection to the sinkhole, from rules written as data
// (conf/sinkhole/rules.json; docs/sinkholes.md) rather than code:
//
//   {"http": [{"name": "necurs-post", "family": "necurs", "method": "POST",
//              "path": "/forum/db.php", "body_kind": "binary"}, ...],
//    "raw":  [{"name": "mirai-cnc", "family": "mirai", "transport": "tcp",
//              "hex": "00 00 00 01", "offset": 0}, ...]}
//
// A rule matches when every criterion it states matches; the first matching rule names the
// family (and its tag, else the family's). An HTTP request no rule names takes the family of
// its Host header's sinkholed domain, else "unknown"; a raw first packet no rule names is
// "unknown". Patterns are globs ('*' any run, '?' any one byte; no regular expressions: a
// pattern from a data file must never be able to make matching slow or recursive).
//
// Immutable once loaded; classify_* are pure and thread-safe.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "sensors/sinkhole/families.h"

namespace vantage::sinkhole {

// '*' matches any run of bytes (also none), '?' exactly one; everything else itself.
// Linear memory, O(|text| * |pattern|) time at worst.
bool glob_match(std::string_view pattern, std::string_view text);

// What a request body looks like: "empty", "json", "base64", "urlencoded", "text", "binary".
std::string_view body_kind(std::string_view body);

struct HttpFacts {
  std::string_view method, target, path, query;
  std::string_view host;  // lower case, port removed
  std::string_view agent;
  bool has_agent = false;
  std::string_view header_order;  // lower-case header names joined by ','
  std::string_view body;
  std::string_view ja3;  // hex MD5, "" without TLS
  std::string_view sni;
  uint16_t local_port = 0;
  bool tls = false;
  int host_family = -1;  // family of the Host's sinkholed domain, -1 when none
  // Header lookup (case-insensitive name), for "headers" criteria.
  const std::vector<std::pair<std::string_view, std::string_view>>* headers = nullptr;
};

struct RawFacts {
  std::string_view payload;
  bool udp = false;
  uint16_t local_port = 0;
};

struct Verdict {
  uint16_t family = Families::kUnknown;
  std::string_view tag;          // the rule's tag, else the family's
  std::string_view rule;         // the rule's name, "" when none matched
  std::string_view application;  // the rule's application, "" when it names none
};

class Classifier {
 public:
  static Result<Classifier> load_file(const std::string& path, const Families& families);
  static Result<Classifier> parse(std::string_view json_text, const Families& families);

  Verdict classify_http(const HttpFacts& facts, const Families& families) const;
  Verdict classify_raw(const RawFacts& facts, const Families& families) const;
  size_t http_rules() const { return http_.size(); }
  size_t raw_rules() const { return raw_.size(); }

 private:
  struct Optional {
    bool set = false;
    std::string pattern;
  };
  struct HttpRule {
    std::string name, tag, application;
    uint16_t family = 0;
    Optional method, url, path, query, host, agent, header_order, body, ja3, sni;
    int host_family = -1;
    bool no_agent = false;
    int tls = -1;                                              // -1 either, 0 plain, 1 TLS
    std::vector<std::pair<std::string, std::string>> headers;  // name (lower), value glob
    std::string body_kind;
    int64_t body_min = -1, body_max = -1;
    std::vector<uint16_t> ports;
  };
  struct RawRule {
    std::string name, tag, application;
    uint16_t family = 0;
    int udp = -1;  // -1 either
    std::vector<uint16_t> ports;
    std::vector<int> hex;  // bytes, -1 for "??"
    size_t offset = 0;
    Optional text;
    int64_t min_len = -1, max_len = -1;
  };
  static bool port_ok(const std::vector<uint16_t>& ports, uint16_t port);
  std::vector<HttpRule> http_;
  std::vector<RawRule> raw_;
};

}  // namespace vantage::sinkhole

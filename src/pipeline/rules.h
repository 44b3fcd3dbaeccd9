#pragma once
// Operator classification rules, loaded from a JSON file (conf/rules.json):
//
//   {
//     "severity_overrides": [ {"type": "scan_ssh", "severity": "high"},
//                             {"type": "device_id", "tag": "ics", "severity": "critical"} ],
//     "research_scanners":  [ {"cidr": "198.51.100.0/24", "name": "Example research project"} ]
//   }
//
// Research scanners are known, benign Internet-measurement projects: their traffic must not
// appear in honeypot/darknet reports (it is not an attack), so events from them are counted
// as "allow-listed" and not stored. Immutable after load; safe to share across threads.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/ip.h"
#include "common/result.h"

namespace vantage::pipeline {

class OperatorRules {
 public:
  OperatorRules() = default;
  static Result<OperatorRules> parse(std::string_view json_text);
  static Result<OperatorRules> load(const std::string& path);

  // Severity override for this type (and tag list), or nullopt to keep the event's own.
  // A rule with a tag wins over a type-only rule. Severity as 0 info .. 4 critical.
  std::optional<int> severity_override(std::string_view type, std::string_view tags) const;

  // True when `type` is one whose sources are attackers (honeypot, darknet, brute force...)
  // and `source` belongs to a declared research scanner.
  bool is_allowlisted_scanner(std::string_view type, const IpAddress& source) const;
  static bool is_attacker_report(std::string_view type);

  size_t research_scanner_count() const { return scanners_.size(); }

 private:
  struct SeverityRule {
    std::string type;
    std::string tag;  // empty: any
    int severity = 0;
  };
  struct Range {
    IpAddress first, last;
  };
  std::vector<SeverityRule> severity_rules_;
  std::vector<Range> scanners_;  // sorted, merged
};

}  // namespace vantage::pipeline

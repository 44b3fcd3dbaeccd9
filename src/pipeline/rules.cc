#include "pipeline/rules.h"

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "common/strings.h"

namespace vantage::pipeline {

namespace {

std::optional<int> parse_severity(std::string_view s) {
  static const char* kNames[] = {"info", "low", "medium", "high", "critical"};
  for (int i = 0; i < 5; ++i) {
    if (s == kNames[i]) return i;
  }
  return std::nullopt;
}

bool tag_list_contains(std::string_view tags, std::string_view tag) {
  for (auto t : split(tags, ',')) {
    if (to_lower(trim(t)) == tag) return true;
  }
  return false;
}

}  // namespace

Result<OperatorRules> OperatorRules::parse(std::string_view text) {
  nlohmann::json doc = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) {
    return Error::invalid("rules: not a JSON object");
  }
  OperatorRules rules;
  if (auto it = doc.find("severity_overrides"); it != doc.end()) {
    if (!it->is_array()) return Error::invalid("rules: severity_overrides must be an array");
    size_t i = 0;
    for (const auto& r : *it) {
      std::string where = "rules: severity_overrides[" + std::to_string(i++) + "]";
      if (!r.is_object() || !r.contains("type") || !r["type"].is_string() ||
          !r.contains("severity") || !r["severity"].is_string()) {
        return Error::invalid(where + ": needs string fields 'type' and 'severity'");
      }
      auto sev = parse_severity(r["severity"].get<std::string>());
      if (!sev) return Error::invalid(where + ": unknown severity");
      SeverityRule rule{r["type"].get<std::string>(), "", *sev};
      if (r.contains("tag")) {
        if (!r["tag"].is_string()) return Error::invalid(where + ": 'tag' must be a string");
        rule.tag = to_lower(r["tag"].get<std::string>());
      }
      rules.severity_rules_.push_back(std::move(rule));
    }
    // Tag-specific rules first so that they win.
    std::stable_sort(rules.severity_rules_.begin(), rules.severity_rules_.end(),
                     [](const SeverityRule& a, const SeverityRule& b) {
                       return !a.tag.empty() && b.tag.empty();
                     });
  }
  if (auto it = doc.find("research_scanners"); it != doc.end()) {
    if (!it->is_array()) return Error::invalid("rules: research_scanners must be an array");
    size_t i = 0;
    for (const auto& r : *it) {
      std::string where = "rules: research_scanners[" + std::to_string(i++) + "]";
      if (!r.is_object() || !r.contains("cidr") || !r["cidr"].is_string()) {
        return Error::invalid(where + ": needs a string field 'cidr'");
      }
      auto p = IpPrefix::parse(r["cidr"].get<std::string>());
      if (!p) return Error::invalid(where + ": " + p.error().message);
      rules.scanners_.push_back({p->prefix.first(), p->prefix.last()});
    }
    auto& s = rules.scanners_;
    std::sort(s.begin(), s.end(), [](const Range& a, const Range& b) { return a.first < b.first; });
    std::vector<Range> merged;
    for (const auto& r : s) {
      if (!merged.empty() && r.first <= merged.back().last) {
        merged.back().last = std::max(merged.back().last, r.last);
      } else {
        merged.push_back(r);
      }
    }
    s = std::move(merged);
  }
  return rules;
}

Result<OperatorRules> OperatorRules::load(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Error::io("cannot read rules file " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  auto r = parse(ss.str());
  if (!r) return Error::invalid(path + ": " + r.error().message);
  return r;
}

std::optional<int> OperatorRules::severity_override(std::string_view type,
                                                    std::string_view tags) const {
  for (const auto& r : severity_rules_) {
    if (r.type != type) continue;
    if (r.tag.empty() || tag_list_contains(tags, r.tag)) return r.severity;
  }
  return std::nullopt;
}

bool OperatorRules::is_attacker_report(std::string_view type) {
  return type.find("honeypot") != std::string_view::npos ||
         type.find("darknet") != std::string_view::npos ||
         type.find("brute_force") != std::string_view::npos ||
         type.find("ip_spoofer") != std::string_view::npos;
}

bool OperatorRules::is_allowlisted_scanner(std::string_view type, const IpAddress& source) const {
  if (scanners_.empty() || !is_attacker_report(type)) return false;
  auto it = std::upper_bound(scanners_.begin(), scanners_.end(), source,
                             [](const IpAddress& a, const Range& r) { return a < r.first; });
  if (it == scanners_.begin()) return false;
  --it;
  return source <= it->last;
}

}  // namespace vantage::pipeline

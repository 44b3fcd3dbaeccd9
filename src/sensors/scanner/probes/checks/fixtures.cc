#include "sensors/scanner/probes/checks/fixtures.h"

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "sensors/scanner/probes/checks/checks.h"

namespace vantage::scanner {
namespace {

using json = nlohmann::json;

std::optional<std::string> bytes_of(const json& reply) {
  if (reply.is_string()) return reply.get<std::string>();
  if (!reply.is_object() || !reply.contains("hex") || !reply["hex"].is_string())
    return std::nullopt;
  std::string digits;
  for (char c : reply["hex"].get<std::string>())
    if (!std::isspace(static_cast<unsigned char>(c))) digits += c;
  if (digits.size() % 2) return std::nullopt;
  std::string out;
  for (size_t i = 0; i < digits.size(); i += 2) {
    int v = 0;
    for (char c : digits.substr(i, 2)) {
      v *= 16;
      if (c >= '0' && c <= '9')
        v += c - '0';
      else if (c >= 'a' && c <= 'f')
        v += c - 'a' + 10;
      else if (c >= 'A' && c <= 'F')
        v += c - 'A' + 10;
      else
        return std::nullopt;
    }
    out += static_cast<char>(v);
  }
  return out;
}

void run_case(const std::shared_ptr<const CheckTemplate>& check, const json& c,
              FixtureReport& report, int* matches, int* misses) {
  auto fail = [&](const std::string& name, const std::string& why) {
    report.failures.push_back({check->id, name, why});
  };
  const std::string name = c.is_object() && c.contains("name") && c["name"].is_string()
                               ? c["name"].get<std::string>()
                               : "?";
  if (!c.is_object() || !c.contains("expect") || !c.contains("replies") || !c["replies"].is_array())
    return fail(name, "a case needs expect and replies");
  ++report.cases;
  std::vector<std::string> replies;
  for (const auto& r : c["replies"]) {
    auto b = bytes_of(r);
    if (!b) return fail(name, "a reply is a string or {\"hex\": ...}");
    replies.push_back(std::move(*b));
  }
  const std::string host =
      c.contains("host") && c["host"].is_string() ? c["host"].get<std::string>() : "";
  const ProbeTarget target{*IpAddress::parse("192.0.2.7"), check->port, host};
  std::vector<std::string> requests;
  auto result = run_check_on_replies(check, target, replies, &requests);
  const json expect = c["expect"];
  if (expect == "match") {
    ++*matches;
    if (!result) return fail(name, "should match, does not: " + result.error().message);
    if (c.contains("fields") && c["fields"].is_object())
      for (const auto& [col, want] : c["fields"].items())
        if (!result->contains(col) || (*result)[col] != want)
          fail(name, "column " + col + " is " +
                         (result->contains(col) ? (*result)[col].dump() : "missing") + ", want " +
                         want.dump());
  } else if (expect == "no-match") {
    ++*misses;
    if (result) return fail(name, "should not match, does");
  } else {
    return fail(name, "expect is match or no-match");
  }
  if (c.contains("requests") && c["requests"].is_array()) {
    for (size_t i = 0; i < c["requests"].size(); ++i) {
      const auto& want = c["requests"][i];
      if (!want.is_string() || i >= requests.size() ||
          requests[i].find(want.get<std::string>()) == std::string::npos)
        fail(name, "request " + std::to_string(i + 1) + " lacks " + want.dump());
    }
  }
}

}  // namespace

Result<FixtureReport> run_fixture_dir(const std::string& dir) {
  auto checks = load_check_templates(dir);
  if (!checks) return checks.error();
  FixtureReport report;
  const std::filesystem::path fixtures = std::filesystem::path(dir) / "fixtures";
  std::set<std::string> ids;
  for (const auto& check : *checks) {
    ++report.checks;
    ids.insert(check->id);
    const CheckInfo& info = check->info;
    if (!info.cves.empty()) {
      ++report.cves;
      if (!info.cvss_score || info.cvss_vector.empty() || info.vendor.empty() ||
          info.product.empty() || info.description.empty() || info.references.empty())
        report.failures.push_back({check->id, "",
                                   "a CVE check needs cvss score and vector, vendor, product, "
                                   "description and references"});
    }
    const auto path = fixtures / (check->id + ".json");
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      report.failures.push_back({check->id, "", "no fixture file " + path.string()});
      continue;
    }
    std::stringstream ss;
    ss << in.rdbuf();
    const json fx = json::parse(ss.str(), nullptr, false);
    if (fx.is_discarded() || !fx.is_object() || !fx.contains("cases") || !fx["cases"].is_array()) {
      report.failures.push_back({check->id, "", path.string() + ": not {\"cases\": [...]}"});
      continue;
    }
    int matches = 0, misses = 0;
    for (const auto& c : fx["cases"]) run_case(check, c, report, &matches, &misses);
    if (matches == 0) report.failures.push_back({check->id, "", "no case that must match"});
    if (misses == 0) report.failures.push_back({check->id, "", "no case that must not match"});
  }
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(fixtures, ec))
    if (e.path().extension() == ".json" && !ids.count(e.path().stem().string()))
      report.failures.push_back({"", e.path().filename().string(), "fixture for no check"});
  return report;
}

}  // namespace vantage::scanner

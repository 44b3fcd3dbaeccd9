#include "pipeline/rules.h"

#include <gtest/gtest.h>

namespace vantage::pipeline {
namespace {

TEST(OperatorRules, SeverityOverridesPreferTagRules) {
  auto r = OperatorRules::parse(R"({"severity_overrides":[
      {"type":"scan_ssh","severity":"high"},
      {"type":"scan_ssh","tag":"Weak","severity":"critical"}]})");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->severity_override("scan_ssh", "ssh"), 3);
  EXPECT_EQ(r->severity_override("scan_ssh", "ssh,weak"), 4);
  EXPECT_FALSE(r->severity_override("scan_http", "weak").has_value());
}

TEST(OperatorRules, ResearchScannersOnlyAffectAttackerReports) {
  auto r = OperatorRules::parse(R"({"research_scanners":[
      {"cidr":"198.51.100.0/24"},{"cidr":"198.51.100.128/25"},{"cidr":"2001:db8::/32"}]})");
  ASSERT_TRUE(r.ok());
  auto in = *IpAddress::parse("198.51.100.200");
  auto out = *IpAddress::parse("198.51.101.1");
  EXPECT_TRUE(r->is_allowlisted_scanner("event4_honeypot_brute_force", in));
  EXPECT_TRUE(
      r->is_allowlisted_scanner("event4_honeypot_darknet", *IpAddress::parse("2001:db8::5")));
  EXPECT_FALSE(r->is_allowlisted_scanner("event4_honeypot_brute_force", out));
  EXPECT_FALSE(r->is_allowlisted_scanner("scan_http", in));
  EXPECT_EQ(r->research_scanner_count(), 2u);  // nested ranges merged
}

TEST(OperatorRules, RejectsBadRulesWithThePlace) {
  auto bad = OperatorRules::parse(R"({"severity_overrides":[{"type":"x","severity":"huge"}]})");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("severity_overrides[0]"), std::string::npos);
  EXPECT_FALSE(OperatorRules::parse(R"({"research_scanners":[{"cidr":"1.2.3.4/40"}]})").ok());
  EXPECT_FALSE(OperatorRules::parse("[]").ok());
  EXPECT_FALSE(OperatorRules::parse("{").ok());
}

}  // namespace
}  // namespace vantage::pipeline

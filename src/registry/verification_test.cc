#include "registry/verification.h"

#include <gtest/gtest.h>

namespace vantage::registry {
namespace {

IpPrefix P(const char* s) {
  return IpPrefix::parse(s)->prefix;
}
IpAddress A(const char* s) {
  return *IpAddress::parse(s);
}

// Routing data held in a vector: the test double for the enrichment AsnTable.
class FakeRouting : public RoutingView {
 public:
  void add(const char* first, const char* last, uint32_t asn) {
    ranges_.push_back({A(first), A(last), asn, "AS-NAME-" + std::to_string(asn)});
  }
  std::vector<RouteRange> ranges_overlapping(const IpPrefix& p) const override {
    std::vector<RouteRange> out;
    for (const auto& r : ranges_) {
      if (r.first.is_v4() == p.is_v4() && r.first <= p.last() && p.first() <= r.last)
        out.push_back(r);
    }
    return out;
  }
  std::vector<RouteRange> ranges_of_asn(uint32_t asn) const override {
    std::vector<RouteRange> out;
    for (const auto& r : ranges_) {
      if (r.asn == asn) out.push_back(r);
    }
    return out;
  }

 private:
  std::vector<RouteRange> ranges_;
};

class VerificationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    routing_.add("192.0.2.0", "192.0.2.255", 64500);
    routing_.add("198.51.100.0", "198.51.100.127", 64500);
    routing_.add("198.51.100.128", "198.51.100.255", 64501);
    routing_.add("2001:db8::", "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", 64500);
  }
  FakeRouting routing_;
};

TEST_F(VerificationTest, CidrStates) {
  const uint32_t mine[] = {64500};
  auto v = verify_cidr(P("192.0.2.128/25"), mine, routing_);  // more specific than routed
  EXPECT_EQ(v.state, Verification::kVerified);
  EXPECT_NE(v.detail.find("inside routed range"), std::string::npos);
  EXPECT_EQ(verify_cidr(P("2001:db8:1::/48"), mine, routing_).state, Verification::kVerified);
  // Contains two announcements, one by someone else.
  auto m = verify_cidr(P("198.51.100.0/24"), mine, routing_);
  EXPECT_EQ(m.state, Verification::kMismatch);
  EXPECT_NE(m.detail.find("AS64501"), std::string::npos);
  const uint32_t both[] = {64500, 64501};
  EXPECT_EQ(verify_cidr(P("198.51.100.0/24"), both, routing_).state, Verification::kVerified);
  EXPECT_EQ(verify_cidr(P("203.0.113.0/24"), mine, routing_).state, Verification::kUnrouted);
  EXPECT_EQ(verify_cidr(P("192.0.2.0/24"), {}, routing_).state, Verification::kMismatch);
}

TEST_F(VerificationTest, AsnStates) {
  EXPECT_EQ(verify_asn(64500, {}, routing_).state, Verification::kVerified);
  const IpPrefix claimed[] = {P("192.0.2.0/24")};
  EXPECT_EQ(verify_asn(64500, claimed, routing_).state, Verification::kVerified);
  EXPECT_EQ(verify_asn(64501, claimed, routing_).state, Verification::kMismatch);
  EXPECT_EQ(verify_asn(64999, claimed, routing_).state, Verification::kUnrouted);
}

TEST_F(VerificationTest, WholeRecord) {
  OrgRecord rec;
  rec.resources = {{1, ResourceKind::kAsn, "64500"},
                   {2, ResourceKind::kCidr, "192.0.2.0/24"},
                   {3, ResourceKind::kCidr, "198.51.100.0/24"},
                   {4, ResourceKind::kDomain, "example.org"}};
  auto out = verify_routing_claims(rec, routing_);
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].second.state, Verification::kVerified);
  EXPECT_EQ(out[1].second.state, Verification::kVerified);
  EXPECT_EQ(out[2].second.state, Verification::kMismatch);
}

TEST(DomainToken, TxtProof) {
  const std::string token = "0123456789abcdef0123456789abcdef";
  EXPECT_EQ(dns_proof_record(token), "vantage-verify=" + token);
  std::vector<std::string> txt = {"v=spf1 -all", "  Vantage-Verify=" + token + " "};
  EXPECT_TRUE(txt_proves(txt, token));
  EXPECT_EQ(verify_domain_txt(txt, token).state, Verification::kVerified);
  std::vector<std::string> wrong = {"vantage-verify=" + token.substr(1),
                                    "vantage-verify=" + token + "x",
                                    "vantage-verify=" + std::string(32, '0')};
  EXPECT_FALSE(txt_proves(wrong, token));
  EXPECT_EQ(verify_domain_txt(wrong, token).state, Verification::kMismatch);
  EXPECT_FALSE(txt_proves({}, token));
  EXPECT_FALSE(txt_proves(txt, ""));
}

}  // namespace
}  // namespace vantage::registry

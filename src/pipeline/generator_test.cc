#include "pipeline/generator.h"

#include <gtest/gtest.h>

#include <map>

namespace vantage::pipeline {
namespace {

// Without real routing data, routed_segments() falls back to documentation-space segments;
// the claims drawn from them are what the test looks at.
std::map<std::string, int> asn_claims(bool one_holder_per_asn) {
  auto segments = routed_segments(nullptr);
  auto snap = synthetic_registry(segments, 2000, 9, one_holder_per_asn);
  std::map<std::string, int> claims;
  for (const auto& org : snap.orgs) {
    for (const auto& r : org.resources) {
      if (r.kind == registry::ResourceKind::kAsn) ++claims[r.value];
    }
  }
  return claims;
}

TEST(SyntheticRegistryTest, OneHolderPerAsnClaimsEachAsnOnce) {
  auto many = asn_claims(false);
  auto once = asn_claims(true);
  ASSERT_FALSE(once.empty());
  int repeated = 0;
  for (const auto& [asn, n] : many) repeated += n > 1;
  EXPECT_GT(repeated, 0) << "the default draws an ASN for several organisations";
  for (const auto& [asn, n] : once) EXPECT_EQ(n, 1) << "AS" << asn;
}

}  // namespace
}  // namespace vantage::pipeline

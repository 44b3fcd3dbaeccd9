#include "enrich/sector_table.h"

#include <gtest/gtest.h>

namespace vantage::enrich {
namespace {

IpAddress ip(std::string_view s) {
  return *IpAddress::parse(s);
}

TEST(SectorTable, CidrBeatsAsnAndLongestCidrWins) {
  auto t = SectorTable::parse(
      "# operator table\n"
      "asn_or_cidr,naics,sector\n"
      "AS64500,517311,Communications\n"
      "64501,611310,Education\n"
      "192.0.2.0/24,622110,Healthcare\n"
      "192.0.2.128/25,921110,\"Government, local\"\n"
      "2001:db8::/32,,Government\n"
      "2001:db8:1::/48,541511,IT services\n"
      "\n",
      "sectors.csv");
  ASSERT_TRUE(t.ok()) << t.error().message;
  const SectorTable& s = **t;
  EXPECT_EQ(s.asn_entries(), 2u);
  EXPECT_EQ(s.cidr_entries(), 4u);

  const SectorInfo* r = s.lookup(ip("198.51.100.1"), 64500);
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->naics, 517311u);
  EXPECT_EQ(r->sector, "Communications");
  EXPECT_EQ(s.lookup(ip("198.51.100.1"), 64501)->sector, "Education");
  EXPECT_EQ(s.lookup(ip("198.51.100.1"), 64502), nullptr);
  EXPECT_EQ(s.lookup(ip("198.51.100.1"), 0), nullptr);

  EXPECT_EQ(s.lookup(ip("192.0.2.1"), 64500)->sector, "Healthcare");
  EXPECT_EQ(s.lookup(ip("192.0.2.200"), 64500)->sector, "Government, local");
  EXPECT_EQ(s.lookup(ip("192.0.2.200"), 64500)->naics, 921110u);
  EXPECT_EQ(s.lookup(ip("2001:db8::1"), 0)->naics, 0u);
  EXPECT_EQ(s.lookup(ip("2001:db8::1"), 0)->sector, "Government");
  EXPECT_EQ(s.lookup(ip("2001:db8:1::1"), 0)->sector, "IT services");
  EXPECT_EQ(s.lookup(ip("2001:db9::1"), 0), nullptr);
}

std::string error_of(std::string_view text) {
  auto t = SectorTable::parse(text, "s.csv");
  EXPECT_FALSE(t.ok());
  return t.ok() ? "" : t.error().message;
}

TEST(SectorTable, BadRowsCarryFileAndLine) {
  EXPECT_NE(error_of("AS1,1234,X\nAS2,1234\n").find("s.csv:2:"), std::string::npos);
  EXPECT_NE(error_of("ASX,1234,X\n").find("bad ASN"), std::string::npos);
  EXPECT_NE(error_of("AS0,1234,X\n").find("bad ASN"), std::string::npos);
  EXPECT_NE(error_of("10.0.0.0/33,1234,X\n").find("bad CIDR"), std::string::npos);
  EXPECT_NE(error_of("10.0.0.1/8,1234,X\n").find("host bits"), std::string::npos);
  EXPECT_NE(error_of("AS1,12345678,X\n").find("NAICS"), std::string::npos);
  EXPECT_NE(error_of("AS1,abc,X\n").find("NAICS"), std::string::npos);
  EXPECT_NE(error_of("AS1,,\n").find("neither"), std::string::npos);
  EXPECT_NE(error_of("AS1,11,X\n1,12,Y\n").find("AS1 listed twice"), std::string::npos);
  EXPECT_NE(error_of("10.0.0.0/8,11,X\n10.0.0.0/8,12,Y\n").find("listed twice"), std::string::npos);
  auto missing = SectorTable::load("/nonexistent/sectors.csv");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, ErrorCode::kIo);
}

}  // namespace
}  // namespace vantage::enrich

#include "common/ip.h"

#include <gtest/gtest.h>

namespace vantage {
namespace {

TEST(IpAddress, ParsesAndFormatsIpv4) {
  auto a = IpAddress::parse("192.0.2.1");
  ASSERT_TRUE(a.ok());
  EXPECT_TRUE(a->is_v4());
  EXPECT_EQ(a->v4(), 0xC0000201u);
  EXPECT_EQ(a->to_string(), "192.0.2.1");
}

TEST(IpAddress, RejectsMalformedIpv4) {
  for (const char* bad : {"", "1.2.3", "1.2.3.4.5", "256.1.1.1", "1..2.3", "01234.1.1.1",
                          "1.2.3.4 ", " 1.2.3.4", "a.b.c.d", "1.2.3.-4"}) {
    EXPECT_FALSE(IpAddress::parse(bad).ok()) << bad;
  }
}

TEST(IpAddress, ParsesIpv6Canonically) {
  auto a = IpAddress::parse("2001:DB8:0:0:0:0:0:1");
  ASSERT_TRUE(a.ok());
  EXPECT_FALSE(a->is_v4());
  EXPECT_EQ(a->to_string(), "2001:db8::1");
  EXPECT_FALSE(IpAddress::parse("2001:db8::1::2").ok());
  EXPECT_FALSE(IpAddress::parse("fe80::1%eth0").ok());
}

TEST(IpAddress, OrdersIpv4BeforeMostIpv6) {
  auto a = *IpAddress::parse("255.255.255.255");
  auto b = *IpAddress::parse("2001::");
  EXPECT_LT(a, b);
}

TEST(IpPrefix, NormalisesHostBits) {
  auto p = IpPrefix::parse("10.1.2.3/8");
  ASSERT_TRUE(p.ok());
  EXPECT_TRUE(p->had_host_bits);
  EXPECT_EQ(p->prefix.to_string(), "10.0.0.0/8");
  EXPECT_EQ(p->prefix.last().to_string(), "10.255.255.255");
  auto q = IpPrefix::parse("2001:db8::/32");
  ASSERT_TRUE(q.ok());
  EXPECT_FALSE(q->had_host_bits);
  EXPECT_EQ(q->prefix.last().to_string(), "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff");
}

TEST(IpPrefix, ContainsAndBounds) {
  auto p = IpPrefix::parse("198.51.100.0/24")->prefix;
  EXPECT_TRUE(p.contains(*IpAddress::parse("198.51.100.77")));
  EXPECT_FALSE(p.contains(*IpAddress::parse("198.51.101.0")));
  EXPECT_TRUE(p.contains(IpPrefix::parse("198.51.100.128/25")->prefix));
  EXPECT_FALSE(p.contains(IpPrefix::parse("198.51.0.0/16")->prefix));
  EXPECT_FALSE(IpPrefix::parse("1.2.3.4/33").ok());
  EXPECT_FALSE(IpPrefix::parse("1.2.3.4/").ok());
  EXPECT_EQ(IpPrefix::parse("0.0.0.0/0")->prefix.last().to_string(), "255.255.255.255");
  EXPECT_EQ(IpPrefix::parse("::/0")->prefix.last().to_string(),
            "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
}

}  // namespace
}  // namespace vantage

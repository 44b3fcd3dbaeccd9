#include "enrich/asn_table.h"

#include <gtest/gtest.h>

#include <map>
#include <random>

#include "enrich/testing/temp_dir.h"

namespace vantage::enrich {
namespace {

using testing::TempDir;

IpAddress ip(std::string_view s) {
  auto a = IpAddress::parse(s);
  EXPECT_TRUE(a.ok()) << s;
  return a.ok() ? *a : IpAddress();
}

std::string fixture(std::string_view name) {
  return std::string(VANTAGE_SOURCE_DIR) + "/tests/fixtures/enrich/" + std::string(name);
}

std::shared_ptr<const AsnTable> parse_ok(std::string_view text) {
  auto t = AsnTable::parse({{"mem.csv", text}});
  EXPECT_TRUE(t.ok()) << (t.ok() ? "" : t.error().message);
  return t.ok() ? *t : nullptr;
}

std::string parse_error(std::string_view text) {
  auto t = AsnTable::parse({{"mem.csv", text}});
  EXPECT_FALSE(t.ok());
  return t.ok() ? "" : t.error().message;
}

TEST(AsnTable, LoadsFixtureAndAnswersKnownAddresses) {
  auto t = AsnTable::load(fixture("asn-ipv4.csv"), fixture("asn-ipv6.csv"));
  ASSERT_TRUE(t.ok()) << t.error().message;
  const AsnTable& table = **t;
  EXPECT_GT(table.v4_size(), 300u);
  EXPECT_GT(table.v6_size(), 100u);

  auto r = table.lookup(ip("1.1.1.1"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->asn, 13335u);
  EXPECT_EQ(r->name, "Cloudflare, Inc.");
  EXPECT_EQ(r->first, ip("1.1.1.0"));
  EXPECT_EQ(r->last, ip("1.1.1.255"));

  r = table.lookup(ip("8.8.8.8"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->asn, 15169u);
  EXPECT_EQ(r->name, "Google LLC");

  r = table.lookup(ip("193.0.6.139"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->asn, 3333u);

  r = table.lookup(ip("2001:200::1"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->asn, 2500u);
  EXPECT_EQ(r->name, "WIDE Project");

  r = table.lookup(ip("2001:4860:4860::8888"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->asn, 15169u);

  // Below the first range, and in a gap.
  EXPECT_FALSE(table.lookup(ip("0.0.0.1")));
  EXPECT_FALSE(table.lookup(ip("1.1.2.0")));
  EXPECT_FALSE(table.lookup(ip("::1")));
  EXPECT_EQ(table.find(ip("1.1.2.0")), AsnTable::kNone);
}

TEST(AsnTable, FixtureOverlapResolvedToMoreSpecificRange) {
  // The upstream data has 214.95.0.0-215.0.255.255 AS749 overlapping
  // 215.0.0.0-215.1.3.255 AS721; the smaller range (AS721) wins where both apply.
  auto t = AsnTable::load(fixture("asn-ipv4.csv"), "");
  ASSERT_TRUE(t.ok()) << t.error().message;
  EXPECT_EQ((*t)->stats().overlapping_rows, 1u);
  ASSERT_EQ((*t)->stats().overlap_examples.size(), 1u);
  EXPECT_NE((*t)->stats().overlap_examples[0].find("AS749 vs"), std::string::npos);
  EXPECT_NE((*t)->stats().overlap_examples[0].find("asn-ipv4.csv:333"), std::string::npos);

  auto a = (*t)->lookup(ip("214.96.0.1"));
  ASSERT_TRUE(a);
  EXPECT_EQ(a->asn, 749u);
  EXPECT_EQ(a->last, ip("214.255.255.255"));  // cut where AS721 starts
  auto b = (*t)->lookup(ip("215.0.0.1"));
  ASSERT_TRUE(b);
  EXPECT_EQ(b->asn, 721u);
  EXPECT_EQ(b->first, ip("215.0.0.0"));
  EXPECT_EQ(b->last, ip("215.1.3.255"));
}

TEST(AsnTable, QuotedNamesWithCommasAndDoubledQuotes) {
  auto t = parse_ok(
      "2.26.200.0,2.26.215.255,201907,\"LLC \"\"SPUTNIK\"\"\"\n"
      "1.0.0.0,1.0.0.255,13335,\"Cloudflare, Inc.\"\n"
      "1.1.1.0,1.1.1.255,13335,\"Cloudflare, Inc.\"\n"
      "3.0.0.0,3.0.0.255,16509,\n");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->lookup(ip("2.26.200.1"))->name, "LLC \"SPUTNIK\"");
  auto a = t->lookup(ip("1.0.0.7"));
  auto b = t->lookup(ip("1.1.1.7"));
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->name, "Cloudflare, Inc.");
  // Deduplicated: both rows point at the same bytes in the pool.
  EXPECT_EQ(a->name.data(), b->name.data());
  EXPECT_EQ(t->stats().distinct_names, 3u);
  EXPECT_EQ(t->lookup(ip("3.0.0.1"))->name, "");
}

TEST(AsnTable, OverlapRuleNestedAndTies) {
  auto t = parse_ok(
      "20.0.0.0,20.255.255.255,1,Outer\n"
      "20.1.0.0,20.1.255.255,2,Middle\n"
      "20.1.1.0,20.1.1.255,3,Inner\n"
      "30.0.0.0,30.0.0.255,200,Tie-high\n"
      "30.0.0.0,30.0.0.255,100,Tie-low\n");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->lookup(ip("20.0.0.1"))->asn, 1u);
  EXPECT_EQ(t->lookup(ip("20.1.0.1"))->asn, 2u);
  EXPECT_EQ(t->lookup(ip("20.1.1.1"))->asn, 3u);
  EXPECT_EQ(t->lookup(ip("20.1.2.1"))->asn, 2u);
  EXPECT_EQ(t->lookup(ip("20.2.0.0"))->asn, 1u);
  auto mid_after = t->lookup(ip("20.1.2.0"));
  EXPECT_EQ(mid_after->first, ip("20.1.2.0"));
  EXPECT_EQ(mid_after->last, ip("20.1.255.255"));
  EXPECT_EQ(t->lookup(ip("30.0.0.9"))->asn, 100u);
  EXPECT_EQ(t->lookup(ip("30.0.0.9"))->name, "Tie-low");
  EXPECT_EQ(t->stats().overlapping_rows, 3u);
}

// Random overlapping ranges in a small part of the space against a per-address brute force
// of the documented rule.
TEST(AsnTable, OverlapResolutionMatchesBruteForce) {
  std::mt19937 rng(12345);
  for (int round = 0; round < 20; ++round) {
    struct R {
      uint32_t first, last, asn;
    };
    std::vector<R> rows;
    std::string text;
    const uint32_t base = 0x0A000000 + static_cast<uint32_t>(round) * 0x10000;  // 10.x
    int n = 1 + static_cast<int>(rng() % 30);
    for (int i = 0; i < n; ++i) {
      uint32_t a = base + rng() % 1000, len = rng() % 300;
      R r{a, a + len, 1 + static_cast<uint32_t>(rng() % 5)};
      rows.push_back(r);
      text += IpAddress::from_v4(r.first).to_string() + "," +
              IpAddress::from_v4(r.last).to_string() + "," + std::to_string(r.asn) + ",AS" +
              std::to_string(r.asn) + "\n";
    }
    auto t = parse_ok(text);
    ASSERT_TRUE(t);
    for (uint32_t a = base; a < base + 1400; ++a) {
      const R* best = nullptr;
      for (const R& r : rows) {
        if (a < r.first || a > r.last) continue;
        if (!best || r.last - r.first < best->last - best->first ||
            (r.last - r.first == best->last - best->first && r.asn < best->asn)) {
          best = &r;
        }
      }
      auto got = t->lookup(IpAddress::from_v4(a));
      if (!best) {
        EXPECT_FALSE(got) << "round " << round << " addr " << a - base;
      } else {
        ASSERT_TRUE(got) << "round " << round << " addr " << a - base;
        EXPECT_EQ(got->asn, best->asn) << "round " << round << " addr " << a - base;
        EXPECT_LE(got->first, IpAddress::from_v4(a));
        EXPECT_GE(got->last, IpAddress::from_v4(a));
      }
    }
  }
}

TEST(AsnTable, UnsortedInputAndEdgesOfTheSpace) {
  auto t = parse_ok(
      "255.255.255.0,255.255.255.255,65001,Top4\n"
      "0.0.0.0,0.0.0.255,65000,Bottom4\n"
      "ffff::,ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff,65003,Top6\n"
      "fff0::,ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff,65004,Wider6\n");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->lookup(ip("255.255.255.255"))->asn, 65001u);
  EXPECT_EQ(t->lookup(ip("0.0.0.0"))->asn, 65000u);
  EXPECT_EQ(t->lookup(ip("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"))->asn, 65003u);
  EXPECT_EQ(t->lookup(ip("fff1::"))->asn, 65004u);
  EXPECT_FALSE(t->lookup(ip("1.0.0.0")));
}

TEST(AsnTable, Asn0RowsAreSkipped) {
  auto t = parse_ok("5.0.0.0,5.0.0.255,0,Reserved\n6.0.0.0,6.0.0.255,7,Seven\n");
  ASSERT_TRUE(t);
  EXPECT_FALSE(t->lookup(ip("5.0.0.1")));
  EXPECT_EQ(t->stats().skipped_asn0, 1u);
  EXPECT_EQ(t->lookup(ip("6.0.0.1"))->asn, 7u);
}

TEST(AsnTable, OverlappingListsSegmentsInsideAPrefix) {
  auto t = parse_ok(
      "40.0.0.0,40.0.0.127,10,A\n"
      "40.0.0.128,40.0.1.255,11,B\n"
      "40.0.3.0,40.0.3.255,12,C\n"
      "39.255.255.0,39.255.255.255,9,Before\n"
      "2001:db8::,2001:db8::ffff,20,V6\n");
  ASSERT_TRUE(t);
  auto p = IpPrefix::parse("40.0.0.0/23");
  ASSERT_TRUE(p.ok());
  auto segs = t->overlapping(p->prefix);
  ASSERT_EQ(segs.size(), 2u);
  EXPECT_EQ(segs[0].asn, 10u);
  EXPECT_EQ(segs[1].asn, 11u);
  EXPECT_EQ(segs[1].last, ip("40.0.1.255"));

  p = IpPrefix::parse("40.0.2.0/24");
  EXPECT_TRUE(t->overlapping(p->prefix).empty());
  p = IpPrefix::parse("40.0.0.0/16");
  EXPECT_EQ(t->overlapping(p->prefix).size(), 3u);
  p = IpPrefix::parse("2001:db8::/32");
  ASSERT_EQ(t->overlapping(p->prefix).size(), 1u);
  EXPECT_EQ(t->overlapping(p->prefix)[0].asn, 20u);
}

TEST(AsnTable, CorruptInputGivesFileAndLine) {
  EXPECT_NE(parse_error("1.0.0.0,1.0.0.255,13335,X\n1.0.1.0,1.0.1").find("newline"),
            std::string::npos);
  EXPECT_NE(parse_error("1.0.0.0,1.0.0.255,13335,X\n1.0.1.0,1.0.1.255\n").find("mem.csv:2:"),
            std::string::npos);
  EXPECT_NE(parse_error("1.0.0.0,1.0.0.255,13335,X\n1.0.1.0,1.0.1.255,5,\"open\n")
                .find("mem.csv:2: unterminated"),
            std::string::npos);
  EXPECT_NE(parse_error("1.0.0.0,1.0.0.256,13335,X\n").find("mem.csv:1: bad last address"),
            std::string::npos);
  EXPECT_NE(parse_error("1.0.0.9,1.0.0.1,13335,X\n").find("below the first"), std::string::npos);
  EXPECT_NE(parse_error("1.0.0.0,::1,13335,X\n").find("families"), std::string::npos);
  EXPECT_NE(parse_error("1.0.0.0,1.0.0.1,AS13335,X\n").find("bad ASN"), std::string::npos);
  EXPECT_NE(parse_error("1.0.0.0,1.0.0.1,4294967296,X\n").find("bad ASN"), std::string::npos);
  EXPECT_NE(parse_error("").find("empty"), std::string::npos);
  EXPECT_NE(parse_error("\n\n").find("no data rows"), std::string::npos);
  EXPECT_NE(parse_error("1.0.0.0,1.0.0.1,1,\"a\"b\n").find("after closing quote"),
            std::string::npos);
}

TEST(AsnTable, MissingAndTruncatedFiles) {
  auto t = AsnTable::load("/nonexistent/asn-ipv4.csv", "");
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.error().code, ErrorCode::kIo);
  EXPECT_NE(t.error().message.find("/nonexistent/asn-ipv4.csv"), std::string::npos);

  // A real file cut mid-row, as an interrupted download leaves it.
  TempDir dir;
  std::string full;
  {
    std::ifstream in(fixture("asn-ipv4.csv"), std::ios::binary);
    full.assign(std::istreambuf_iterator<char>(in), {});
  }
  auto path = dir.write("cut.csv", std::string_view(full).substr(0, full.size() / 2));
  t = AsnTable::load(path, "");
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.error().message.find("cut.csv"), std::string::npos);
}

}  // namespace
}  // namespace vantage::enrich

#include "core/event.h"

#include <gtest/gtest.h>

namespace vantage::core {
namespace {

const ReportType& type(const char* name) {
  const ReportType* t = Catalogue::builtin().find(name);
  EXPECT_NE(t, nullptr) << name;
  return *t;
}

int col(const ReportType& t, const char* name) {
  int i = t.column_index(name);
  EXPECT_GE(i, 0) << name;
  return i;
}

TEST(EventTest, StartsAllNull) {
  Event e(&type("scan_http"));
  EXPECT_EQ(e.size(), static_cast<int>(type("scan_http").columns.size()));
  for (int c = 0; c < e.size(); ++c) EXPECT_TRUE(e.is_null(c));
  EXPECT_FALSE(e.timestamp());
  EXPECT_FALSE(e.ip());
  EXPECT_EQ(e.geo(), "");
  EXPECT_FALSE(e.severity());
}

TEST(EventTest, SetTextParsesEachKind) {
  const ReportType& t = type("scan_ssl_freak");
  Event e(&t);
  EXPECT_EQ(e.set_text(col(t, "timestamp"), "2024-02-29 23:59:59"), ValueError::kNone);
  EXPECT_EQ(e.text(col(t, "timestamp")), "2024-02-29 23:59:59");
  EXPECT_EQ(e.set_text(col(t, "timestamp"), "2024-03-01T01:02:03Z"), ValueError::kNone);
  EXPECT_EQ(e.text(col(t, "timestamp")), "2024-03-01 01:02:03");
  EXPECT_EQ(e.set_text(col(t, "timestamp"), "2023-02-29 00:00:00"), ValueError::kBadTimestamp);
  EXPECT_TRUE(e.is_null(col(t, "timestamp")));

  EXPECT_EQ(e.set_text(col(t, "ip"), "2001:DB8:0:0:0:0:0:1"), ValueError::kNone);
  EXPECT_EQ(e.text(col(t, "ip")), "2001:db8::1");
  EXPECT_EQ(e.set_text(col(t, "ip"), "192.0.2.7"), ValueError::kNone);
  EXPECT_EQ(e.text(col(t, "ip")), "192.0.2.7");
  EXPECT_EQ(e.set_text(col(t, "ip"), "192.0.2.256"), ValueError::kBadIp);

  EXPECT_EQ(e.set_text(col(t, "port"), "+0443"), ValueError::kNone);
  EXPECT_EQ(e.text(col(t, "port")), "443");
  EXPECT_EQ(e.set_text(col(t, "port"), "44 3"), ValueError::kBadInteger);
  EXPECT_EQ(e.set_text(col(t, "port"), "99999999999999999999"), ValueError::kBadInteger);

  EXPECT_EQ(e.set_text(col(t, "freak_vulnerable"), "yes"), ValueError::kNone);
  EXPECT_EQ(e.text(col(t, "freak_vulnerable")), "Y");
  EXPECT_EQ(e.set_text(col(t, "freak_vulnerable"), "FALSE"), ValueError::kNone);
  EXPECT_EQ(e.text(col(t, "freak_vulnerable")), "N");
  EXPECT_EQ(e.set_text(col(t, "freak_vulnerable"), "maybe"), ValueError::kBadBoolean);

  const ReportType& ntp = type("scan_ntp");
  Event n(&ntp);
  EXPECT_EQ(n.set_text(col(ntp, "rootdelay"), "0.250"), ValueError::kNone);
  EXPECT_EQ(n.text(col(ntp, "rootdelay")), "0.25");
  EXPECT_EQ(n.set_text(col(ntp, "rootdelay"), "1e-5"), ValueError::kNone);
  EXPECT_DOUBLE_EQ(n.float_at(col(ntp, "rootdelay")), 1e-5);
  EXPECT_EQ(n.set_text(col(ntp, "rootdelay"), "nan"), ValueError::kBadFloat);
  EXPECT_EQ(n.set_text(col(ntp, "rootdelay"), "1.5x"), ValueError::kBadFloat);
}

TEST(EventTest, NullIsNotEmptyString) {
  const ReportType& t = type("scan_http");
  Event e(&t);
  int server = col(t, "server");
  EXPECT_EQ(e.set_text(server, ""), ValueError::kNone);
  EXPECT_FALSE(e.is_null(server));
  EXPECT_EQ(e.string_at(server), "");
  e.set_null(server);
  EXPECT_TRUE(e.is_null(server));
  // Non-string kinds have no empty value.
  EXPECT_EQ(e.set_text(col(t, "port"), ""), ValueError::kNone);
  EXPECT_TRUE(e.is_null(col(t, "port")));
}

TEST(EventTest, CommonAccessorsFollowTheConstituentSide) {
  const ReportType& t = type("event4_sinkhole");
  Event e(&t);
  ASSERT_EQ(e.set_text(col(t, "src_ip"), "198.51.100.1"), ValueError::kNone);
  ASSERT_EQ(e.set_text(col(t, "dst_ip"), "203.0.113.9"), ValueError::kNone);
  ASSERT_EQ(e.set_text(col(t, "dst_port"), "80"), ValueError::kNone);
  EXPECT_EQ(e.ip()->to_string(), "198.51.100.1");  // primary = src_ip for sinkhole events
  EXPECT_EQ(e.src_ip()->to_string(), "198.51.100.1");
  EXPECT_EQ(e.dst_ip()->to_string(), "203.0.113.9");
  EXPECT_EQ(e.port(Side::kDestination), 80);
  EXPECT_FALSE(e.port());
  EXPECT_TRUE(e.set_asn(64500));
  EXPECT_EQ(e.int_at(col(t, "src_asn")), 64500);
  EXPECT_TRUE(e.set_geo("de", Side::kDestination));
  EXPECT_EQ(e.string_at(col(t, "dst_geo")), "DE");
  EXPECT_EQ(e.geo(Side::kDestination), "DE");
  EXPECT_EQ(e.geo(), "");
  // scan types have no src_* columns: setters say so and change nothing.
  Event s(&type("scan_http"));
  EXPECT_FALSE(s.set_asn(1, Side::kSource));
  EXPECT_FALSE(s.src_ip());
}

TEST(EventTest, EnrichmentSettersCanonicalise) {
  const ReportType& t = type("scan_http");
  Event e(&t);
  EXPECT_TRUE(e.set_timestamp(1704067200));
  EXPECT_EQ(e.text(col(t, "timestamp")), "2024-01-01 00:00:00");
  EXPECT_TRUE(e.set_asn(0));  // 0 = unknown
  EXPECT_TRUE(e.is_null(col(t, "asn")));
  EXPECT_TRUE(e.set_asn(3320));
  EXPECT_EQ(e.asn(), 3320u);
  EXPECT_TRUE(e.set_naics(0));
  EXPECT_FALSE(e.naics());
  EXPECT_TRUE(e.set_geo("nl"));
  EXPECT_EQ(e.geo(), "NL");
  EXPECT_TRUE(e.set_hostname("WWW.Example.ORG."));
  EXPECT_EQ(e.hostname(), "www.example.org");
  EXPECT_TRUE(e.set_city("Den\tHaag\r\n"));
  EXPECT_EQ(e.city(), "Den Haag");
  EXPECT_TRUE(e.set_severity(Severity::kHigh));
  EXPECT_EQ(e.severity(), Severity::kHigh);
  EXPECT_TRUE(e.set_tag("ssl,vpn"));
  EXPECT_EQ(e.tag(), "ssl,vpn");
  EXPECT_TRUE(e.set_port(8080));
  EXPECT_EQ(e.port(), 8080);
  EXPECT_TRUE(e.set_ip(IpAddress::from_v4(0x0A000001)));
  EXPECT_EQ(e.ip()->to_string(), "10.0.0.1");
}

// Control characters are found by an 8-bytes-at-a-time scan; check every offset.
TEST(EventTest, SetStringStripsControlCharactersAtEveryOffset) {
  const ReportType& t = type("scan_http");
  const int server = col(t, "server");
  const std::string base = "nginx/1.18.0 (\xC3\xBC) Ubuntu-build-2024";
  for (char special : {'\t', '\n', '\r', '\x01', '\x1F', '\x7F'}) {
    for (size_t at = 0; at <= base.size(); ++at) {
      std::string v = base;
      v.insert(at, 1, special);
      Event e(&t);
      e.set_string(server, v);
      std::string want = base;
      if (special == '\t') want.insert(at, 1, ' ');
      EXPECT_EQ(e.string_at(server), want) << static_cast<int>(special) << " at " << at;
    }
  }
}

TEST(EventTest, RewritingAStringReusesItsBytes) {
  const ReportType& t = type("scan_http");
  Event e(&t);
  e.set_region("NORTH HOLLAND");
  size_t bytes = e.text_bytes();
  for (int i = 0; i < 100; ++i) e.set_region(i % 2 ? "UTRECHT" : "NORTH HOLLAND");
  EXPECT_EQ(e.text_bytes(), bytes);
  EXPECT_EQ(e.region(), "UTRECHT");
  e.clear();
  EXPECT_EQ(e.text_bytes(), 0u);
  EXPECT_EQ(e.region(), "");
}

TEST(EventTest, EqualityIsByContent) {
  const ReportType& t = type("scan_http");
  Event a(&t), b(&t);
  a.set_region("X");  // leaves a byte in a's buffer
  a.set_region("Y");
  a.set_geo("NL");
  b.set_geo("nl");
  b.set_region("Y");
  EXPECT_EQ(a, b);
  b.set_asn(1);
  EXPECT_NE(a, b);
  Event c(&type("scan_ftp"));
  EXPECT_NE(Event(&t), c);
}

TEST(EventTest, RowCodecRoundTripsAndRejectsGarbage) {
  const ReportType& t = type("scan_ssl_freak");
  Event e(&t);
  ASSERT_EQ(e.set_text(col(t, "timestamp"), "2024-01-02 03:04:05"), ValueError::kNone);
  ASSERT_EQ(e.set_text(col(t, "ip"), "2001:db8::42"), ValueError::kNone);
  ASSERT_EQ(e.set_text(col(t, "port"), "-1"), ValueError::kNone);
  ASSERT_EQ(e.set_text(col(t, "freak_vulnerable"), "Y"), ValueError::kNone);
  e.set_string(col(t, "hostname"),
               "b\xC3\xBC"
               "cher.example");
  e.set_string(col(t, "tag"), "");
  std::string bytes;
  e.encode(bytes);
  auto back = Event::decode(&t, bytes);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(*back, e);
  std::string again;
  back->encode(again);
  EXPECT_EQ(again, bytes);
  for (size_t cut = 0; cut < bytes.size(); ++cut) {
    EXPECT_FALSE(Event::decode(&t, bytes.substr(0, cut)).ok()) << cut;
  }
  EXPECT_FALSE(Event::decode(&t, bytes + "x").ok());
  std::string bad_flag = bytes;
  bad_flag[0] = 7;
  EXPECT_FALSE(Event::decode(&t, bad_flag).ok());
}

}  // namespace
}  // namespace vantage::core

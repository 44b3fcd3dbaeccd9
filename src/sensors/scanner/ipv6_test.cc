// IPv6: discovery frames (build_probe6 / classify_reply6), the IPv6 blocklist entries, and the
// scan6_ report types of events about IPv6 targets.
#include <gtest/gtest.h>

#include <cstring>

#include "sensors/scanner/packet.h"
#include "sensors/scanner/probes/output.h"
#include "sensors/scanner/probes/probe.h"
#include "sensors/scanner/targets.h"

namespace vantage::scanner {
namespace {

std::array<uint8_t, 16> v6(const char* text) {
  std::array<uint8_t, 16> b{};
  IpAddress::parse(text)->to_bytes(b.data());
  return b;
}

// The RFC 8200 pseudo-header sum (recomputed here independently of packet.cc's helper).
uint32_t pseudo6(const uint8_t* ip6, size_t l4_len) {
  uint32_t s = 0;
  for (int i = 8; i < 40; i += 2) s += (uint32_t{ip6[i]} << 8) | ip6[i + 1];
  return s + static_cast<uint32_t>(l4_len) + ip6[6];
}

TEST(Packet6, SynFrameChecksumsAndValidation) {
  ProbeParams p;
  p.src_ip6 = v6("2001:db8:46::1");
  p.dst_mac = {2, 0, 0, 0, 0, 9};
  const SipKey key{7, 8};
  const auto dst = v6("2001:db8:46::2");
  uint8_t f[kMaxFrame];
  const size_t len = build_probe6(p, key, dst.data(), 22, 0x12345, f);
  ASSERT_EQ(len, kEthHeader + 40 + 24);
  EXPECT_EQ(f[12], 0x86);
  EXPECT_EQ(f[13], 0xdd);
  const uint8_t* ip6 = f + kEthHeader;
  EXPECT_EQ(ip6[0] >> 4, 6);
  EXPECT_EQ(((ip6[1] & 0x0f) << 16) | (ip6[2] << 8) | ip6[3], 0x12345);  // flow label
  EXPECT_EQ((ip6[4] << 8) | ip6[5], 24);                                 // payload length
  EXPECT_EQ(ip6[6], 6);
  EXPECT_EQ(std::memcmp(ip6 + 24, dst.data(), 16), 0);
  // A correct checksum makes the one's-complement sum over pseudo-header + segment 0.
  EXPECT_EQ(inet_checksum(ip6 + 40, 24, pseudo6(ip6, 24)), 0);

  // The SYN-ACK the target sends back.
  uint8_t r[40 + 24];
  std::memcpy(r, ip6, sizeof r);
  std::memcpy(r + 8, ip6 + 24, 16);
  std::memcpy(r + 24, ip6 + 8, 16);
  uint8_t* t = r + 40;
  std::swap(t[0], t[2]);
  std::swap(t[1], t[3]);
  const uint32_t seq = (uint32_t{ip6[44]} << 24) | (ip6[45] << 16) | (ip6[46] << 8) | ip6[47];
  const uint32_t ack = seq + 1;
  for (int i = 0; i < 4; ++i) t[8 + i] = static_cast<uint8_t>(ack >> (24 - 8 * i));
  t[13] = 0x12;
  Hit hit;
  ASSERT_EQ(classify_reply6(p, key, {r, sizeof r}, &hit), ReplyKind::kOpen);
  EXPECT_EQ(hit.addr.to_string(), "2001:db8:46::2");
  EXPECT_EQ(hit.port, 22);
  t[13] = 0x14;
  EXPECT_EQ(classify_reply6(p, key, {r, sizeof r}, &hit), ReplyKind::kClosed);
  t[13] = 0x12;
  EXPECT_EQ(classify_reply6(p, SipKey{7, 9}, {r, sizeof r}, &hit), ReplyKind::kNotOurs);
  r[24 + 15] ^= 1;  // addressed to someone else
  EXPECT_EQ(classify_reply6(p, key, {r, sizeof r}, &hit), ReplyKind::kNotOurs);
  r[24 + 15] ^= 1;
  r[8 + 15] ^= 1;  // from another host: validation fails
  EXPECT_EQ(classify_reply6(p, key, {r, sizeof r}, &hit), ReplyKind::kNotOurs);
  EXPECT_EQ(classify_reply6(p, key, {r, 30}, &hit), ReplyKind::kNotOurs);  // truncated
}

TEST(Packet6, UdpFrameHasMandatoryChecksum) {
  ProbeParams p;
  p.protocol = 17;
  p.udp_payload = udp_module("snmp")->payload;
  p.src_ip6 = v6("fd00::1");
  const auto dst = v6("fd00::2");
  uint8_t f[kMaxFrame];
  const size_t len = build_probe6(p, SipKey{1, 1}, dst.data(), 161, 0, f);
  const size_t l4 = 8 + p.udp_payload.size();
  ASSERT_EQ(len, kEthHeader + 40 + l4);
  const uint8_t* ip6 = f + kEthHeader;
  EXPECT_NE((ip6[46] << 8) | ip6[47], 0);
  EXPECT_EQ(inet_checksum(ip6 + 40, l4, pseudo6(ip6, l4)), 0);
  EXPECT_EQ(std::memcmp(ip6 + 48, p.udp_payload.data(), p.udp_payload.size()), 0);
}

TEST(Blocklist, ReservedIpv6Ranges) {
  auto bl = parse_blocklist(builtin_blocklist_text(), "builtin");
  ASSERT_TRUE(bl.ok());
  for (const char* a : {"::", "::1", "64:ff9b::808:808", "100::1", "2001::1", "2001:db8::1",
                        "fc00::1", "fd12:3456::1", "fe80::1", "ff02::1", "2002::1"})
    EXPECT_TRUE(bl->contains(*IpAddress::parse(a))) << a;
  for (const char* a : {"2001:4860:4860::8888", "2a00:1450::1", "2600::1"})
    EXPECT_FALSE(bl->contains(*IpAddress::parse(a))) << a;
  // Lifting exactly one /64 leaves the rest of the documentation prefix blocked.
  auto lift = parse_blocklist("2001:db8:46::/64\n", "allow");
  const IntervalSet open = bl->minus(*lift);
  EXPECT_FALSE(open.contains(*IpAddress::parse("2001:db8:46::2")));
  EXPECT_TRUE(open.contains(*IpAddress::parse("2001:db8:47::2")));
}

TEST(Output, Ipv6TargetsNameTheScan6Twin) {
  ProbeOutcome o;
  o.target = {*IpAddress::parse("2001:db8::7"), 3478};
  o.module = find_module("stun");
  o.status = "success";
  o.fields = nlohmann::json::object();
  auto j = nlohmann::json::parse(format_event(o, 1700000000));
  EXPECT_EQ(j["type"], "scan6_stun");
  EXPECT_EQ(j["fields"]["ip"], "2001:db8::7");
  o.module = find_module("chargen");  // no scan6_chargen in the catalogue
  EXPECT_EQ(nlohmann::json::parse(format_event(o, 1700000000))["type"], "scan_chargen");
  o.target.ip = *IpAddress::parse("192.0.2.1");
  o.module = find_module("stun");
  EXPECT_EQ(nlohmann::json::parse(format_event(o, 1700000000))["type"], "scan_stun");
  // Every module whose type has a scan6_ twin maps to it.
  for (const auto& m : builtin_modules()) {
    const std::string six = report_type_for(m, *IpAddress::parse("2001:db8::1"));
    EXPECT_TRUE(six == m.report_type || six == "scan6_" + m.report_type.substr(5)) << m.name;
  }
}

}  // namespace
}  // namespace vantage::scanner

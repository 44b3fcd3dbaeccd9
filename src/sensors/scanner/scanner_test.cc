#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <cstring>
#include <set>
#include <vector>

#include "sensors/scanner/cyclic.h"
#include "sensors/scanner/packet.h"
#include "sensors/scanner/siphash.h"
#include "sensors/scanner/targets.h"

namespace vantage::scanner {
namespace {

// Reference vectors from the SipHash paper, Appendix A (key 00..0f).
TEST(SipHash, ReferenceVectors) {
  SipKey key{0x0706050403020100ull, 0x0f0e0d0c0b0a0908ull};
  uint8_t msg[64];
  for (int i = 0; i < 64; ++i) msg[i] = static_cast<uint8_t>(i);
  EXPECT_EQ(siphash24(key, msg, 0), 0x726fdb47dd0e0e31ull);
  EXPECT_EQ(siphash24(key, msg, 1), 0x74f839c593dc67fdull);
  EXPECT_EQ(siphash24(key, msg, 8), 0x93f5f5799a932462ull);
  EXPECT_EQ(siphash24(key, msg, 15), 0xa129ca6149be45e5ull);
}

TEST(Cyclic, EveryIndexExactlyOnce) {
  for (uint64_t n : {1ull, 2ull, 3ull, 7ull, 256ull, 257ull, 1000ull, 65536ull, 100003ull}) {
    auto perm = CyclicPermutation::make(n, 42 + n);
    ASSERT_TRUE(perm.ok());
    std::vector<uint8_t> seen(n, 0);
    uint64_t count = 0;
    while (auto i = perm->next()) {
      ASSERT_LT(*i, n);
      ASSERT_EQ(seen[*i], 0) << "index " << *i << " twice, n=" << n;
      seen[*i] = 1;
      ++count;
    }
    EXPECT_EQ(count, n);
  }
}

TEST(Cyclic, ShardsDisjointAndComplete) {
  for (uint64_t n : {10ull, 4096ull, 65537ull}) {
    for (uint32_t shards : {2u, 3u, 7u}) {
      std::vector<uint8_t> seen(n, 0);
      uint64_t count = 0;
      for (uint32_t s = 0; s < shards; ++s) {
        auto perm = CyclicPermutation::make(n, 7, s, shards);
        ASSERT_TRUE(perm.ok());
        while (auto i = perm->next()) {
          ASSERT_EQ(seen[*i], 0);
          seen[*i] = 1;
          ++count;
        }
      }
      EXPECT_EQ(count, n) << "n=" << n << " shards=" << shards;
    }
  }
}

TEST(Cyclic, SeedFixesOrderAndGeneratorIsPrimitive) {
  auto a = CyclicPermutation::make(1000, 99), b = CyclicPermutation::make(1000, 99);
  auto c = CyclicPermutation::make(1000, 100);
  std::vector<uint64_t> va, vb, vc;
  while (auto i = a->next()) va.push_back(*i);
  while (auto i = b->next()) vb.push_back(*i);
  while (auto i = c->next()) vc.push_back(*i);
  EXPECT_EQ(va, vb);
  EXPECT_NE(va, vc);
  EXPECT_EQ(next_prime(65536), 65537u);
  EXPECT_EQ(next_prime(uint64_t{1} << 32), 4294967311u);
  EXPECT_FALSE(CyclicPermutation::make(10, 1, 3, 3).ok());
  EXPECT_FALSE(CyclicPermutation::make(0, 1).ok());
}

IntervalSet parse_or_die(std::string_view text) {
  auto r = parse_blocklist(text, "test");
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
  return r.ok() ? *r : IntervalSet{};
}

IpAddress ip(std::string_view s) {
  return *IpAddress::parse(s);
}

TEST(Blocklist, BuiltinBlocksReservedRanges) {
  auto bl = parse_or_die(builtin_blocklist_text());
  for (auto a :
       {"10.1.2.3", "127.0.0.1", "192.168.1.1", "198.18.0.1", "198.19.255.1", "224.0.0.1",
        "255.255.255.255", "0.1.2.3", "100.64.0.1", "::1", "fe80::1", "2001:db8::5", "fd00::1"})
    EXPECT_TRUE(bl.contains(ip(a))) << a;
  for (auto a : {"8.8.8.8", "1.1.1.1", "198.20.0.1", "2a00:1450::1", "11.0.0.0"})
    EXPECT_FALSE(bl.contains(ip(a))) << a;
  EXPECT_FALSE(parse_blocklist("10.0.0.0/8\nnot-a-cidr\n", "x").ok());
}

TEST(Blocklist, AllowReservedLiftsExactlyItsRange) {
  auto bl = parse_or_die(builtin_blocklist_text());
  auto allow = parse_or_die("127.0.0.0/8\n");
  auto blocked = bl.minus(allow);
  EXPECT_FALSE(blocked.contains(ip("127.0.0.1")));
  EXPECT_FALSE(blocked.contains(ip("127.255.255.255")));
  EXPECT_TRUE(blocked.contains(ip("126.255.255.255")) == bl.contains(ip("126.255.255.255")));
  EXPECT_TRUE(blocked.contains(ip("10.0.0.1")));
  EXPECT_TRUE(blocked.contains(ip("198.18.0.1")));
  // A hole in the middle of a larger block leaves both sides blocked.
  auto half = parse_or_die("198.19.0.0/16\n");
  auto b2 = bl.minus(half);
  EXPECT_TRUE(b2.contains(ip("198.18.255.255")));
  EXPECT_FALSE(b2.contains(ip("198.19.0.0")));
  EXPECT_FALSE(b2.contains(ip("198.19.255.255")));
  EXPECT_TRUE(b2.contains(ip("192.168.0.1")));
}

TEST(Blocklist, TargetSpaceSubtractsAndIndexes) {
  auto targets = parse_or_die("198.18.0.0/24\n198.18.1.0/30\n");
  auto blocked = parse_or_die("198.18.0.128/25\n198.18.1.1\n");
  auto space = TargetSpace::make(targets, blocked);
  ASSERT_EQ(space.size(), 128u + 3u);
  EXPECT_EQ(space.at(0), ip("198.18.0.0"));
  EXPECT_EQ(space.at(127), ip("198.18.0.127"));
  EXPECT_EQ(space.at(128), ip("198.18.1.0"));
  EXPECT_EQ(space.at(129), ip("198.18.1.2"));
  EXPECT_EQ(space.at(130), ip("198.18.1.3"));
  // Large opt-out list: 100k single addresses stay one sort + linear merge.
  IntervalSet many;
  for (uint32_t i = 0; i < 100000; i += 2)
    many.add(IpPrefix::make(IpAddress::from_v4(0x0b000000 + i), 32));
  many.normalise();
  auto t2 = parse_or_die("11.0.0.0/8\n");
  EXPECT_EQ(TargetSpace::make(t2, many).size(), (1u << 24) - 50000u);
  EXPECT_TRUE(many.contains(IpAddress::from_v4(0x0b000000 + 4)));
  EXPECT_FALSE(many.contains(IpAddress::from_v4(0x0b000000 + 5)));
}

TEST(Packet, SynValidatesOnlyMatchingReplies) {
  ProbeParams p;
  p.src_ip = htonl(0x7f000001);
  SipKey key{1, 2};
  uint8_t f[kMaxFrame];
  const uint32_t dst = htonl(0x7f000005);
  const size_t len = build_probe(p, key, dst, 80, 1234, f);
  ASSERT_EQ(len, kEthHeader + 44);
  uint8_t* ip4 = f + kEthHeader;
  EXPECT_EQ(inet_checksum(ip4, 20), 0);  // header checksum verifies
  // Make the SYN-ACK a target would send.
  uint8_t r[64];
  std::memcpy(r, ip4, 44);
  std::memcpy(r + 12, ip4 + 16, 4);
  std::memcpy(r + 16, ip4 + 12, 4);
  uint8_t* t = r + 20;
  const uint16_t sport = static_cast<uint16_t>((ip4[20] << 8) | ip4[21]);
  const uint32_t seq =
      (uint32_t{ip4[24]} << 24) | (uint32_t{ip4[25]} << 16) | (ip4[26] << 8) | ip4[27];
  t[0] = 0;
  t[1] = 80;
  t[2] = static_cast<uint8_t>(sport >> 8);
  t[3] = static_cast<uint8_t>(sport);
  const uint32_t ack = seq + 1;
  t[8] = static_cast<uint8_t>(ack >> 24);
  t[9] = static_cast<uint8_t>(ack >> 16);
  t[10] = static_cast<uint8_t>(ack >> 8);
  t[11] = static_cast<uint8_t>(ack);
  t[13] = 0x12;
  Hit hit;
  ASSERT_EQ(classify_reply(p, key, {r, 44}, &hit), ReplyKind::kOpen);
  EXPECT_EQ(hit.ip, dst);
  EXPECT_EQ(hit.port, 80);
  t[13] = 0x14;
  EXPECT_EQ(classify_reply(p, key, {r, 44}, &hit), ReplyKind::kClosed);
  t[13] = 0x12;
  t[11] ^= 1;  // wrong ack
  EXPECT_EQ(classify_reply(p, key, {r, 44}, &hit), ReplyKind::kNotOurs);
  t[11] ^= 1;
  EXPECT_EQ(classify_reply(p, SipKey{1, 3}, {r, 44}, &hit), ReplyKind::kNotOurs);  // other scan
  t[3] ^= 1;  // wrong destination port
  EXPECT_EQ(classify_reply(p, key, {r, 44}, &hit), ReplyKind::kNotOurs);
}

TEST(Packet, MacAndUdpModules) {
  auto m = parse_mac("02:00:00:00:00:0a");
  ASSERT_TRUE(m);
  EXPECT_EQ((*m)[5], 10);
  EXPECT_FALSE(parse_mac("02:00:00:00:00"));
  EXPECT_FALSE(parse_mac("02-00-00-00-00-0a"));
  for (auto n : {"dns", "ntp", "snmp", "ssdp", "memcached"}) EXPECT_TRUE(udp_module(n)) << n;
  EXPECT_FALSE(udp_module("quic"));
  EXPECT_EQ(udp_module("ntp")->payload.size(), 48u);
}

}  // namespace
}  // namespace vantage::scanner

#include "sensors/scanner/packet.h"

#include <arpa/inet.h>

#include <cstring>

namespace vantage::scanner {

uint16_t inet_checksum(const void* data, size_t len, uint32_t sum) {
  const auto* b = static_cast<const uint8_t*>(data);
  uint64_t s = sum;
  size_t i = 0;
  for (; i + 1 < len; i += 2) s += (uint32_t{b[i]} << 8) | b[i + 1];
  if (i < len) s += uint32_t{b[i]} << 8;
  while (s >> 16) s = (s & 0xffff) + (s >> 16);
  return static_cast<uint16_t>(~s & 0xffff);
}

namespace {

void put16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
}
void put32(uint8_t* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<uint8_t>(v >> (24 - 8 * i));
}
uint16_t get16(const uint8_t* p) {
  return static_cast<uint16_t>((p[0] << 8) | p[1]);
}
uint32_t get32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}

// Pseudo-header sum for TCP/UDP checksums (addresses as they sit in the packet).
uint32_t pseudo_sum(const uint8_t* ip, uint8_t proto, uint16_t l4_len) {
  uint32_t s = 0;
  for (int i = 12; i < 20; i += 2) s += get16(ip + i);
  return s + proto + l4_len;
}

}  // namespace

uint16_t source_port(const ProbeParams& p, uint64_t validation) {
  return static_cast<uint16_t>(p.sport_base + (validation >> 32) % p.sport_count);
}

size_t build_probe(const ProbeParams& p, const SipKey& key, uint32_t dst_ip, uint16_t dst_port,
                   uint16_t ip_id, uint8_t* out) {
  std::memcpy(out, p.dst_mac.data(), 6);
  std::memcpy(out + 6, p.src_mac.data(), 6);
  out[12] = 0x08;
  out[13] = 0x00;
  uint8_t* ip = out + kEthHeader;
  const uint64_t v = probe_validation(key, p.src_ip, dst_ip, dst_port, p.protocol);
  const uint16_t sport = source_port(p, v);
  size_t l4_len;
  uint8_t* l4 = ip + 20;
  if (p.protocol == 6) {
    l4_len = 24;
    put16(l4, sport);
    put16(l4 + 2, dst_port);
    put32(l4 + 4, static_cast<uint32_t>(v));
    put32(l4 + 8, 0);
    l4[12] = 6 << 4;  // data offset 6 words
    l4[13] = 0x02;    // SYN
    put16(l4 + 14, 65535);
    put16(l4 + 16, 0);
    put16(l4 + 18, 0);
    l4[20] = 2;  // MSS
    l4[21] = 4;
    put16(l4 + 22, 1460);
  } else {
    const size_t n = std::min(p.udp_payload.size(), kMaxFrame - kEthHeader - 28);
    l4_len = 8 + n;
    put16(l4, sport);
    put16(l4 + 2, dst_port);
    put16(l4 + 4, static_cast<uint16_t>(l4_len));
    put16(l4 + 6, 0);
    std::memcpy(l4 + 8, p.udp_payload.data(), n);
  }
  const uint16_t total = static_cast<uint16_t>(20 + l4_len);
  ip[0] = 0x45;
  ip[1] = 0;
  put16(ip + 2, total);
  put16(ip + 4, ip_id);
  put16(ip + 6, 0);
  ip[8] = p.ttl;
  ip[9] = p.protocol;
  put16(ip + 10, 0);
  std::memcpy(ip + 12, &p.src_ip, 4);
  std::memcpy(ip + 16, &dst_ip, 4);
  put16(ip + 10, inet_checksum(ip, 20));
  uint16_t c = inet_checksum(l4, l4_len, pseudo_sum(ip, p.protocol, static_cast<uint16_t>(l4_len)));
  if (p.protocol == 17 && c == 0) c = 0xffff;
  put16(l4 + (p.protocol == 6 ? 16 : 6), c);
  return kEthHeader + total;
}

ReplyKind classify_reply(const ProbeParams& p, const SipKey& key, std::span<const uint8_t> ip,
                         Hit* hit) {
  if (ip.size() < 20 || (ip[0] >> 4) != 4) return ReplyKind::kNotOurs;
  const size_t ihl = static_cast<size_t>(ip[0] & 0x0f) * 4;
  if (ihl < 20 || ip.size() < ihl + 8 || ip[9] != p.protocol) return ReplyKind::kNotOurs;
  uint32_t from, to;
  std::memcpy(&from, ip.data() + 12, 4);
  std::memcpy(&to, ip.data() + 16, 4);
  if (to != p.src_ip) return ReplyKind::kNotOurs;
  const uint8_t* l4 = ip.data() + ihl;
  const uint16_t sport = get16(l4), dport = get16(l4 + 2);
  // The reply's source port is the probed port; recompute the probe's validation value.
  const uint64_t v = probe_validation(key, p.src_ip, from, sport, p.protocol);
  if (dport != source_port(p, v)) return ReplyKind::kNotOurs;
  if (p.protocol == 6) {
    if (ip.size() < ihl + 20) return ReplyKind::kNotOurs;
    const uint8_t flags = l4[13];
    const uint32_t seq = static_cast<uint32_t>(v);
    const uint32_t ack = get32(l4 + 8);
    if (ack != seq + 1) return ReplyKind::kNotOurs;
    if (flags & 0x04) return ReplyKind::kClosed;  // RST
    if ((flags & 0x12) != 0x12) return ReplyKind::kNotOurs;
  }
  if (hit) *hit = {from, sport, IpAddress::from_v4(ntohl(from))};
  return ReplyKind::kOpen;
}

namespace {

// The L4 header of a probe (TCP SYN with MSS, or UDP with the payload) at `l4`; returns its
// length. The checksum field is left zero.
size_t write_l4(const ProbeParams& p, uint16_t sport, uint16_t dst_port, uint64_t v, uint8_t* l4,
                size_t room) {
  if (p.protocol == 6) {
    put16(l4, sport);
    put16(l4 + 2, dst_port);
    put32(l4 + 4, static_cast<uint32_t>(v));
    put32(l4 + 8, 0);
    l4[12] = 6 << 4;
    l4[13] = 0x02;
    put16(l4 + 14, 65535);
    put16(l4 + 16, 0);
    put16(l4 + 18, 0);
    l4[20] = 2;
    l4[21] = 4;
    put16(l4 + 22, 1460);
    return 24;
  }
  const size_t n = std::min(p.udp_payload.size(), room - 8);
  put16(l4, sport);
  put16(l4 + 2, dst_port);
  put16(l4 + 4, static_cast<uint16_t>(8 + n));
  put16(l4 + 6, 0);
  std::memcpy(l4 + 8, p.udp_payload.data(), n);
  return 8 + n;
}

// Sum of the IPv6 pseudo-header (RFC 8200 8.1) for the addresses at ip6+8 and ip6+24.
uint32_t pseudo_sum6(const uint8_t* ip6, uint8_t proto, uint32_t l4_len) {
  uint32_t s = 0;
  for (int i = 8; i < 40; i += 2) s += get16(ip6 + i);
  return s + (l4_len >> 16) + (l4_len & 0xffff) + proto;
}

}  // namespace

size_t build_probe6(const ProbeParams& p, const SipKey& key, const uint8_t dst_ip[16],
                    uint16_t dst_port, uint32_t flow_label, uint8_t* out) {
  std::memcpy(out, p.dst_mac.data(), 6);
  std::memcpy(out + 6, p.src_mac.data(), 6);
  out[12] = 0x86;
  out[13] = 0xdd;
  uint8_t* ip6 = out + kEthHeader;
  const uint64_t v = probe_validation6(key, p.src_ip6.data(), dst_ip, dst_port, p.protocol);
  uint8_t* l4 = ip6 + 40;
  const size_t l4_len =
      write_l4(p, source_port(p, v), dst_port, v, l4, kMaxFrame - kEthHeader - 40);
  put32(ip6, (6u << 28) | (flow_label & 0xfffff));
  put16(ip6 + 4, static_cast<uint16_t>(l4_len));
  ip6[6] = p.protocol;
  ip6[7] = p.ttl;
  std::memcpy(ip6 + 8, p.src_ip6.data(), 16);
  std::memcpy(ip6 + 24, dst_ip, 16);
  uint16_t c =
      inet_checksum(l4, l4_len, pseudo_sum6(ip6, p.protocol, static_cast<uint32_t>(l4_len)));
  if (p.protocol == 17 && c == 0) c = 0xffff;
  put16(l4 + (p.protocol == 6 ? 16 : 6), c);
  return kEthHeader + 40 + l4_len;
}

ReplyKind classify_reply6(const ProbeParams& p, const SipKey& key, std::span<const uint8_t> ip6,
                          Hit* hit) {
  if (ip6.size() < 40 + 8 || (ip6[0] >> 4) != 6 || ip6[6] != p.protocol) return ReplyKind::kNotOurs;
  if (std::memcmp(ip6.data() + 24, p.src_ip6.data(), 16) != 0) return ReplyKind::kNotOurs;
  const uint8_t* from = ip6.data() + 8;
  const uint8_t* l4 = ip6.data() + 40;
  const uint16_t sport = get16(l4), dport = get16(l4 + 2);
  const uint64_t v = probe_validation6(key, p.src_ip6.data(), from, sport, p.protocol);
  if (dport != source_port(p, v)) return ReplyKind::kNotOurs;
  if (p.protocol == 6) {
    if (ip6.size() < 40 + 20) return ReplyKind::kNotOurs;
    const uint8_t flags = l4[13];
    if (get32(l4 + 8) != static_cast<uint32_t>(v) + 1) return ReplyKind::kNotOurs;
    if (flags & 0x04) return ReplyKind::kClosed;
    if ((flags & 0x12) != 0x12) return ReplyKind::kNotOurs;
  }
  if (hit) *hit = {0, sport, IpAddress::from_bytes(from, 16)};
  return ReplyKind::kOpen;
}

std::optional<Mac> parse_mac(std::string_view text) {
  Mac m{};
  if (text.size() != 17) return std::nullopt;
  for (int i = 0; i < 6; ++i) {
    unsigned v = 0;
    for (int j = 0; j < 2; ++j) {
      const char c = text[static_cast<size_t>(i * 3 + j)];
      v <<= 4;
      if (c >= '0' && c <= '9')
        v |= static_cast<unsigned>(c - '0');
      else if (c >= 'a' && c <= 'f')
        v |= static_cast<unsigned>(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F')
        v |= static_cast<unsigned>(c - 'A' + 10);
      else
        return std::nullopt;
    }
    if (i < 5 && text[static_cast<size_t>(i * 3 + 2)] != ':') return std::nullopt;
    m[static_cast<size_t>(i)] = static_cast<uint8_t>(v);
  }
  return m;
}

std::optional<UdpModule> udp_module(std::string_view name) {
  using namespace std::string_literals;
  if (name == "dns") {
    // Recursive A query for a name under .invalid (RFC 6761): any answer, even NXDOMAIN with
    // RA set, is the open-resolver signal; nothing real is ever looked up.
    return UdpModule{"dns", 53,
                     "\x56\x41\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00"
                     "\x07vantage\x07invalid\x00\x00\x01\x00\x01"s};
  }
  if (name == "ntp") {  // NTPv4 client request (mode 3), 48 bytes
    std::string s(48, '\0');
    s[0] = 0x23;
    return UdpModule{"ntp", 123, s};
  }
  if (name == "snmp") {  // SNMPv2c GetRequest sysDescr.0, community "public"
    return UdpModule{
        "snmp", 161,
        "\x30\x29\x02\x01\x01\x04\x06public\xa0\x1c\x02\x04\x56\x41\x4e\x54\x02\x01"
        "\x00\x02\x01\x00\x30\x0e\x30\x0c\x06\x08\x2b\x06\x01\x02\x01\x01\x01\x00\x05\x00"s};
  }
  if (name == "ssdp") {
    return UdpModule{
        "ssdp", 1900,
        "M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMAN: \"ssdp:discover\"\r\n"
        "MX: 1\r\nST: ssdp:all\r\n\r\n"};
  }
  if (name == "memcached") {  // UDP frame header (id 0x5641, seq 0, 1 datagram) + "stats"
    return UdpModule{"memcached", 11211, "\x56\x41\x00\x00\x00\x01\x00\x00stats\r\n"s};
  }
  return std::nullopt;
}

}  // namespace vantage::scanner

#pragma once
// Probe frames and reply parsing for the stateless discovery scan. A probe is built from a
// prebuilt Ethernet + IPv4 (or IPv6) + TCP (or UDP) template: per target only the destination
// address, ports, sequence number, IP id and the two checksums change (ZMap's packet template
// idea).
//
// Validation (no per-target state): v = SipHash(key, src, dst, dport, proto).
//  TCP: seq = low 32 bits of v, source port = base + (v >> 32) % count. A SYN-ACK is ours if
//       ack == seq + 1 and its destination port is that source port (module_tcp_synscan.c).
//  UDP: source port = base + (v >> 32) % count (ZMap 4.3's UDP source-port validation).
//
// IPv6 (build_probe6/classify_reply6): the same frames with a 40-byte IPv6 header (no
// extension headers, hop limit = ttl, flow label from the caller), checksums over the IPv6
// pseudo-header (RFC 8200 8.1; a UDP checksum is mandatory there), validation over the 16-byte
// addresses (probe_validation6). Nothing ICMPv6 is sent; neighbour discovery for the next hop
// is the kernel's (the next hop's MAC is given, as for IPv4).
//
// The TCP SYN carries one option, MSS 1460, because option-less SYNs are filtered by some
// hosts (ZMap 3.0 CHANGELOG); the IP id is random per probe (ZMap 4.1: the fixed 54321 was
// a well-known fingerprint).

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "common/ip.h"
#include "sensors/scanner/siphash.h"

namespace vantage::scanner {

using Mac = std::array<uint8_t, 6>;

struct ProbeParams {
  Mac src_mac{};
  Mac dst_mac{};
  uint32_t src_ip = 0;  // network order
  uint16_t sport_base = 40000;
  uint16_t sport_count = 256;
  uint8_t ttl = 64;
  uint8_t protocol = 6;               // 6 TCP SYN, 17 UDP
  std::string udp_payload;            // for protocol 17
  std::array<uint8_t, 16> src_ip6{};  // IPv6 scans: the source address, network order
};

inline constexpr size_t kEthHeader = 14;
inline constexpr size_t kMaxFrame = 1514;

uint16_t source_port(const ProbeParams& p, uint64_t validation);

// Writes one probe frame for (dst_ip network order, dst_port host order) into `out`
// (kMaxFrame bytes) and returns its length.
size_t build_probe(const ProbeParams& p, const SipKey& key, uint32_t dst_ip, uint16_t dst_port,
                   uint16_t ip_id, uint8_t* out);

// A validated positive reply: the target that answered.
struct Hit {
  uint32_t ip = 0;  // IPv4 replies: network order (0 for IPv6)
  uint16_t port = 0;
  IpAddress addr;  // either family
};

enum class ReplyKind { kNotOurs, kOpen, kClosed };

// Classifies an IPv4 packet (starting at the IP header) received for `p.src_ip`.
ReplyKind classify_reply(const ProbeParams& p, const SipKey& key, std::span<const uint8_t> ip,
                         Hit* hit);

// IPv6: writes one probe frame for `dst_ip` (16 network-order bytes) and returns its length.
size_t build_probe6(const ProbeParams& p, const SipKey& key, const uint8_t dst_ip[16],
                    uint16_t dst_port, uint32_t flow_label, uint8_t* out);

// Classifies an IPv6 packet (starting at the IPv6 header) received for `p.src_ip6`. Replies
// behind extension headers are not ours (a SYN-ACK or a UDP answer carries none).
ReplyKind classify_reply6(const ProbeParams& p, const SipKey& key, std::span<const uint8_t> ip6,
                          Hit* hit);

// The RFC 1071 Internet checksum of `len` bytes, folded, starting from `sum`.
uint16_t inet_checksum(const void* data, size_t len, uint32_t sum = 0);

// Parses "aa:bb:cc:dd:ee:ff".
std::optional<Mac> parse_mac(std::string_view text);

// UDP discovery payloads by module name (dns, ntp, snmp, ssdp, memcached) and default port.
struct UdpModule {
  const char* name;
  uint16_t port;
  std::string payload;
};
std::optional<UdpModule> udp_module(std::string_view name);

}  // namespace vantage::scanner

#pragma once
// SipHash-2-4 (Aumasson & Bernstein, "SipHash: a fast short-input PRF", 2012): the keyed hash
// that makes a probe self-validating. The scanner keeps no per-target state (ZMap's design):
// the TCP sequence number (or UDP source port) of each probe is a PRF of the 4-tuple under a
// random per-scan key, so a reply is accepted only if it echoes a value no off-path host can
// predict.

#include <cstddef>
#include <cstdint>

namespace vantage::scanner {

struct SipKey {
  uint64_t k0 = 0;
  uint64_t k1 = 0;
};

// SipHash-2-4 of `len` bytes at `data`; output as in the reference implementation (little-endian).
uint64_t siphash24(const SipKey& key, const void* data, size_t len);

// The validation value for one probe: SipHash of (src ip, dst ip, dst port, protocol) with IPv4
// addresses in network order. Source port is derived from it, so it is not an input.
uint64_t probe_validation(const SipKey& key, uint32_t src_ip, uint32_t dst_ip, uint16_t dst_port,
                          uint8_t protocol);
// The same for IPv6: 16-byte addresses as they sit in the packet.
uint64_t probe_validation6(const SipKey& key, const uint8_t src_ip[16], const uint8_t dst_ip[16],
                           uint16_t dst_port, uint8_t protocol);

}  // namespace vantage::scanner

#include "sensors/scanner/siphash.h"

#include <cstring>

namespace vantage::scanner {
namespace {

inline uint64_t rotl(uint64_t x, int b) {
  return (x << b) | (x >> (64 - b));
}

inline void round(uint64_t& v0, uint64_t& v1, uint64_t& v2, uint64_t& v3) {
  v0 += v1;
  v1 = rotl(v1, 13);
  v1 ^= v0;
  v0 = rotl(v0, 32);
  v2 += v3;
  v3 = rotl(v3, 16);
  v3 ^= v2;
  v0 += v3;
  v3 = rotl(v3, 21);
  v3 ^= v0;
  v2 += v1;
  v1 = rotl(v1, 17);
  v1 ^= v2;
  v2 = rotl(v2, 32);
}

inline uint64_t load_le64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= uint64_t{p[i]} << (8 * i);
  return v;
}

}  // namespace

uint64_t siphash24(const SipKey& key, const void* data, size_t len) {
  const auto* in = static_cast<const uint8_t*>(data);
  uint64_t v0 = 0x736f6d6570736575ull ^ key.k0;
  uint64_t v1 = 0x646f72616e646f6dull ^ key.k1;
  uint64_t v2 = 0x6c7967656e657261ull ^ key.k0;
  uint64_t v3 = 0x7465646279746573ull ^ key.k1;
  const size_t whole = len - (len % 8);
  for (size_t i = 0; i < whole; i += 8) {
    const uint64_t m = load_le64(in + i);
    v3 ^= m;
    round(v0, v1, v2, v3);
    round(v0, v1, v2, v3);
    v0 ^= m;
  }
  uint64_t b = uint64_t{len & 0xff} << 56;
  for (size_t i = 0; i < len % 8; ++i) b |= uint64_t{in[whole + i]} << (8 * i);
  v3 ^= b;
  round(v0, v1, v2, v3);
  round(v0, v1, v2, v3);
  v0 ^= b;
  v2 ^= 0xff;
  for (int i = 0; i < 4; ++i) round(v0, v1, v2, v3);
  return v0 ^ v1 ^ v2 ^ v3;
}

uint64_t probe_validation(const SipKey& key, uint32_t src_ip, uint32_t dst_ip, uint16_t dst_port,
                          uint8_t protocol) {
  uint8_t buf[11];
  std::memcpy(buf, &src_ip, 4);
  std::memcpy(buf + 4, &dst_ip, 4);
  std::memcpy(buf + 8, &dst_port, 2);
  buf[10] = protocol;
  return siphash24(key, buf, sizeof buf);
}

uint64_t probe_validation6(const SipKey& key, const uint8_t src_ip[16], const uint8_t dst_ip[16],
                           uint16_t dst_port, uint8_t protocol) {
  uint8_t buf[35];
  std::memcpy(buf, src_ip, 16);
  std::memcpy(buf + 16, dst_ip, 16);
  std::memcpy(buf + 32, &dst_port, 2);
  buf[34] = protocol;
  return siphash24(key, buf, sizeof buf);
}

}  // namespace vantage::scanner

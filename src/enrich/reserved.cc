#include "enrich/reserved.h"

namespace vantage::enrich {
namespace {

constexpr bool in4(uint32_t a, uint32_t net, int len) {
  return len == 0 || (a >> (32 - len)) == (net >> (32 - len));
}

}  // namespace

bool is_reserved(const IpAddress& a) {
  if (a.is_v4()) {
    const uint32_t v = a.v4();
    switch (v >> 24) {
      case 0:    // 0.0.0.0/8 "this network"
      case 10:   // RFC 1918
      case 127:  // loopback
        return true;
      case 100: return in4(v, 0x64400000, 10);  // 100.64.0.0/10 shared address space
      case 169: return in4(v, 0xA9FE0000, 16);  // 169.254.0.0/16 link-local
      case 172: return in4(v, 0xAC100000, 12);  // 172.16.0.0/12 RFC 1918
      case 192:
        return in4(v, 0xC0000000, 24) ||  // 192.0.0.0/24 IETF protocol assignments
               in4(v, 0xC0000200, 24) ||  // 192.0.2.0/24 TEST-NET-1
               in4(v, 0xC0A80000, 16);    // 192.168.0.0/16 RFC 1918
      case 198:
        return in4(v, 0xC6120000, 15) ||        // 198.18.0.0/15 benchmarking
               in4(v, 0xC6336400, 24);          // 198.51.100.0/24 TEST-NET-2
      case 203: return in4(v, 0xCB007100, 24);  // 203.0.113.0/24 TEST-NET-3
      default: return (v >> 28) >= 0xE;         // 224/4 multicast, 240/4 reserved + broadcast
    }
  }
  const uint64_t hi = a.hi();
  if ((hi >> 61) != 1) return true;                  // outside 2000::/3
  if ((hi >> 32) == 0x20010db8) return true;         // 2001:db8::/32 documentation
  if ((hi >> 16) == 0x200100020000ULL) return true;  // 2001:2::/48 benchmarking
  if ((hi >> 44) == 0x3fff0) return true;            // 3fff::/20 documentation
  return false;
}

}  // namespace vantage::enrich

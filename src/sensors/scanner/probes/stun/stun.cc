// STUN (scan_stun, scan6_stun; RFC 5389) over UDP 3478: a Binding Request (FINGERPRINT only).
// The Binding Success Response echoes our transaction id and carries the address the server
// saw (MAPPED-ADDRESS and/or XOR-MAPPED-ADDRESS, the latter XORed with the magic cookie and,
// for IPv6, the transaction id), usually SOFTWARE and a FINGERPRINT (CRC-32 of the message).
// Address families are reported as the protocol numbers them: 1 IPv4, 2 IPv6.
#include <string>

#include "common/ip.h"
#include "sensors/scanner/probes/text_util.h"
#include "sensors/scanner/probes/udp_util.h"

namespace vantage::scanner {
namespace {

using namespace std::string_literals;

constexpr uint32_t kCookie = 0x2112a442;
const std::string kTxid = "VANTAGEstun1";  // 12 bytes

// CRC-32 (IEEE 802.3, reflected, as zlib's crc32) for the FINGERPRINT attribute.
uint32_t crc32(std::string_view b) {
  uint32_t c = 0xffffffff;
  for (unsigned char x : b) {
    c ^= x;
    for (int i = 0; i < 8; ++i) c = (c & 1) ? (c >> 1) ^ 0xedb88320 : c >> 1;
  }
  return ~c;
}

// Binding Request with a FINGERPRINT (RFC 5389 15.5): servers such as coturn add their own
// FINGERPRINT to the response only when the request carried one.
const std::string& request_bytes() {
  static const std::string r = [] {
    std::string s;
    octets::put_be16(s, 0x0001);  // Binding Request
    octets::put_be16(s, 8);       // the FINGERPRINT attribute
    octets::put_be32(s, kCookie);
    s += kTxid;
    const uint32_t fp = crc32(s) ^ 0x5354554e;
    octets::put_be16(s, 0x8028);
    octets::put_be16(s, 4);
    octets::put_be32(s, fp);
    return s;
  }();
  return r;
}

// An address attribute's value; `x` is the XOR pad (cookie + transaction id), empty if plain.
bool read_address(std::string_view v, std::string_view x, unsigned* family, std::string* addr,
                  unsigned* port) {
  if (v.size() < 8) return false;
  *family = octets::u8(v, 1);
  unsigned p = octets::be16(v, 2);
  if (!x.empty()) p ^= kCookie >> 16;
  *port = p;
  const size_t n = *family == 1 ? 4 : *family == 2 ? 16 : 0;
  if (n == 0 || v.size() < 4 + n) return false;
  uint8_t b[16];
  for (size_t i = 0; i < n; ++i)
    b[i] = static_cast<uint8_t>(octets::u8(v, 4 + i) ^ (x.empty() ? 0 : octets::u8(x, i)));
  *addr = IpAddress::from_bytes(b, static_cast<int>(n)).to_string();
  return true;
}

Result<nlohmann::json> stun_parse(std::string_view framed) {
  const auto ds = udp_unframe(framed);
  for (auto d : ds) {
    if (d.size() < 20 || octets::be32(d, 4) != kCookie || d.substr(8, 12) != kTxid) continue;
    const unsigned type = octets::be16(d, 0);
    if ((type & 0x0110) != 0x0100 && (type & 0x0110) != 0x0110) continue;  // a response class
    nlohmann::json f = nlohmann::json::object();
    f["message_type"] = type;
    f["message_length"] = octets::be16(d, 2);
    f["magic_cookie"] = octets::hex(d.substr(4, 4));
    f["transaction_id"] = octets::hex(d.substr(8, 12));
    std::string pad;
    octets::put_be32(pad, kCookie);
    pad += kTxid;
    std::string_view attrs = d.substr(20, std::min<size_t>(octets::be16(d, 2), d.size() - 20));
    for (int i = 0; i < 64 && attrs.size() >= 4; ++i) {
      const unsigned at = octets::be16(attrs, 0), len = octets::be16(attrs, 2);
      if (attrs.size() - 4 < len) break;
      std::string_view v = attrs.substr(4, len);
      unsigned family = 0, port = 0;
      std::string addr;
      if (at == 0x0001 && read_address(v, {}, &family, &addr, &port)) {
        f["mapped_family"] = family;
        f["mapped_address"] = addr;
        f["mapped_port"] = port;
      } else if ((at == 0x0020 || at == 0x8020) && read_address(v, pad, &family, &addr, &port)) {
        f["xor_mapped_family"] = family;
        f["xor_mapped_address"] = addr;
        f["xor_mapped_port"] = port;
      } else if (at == 0x8022) {
        f["software"] = printable(v, 256);
      } else if (at == 0x8028 && len == 4) {
        f["fingerprint"] = octets::hex(v);
      }
      attrs.remove_prefix(4 + ((size_t{len} + 3) & ~size_t{3}) > attrs.size()
                              ? attrs.size()
                              : 4 + ((size_t{len} + 3) & ~size_t{3}));
    }
    octets::set_amplification(f, ds, request_bytes().size());
    return f;
  }
  return Error::invalid("no STUN response to our transaction");
}

}  // namespace

ProbeModule stun_module() {
  ProbeModule m;
  m.name = "stun";
  m.report_type = "scan_stun";
  m.tag = "stun";
  m.default_port = 3478;
  m.transport = Transport::udp;
  m.columns = {"transaction_id",     "magic_cookie",    "message_length", "message_type",
               "mapped_family",      "mapped_address",  "mapped_port",    "xor_mapped_family",
               "xor_mapped_address", "xor_mapped_port", "software",       "fingerprint",
               "amplification",      "response_size"};
  m.request = [](const ProbeTarget&) { return udp_frames({request_bytes()}); };
  m.complete = octets::any_datagram;
  m.parse = stun_parse;
  return m;
}

}  // namespace vantage::scanner

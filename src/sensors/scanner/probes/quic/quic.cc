// QUIC (scan_quic; RFC 9000 section 6, RFC 8999 invariants) over UDP 443: a long-header
// Initial padded to 1200 bytes (servers ignore shorter ones) with version 0x1a2a3a4a, one of
// the reserved "grease" versions no server speaks, so every QUIC server answers with a Version
// Negotiation packet (version 0) listing the versions it supports. The first four are
// reported as 8-digit hex (00000001 = QUIC v1, 6b3343cf = v2, ff00001d = draft 29).
#include <string>

#include "sensors/scanner/probes/udp_util.h"

namespace vantage::scanner {
namespace {

const std::string kDcid = "VANTAGE1";
const std::string kScid = "vantage2";

const std::string& request_bytes() {
  static const std::string r = [] {
    std::string s;
    s += '\xc3';  // long header, fixed bit, Initial, 4-byte packet number
    octets::put_be32(s, 0x1a2a3a4a);
    s += static_cast<char>(kDcid.size());
    s += kDcid;
    s += static_cast<char>(kScid.size());
    s += kScid;
    s += '\0';  // token length 0
    const size_t rest = 1200 - s.size() - 2;
    octets::put_be16(s, 0x4000 | static_cast<unsigned>(rest));  // 2-byte varint length
    s += std::string(rest, '\0');
    return s;
  }();
  return r;
}

Result<nlohmann::json> quic_parse(std::string_view framed) {
  for (auto d : udp_unframe(framed)) {
    if (d.size() < 7 || !(octets::u8(d, 0) & 0x80) || octets::be32(d, 1) != 0) continue;
    size_t off = 5;
    const unsigned dlen = octets::u8(d, off);
    if (off + 1 + dlen >= d.size() || d.substr(off + 1, dlen) != kScid) continue;
    off += 1 + dlen;
    const unsigned slen = octets::u8(d, off);
    off += 1 + slen;
    if (off > d.size()) continue;
    nlohmann::json f = nlohmann::json::object();
    for (int i = 1; i <= 4 && off + 4 <= d.size(); ++i, off += 4)
      f["version_field_" + std::to_string(i)] = octets::hex(d.substr(off, 4));
    if (f.empty()) continue;
    return f;
  }
  return Error::invalid("no QUIC Version Negotiation reply");
}

}  // namespace

ProbeModule quic_module() {
  ProbeModule m;
  m.name = "quic";
  m.report_type = "scan_quic";
  m.tag = "quic";
  m.default_port = 443;
  m.transport = Transport::udp;
  m.columns = {"version_field_1", "version_field_2", "version_field_3", "version_field_4"};
  m.request = [](const ProbeTarget&) { return udp_frames({request_bytes()}); };
  m.complete = octets::any_datagram;
  m.parse = quic_parse;
  return m;
}

}  // namespace vantage::scanner

// DNP3 (scan_ics, tag dnp3; IEEE 1815-2012 clause 9, the data link layer) over TCP 20000:
// Request Link Status (function 9, primary, from master address 0) frames to destination
// addresses 0-63 in one write, as nmap's dnp3-info does: an outstation answers only for its
// own address, with Link Status (function 11) naming itself as the source. device_id is that DNP3
// address; the link layer says nothing of vendor or model. Frames carry DNP3's CRC-16 (polynomial
// 0x3d65).
#include <string>

#include "sensors/scanner/probes/ics_util.h"

namespace vantage::scanner {
namespace {

constexpr unsigned kDestinations = 64;

uint16_t dnp3_crc(std::string_view b) {
  uint16_t crc = 0;
  for (unsigned char c : b) {
    crc ^= c;
    for (int i = 0; i < 8; ++i)
      crc = (crc & 1) ? static_cast<uint16_t>((crc >> 1) ^ 0xa6bc) : crc >> 1;
  }
  return static_cast<uint16_t>(~crc);
}

std::string link_status_request(unsigned dst) {
  std::string h = "\x05\x64\x05\xc9";  // start, length 5, DIR|PRM|Request Link Status
  octets::put_le16(h, dst);
  octets::put_le16(h, 0);  // source: master 0
  octets::put_le16(h, dnp3_crc(h));
  return h;
}

const std::string& request_bytes() {
  static const std::string r = [] {
    std::string s;
    for (unsigned d = 0; d < kDestinations; ++d) s += link_status_request(d);
    return s;
  }();
  return r;
}

// The first valid link-layer header (start bytes, CRC) in the reply.
bool first_frame(std::string_view b, size_t* at) {
  for (size_t i = 0; i + 10 <= b.size(); ++i) {
    if (octets::u8(b, i) != 0x05 || octets::u8(b, i + 1) != 0x64) continue;
    if (octets::le16(b, i + 8) == dnp3_crc(b.substr(i, 8))) {
      *at = i;
      return true;
    }
  }
  return false;
}

bool dnp3_complete(std::string_view b) {
  size_t at = 0;
  return first_frame(b, &at);
}

Result<nlohmann::json> dnp3_parse(std::string_view b) {
  size_t at = 0;
  if (!first_frame(b, &at)) return Error::invalid("no DNP3 link-layer frame");
  nlohmann::json f = ics::base_fields(b);
  f["device_id"] = std::to_string(octets::le16(b, at + 6));  // the outstation's own address
  return f;
}

}  // namespace

ProbeModule dnp3_module() {
  ProbeModule m;
  m.name = "dnp3";
  m.report_type = "scan_ics";
  m.tag = "dnp3";
  m.default_port = 20000;
  m.columns = ics::columns();
  m.request = [](const ProbeTarget&) { return request_bytes(); };
  m.complete = dnp3_complete;
  m.parse = dnp3_parse;
  return m;
}

}  // namespace vantage::scanner

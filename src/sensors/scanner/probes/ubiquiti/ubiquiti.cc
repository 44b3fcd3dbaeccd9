// Ubiquiti discovery (scan_ubiquiti) over UDP 10001: the 4-byte version 1 discovery request
// that Ubiquiti's own "Device Discovery Tool" broadcasts, sent unicast. airOS/UniFi devices
// answer with a TLV list (type 1 byte, length 2 bytes): 0x01 hardware address, 0x02 MAC + IP,
// 0x03 firmware, 0x0b host (radio) name, 0x0c short model, 0x0d ESSID, 0x14 full model.
#include <string>

#include "sensors/scanner/probes/text_util.h"
#include "sensors/scanner/probes/udp_util.h"

namespace vantage::scanner {
namespace {

using namespace std::string_literals;

const std::string kRequest = "\x01\x00\x00\x00"s;

Result<nlohmann::json> ubiquiti_parse(std::string_view framed) {
  const auto ds = udp_unframe(framed);
  for (auto d : ds) {
    if (d.size() < 4 || octets::u8(d, 0) != 0x01 || octets::u8(d, 1) != 0x00) continue;
    const size_t len = octets::be16(d, 2);
    if (len == 0 || d.size() < 4 + len) continue;
    std::string_view tlvs = d.substr(4, len);
    nlohmann::json f = nlohmann::json::object();
    for (int i = 0; i < 64 && tlvs.size() >= 3; ++i) {
      const unsigned type = octets::u8(tlvs, 0), n = octets::be16(tlvs, 1);
      if (tlvs.size() - 3 < n) break;
      std::string_view v = tlvs.substr(3, n);
      tlvs.remove_prefix(3 + n);
      switch (type) {
        case 0x01:
        case 0x02:
          if (n >= 6 && !f.contains("mac")) f["mac"] = octets::mac(v.substr(0, 6));
          break;
        case 0x03: f["firmware"] = printable(v, 255); break;
        case 0x0b: f["radioname"] = printable(v, 255); break;
        case 0x0c: f["modelshort"] = printable(v, 255); break;
        case 0x0d: f["essid"] = printable(v, 255); break;
        case 0x14: f["modelfull"] = printable(v, 255); break;
        default: break;
      }
    }
    if (f.empty()) continue;
    octets::set_amplification(f, ds, kRequest.size());
    return f;
  }
  return Error::invalid("no Ubiquiti discovery reply");
}

}  // namespace

ProbeModule ubiquiti_module() {
  ProbeModule m;
  m.name = "ubiquiti";
  m.report_type = "scan_ubiquiti";
  m.tag = "ubiquiti";
  m.default_port = 10001;
  m.transport = Transport::udp;
  m.columns = {"mac",       "radioname", "essid",         "modelshort",
               "modelfull", "firmware",  "response_size", "amplification"};
  m.request = [](const ProbeTarget&) { return udp_frames({kRequest}); };
  m.complete = octets::any_datagram;
  m.parse = ubiquiti_parse;
  return m;
}

}  // namespace vantage::scanner

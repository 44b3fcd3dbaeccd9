// EtherNet/IP (scan_ics, tag enip; ODVA CIP Vol. 2, 2-4.2.3) over UDP 44818: the List Identity
// encapsulation command (0x0063), which every EtherNet/IP device answers without a session.
// The CIP Identity item gives vendor id, device type, product code, revision, serial number
// and product name:
//   device_vendor = vendor name (ODVA vendor ids, the common ones; else "vendor <id>"),
//   device_type = device type name (CIP Vol. 1 table 5-1.1; else "type <id>"),
//   device_model = product name, device_version = "major.minor", device_id = serial (hex).
#include <string>

#include "sensors/scanner/probes/ics_util.h"
#include "sensors/scanner/probes/text_util.h"

namespace vantage::scanner {
namespace {

using namespace std::string_literals;

// Command 0x0063 (LE), length 0, session 0, status 0, sender context "VANTAGE\0", options 0.
const std::string kRequest =
    "\x63\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00VANTAGE\x00\x00\x00\x00\x00"s;

std::string vendor_name(unsigned id) {
  switch (id) {
    case 1: return "Rockwell Automation/Allen-Bradley";
    case 5: return "Rockwell Automation/Reliance Electric";
    case 40: return "WAGO Corporation";
    case 44: return "Parker Hannifin";
    case 47: return "Omron Corporation";
    case 49: return "SMC Corporation";
    case 90: return "HMS Industrial Networks AB";
    case 243: return "Schneider Automation";
    case 283: return "Hilscher GmbH";
    case 352: return "Moxa Inc.";
    case 678: return "Cognex Corporation";
    case 1105: return "Phoenix Contact";
    default: return "vendor " + std::to_string(id);
  }
}

std::string device_type_name(unsigned t) {
  switch (t) {
    case 0x00: return "Generic Device (deprecated)";
    case 0x02: return "AC Drive";
    case 0x06: return "Contactor";
    case 0x07: return "General Purpose Discrete I/O";
    case 0x0c: return "Communications Adapter";
    case 0x0e: return "Programmable Logic Controller";
    case 0x10: return "Position Controller";
    case 0x13: return "DC Drive";
    case 0x18: return "Human-Machine Interface";
    case 0x1b: return "Pneumatic Valve(s)";
    case 0x21: return "Managed Ethernet Switch";
    case 0x2b: return "Generic Device (keyable)";
    default: return "type " + std::to_string(t);
  }
}

Result<nlohmann::json> enip_parse(std::string_view framed) {
  const auto ds = udp_unframe(framed);
  for (auto d : ds) {
    if (d.size() < 24 + 2 || octets::le16(d, 0) != 0x0063 || d.substr(12, 8) != "VANTAGE\0"s)
      continue;
    if (octets::le32(d, 8) != 0) return Error::invalid("EtherNet/IP status error");
    std::string_view items = d.substr(24);
    const unsigned count = octets::le16(items, 0);
    size_t off = 2;
    for (unsigned i = 0; i < count && i < 8 && off + 4 <= items.size(); ++i) {
      const unsigned type = octets::le16(items, off), len = octets::le16(items, off + 2);
      off += 4;
      if (items.size() - off < len) break;
      std::string_view it = items.substr(off, len);
      off += len;
      // Identity: version(2) socket address(16) vendor(2) type(2) product(2) rev(2)
      // status(2) serial(4) name(1+n) state(1).
      if (type != 0x000c || it.size() < 33) continue;
      nlohmann::json f = ics::base_fields(d);
      f["device_vendor"] = vendor_name(octets::le16(it, 18));
      f["device_type"] = device_type_name(octets::le16(it, 20));
      f["device_version"] =
          std::to_string(octets::u8(it, 24)) + "." + std::to_string(octets::u8(it, 25));
      std::string serial;
      for (int k = 3; k >= 0; --k) serial += octets::hex(it.substr(28 + static_cast<size_t>(k), 1));
      f["device_id"] = serial;
      const unsigned n = octets::u8(it, 32);
      if (it.size() >= 33 + size_t{n})
        ics::set_if(f, "device_model", printable(it.substr(33, n), 255));
      return f;
    }
  }
  return Error::invalid("no EtherNet/IP List Identity reply");
}

}  // namespace

ProbeModule enip_module() {
  ProbeModule m;
  m.name = "enip";
  m.report_type = "scan_ics";
  m.tag = "enip";
  m.default_port = 44818;
  m.transport = Transport::udp;
  m.columns = ics::columns();
  m.request = [](const ProbeTarget&) { return udp_frames({kRequest}); };
  m.complete = octets::any_datagram;
  m.parse = enip_parse;
  return m;
}

}  // namespace vantage::scanner

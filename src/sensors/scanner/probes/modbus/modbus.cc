// Modbus/TCP (scan_ics, tag modbus; Modbus Application Protocol v1.1b3, 6.21) over TCP 502:
// Read Device Identification (function 43, MEI type 14), "regular" category (code 02, from
// object 0): VendorName (0), ProductCode (1), MajorMinorRevision (2), VendorUrl (3),
// ProductName (4), ModelName (5). Unit id 0xff addresses the gateway itself. An exception
// reply (function 0xab) still proves a Modbus server and is reported with what it has.
//   device_vendor = VendorName, device_model = ModelName or ProductName, device_version =
//   MajorMinorRevision, device_id = ProductCode, device_type = ProductName when a model name
//   was given too.
#include <string>

#include "sensors/scanner/probes/ics_util.h"
#include "sensors/scanner/probes/text_util.h"

namespace vantage::scanner {
namespace {

using namespace std::string_literals;

// MBAP: transaction 0x5641, protocol 0, length 5, unit 0xff; PDU 2b 0e 02 00.
const std::string kRequest = "\x56\x41\x00\x00\x00\x05\xff\x2b\x0e\x02\x00"s;

bool modbus_complete(std::string_view b) {
  return b.size() >= 6 && b.size() >= 6 + size_t{octets::be16(b, 4)};
}

Result<nlohmann::json> modbus_parse(std::string_view b) {
  if (b.size() < 9 || octets::be16(b, 0) != 0x5641 || octets::be16(b, 2) != 0)
    return Error::invalid("no Modbus/TCP reply to our transaction");
  const size_t len = octets::be16(b, 4);
  if (len < 3 || b.size() < 6 + len) return Error::invalid("truncated Modbus/TCP reply");
  const std::string_view pdu = b.substr(7, len - 1);
  nlohmann::json f = ics::base_fields(b.substr(0, 6 + len));
  if (octets::u8(pdu, 0) == 0xab) return f;  // exception: Modbus, no identification
  if (octets::u8(pdu, 0) != 0x2b || pdu.size() < 7 || octets::u8(pdu, 1) != 0x0e)
    return Error::invalid("Modbus reply is not a device identification");
  std::string obj[7];
  const unsigned count = octets::u8(pdu, 6);
  size_t off = 7;
  for (unsigned i = 0; i < count && off + 2 <= pdu.size(); ++i) {
    const unsigned id = octets::u8(pdu, off), n = octets::u8(pdu, off + 1);
    if (pdu.size() - off - 2 < n) break;
    if (id < 7) obj[id] = printable(pdu.substr(off + 2, n), 255);
    off += 2 + n;
  }
  ics::set_if(f, "device_vendor", obj[0]);
  ics::set_if(f, "device_id", obj[1]);
  ics::set_if(f, "device_version", obj[2]);
  ics::set_if(f, "device_model", obj[5].empty() ? obj[4] : obj[5]);
  if (!obj[5].empty()) ics::set_if(f, "device_type", obj[4]);
  return f;
}

}  // namespace

ProbeModule modbus_module() {
  ProbeModule m;
  m.name = "modbus";
  m.report_type = "scan_ics";
  m.tag = "modbus";
  m.default_port = 502;
  m.columns = ics::columns();
  m.request = [](const ProbeTarget&) { return kRequest; };
  m.complete = modbus_complete;
  m.parse = modbus_parse;
  return m;
}

}  // namespace vantage::scanner

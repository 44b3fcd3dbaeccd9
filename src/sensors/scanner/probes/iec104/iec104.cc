// IEC 60870-5-104 (scan_ics, tag iec104) over TCP 2404: TESTFR act and STARTDT act (U-format
// APDUs), then a general interrogation (C_IC_NA_1, type 100, cause 6 activation) to the
// broadcast common address 0xffff. A controlled station confirms STARTDT (0x0b) and answers
// the interrogation with I-format APDUs whose ASDU carries its own common address
// (device_id). The U-format confirmations alone already identify an IEC 104 server; the
// protocol says nothing of vendor or model.
#include <string>

#include "sensors/scanner/probes/ics_util.h"

namespace vantage::scanner {
namespace {

using namespace std::string_literals;

const std::string kRequest =
    "\x68\x04\x43\x00\x00\x00"                                            // TESTFR act
    "\x68\x04\x07\x00\x00\x00"                                            // STARTDT act
    "\x68\x0e\x00\x00\x00\x00\x64\x01\x06\x00\xff\xff\x00\x00\x00\x14"s;  // GI, QOI 20

// Walks the APDUs (0x68, length, control...) at the front of the reply.
template <typename F>
void for_each_apdu(std::string_view b, F&& f) {
  size_t off = 0;
  for (int n = 0; n < 256 && off + 6 <= b.size() && octets::u8(b, off) == 0x68; ++n) {
    const size_t len = octets::u8(b, off + 1);
    if (len < 4 || off + 2 + len > b.size()) return;
    f(b.substr(off, 2 + len));
    off += 2 + len;
  }
}

bool iec104_complete(std::string_view b) {
  bool started = false, iframe = false;
  for_each_apdu(b, [&](std::string_view a) {
    if (octets::u8(a, 2) == 0x0b) started = true;
    if ((octets::u8(a, 2) & 1) == 0 && a.size() >= 12) iframe = true;
  });
  return started && iframe;
}

Result<nlohmann::json> iec104_parse(std::string_view b) {
  bool u_confirm = false;
  std::string common_address;
  for_each_apdu(b, [&](std::string_view a) {
    const unsigned c = octets::u8(a, 2);
    if (c == 0x0b || c == 0x83) u_confirm = true;  // STARTDT con, TESTFR con
    if ((c & 1) == 0 && a.size() >= 12 && common_address.empty())
      common_address = std::to_string(octets::le16(a, 10));
  });
  if (!u_confirm) return Error::invalid("no IEC 104 STARTDT/TESTFR confirmation");
  nlohmann::json f = ics::base_fields(b);
  ics::set_if(f, "device_id", common_address);
  return f;
}

}  // namespace

ProbeModule iec104_module() {
  ProbeModule m;
  m.name = "iec104";
  m.report_type = "scan_ics";
  m.tag = "iec104";
  m.default_port = 2404;
  m.columns = ics::columns();
  m.request = [](const ProbeTarget&) { return kRequest; };
  m.complete = iec104_complete;
  m.parse = iec104_parse;
  return m;
}

}  // namespace vantage::scanner

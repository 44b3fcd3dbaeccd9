// GTP (scan_gtp; 3GPP TS 29.060 7.2.1, TS 29.274 7.1.1) over UDP 2123 (GTP-C): a GTPv1 Echo
// Request (sequence number present). A GGSN/SGSN/PGW answers Echo Response (type 2) with the
// Recovery information element (restart counter); a GTPv2-only node may answer a Version Not
// Supported Indication (type 3). The header fields and the restart counter are reported.
#include <string>

#include "sensors/scanner/probes/udp_util.h"

namespace vantage::scanner {
namespace {

using namespace std::string_literals;

// Flags 0x32 (version 1, GTP, S), Echo Request, length 4, TEID 0, sequence 0x5641, N-PDU 0,
// next extension 0.
const std::string kRequest = "\x32\x01\x00\x04\x00\x00\x00\x00\x56\x41\x00\x00"s;

const char* type_text(unsigned t) {
  switch (t) {
    case 1: return "Echo Request";
    case 2: return "Echo Response";
    case 3: return "Version Not Supported";
    case 26: return "Error Indication";
    default: return "";
  }
}

Result<nlohmann::json> gtp_parse(std::string_view framed) {
  const auto ds = udp_unframe(framed);
  for (auto d : ds) {
    if (d.size() < 8) continue;
    const unsigned flags = octets::u8(d, 0), type = octets::u8(d, 1);
    const unsigned version = flags >> 5;
    if ((version != 1 && version != 2) || (type != 2 && type != 3)) continue;
    nlohmann::json f = nlohmann::json::object();
    f["flags"] = flags;
    f["message_type"] = type;
    f["message_type_text"] = type_text(type);
    f["message_length"] = octets::be16(d, 2);
    size_t ies = 8;
    if (version == 1) {
      f["teid"] = octets::be32(d, 4);
      if ((flags & 0x07) && d.size() >= 12) {
        f["sequence"] = octets::be16(d, 8);
        ies = 12;
      }
      if (ies + 2 <= d.size() && octets::u8(d, ies) == 14) f["recovery"] = octets::u8(d, ies + 1);
    } else {
      f["sequence"] = (uint32_t{octets::u8(d, 4)} << 16) | octets::be16(d, 5);
      if (d.size() >= 13 && octets::u8(d, 8) == 3)  // Recovery IE: type 3, length 1
        f["recovery"] = octets::u8(d, 12);
    }
    f["response_size"] = octets::reply_bytes(ds);
    f["raw_response"] = octets::hex(d, 1024);
    return f;
  }
  return Error::invalid("no GTP Echo Response");
}

}  // namespace

ProbeModule gtp_module() {
  ProbeModule m;
  m.name = "gtp";
  m.report_type = "scan_gtp";
  m.tag = "gtp";
  m.default_port = 2123;
  m.transport = Transport::udp;
  m.columns = {"flags",    "message_type", "message_type_text", "message_length", "teid",
               "sequence", "recovery",     "response_size",     "raw_response"};
  m.request = [](const ProbeTarget&) { return udp_frames({kRequest}); };
  m.complete = octets::any_datagram;
  m.parse = gtp_parse;
  return m;
}

}  // namespace vantage::scanner

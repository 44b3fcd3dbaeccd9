// TFTP (scan_tftp, RFC 1350) over UDP 69: a read request (RRQ, octet mode) for a file name no
// server has. A TFTP server answers from a new port (its transfer identifier) with ERROR
// (opcode 5: error code and message, usually 1 "File not found") or, if the name exists, the
// first DATA block (opcode 3), which is never acknowledged, so the transfer stops there. The
// module sets reply_from_any_port: the engine accepts replies from any port of the target.
#include "sensors/scanner/probes/text_util.h"
#include "sensors/scanner/probes/udp_util.h"

namespace vantage::scanner {
namespace {

using namespace std::string_literals;

const std::string kRequest = "\x00\x01vantage-probe-nonexistent.bin\x00octet\x00"s;

// RFC 1350 section 5 error codes (8 is RFC 2347's option negotiation refusal).
const char* error_text(unsigned code) {
  static const char* const names[] = {"Not defined",
                                      "File not found",
                                      "Access violation",
                                      "Disk full or allocation exceeded",
                                      "Illegal TFTP operation",
                                      "Unknown transfer ID",
                                      "File already exists",
                                      "No such user",
                                      "Option negotiation refused"};
  return code < 9 ? names[code] : "Unknown";
}

Result<nlohmann::json> tftp_parse(std::string_view framed) {
  const auto ds = udp_unframe(framed);
  for (auto d : ds) {
    if (d.size() < 4) continue;
    const unsigned opcode = octets::be16(d, 0);
    if (opcode != 3 && opcode != 5 && opcode != 6) continue;  // DATA, ERROR, OACK
    nlohmann::json f = nlohmann::json::object();
    f["opcode"] = opcode;
    if (opcode == 5) {
      const unsigned code = octets::be16(d, 2);
      std::string_view msg = d.substr(4);
      if (auto nul = msg.find('\0'); nul != std::string_view::npos) msg = msg.substr(0, nul);
      f["errorcode"] = code;
      f["error"] = error_text(code);
      f["errormessage"] = printable(msg, 256);
    }
    octets::set_amplification(f, ds, kRequest.size());
    return f;
  }
  return Error::invalid("no TFTP reply (DATA, ERROR or OACK)");
}

}  // namespace

ProbeModule tftp_module() {
  ProbeModule m;
  m.name = "tftp";
  m.report_type = "scan_tftp";
  m.tag = "tftp";
  m.default_port = 69;
  m.transport = Transport::udp;
  m.reply_from_any_port = true;
  m.columns = {"opcode", "errorcode", "error", "errormessage", "response_size", "amplification"};
  m.request = [](const ProbeTarget&) { return udp_frames({kRequest}); };
  m.complete = octets::any_datagram;
  m.parse = tftp_parse;
  return m;
}

}  // namespace vantage::scanner

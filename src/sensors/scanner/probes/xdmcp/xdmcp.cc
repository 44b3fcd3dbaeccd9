// XDMCP (scan_xdmcp; X Display Manager Control Protocol 1.1) over UDP 177: a Query with no
// authentication names. A display manager that accepts remote logins answers Willing
// (opcode 5: authentication name, its host name, a status text such as the load); one that
// does not, Unwilling (opcode 6: host name, status). Both are reported.
#include <string>

#include "sensors/scanner/probes/text_util.h"
#include "sensors/scanner/probes/udp_util.h"

namespace vantage::scanner {
namespace {

using namespace std::string_literals;

// Version 1, opcode 2 (Query), length 1, authentication names: an empty ARRAYofARRAY8.
const std::string kRequest = "\x00\x01\x00\x02\x00\x01\x00"s;

// Reads an ARRAY8 (16-bit length, bytes) at *off.
bool array8(std::string_view d, size_t* off, std::string_view* out) {
  if (*off + 2 > d.size()) return false;
  const unsigned n = octets::be16(d, *off);
  if (d.size() - *off - 2 < n) return false;
  *out = d.substr(*off + 2, n);
  *off += 2 + n;
  return true;
}

Result<nlohmann::json> xdmcp_parse(std::string_view framed) {
  const auto ds = udp_unframe(framed);
  for (auto d : ds) {
    if (d.size() < 6 || octets::be16(d, 0) != 1) continue;
    const unsigned opcode = octets::be16(d, 2);
    size_t off = 6;
    std::string_view auth, host, status;
    if (opcode == 5) {
      if (!array8(d, &off, &auth) || !array8(d, &off, &host) || !array8(d, &off, &status)) continue;
    } else if (opcode == 6) {
      if (!array8(d, &off, &host) || !array8(d, &off, &status)) continue;
    } else {
      continue;
    }
    nlohmann::json f = nlohmann::json::object();
    f["opcode"] = opcode == 5 ? "Willing" : "Unwilling";
    f["reported_hostname"] = printable(host, 256);
    f["status"] = printable(status, 256);
    octets::set_amplification(f, ds, kRequest.size());
    return f;
  }
  return Error::invalid("no XDMCP Willing/Unwilling reply");
}

}  // namespace

ProbeModule xdmcp_module() {
  ProbeModule m;
  m.name = "xdmcp";
  m.report_type = "scan_xdmcp";
  m.tag = "xdmcp";
  m.default_port = 177;
  m.transport = Transport::udp;
  m.columns = {"opcode", "reported_hostname", "status", "response_size", "amplification"};
  m.request = [](const ProbeTarget&) { return udp_frames({kRequest}); };
  m.complete = octets::any_datagram;
  m.parse = xdmcp_parse;
  return m;
}

}  // namespace vantage::scanner

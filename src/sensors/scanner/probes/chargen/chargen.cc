// Chargen (scan_chargen, RFC 864) over UDP 19: any datagram is answered with a datagram of
// 0 to 512 printable characters, the classic reflection amplifier. One byte is sent, so the
// amplification is the reply's size. A reply that is not chargen's printable ASCII (plus line
// ends) is some other service on the port and yields no event.
#include "sensors/scanner/probes/udp_util.h"

namespace vantage::scanner {
namespace {

const std::string kRequest = "\n";

bool looks_like_chargen(std::string_view d) {
  if (d.empty()) return false;
  for (char c : d) {
    const auto u = static_cast<unsigned char>(c);
    if (!(u >= 0x20 && u < 0x7f) && c != '\r' && c != '\n') return false;
  }
  return true;
}

Result<nlohmann::json> chargen_parse(std::string_view framed) {
  const auto ds = udp_unframe(framed);
  if (ds.empty() || !looks_like_chargen(ds.front()))
    return Error::invalid("no chargen reply (printable characters)");
  nlohmann::json f = nlohmann::json::object();
  octets::set_amplification(f, ds, kRequest.size());
  return f;
}

}  // namespace

ProbeModule chargen_module() {
  ProbeModule m;
  m.name = "chargen";
  m.report_type = "scan_chargen";
  m.tag = "chargen";
  m.default_port = 19;
  m.transport = Transport::udp;
  m.columns = {"response_size", "amplification"};
  m.request = [](const ProbeTarget&) { return udp_frames({kRequest}); };
  m.complete = octets::any_datagram;
  m.parse = chargen_parse;
  return m;
}

}  // namespace vantage::scanner

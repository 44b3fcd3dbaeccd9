// NAT-PMP (scan_nat_pmp; RFC 6886) over UDP 5351: the external address request (version 0,
// opcode 0). A gateway that answers it from the Internet side exposes its mapping service
// there. The reply (opcode 128) gives the result code, seconds since the mapping table was
// initialised (uptime) and the external IPv4 address.
#include <string>

#include "sensors/scanner/probes/udp_util.h"

namespace vantage::scanner {
namespace {

using namespace std::string_literals;

const std::string kRequest = "\x00\x00"s;

Result<nlohmann::json> nat_pmp_parse(std::string_view framed) {
  const auto ds = udp_unframe(framed);
  for (auto d : ds) {
    if (d.size() < 8 || octets::u8(d, 0) != 0 || octets::u8(d, 1) < 128) continue;
    nlohmann::json f = nlohmann::json::object();
    f["version"] = octets::u8(d, 0);
    f["opcode"] = octets::u8(d, 1);
    f["uptime"] = octets::be32(d, 4);
    if (octets::u8(d, 1) == 128 && octets::be16(d, 2) == 0 && d.size() >= 12)
      f["external_ip"] = octets::ipv4(d.substr(8, 4));
    octets::set_amplification(f, ds, kRequest.size());
    return f;
  }
  return Error::invalid("no NAT-PMP reply");
}

}  // namespace

ProbeModule nat_pmp_module() {
  ProbeModule m;
  m.name = "nat_pmp";
  m.report_type = "scan_nat_pmp";
  m.tag = "nat-pmp";
  m.default_port = 5351;
  m.transport = Transport::udp;
  m.columns = {"version", "opcode", "uptime", "external_ip", "response_size", "amplification"};
  m.request = [](const ProbeTarget&) { return udp_frames({kRequest}); };
  m.complete = octets::any_datagram;
  m.parse = nat_pmp_parse;
  return m;
}

}  // namespace vantage::scanner

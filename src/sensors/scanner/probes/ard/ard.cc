// Apple Remote Desktop's agent (scan_ard) on UDP 3283 (the "net-assistant" port): a 5-byte
// status query (00 14 00 01 03, the one nmap's service probes send) is answered by the ARD
// agent with a fixed-layout status block of some 1000 bytes, whose machine name is a
// length-prefixed string at offset 126: an amplifier (Shadowserver counts it among UDP
// reflection vectors) that also names the Mac.
//
// machine_name: that name; response_size/amplification over our 5 bytes.
#include <string>

#include "sensors/scanner/probes/text_util.h"
#include "sensors/scanner/probes/udp_util.h"

namespace vantage::scanner {
namespace {

using namespace std::string_literals;

const std::string kRequest = "\x00\x14\x00\x01\x03"s;
constexpr size_t kNameAt = 126;

Result<nlohmann::json> ard_parse(std::string_view framed) {
  const auto datagrams = udp_unframe(framed);
  for (auto d : datagrams) {
    // Status reply: 00 01, then the agent's version word, then the block (nmap's layout:
    // 0x01 at offset 41 and 0x12 at 83 in every agent version seen).
    if (d.size() < kNameAt + 2 || d.substr(0, 2) != "\x00\x01"s || d[41] != '\x01' ||
        d[83] != '\x12')
      continue;
    const size_t n = octets::u8(d, kNameAt);
    if (n == 0 || d.size() - kNameAt - 1 < n) continue;
    std::string_view name = d.substr(kNameAt + 1, n);
    name = name.substr(0, name.find('\0'));
    nlohmann::json f = nlohmann::json::object();
    f["machine_name"] = printable(name, 256);
    octets::set_amplification(f, datagrams, kRequest.size());
    return f;
  }
  return Error::invalid("no ARD status reply");
}

}  // namespace

ProbeModule ard_module() {
  ProbeModule m;
  m.name = "ard";
  m.report_type = "scan_ard";
  m.tag = "ard";
  m.default_port = 3283;
  m.transport = Transport::udp;
  m.columns = {"machine_name", "response_size", "amplification"};
  m.request = [](const ProbeTarget&) { return udp_frames({kRequest}); };
  m.complete = octets::any_datagram;
  m.parse = ard_parse;
  return m;
}

}  // namespace vantage::scanner

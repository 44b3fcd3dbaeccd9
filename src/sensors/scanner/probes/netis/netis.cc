// The Netcore/Netis router backdoor (scan_netis_router): a service on UDP 53413, reachable
// from the WAN side, that takes commands after a password hard-coded in the firmware (Trend
// Micro, August 2014). The probe is Shadowserver's: a bare line feed, no password. A router
// with the backdoor answers with its login prompt; anything without "Login" is not it.
//
// response: the reply's printable text; response_size/amplification over our one byte.
#include <string>

#include "common/strings.h"
#include "sensors/scanner/probes/text_util.h"
#include "sensors/scanner/probes/udp_util.h"

namespace vantage::scanner {
namespace {

const std::string kRequest = "\n";

Result<nlohmann::json> netis_parse(std::string_view framed) {
  const auto datagrams = udp_unframe(framed);
  for (auto d : datagrams) {
    if (d.find("Login") == std::string_view::npos) continue;
    nlohmann::json f = nlohmann::json::object();
    f["response"] = std::string(trim(printable(d, 512)));  // the prompt, without the blank line
    octets::set_amplification(f, datagrams, kRequest.size());
    return f;
  }
  return Error::invalid("no backdoor login prompt");
}

}  // namespace

ProbeModule netis_module() {
  ProbeModule m;
  m.name = "netis";
  m.report_type = "scan_netis_router";
  m.tag = "netis";
  m.default_port = 53413;
  m.transport = Transport::udp;
  m.columns = {"response", "response_size", "amplification"};
  m.request = [](const ProbeTarget&) { return udp_frames({kRequest}); };
  m.complete = octets::any_datagram;
  m.parse = netis_parse;
  return m;
}

}  // namespace vantage::scanner

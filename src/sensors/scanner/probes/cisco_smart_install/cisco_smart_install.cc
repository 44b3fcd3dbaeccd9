// Cisco Smart Install client (scan_cisco_smart_install): TCP 4786 on switches with the
// "vstack" director-client feature on, which accepts unauthenticated configuration and
// image commands (CVE-2018-0171; Cisco's advisory cisco-sa-20170214-smi). The probe is the
// one Cisco Talos published (smi_check): a 24-byte message of four 32-bit words, 1 1 4 8 1 0,
// to which a Smart Install client answers with exactly 4 0 3 8 1 0. Nothing else is sent:
// no configuration is read or written.
//
// The report type has no columns of its own: the event is the finding.
#include <string>

#include "sensors/scanner/probes/probe.h"

namespace vantage::scanner {
namespace {

using namespace std::string_literals;

const std::string kProbe =
    "\x00\x00\x00\x01\x00\x00\x00\x01\x00\x00\x00\x04\x00\x00\x00\x08\x00\x00\x00\x01"
    "\x00\x00\x00\x00"s;
const std::string kClientAnswer =
    "\x00\x00\x00\x04\x00\x00\x00\x00\x00\x00\x00\x03\x00\x00\x00\x08\x00\x00\x00\x01"
    "\x00\x00\x00\x00"s;

Result<nlohmann::json> smi_parse(std::string_view b) {
  if (b.substr(0, kClientAnswer.size()) != kClientAnswer)
    return Error::invalid("not a Smart Install client answer");
  return nlohmann::json::object();
}

}  // namespace

ProbeModule cisco_smart_install_module() {
  ProbeModule m;
  m.name = "cisco_smart_install";
  m.report_type = "scan_cisco_smart_install";
  m.tag = "cisco-smart-install";
  m.default_port = 4786;
  m.columns = {};
  m.request = [](const ProbeTarget&) { return kProbe; };
  m.complete = [](std::string_view b) { return b.size() >= kClientAnswer.size(); };
  m.parse = smi_parse;
  return m;
}

}  // namespace vantage::scanner

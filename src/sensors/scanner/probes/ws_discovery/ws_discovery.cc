// WS-Discovery (scan_ws_discovery; OASIS WS-Discovery 1.1) over UDP 3702: a SOAP-over-UDP
// Probe with no types (every target service), sent unicast. Devices that answer it from the
// Internet (cameras, printers: the 2020 reflection attacks) reply ProbeMatches; some answer a
// SOAP Fault instead, whose reason goes in `error`. raw_response is the reply in hex (1 KiB).
#include <string>

#include "sensors/scanner/probes/text_util.h"
#include "sensors/scanner/probes/udp_util.h"

namespace vantage::scanner {
namespace {

const std::string kProbe =
    "<?xml version=\"1.0\" encoding=\"utf-8\"?>"
    "<soap:Envelope xmlns:soap=\"http://www.w3.org/2003/05/soap-envelope\" "
    "xmlns:wsa=\"http://schemas.xmlsoap.org/ws/2004/08/addressing\" "
    "xmlns:wsd=\"http://schemas.xmlsoap.org/ws/2005/04/discovery\">"
    "<soap:Header><wsa:To>urn:schemas-xmlsoap-org:ws:2005:04:discovery</wsa:To>"
    "<wsa:Action>http://schemas.xmlsoap.org/ws/2005/04/discovery/Probe</wsa:Action>"
    "<wsa:MessageID>urn:uuid:56414e54-4147-4500-8000-000000000001</wsa:MessageID>"
    "</soap:Header><soap:Body><wsd:Probe/></soap:Body></soap:Envelope>";

// The text of the first element whose local name is `name` (any namespace prefix).
std::string element_text(std::string_view xml, std::string_view name) {
  for (size_t at = 0; (at = xml.find(name, at)) != std::string_view::npos; at += name.size()) {
    if (at == 0 || (xml[at - 1] != ':' && xml[at - 1] != '<')) continue;
    const size_t gt = xml.find('>', at);
    if (gt == std::string_view::npos) return {};
    const size_t end = xml.find('<', gt);
    if (end == std::string_view::npos) return {};
    return printable(xml.substr(gt + 1, end - gt - 1), 512);
  }
  return {};
}

Result<nlohmann::json> ws_discovery_parse(std::string_view framed) {
  const auto ds = udp_unframe(framed);
  for (auto d : ds) {
    if (d.find("Envelope") == std::string_view::npos) continue;
    const bool matches = d.find("ProbeMatch") != std::string_view::npos;
    const bool fault = d.find("Fault") != std::string_view::npos;
    if (!matches && !fault) continue;
    nlohmann::json f = nlohmann::json::object();
    if (fault) {
      std::string reason = element_text(d, "Text");
      if (reason.empty()) reason = element_text(d, "Value");
      f["error"] = reason.empty() ? "SOAP Fault" : reason;
    }
    f["raw_response"] = octets::hex(d, 1024);
    octets::set_amplification(f, ds, kProbe.size());
    return f;
  }
  return Error::invalid("no WS-Discovery ProbeMatches or Fault");
}

}  // namespace

ProbeModule ws_discovery_module() {
  ProbeModule m;
  m.name = "ws_discovery";
  m.report_type = "scan_ws_discovery";
  m.tag = "ws-discovery";
  m.default_port = 3702;
  m.transport = Transport::udp;
  m.columns = {"response_size", "amplification", "error", "raw_response"};
  m.request = [](const ProbeTarget&) { return udp_frames({kProbe}); };
  m.complete = octets::any_datagram;
  m.parse = ws_discovery_parse;
  return m;
}

}  // namespace vantage::scanner

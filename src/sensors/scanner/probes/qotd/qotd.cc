// Quote of the Day (scan_qotd, RFC 865) over UDP 17: any datagram is answered with a short
// text (up to 512 characters). The quote is reported as printable text; a reply with binary
// bytes in it is not QOTD and yields no event.
#include "sensors/scanner/probes/text_util.h"
#include "sensors/scanner/probes/udp_util.h"

namespace vantage::scanner {
namespace {

const std::string kRequest = "\n";

Result<nlohmann::json> qotd_parse(std::string_view framed) {
  const auto ds = udp_unframe(framed);
  if (ds.empty() || ds.front().empty()) return Error::invalid("no QOTD reply");
  size_t binary = 0;
  for (char c : ds.front()) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 && c != '\r' && c != '\n' && c != '\t') ++binary;
  }
  if (binary > 0) return Error::invalid("reply has control bytes: not a quote");
  nlohmann::json f = nlohmann::json::object();
  f["quote"] = printable(ds.front(), 1024);
  octets::set_amplification(f, ds, kRequest.size());
  return f;
}

}  // namespace

ProbeModule qotd_module() {
  ProbeModule m;
  m.name = "qotd";
  m.report_type = "scan_qotd";
  m.tag = "qotd";
  m.default_port = 17;
  m.transport = Transport::udp;
  m.columns = {"quote", "response_size", "amplification"};
  m.request = [](const ProbeTarget&) { return udp_frames({kRequest}); };
  m.complete = octets::any_datagram;
  m.parse = qotd_parse;
  return m;
}

}  // namespace vantage::scanner

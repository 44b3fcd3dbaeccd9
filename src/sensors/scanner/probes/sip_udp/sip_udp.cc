// SIP over UDP (scan_sip, the transport most SIP servers and phones listen on): the same
// OPTIONS as over TCP (sip/sip.h) in one datagram to port 5060, with ";rport" in the Via
// (RFC 3581) so the answer comes back to our port. The first datagram that is a SIP response
// fills the columns; response_size/amplification count every datagram that came back (an
// OPTIONS answer is the reflection vector Shadowserver's SIP report is about).
#include <string>

#include "sensors/scanner/probes/sip/sip.h"
#include "sensors/scanner/probes/udp_util.h"

namespace vantage::scanner {
namespace {

// The request's size for amplification: the same for every IPv4 target on a 4-digit port.
size_t request_size() {
  static const size_t n =
      sip_options_request({IpAddress::parse("192.0.2.1").value(), 5060}, "udp").size();
  return n;
}

Result<nlohmann::json> sip_udp_parse(std::string_view framed) {
  const auto datagrams = udp_unframe(framed);
  for (auto d : datagrams) {
    auto f = sip_parse_answer(d, request_size());
    if (!f) continue;
    octets::set_amplification(*f, datagrams, request_size());
    return f;
  }
  return Error::invalid("no SIP response");
}

}  // namespace

ProbeModule sip_udp_module() {
  ProbeModule m;
  m.name = "sip_udp";
  m.report_type = "scan_sip";
  m.tag = "sip";
  m.default_port = 5060;
  m.transport = Transport::udp;
  m.columns = {"sip",      "sip_code",       "sip_reason",    "user_agent",   "sip_via", "sip_to",
               "sip_from", "content_length", "content_type",  "server",       "contact", "cseq",
               "call_id",  "allow",          "amplification", "response_size"};
  m.request = [](const ProbeTarget& t) { return udp_frames({sip_options_request(t, "udp")}); };
  // One answer is enough; a provisional 1xx would be followed by the final one, but servers
  // answer OPTIONS at once.
  m.complete = octets::any_datagram;
  m.parse = sip_udp_parse;
  return m;
}

}  // namespace vantage::scanner

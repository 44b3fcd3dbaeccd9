// TR-069 / CWMP connection-request servers (scan_cwmp) on CPE routers, TCP 7547: one GET /.
// A CPE answers its ACS's connection requests on this port, which TR-069 (Amendment 6,
// section 3.2.2) says MUST be authenticated, so a CPE answers an anonymous GET with 401 and
// a WWW-Authenticate challenge (Digest, often with the vendor in the realm); some stacks name
// CWMP or TR-069 in a header, or answer with a SOAP body in the CWMP namespace
// ("urn:dslforum-org:cwmp-1-x", TR-069 section A.3.1). An event needs one of those marks: an
// ordinary web page on the port is not a CWMP server, even one whose text says "cwmp". The
// columns are the reply's HTTP headers.
#include <string>

#include "common/strings.h"
#include "sensors/scanner/probes/web/web.h"

namespace vantage::scanner {
namespace {

bool mentions_cwmp(std::string_view s) {
  const std::string l = to_lower(s.substr(0, 16384));
  return l.find("cwmp") != std::string::npos || l.find("tr-069") != std::string::npos ||
         l.find("tr069") != std::string::npos;
}

// The CWMP SOAP namespace in a body; free text that merely names the protocol is no mark.
bool cwmp_soap_body(std::string_view body) {
  return to_lower(body.substr(0, 16384)).find("urn:dslforum-org:cwmp-") != std::string::npos;
}

Result<nlohmann::json> interpret(const std::vector<HttpReply>& replies, const nlohmann::json&) {
  const HttpReply& r = replies[0];
  bool mark = r.code == 401 && r.header("www-authenticate").has_value();
  if (!mark) mark = cwmp_soap_body(r.body);
  for (const auto& [name, value] : r.headers)
    if (!mark && mentions_cwmp(value)) mark = true;
  if (!mark) return Error::invalid("no CWMP mark in the reply");
  return http_reply_columns(r);
}

}  // namespace

ProbeModule cwmp_module() {
  return web_module(
      "cwmp", "scan_cwmp", 7547,
      {"http", "http_code", "http_reason", "content_type", "connection", "www_authenticate",
       "set_cookie", "server", "content_length", "transfer_encoding", "http_date"},
      WebProbe{{"/"}, false, interpret});
}

}  // namespace vantage::scanner

// SOCKS proxies (scan_socks): the SOCKS5 method-selection greeting only (RFC 1928 section 3):
// version 5, offering "no authentication" (0x00) and "username/password" (0x02). A SOCKS5
// server answers with two bytes, version 5 and the method it picked (0xff: none of ours). A
// SOCKS4-only server that gets this greeting answers, if at all, with a SOCKS4 reply (version
// 0, status 0x5a-0x5d). No CONNECT, BIND or UDP ASSOCIATE is ever sent: nothing is relayed.
//
// scan_socks has no columns of its own; the tag says which version answered, and a proxy
// that picks "no authentication" (an open relay for anyone) gets severity high.
#include <string>

#include "sensors/scanner/probes/probe.h"
#include "sensors/scanner/probes/wire.h"

namespace vantage::scanner {
namespace {

using namespace std::string_literals;
const std::string kGreeting = "\x05\x02\x00\x02"s;

Result<nlohmann::json> socks_parse(std::string_view b) {
  // Exactly one two-byte answer: any more bytes are another protocol talking.
  if (b.size() != 2) return Error::invalid("not a SOCKS method selection");
  const uint32_t version = wire::byte(b, 0), code = wire::byte(b, 1);
  nlohmann::json f = nlohmann::json::object();
  if (version == 5 && (code == 0x00 || code == 0x02 || code == 0xff)) {
    f["tag"] = "socks5";
    if (code == 0x00) f["severity"] = "high";
    return f;
  }
  if (version == 0 && code >= 0x5a && code <= 0x5d) {
    f["tag"] = "socks4";
    return f;
  }
  return Error::invalid("not a SOCKS reply");
}

}  // namespace

ProbeModule socks_module() {
  ProbeModule m;
  m.name = "socks";
  m.report_type = "scan_socks";
  m.tag = "socks";
  m.default_port = 1080;
  m.columns = {};
  m.request = [](const ProbeTarget&) { return kGreeting; };
  m.complete = [](std::string_view b) { return b.size() >= 2; };
  m.parse = socks_parse;
  return m;
}

}  // namespace vantage::scanner

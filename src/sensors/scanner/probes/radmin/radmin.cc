// Radmin (Famatech's remote-control server, scan_radmin) on TCP 4899: the client's first
// message (01 00 00 00 01 00 00 00 08 08), answered by a Radmin server with a 0x25-byte
// structure describing the protocol it speaks and the authentication it wants (the shapes
// nmap's service probes list: byte 7 is 1 for Radmin 2.x and 2 for 3.x; bytes 5 and 12
// repeat the authentication mode). A server that refuses our address answers with a short
// "blocked" message (01 00 00 00 09 00 00 10 4f ...), still Radmin. No authentication is
// attempted.
//
// version: "2.x" or "3.x" as the answer tells (empty when the server blocked us).
#include <string>

#include "sensors/scanner/probes/probe.h"
#include "sensors/scanner/probes/wire.h"

namespace vantage::scanner {
namespace {

using namespace std::string_literals;

const std::string kHello = "\x01\x00\x00\x00\x01\x00\x00\x00\x08\x08"s;
const std::string kPrefix = "\x01\x00\x00\x00"s;

Result<nlohmann::json> radmin_parse(std::string_view b) {
  if (b.size() < 14 || b.substr(0, 4) != kPrefix) return Error::invalid("not a Radmin answer");
  nlohmann::json f = nlohmann::json::object();
  const uint32_t kind = wire::byte(b, 4);
  if (kind == 0x25 && b[6] == '\0' && b[9] == '\x08' && b[11] == '\0' && b[5] == b[12]) {
    const uint32_t major = wire::byte(b, 7);
    if (major == 1 || major == 2) f["version"] = major == 1 ? "2.x" : "3.x";
    return f;
  }
  if (kind == 0x09 && b.substr(5, 4) == "\x00\x00\x10\x4f"s) return f;  // our address blocked
  return Error::invalid("not a Radmin answer");
}

}  // namespace

ProbeModule radmin_module() {
  ProbeModule m;
  m.name = "radmin";
  m.report_type = "scan_radmin";
  m.tag = "radmin";
  m.default_port = 4899;
  m.columns = {"version"};
  m.request = [](const ProbeTarget&) { return kHello; };
  m.complete = [](std::string_view b) { return b.size() >= 14; };
  m.parse = radmin_parse;
  return m;
}

}  // namespace vantage::scanner

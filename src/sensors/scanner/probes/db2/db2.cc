// IBM DB2 discovery service (scan_db2) on UDP 523: the DB2 Administration Server answers a
// "DB2GETADDR\0SQL<level>\0" request (what DB2's own discovery broadcasts) with
// "DB2RETADDR\0", its product level ("SQLvvrrm\0": version, release, modification) and its
// node (host) name, NUL-terminated, in a reply padded to some 300 bytes: an amplifier, and a
// database server that tells anyone its name and release.
//
// db2_hostname: the node name; servername: the product level as sent ("SQL11058"), the name
// the DAS identifies its server software by; response_size/amplification over our request.
#include <string>

#include "sensors/scanner/probes/text_util.h"
#include "sensors/scanner/probes/udp_util.h"

namespace vantage::scanner {
namespace {

using namespace std::string_literals;

const std::string kRequest = "DB2GETADDR\0SQL09010\0"s;
const std::string kReply = "DB2RETADDR\0"s;

// The NUL-terminated string at `pos` (to the end when unterminated).
std::string_view cstring(std::string_view d, size_t pos) {
  if (pos >= d.size()) return {};
  const std::string_view s = d.substr(pos);
  return s.substr(0, s.find('\0'));
}

Result<nlohmann::json> db2_parse(std::string_view framed) {
  const auto datagrams = udp_unframe(framed);
  for (auto d : datagrams) {
    if (!d.starts_with(kReply)) continue;
    const std::string_view level = cstring(d, kReply.size());
    if (level.size() < 4 || !level.starts_with("SQL")) continue;
    nlohmann::json f = nlohmann::json::object();
    f["servername"] = printable(level, 32);
    const std::string_view host = cstring(d, kReply.size() + level.size() + 1);
    if (!host.empty()) f["db2_hostname"] = printable(host, 256);
    octets::set_amplification(f, datagrams, kRequest.size());
    return f;
  }
  return Error::invalid("no DB2RETADDR reply");
}

}  // namespace

ProbeModule db2_module() {
  ProbeModule m;
  m.name = "db2";
  m.report_type = "scan_db2";
  m.tag = "db2";
  m.default_port = 523;
  m.transport = Transport::udp;
  m.columns = {"db2_hostname", "servername", "response_size", "amplification"};
  m.request = [](const ProbeTarget&) { return udp_frames({kRequest}); };
  m.complete = octets::any_datagram;
  m.parse = db2_parse;
  return m;
}

}  // namespace vantage::scanner

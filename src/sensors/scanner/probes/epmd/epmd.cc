// Erlang Port Mapper Daemon (scan_epmd): one NAMES_REQ ("\0\x01n": length 1, request 110,
// Erlang's erts "EPMD protocol" section). epmd answers with its own port number (4 bytes, big
// endian) and a text line "name <node> at port <port>\n" per registered node, then closes.
// Every node listed is an Erlang distribution port an attacker who learns (or guesses) its
// cookie can run code on (RabbitMQ, CouchDB, ejabberd ...).
//
// nodes: "<node>:<port>" for each node, joined with "|" (empty when none is registered; a
// reply of only the 4-byte port is still epmd).
#include <string>
#include <vector>

#include "common/strings.h"
#include "sensors/scanner/probes/probe.h"
#include "sensors/scanner/probes/text_util.h"
#include "sensors/scanner/probes/wire.h"

namespace vantage::scanner {
namespace {

using namespace std::string_literals;
const std::string kNamesReq = "\x00\x01n"s;
constexpr size_t kMaxNodes = 256;

// One "name <node> at port <port>" line; false when the line is anything else.
bool node_line(std::string_view line, std::string* out) {
  constexpr std::string_view kName = "name ", kAt = " at port ";
  if (!line.starts_with(kName)) return false;
  const size_t at = line.rfind(kAt);
  if (at == std::string_view::npos || at < kName.size()) return false;
  const auto port = parse_uint(line.substr(at + kAt.size()));
  if (!port || *port > 65535) return false;
  *out = printable(line.substr(kName.size(), at - kName.size()), 255) + ":" + std::to_string(*port);
  return true;
}

Result<nlohmann::json> epmd_parse(std::string_view b) {
  if (b.size() < 4) return Error::invalid("no EPMD port number");
  const uint32_t own_port = wire::be32(b, 0);
  if (own_port == 0 || own_port > 65535) return Error::invalid("not an EPMD NAMES reply");
  // Only whole lines: a line cut off by a timeout is dropped, not judged.
  std::string_view text = b.substr(4);
  const size_t last_nl = text.rfind('\n');
  const std::string_view tail = last_nl == std::string_view::npos ? text : text.substr(last_nl + 1);
  // A line cut off may only be the start of another node line: four bytes that look like a
  // port and then binary (an OpenWire frame, a Smart Install answer) are not epmd.
  constexpr std::string_view kName = "name ";
  if (!tail.empty() && !tail.starts_with(kName) && !kName.starts_with(tail))
    return Error::invalid("not an EPMD NAMES reply");
  text = text.substr(0, last_nl == std::string_view::npos ? 0 : last_nl + 1);
  std::vector<std::string> nodes;
  bool bad = false;
  for_each_line(text, [&](std::string_view line) {
    if (line.empty() || bad) return;
    std::string node;
    if (!node_line(line, &node)) {
      bad = true;
      return;
    }
    if (nodes.size() < kMaxNodes) nodes.push_back(std::move(node));
  });
  // The text after the port is epmd's own lines or nothing; anything else (an HTTP reply
  // whose first four bytes happen to look like a small number) is not epmd.
  if (bad) return Error::invalid("not EPMD node lines");
  nlohmann::json f = nlohmann::json::object();
  f["nodes"] = join(nodes, "|");
  return f;
}

}  // namespace

ProbeModule epmd_module() {
  ProbeModule m;
  m.name = "epmd";
  m.report_type = "scan_epmd";
  m.tag = "epmd";
  m.default_port = 4369;
  m.columns = {"nodes"};
  m.request = [](const ProbeTarget&) { return kNamesReq; };
  // epmd closes the connection after the last line; until then more nodes may follow.
  m.complete = [](std::string_view) { return false; };
  m.parse = epmd_parse;
  return m;
}

}  // namespace vantage::scanner

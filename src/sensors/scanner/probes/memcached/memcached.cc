// memcached text protocol: "stats" answered by "STAT <name> <value>" lines and "END".
#include "sensors/scanner/probes/probe.h"
#include "sensors/scanner/probes/text_util.h"

namespace vantage::scanner {
namespace {

bool memcached_complete(std::string_view b) {
  return b.find("END\r\n") != std::string_view::npos || b.find("ERROR") != std::string_view::npos;
}

Result<nlohmann::json> memcached_parse(std::string_view b) {
  nlohmann::json f = nlohmann::json::object();
  const std::pair<const char*, const char*> map[] = {{"version", "version"},
                                                     {"pid", "pid"},
                                                     {"pointer_size", "pointer_size"},
                                                     {"uptime", "uptime"},
                                                     {"time", "time"},
                                                     {"curr_connections", "curr_connections"},
                                                     {"total_connections", "total_connections"}};
  bool any = false;
  for_each_line(b, [&](std::string_view line) {
    if (line.substr(0, 5) != "STAT ") return;
    line.remove_prefix(5);
    const size_t sp = line.find(' ');
    if (sp == std::string_view::npos) return;
    const auto key = line.substr(0, sp);
    for (const auto& [k, col] : map)
      if (key == k) {
        f[col] = printable(line.substr(sp + 1), 128);
        any = true;
      }
  });
  if (!any) return Error::invalid("no memcached STAT lines");
  // The size of the reply to our 7-byte request: the UDP amplification figure in scan_memcached.
  f["response_size"] = b.size();
  f["amplification"] = static_cast<double>(b.size()) / 7.0;
  return f;
}

}  // namespace

ProbeModule memcached_module() {
  ProbeModule m;
  m.name = "memcached";
  m.report_type = "scan_memcached";
  m.tag = "memcached";
  m.default_port = 11211;
  m.columns = {
      "version",           "pid",           "pointer_size", "uptime", "time", "curr_connections",
      "total_connections", "response_size", "amplification"};
  m.request = [](const ProbeTarget&) { return std::string("stats\r\n"); };
  m.complete = memcached_complete;
  m.parse = memcached_parse;
  return m;
}

}  // namespace vantage::scanner

// Niagara Fox (scan_ics, tag fox) over TCP 1911: the "fox hello" a Niagara Workbench sends
// first; a Niagara station (JACE controllers, Niagara AX/N4 supervisors) answers with its own
// hello, a block of key=type:value lines ending in "};;". Mapping:
//   device_vendor = brandId, device_type = app.name (Station), device_model = station.name,
//   device_version = app.version, device_id = hostId.
#include <map>
#include <string>

#include "sensors/scanner/probes/ics_util.h"
#include "sensors/scanner/probes/text_util.h"

namespace vantage::scanner {
namespace {

const std::string kHello = "fox a 1 -1 fox hello\n{\nfox.version=s:1.0\nid=i:1\n};;\n";

bool fox_complete(std::string_view b) {
  return b.find("};;") != std::string_view::npos;
}

Result<nlohmann::json> fox_parse(std::string_view b) {
  if (!b.starts_with("fox a ")) return Error::invalid("not a Niagara Fox hello");
  std::map<std::string, std::string> kv;
  for_each_line(b.substr(0, 16384), [&](std::string_view line) {
    const size_t eq = line.find('='), colon = line.find(':', eq == std::string_view::npos ? 0 : eq);
    if (eq == std::string_view::npos || colon == std::string_view::npos || kv.size() > 64) return;
    kv[std::string(line.substr(0, eq))] = printable(line.substr(colon + 1), 255);
  });
  if (!kv.count("fox.version")) return Error::invalid("Fox reply without fox.version");
  nlohmann::json f = ics::base_fields(b.substr(0, std::min<size_t>(b.size(), 16384)));
  ics::set_if(f, "device_vendor", kv["brandId"]);
  ics::set_if(f, "device_type", kv["app.name"]);
  ics::set_if(f, "device_model", kv["station.name"]);
  ics::set_if(f, "device_version", kv["app.version"]);
  ics::set_if(f, "device_id", kv["hostId"]);
  return f;
}

}  // namespace

ProbeModule fox_module() {
  ProbeModule m;
  m.name = "fox";
  m.report_type = "scan_ics";
  m.tag = "fox";
  m.default_port = 1911;
  m.columns = ics::columns();
  m.request = [](const ProbeTarget&) { return kHello; };
  m.complete = fox_complete;
  m.parse = fox_parse;
  return m;
}

}  // namespace vantage::scanner

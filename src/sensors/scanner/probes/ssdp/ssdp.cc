// SSDP (scan_ssdp): a unicast M-SEARCH for ssdp:all (UPnP Device Architecture 1.1, 1.3.2) and
// the HTTPU reply's headers. A device may answer once per service; the first reply is enough
// to report it, and every reply that arrived counts towards response_size.
#include <cctype>
#include <string>

#include "sensors/scanner/probes/probe.h"
#include "sensors/scanner/probes/text_util.h"

namespace vantage::scanner {
namespace {

const std::string kSearch =
    "M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMAN: \"ssdp:discover\"\r\n"
    "MX: 1\r\nST: ssdp:all\r\n\r\n";

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool ssdp_complete(std::string_view framed) {
  return !udp_unframe(framed).empty();
}

Result<nlohmann::json> ssdp_parse(std::string_view framed) {
  const auto ds = udp_unframe(framed);
  for (auto d : ds) {
    if (d.substr(0, 7) != "HTTP/1." && d.substr(0, 7) != "NOTIFY ") continue;
    nlohmann::json f = nlohmann::json::object();
    bool first = true;
    static const std::pair<const char*, const char*> map[] = {{"cache-control", "cache_control"},
                                                              {"location", "location"},
                                                              {"server", "server"},
                                                              {"st", "search_target"},
                                                              {"usn", "unique_service_name"},
                                                              {"host", "host"},
                                                              {"nts", "nts"},
                                                              {"nt", "nt"},
                                                              {"content-type", "content_type"},
                                                              {"date", "systime"}};
    int lines = 0;
    for_each_line(d, [&](std::string_view line) {
      if (++lines > 64) return;
      if (first) {
        f["header"] = printable(line, 256);
        first = false;
        return;
      }
      const size_t c = line.find(':');
      if (c == std::string_view::npos) return;
      const std::string name = lower(line.substr(0, c));
      std::string_view value = line.substr(c + 1);
      while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
      for (const auto& [h, col] : map)
        if (name == h && !f.contains(col)) f[col] = printable(value, 512);
    });
    size_t resp = 0;
    for (auto x : ds) resp += x.size();
    f["response_size"] = resp;
    f["amplification"] = static_cast<double>(resp) / static_cast<double>(kSearch.size());
    return f;
  }
  return Error::invalid("no SSDP (HTTPU) reply");
}

}  // namespace

ProbeModule ssdp_module() {
  ProbeModule m;
  m.name = "ssdp";
  m.report_type = "scan_ssdp";
  m.tag = "ssdp";
  m.default_port = 1900;
  m.transport = Transport::udp;
  m.columns = {"header",
               "systime",
               "cache_control",
               "location",
               "server",
               "search_target",
               "unique_service_name",
               "host",
               "nts",
               "nt",
               "content_type",
               "response_size",
               "amplification"};
  m.request = [](const ProbeTarget&) { return udp_frames({kSearch}); };
  m.complete = ssdp_complete;
  m.parse = ssdp_parse;
  return m;
}

}  // namespace vantage::scanner

// MS-SQL Server Resolution Service (scan_mssql; [MC-SQLR]) over UDP 1434: CLNT_UCAST_EX
// (0x03), which asks the SQL Server Browser for every instance. The SVR_RESP (0x05, 16-bit
// little-endian length) is a ";"-separated key;value list per instance, instances ending in
// ";;". The first instance's ServerName, InstanceName, Version, tcp port and named pipe are
// reported; the browser is a reflection amplifier, hence response_size and amplification.
#include <map>
#include <string>

#include "sensors/scanner/probes/text_util.h"
#include "sensors/scanner/probes/udp_util.h"

namespace vantage::scanner {
namespace {

const std::string kRequest = "\x03";

Result<nlohmann::json> mssql_parse(std::string_view framed) {
  const auto ds = udp_unframe(framed);
  for (auto d : ds) {
    if (d.size() < 3 || octets::u8(d, 0) != 0x05) continue;
    const size_t len = octets::le16(d, 1);
    std::string_view text = d.substr(3, std::min(len, d.size() - 3));
    if (text.find("ServerName;") == std::string_view::npos) continue;
    text = text.substr(0, text.find(";;"));
    std::map<std::string, std::string> kv;
    for (int i = 0; i < 64 && !text.empty(); ++i) {
      const size_t k = text.find(';');
      if (k == std::string_view::npos) break;
      const size_t v = text.find(';', k + 1);
      kv[std::string(text.substr(0, k))] =
          printable(text.substr(k + 1, v == std::string_view::npos ? v : v - k - 1), 255);
      text = v == std::string_view::npos ? std::string_view{} : text.substr(v + 1);
    }
    nlohmann::json f = nlohmann::json::object();
    const std::pair<const char*, const char*> map[] = {{"ServerName", "server_name"},
                                                       {"InstanceName", "instance_name"},
                                                       {"Version", "version"},
                                                       {"tcp", "tcp_port"},
                                                       {"np", "named_pipe"}};
    for (const auto& [key, column] : map)
      if (auto it = kv.find(key); it != kv.end() && !it->second.empty()) f[column] = it->second;
    octets::set_amplification(f, ds, kRequest.size());
    return f;
  }
  return Error::invalid("no SQL Server Browser reply");
}

}  // namespace

ProbeModule mssql_module() {
  ProbeModule m;
  m.name = "mssql";
  m.report_type = "scan_mssql";
  m.tag = "mssql";
  m.default_port = 1434;
  m.transport = Transport::udp;
  m.columns = {"version",    "server_name",   "instance_name", "tcp_port",
               "named_pipe", "response_size", "amplification"};
  m.request = [](const ProbeTarget&) { return udp_frames({kRequest}); };
  m.complete = octets::any_datagram;
  m.parse = mssql_parse;
  return m;
}

}  // namespace vantage::scanner

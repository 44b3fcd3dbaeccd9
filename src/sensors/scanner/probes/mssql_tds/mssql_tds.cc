// Microsoft SQL Server over TCP: a TDS PRELOGIN ([MS-TDS] 2.2.6.5), the first message of
// every TDS connection, sent before any login. The server answers with its own PRELOGIN
// options; VERSION carries the product version (major, minor, build, sub-build).
//
// The catalogue's scan_mssql is Shadowserver's "Open MS-SQL Server Resolution Service"
// report, filled by the SQL Browser on UDP 1434; over TCP a PRELOGIN gives `version` (written
// "15.0.2000.5" as the Browser writes it) and response_size, not the instance name, named
// pipe or amplification, which only the UDP service reports.
#include <cstdio>
#include <string>

#include "sensors/scanner/probes/probe.h"
#include "sensors/scanner/probes/wire.h"

namespace vantage::scanner {
namespace {

using namespace std::string_literals;

std::string prelogin() {
  // Options: VERSION (6 bytes), ENCRYPTION (1: ENCRYPT_OFF), INSTOPT (1: ""), THREADID (4),
  // MARS (1), terminator; each token is type, offset (BE16), length (BE16).
  const struct {
    uint8_t type;
    std::string data;
  } opts[] = {{0x00, "\x00\x00\x00\x00\x00\x00"s},
              {0x01, "\x00"s},
              {0x02, "\x00"s},
              {0x03, "\x00\x00\x00\x00"s},
              {0x04, "\x00"s}};
  std::string tokens, data;
  const size_t table = std::size(opts) * 5 + 1;
  for (const auto& o : opts) {
    tokens += static_cast<char>(o.type);
    wire::put_be16(tokens, static_cast<uint32_t>(table + data.size()));
    wire::put_be16(tokens, static_cast<uint32_t>(o.data.size()));
    data += o.data;
  }
  tokens += '\xff';
  const std::string payload = tokens + data;
  std::string pkt = "\x12\x01"s;  // PRELOGIN, end of message
  wire::put_be16(pkt, static_cast<uint32_t>(8 + payload.size()));
  pkt += "\x00\x00\x01\x00"s;  // SPID, packet id 1, window
  return pkt + payload;
}

bool tds_complete(std::string_view b) {
  return b.size() >= 8 && (b[0] != '\x04' || b.size() >= wire::be16(b, 2));
}

Result<nlohmann::json> tds_parse(std::string_view b) {
  if (b.size() < 8 || b[0] != '\x04') return Error::invalid("no TDS tabular reply");
  const size_t len = wire::be16(b, 2);
  if (len < 8 || len > b.size()) return Error::invalid("truncated TDS packet");
  const std::string_view p = b.substr(8, len - 8);
  for (size_t i = 0; i + 5 <= p.size() && p[i] != '\xff'; i += 5) {
    const size_t off = wire::be16(p, i + 1), n = wire::be16(p, i + 3);
    if (p[i] != '\x00') continue;
    if (n < 6 || off + n > p.size()) return Error::invalid("bad PRELOGIN VERSION");
    char v[64];
    std::snprintf(v, sizeof v, "%u.%u.%u.%u", wire::byte(p, off), wire::byte(p, off + 1),
                  unsigned{wire::be16(p, off + 2)}, unsigned{wire::be16(p, off + 4)});
    nlohmann::json f = nlohmann::json::object();
    f["version"] = v;
    f["response_size"] = len;
    return f;
  }
  return Error::invalid("PRELOGIN reply without VERSION");
}

}  // namespace

ProbeModule mssql_tds_module() {
  ProbeModule m;
  m.name = "mssql_tds";
  m.report_type = "scan_mssql";
  m.tag = "mssql";
  m.default_port = 1433;
  m.columns = {"version", "response_size"};
  m.request = [](const ProbeTarget&) { return prelogin(); };
  m.complete = tds_complete;
  m.parse = tds_parse;
  return m;
}

}  // namespace vantage::scanner

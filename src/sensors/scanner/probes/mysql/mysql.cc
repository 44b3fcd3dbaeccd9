// MySQL/MariaDB (scan_mysql): the server speaks first with its initial handshake packet
// (protocol 10: version string, connection id, capability flags) or an ERR packet ("Host ...
// is not allowed to connect"). We read that one packet and hang up; nothing is sent.
#include <cstdio>
#include <string>

#include "sensors/scanner/probes/probe.h"
#include "sensors/scanner/probes/text_util.h"

namespace vantage::scanner {
namespace {

unsigned u8(std::string_view b, size_t i) {
  return static_cast<unsigned char>(b[i]);
}

bool mysql_complete(std::string_view b) {
  if (b.size() < 4) return false;
  const size_t len = u8(b, 0) | (u8(b, 1) << 8) | (u8(b, 2) << 16);
  return b.size() >= 4 + len;
}

// Capability flags (MySQL client/server protocol, "Capabilities Flags"), bit by bit.
constexpr std::pair<uint32_t, const char*> kCaps[] = {
    {1u << 0, "client_long_password"},
    {1u << 1, "client_found_rows"},
    {1u << 2, "client_long_flag"},
    {1u << 3, "client_connect_with_db"},
    {1u << 4, "client_no_schema"},
    {1u << 5, "client_compress"},
    {1u << 6, "client_odbc"},
    {1u << 7, "client_local_files"},
    {1u << 8, "client_ignore_space"},
    {1u << 9, "client_protocol_41"},
    {1u << 10, "client_interactive"},
    {1u << 11, "client_ssl"},
    {1u << 12, "client_ignore_sigpipe"},
    {1u << 13, "client_transactions"},
    {1u << 14, "client_reserved"},
    {1u << 15, "client_secure_connection"},
    {1u << 16, "client_multi_statements"},
    {1u << 17, "client_multi_results"},
    {1u << 18, "client_ps_multi_results"},
    {1u << 19, "client_plugin_auth"},
    {1u << 20, "client_connect_attrs"},
    {1u << 21, "client_plugin_auth_len_enc_client_data"},
    {1u << 22, "client_can_handle_expired_passwords"},
    {1u << 23, "client_session_track"},
    {1u << 24, "client_deprecated_eof"}};

Result<nlohmann::json> mysql_parse(std::string_view b) {
  if (b.size() < 5) return Error::invalid("short MySQL packet");
  const size_t len = u8(b, 0) | (u8(b, 1) << 8) | (u8(b, 2) << 16);
  if (len == 0 || b.size() - 4 < len) return Error::invalid("truncated MySQL packet");
  if (u8(b, 3) != 0) return Error::invalid("MySQL greeting with sequence id != 0");
  const std::string_view p = b.substr(4, len);
  nlohmann::json f = nlohmann::json::object();
  if (u8(p, 0) == 0xff) {  // ERR_Packet: code, optional '#' + SQLSTATE, message
    if (p.size() < 3) return Error::invalid("short MySQL error packet");
    f["error_code"] = std::to_string(u8(p, 1) | (u8(p, 2) << 8));
    std::string_view rest = p.substr(3);
    if (!rest.empty() && rest[0] == '#' && rest.size() >= 6) {
      f["error_id"] = printable(rest.substr(1, 5), 5);
      rest.remove_prefix(6);
    }
    f["error_message"] = printable(rest, 512);
    return f;
  }
  if (u8(p, 0) != 10 && u8(p, 0) != 9) return Error::invalid("not a MySQL handshake");
  f["mysql_protocol_version"] = std::to_string(u8(p, 0));
  const size_t nul = p.find('\0', 1);
  if (nul == std::string_view::npos || nul > 256) return Error::invalid("bad MySQL version");
  const std::string version = printable(p.substr(1, nul - 1), 256);
  if (version.empty()) return Error::invalid("empty MySQL version");
  f["server_version"] = version;
  f["version"] = version;
  f["handshake"] = "HandshakeV" + std::to_string(u8(p, 0));
  // Protocol 10: thread id (4), auth data part 1 (8), filler (1), capabilities low (2),
  // charset (1), status (2), capabilities high (2).
  size_t off = nul + 1 + 4 + 8 + 1;
  if (u8(p, 0) == 10 && p.size() >= off + 2) {
    uint32_t caps = u8(p, off) | (u8(p, off + 1) << 8);
    if (p.size() >= off + 7) caps |= (uint32_t{u8(p, off + 5)} << 16) | (u8(p, off + 6) << 24);
    for (const auto& [bit, col] : kCaps) f[col] = (caps & bit) != 0;
  }
  return f;
}

}  // namespace

ProbeModule mysql_module() {
  ProbeModule m;
  m.name = "mysql";
  m.report_type = "scan_mysql";
  m.tag = "mysql";
  m.default_port = 3306;
  m.columns = {"version",  "mysql_protocol_version", "server_version", "error_code",
               "error_id", "error_message",          "handshake"};
  for (const auto& [bit, col] : kCaps) m.columns.emplace_back(col);
  m.request = [](const ProbeTarget&) { return std::string(); };
  m.complete = mysql_complete;
  m.parse = mysql_parse;
  return m;
}

}  // namespace vantage::scanner

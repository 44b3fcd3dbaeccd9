// Edge-device fingerprints over HTTPS (scan_http, tag = the product): the login pages that
// Citrix NetScaler/Gateway, Fortinet FortiGate SSL-VPN, Ivanti (Pulse) Connect Secure and
// Palo Alto GlobalProtect serve to anyone, fetched the way a browser would (GET, no
// credentials, no exploit paths). Each module needs two independent marks of its product in
// the page (a product name and a path only that product uses), so an ordinary web server, or
// another vendor's appliance, yields no event: the fingerprints must have no false positive.
// version: Ivanti's nc_gina_ver.txt, a public file its network-connect client downloads,
// names the product version; the others do not publish theirs without a lookup table.
#include <regex>

#include "sensors/scanner/probes/starttls/starttls.h"
#include "sensors/scanner/probes/text_util.h"
#include "sensors/scanner/probes/web/web.h"

namespace vantage::scanner {
namespace {

bool has(const std::string& s, std::string_view needle) {
  return s.find(needle) != std::string::npos;
}

const std::vector<std::string>& edge_columns() {
  static const std::vector<std::string> c{
      "http",           "http_code",         "http_reason", "content_type",
      "connection",     "www_authenticate",  "set_cookie",  "server",
      "content_length", "transfer_encoding", "http_date",   "version"};
  return c;
}

Result<nlohmann::json> citrix(const std::vector<HttpReply>& rs, const nlohmann::json&) {
  const std::string& b = rs[0].body;
  if (!(has(b, "Citrix Gateway") || has(b, "NetScaler Gateway") || has(b, "NetScaler AAA")) ||
      !has(b, "/vpn/"))
    return Error::invalid("not a Citrix NetScaler Gateway");
  return http_reply_columns(rs[0]);
}

Result<nlohmann::json> fortinet(const std::vector<HttpReply>& rs, const nlohmann::json&) {
  const std::string& b = rs[0].body;
  if (!(has(b, "fgt_lang") || has(b, "ftnt-fortinet-grid")) ||
      !(has(b, "/remote/") || has(b, "/sslvpn/")))
    return Error::invalid("not a FortiGate SSL-VPN");
  return http_reply_columns(rs[0]);
}

Result<nlohmann::json> ivanti(const std::vector<HttpReply>& rs, const nlohmann::json&) {
  const std::string& b = rs[0].body;
  if (!(has(b, "Ivanti Connect Secure") || has(b, "Pulse Connect Secure") ||
        has(b, "Pulse Secure")) ||
      !has(b, "/dana-na/"))
    return Error::invalid("not an Ivanti Connect Secure");
  nlohmann::json f = http_reply_columns(rs[0]);
  if (rs.size() > 1 && rs[1].code == 200) {
    static const std::regex version(R"re(NAME="ProductVersion"\s+VALUE="([0-9][0-9.R]{0,40})")re",
                                    std::regex::icase);
    std::smatch m;
    const std::string body = rs[1].body.substr(0, 8192);
    if (std::regex_search(body, m, version)) f["version"] = m[1].str();
  }
  return f;
}

Result<nlohmann::json> paloalto(const std::vector<HttpReply>& rs, const nlohmann::json&) {
  const std::string& b = rs[0].body;
  if (!has(b, "GlobalProtect") || !has(b, "global-protect/"))
    return Error::invalid("not a Palo Alto GlobalProtect portal");
  return http_reply_columns(rs[0]);
}

}  // namespace

ProbeModule citrix_module() {
  return web_module("citrix", "scan_http", 443, edge_columns(),
                    WebProbe{{"/vpn/index.html"}, true, citrix});
}
ProbeModule fortinet_module() {
  return web_module("fortinet", "scan_http", 443, edge_columns(),
                    WebProbe{{"/remote/login?lang=en"}, true, fortinet});
}
ProbeModule ivanti_module() {
  return web_module(
      "ivanti", "scan_http", 443, edge_columns(),
      WebProbe{
          {"/dana-na/auth/url_default/welcome.cgi", "/dana-na/nc/nc_gina_ver.txt"}, true, ivanti});
}
ProbeModule paloalto_module() {
  return web_module("paloalto", "scan_http", 443, edge_columns(),
                    WebProbe{{"/global-protect/login.esp"}, true, paloalto});
}

}  // namespace vantage::scanner

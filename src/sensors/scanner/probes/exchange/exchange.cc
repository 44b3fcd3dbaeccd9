// Microsoft Exchange's Outlook on the web (scan_exchange): an HTTPS GET of the public OWA
// logon page, /owa/auth/logon.aspx, which every Exchange 2010-2019 Client Access service
// serves to anyone. The build number (what decides ProxyLogon, ProxyShell, ProxyNotShell and
// the later CVEs, and whether the release is still supported) is in the X-OWA-Version header
// when the server sends it, else in the page's resource paths ("/owa/auth/15.1.2507/themes/",
// "/owa/14.3.123.4/themes/"). X-FEServer names the front-end server that answered.
//
// An event needs an OWA mark (the X-OWA-Version header, or OWA's resource path plus the page's
// OWA form): another web server yields nothing. url: the path fetched.
#include <regex>
#include <string>

#include "sensors/scanner/probes/text_util.h"
#include "sensors/scanner/probes/web/web.h"

namespace vantage::scanner {
namespace {

constexpr const char* kPath = "/owa/auth/logon.aspx";

Result<nlohmann::json> interpret(const std::vector<HttpReply>& rs, const nlohmann::json&) {
  const HttpReply& r = rs[0];
  nlohmann::json f = nlohmann::json::object();
  std::string version;
  if (auto v = r.header("x-owa-version")) version = printable(*v, 64);
  static const std::regex kResource(R"(/owa/(?:auth/)?(1[4-9]\.\d{1,2}\.\d{1,4}(?:\.\d{1,4})?)/)");
  std::smatch m;
  const std::string head = r.body.substr(0, 65536);
  const bool owa_page =
      head.find("logon.aspx") != std::string::npos || head.find("Outlook") != std::string::npos;
  if (version.empty() && owa_page && std::regex_search(head, m, kResource)) version = m[1];
  if (version.empty()) return Error::invalid("no Outlook on the web page");
  f["version"] = version;
  if (auto s = r.header("x-feserver")) f["servername"] = printable(*s, 256);
  f["url"] = kPath;
  return f;
}

}  // namespace

ProbeModule ms_exchange_module() {
  return web_module("exchange", "scan_exchange", 443, {"version", "servername", "url"},
                    WebProbe{{kPath}, true, interpret});
}

}  // namespace vantage::scanner

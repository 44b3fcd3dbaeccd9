// Open HTTP proxies (scan_http_proxy): a GET with an absolute URI (RFC 9112 section 3.2.2),
// which only a proxy acts on. The URI names the probed address and port itself, so a proxy
// that forwards it connects back to its own listener and nothing outside the probed host is
// ever contacted. An event needs proof of a proxy in the answer: a Via header (RFC 9110
// section 7.6.3, which a forwarding proxy must add), a 407 with Proxy-Authenticate, or a
// proxy's own error page headers (X-Squid-Error). An origin server that ignores the absolute
// form answers without any of them and yields no event.
#include "common/strings.h"
#include "sensors/scanner/probes/http/http.h"
#include "sensors/scanner/probes/probe.h"
#include "sensors/scanner/probes/text_util.h"

namespace vantage::scanner {
namespace {

std::string proxy_request(const ProbeTarget& t) {
  const std::string host = (t.ip.is_v4() ? t.ip.to_string() : "[" + t.ip.to_string() + "]") + ":" +
                           std::to_string(t.port);
  return http_get_request(host, "http://" + host + "/");
}

Result<nlohmann::json> proxy_parse(std::string_view bytes) {
  auto r = parse_http_reply(bytes);
  if (!r) return r.error();
  const auto via = r->header("via");
  const auto auth = r->header("proxy-authenticate");
  const bool squid_error = r->header("x-squid-error").has_value();
  if (!via && !(r->code == 407 && auth) && !squid_error)
    return Error::invalid("no sign of a proxy in the answer");
  nlohmann::json f = nlohmann::json::object();
  f["http"] = r->version;
  f["http_code"] = r->code;
  f["http_reason"] = printable(r->reason, 256);
  const std::pair<const char*, const char*> map[] = {{"content_type", "content-type"},
                                                     {"connection", "connection"},
                                                     {"proxy_authenticate", "proxy-authenticate"},
                                                     {"via", "via"},
                                                     {"server", "server"},
                                                     {"transfer_encoding", "transfer-encoding"},
                                                     {"http_date", "date"}};
  for (const auto& [col, hdr] : map)
    if (auto v = r->header(hdr)) f[col] = printable(*v, 512);
  if (auto v = r->header("content-length"))
    if (auto n = parse_int(trim(*v))) f["content_length"] = *n;
  return f;
}

}  // namespace

ProbeModule http_proxy_module() {
  ProbeModule m;
  m.name = "http_proxy";
  m.report_type = "scan_http_proxy";
  m.tag = "http-proxy";
  m.default_port = 3128;
  m.columns = {"http",           "http_code",          "http_reason", "content_type",
               "connection",     "proxy_authenticate", "via",         "server",
               "content_length", "transfer_encoding",  "http_date"};
  m.request = proxy_request;
  m.complete = http_reply_complete;
  m.parse = proxy_parse;
  return m;
}

}  // namespace vantage::scanner

#include "sensors/scanner/probes/http/http.h"

#include <algorithm>
#include <cctype>
#include <charconv>

#include "sensors/scanner/probes/probe.h"

namespace vantage::scanner {

std::optional<std::string> HttpReply::header(std::string_view lower_name) const {
  auto it = headers.find(std::string(lower_name));
  if (it == headers.end()) return std::nullopt;
  return it->second;
}

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// De-chunks as much of a chunked body as is present.
std::string dechunk(std::string_view body, bool* finished) {
  std::string out;
  *finished = false;
  while (true) {
    const size_t eol = body.find("\r\n");
    if (eol == std::string_view::npos) return out;
    size_t len = 0;
    const auto line = body.substr(0, eol);
    auto [p, ec] = std::from_chars(line.data(), line.data() + line.size(), len, 16);
    if (ec != std::errc{} || p == line.data()) return out;
    body.remove_prefix(eol + 2);
    if (len == 0) {
      *finished = true;
      return out;
    }
    if (body.size() < len) {
      out.append(body);
      return out;
    }
    out.append(body.substr(0, len));
    body.remove_prefix(len);
    if (body.size() >= 2) body.remove_prefix(2);
  }
}

}  // namespace

Result<HttpReply> parse_http_reply(std::string_view bytes) {
  if (bytes.substr(0, 5) != "HTTP/") return Error::invalid("not an HTTP reply");
  const size_t eol = bytes.find('\n');
  if (eol == std::string_view::npos) return Error::invalid("truncated status line");
  std::string_view status = trim(bytes.substr(0, eol));
  HttpReply r;
  const size_t sp = status.find(' ');
  if (sp == std::string_view::npos) return Error::invalid("bad status line");
  r.version = std::string(status.substr(0, sp));
  std::string_view rest = status.substr(sp + 1);
  const auto code_text = rest.substr(0, std::min<size_t>(3, rest.size()));
  auto [p, ec] = std::from_chars(code_text.data(), code_text.data() + code_text.size(), r.code);
  if (ec != std::errc{} || code_text.size() != 3 || r.code < 100 || r.code > 999)
    return Error::invalid("bad status code");
  (void)p;
  r.reason = std::string(trim(rest.substr(code_text.size())));
  std::string_view hdrs = bytes.substr(eol + 1);
  while (!hdrs.empty()) {
    const size_t e = hdrs.find('\n');
    std::string_view line = hdrs.substr(0, e);
    hdrs = e == std::string_view::npos ? std::string_view{} : hdrs.substr(e + 1);
    line = trim(line);
    if (line.empty()) break;
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    r.headers.emplace(lower(trim(line.substr(0, colon))),
                      std::string(trim(line.substr(colon + 1))));
  }
  const auto te = r.header("transfer-encoding");
  if (te && lower(*te).find("chunked") != std::string::npos) {
    bool finished;
    r.body = dechunk(hdrs, &finished);
  } else {
    r.body = std::string(hdrs);
  }
  return r;
}

bool http_reply_complete(std::string_view bytes) {
  const size_t end = bytes.find("\r\n\r\n");
  if (end == std::string_view::npos) return false;
  auto r = parse_http_reply(bytes);
  if (!r) return true;  // not HTTP: nothing more to wait for
  const std::string_view body = bytes.substr(end + 4);
  if (auto cl = r->header("content-length")) {
    size_t n = 0;
    auto [p, ec] = std::from_chars(cl->data(), cl->data() + cl->size(), n);
    (void)p;
    return ec == std::errc{} && body.size() >= n;
  }
  if (auto te = r->header("transfer-encoding");
      te && lower(*te).find("chunked") != std::string::npos) {
    bool finished;
    dechunk(body, &finished);
    return finished;
  }
  return r->code == 204 || r->code == 304 || (r->code >= 100 && r->code < 200);
}

std::string http_get_request(std::string_view host, std::string_view path,
                             std::string_view method) {
  std::string req;
  req.append(method).append(" ").append(path).append(" HTTP/1.1\r\nHost: ").append(host);
  req.append("\r\nUser-Agent: Mozilla/5.0 (compatible; Vantage scanner)\r\nAccept: */*\r\n");
  req.append("Connection: close\r\n\r\n");
  return req;
}

ProbeModule http_module() {
  ProbeModule m;
  m.name = "http";
  m.report_type = "scan_http";
  m.tag = "http";
  m.default_port = 80;
  m.columns = {"http",           "http_code",         "http_reason", "content_type",
               "connection",     "www_authenticate",  "set_cookie",  "server",
               "content_length", "transfer_encoding", "http_date"};
  m.request = [](const ProbeTarget& t) {
    const std::string host = t.ip.is_v4() ? t.ip.to_string() : "[" + t.ip.to_string() + "]";
    return http_get_request(host, "/");
  };
  m.complete = http_reply_complete;
  m.parse = [](std::string_view bytes) -> Result<nlohmann::json> {
    auto r = parse_http_reply(bytes);
    if (!r) return r.error();
    nlohmann::json f = nlohmann::json::object();
    f["http"] = r->version;
    f["http_code"] = r->code;
    f["http_reason"] = r->reason;
    const std::pair<const char*, const char*> map[] = {{"content_type", "content-type"},
                                                       {"connection", "connection"},
                                                       {"www_authenticate", "www-authenticate"},
                                                       {"set_cookie", "set-cookie"},
                                                       {"server", "server"},
                                                       {"content_length", "content-length"},
                                                       {"transfer_encoding", "transfer-encoding"},
                                                       {"http_date", "date"}};
    for (const auto& [col, hdr] : map)
      if (auto v = r->header(hdr)) f[col] = *v;
    return f;
  };
  return m;
}

}  // namespace vantage::scanner

#include "sensors/scanner/probes/web/web.h"

#include "common/strings.h"
#include "sensors/scanner/probes/ssl/ssl.h"
#include "sensors/scanner/probes/text_util.h"

namespace vantage::scanner {
namespace {

constexpr size_t kMaxReply = 256 * 1024;

std::string request_for(const ProbeTarget& t, const std::string& path, bool last) {
  const std::string host = t.ip.is_v4() ? t.ip.to_string() : "[" + t.ip.to_string() + "]";
  std::string req = http_get_request(host + ":" + std::to_string(t.port), path);
  if (!last) {
    const auto at = req.find("Connection: close");
    req.replace(at, 17, "Connection: keep-alive");
  }
  return req;
}

// The reply at the front of `b` when complete: its length, else 0.
size_t complete_reply_size(std::string_view b) {
  if (!http_reply_complete(b)) return 0;
  const size_t head = b.find("\r\n\r\n");
  if (head == std::string_view::npos) return b.size();
  auto r = parse_http_reply(b);
  if (r)
    if (auto cl = r->header("content-length"))
      if (auto n = parse_uint(trim(*cl)); n && head + 4 + *n <= b.size()) return head + 4 + *n;
  return b.size();  // chunked or bodiless: the whole buffer (one reply at a time)
}

class WebExchange : public Exchange {
 public:
  WebExchange(WebProbe probe, ProbeTarget target)
      : probe_(std::move(probe)), target_(std::move(target)) {}

  std::string start() override {
    if (probe_.paths.empty()) return {};
    if (probe_.tls) {
      tls_ = std::make_unique<TlsExchange>(std::string());
      return tls_->start();
    }
    return next_request();
  }

  std::string feed(std::string_view chunk, bool* done) override {
    std::string send;
    std::optional<std::string> plain =
        tls_ ? tls_->carry(
                   chunk, [this] { return next_request(); }, &send, done)
             : std::string(chunk);
    if (!plain) return send;
    buf_.append(plain->substr(0, kMaxReply - std::min(buf_.size(), kMaxReply)));
    const size_t n = buf_.size() >= kMaxReply ? buf_.size() : complete_reply_size(buf_);
    if (n == 0) return {};
    replies_.push_back(buf_.substr(0, n));
    buf_.clear();
    if (replies_.size() >= probe_.paths.size() || !parse_http_reply(replies_.back())) {
      *done = true;
      return {};
    }
    const std::string req = next_request();
    return tls_ ? tls_->wrap(req) : req;
  }

  Result<nlohmann::json> result() override {
    if (!buf_.empty()) replies_.push_back(std::exchange(buf_, {}));  // cut short: what came
    std::vector<HttpReply> parsed;
    for (const auto& raw : replies_) {
      auto r = parse_http_reply(raw);
      if (!r) break;
      parsed.push_back(std::move(*r));
    }
    nlohmann::json tls = nlohmann::json::object();
    if (tls_) {
      auto t = tls_->result();
      if (!t) return t.error();
      tls = std::move(*t);
    }
    if (parsed.empty()) return Error::invalid("no HTTP reply");
    return probe_.interpret(parsed, tls);
  }

 private:
  std::string next_request() {
    const size_t i = sent_++;
    const bool last = i + 1 == probe_.paths.size();
    if (probe_.request) return probe_.request(target_, probe_.paths[i], last);
    return request_for(target_, probe_.paths[i], last);
  }

  WebProbe probe_;
  ProbeTarget target_;
  std::unique_ptr<TlsExchange> tls_;
  std::string buf_;
  std::vector<std::string> replies_;
  size_t sent_ = 0;
};

}  // namespace

std::unique_ptr<Exchange> make_web_exchange(const WebProbe& probe, const ProbeTarget& target) {
  return std::make_unique<WebExchange>(probe, target);
}

Result<nlohmann::json> replay_web(const WebProbe& probe, std::string_view replies) {
  std::vector<HttpReply> parsed;
  std::string_view rest = replies;
  for (size_t i = 0; i < probe.paths.size() && !rest.empty(); ++i) {
    size_t n = complete_reply_size(rest);
    if (n == 0) n = rest.size();
    auto r = parse_http_reply(rest.substr(0, n));
    if (!r) break;
    parsed.push_back(std::move(*r));
    rest.remove_prefix(n);
  }
  if (parsed.empty()) return Error::invalid("no HTTP reply");
  return probe.interpret(parsed, nlohmann::json::object());
}

void http_status_columns(const HttpReply& r, nlohmann::json& f, const char* date_column) {
  f["http"] = r.version;
  f["http_code"] = r.code;
  f["http_reason"] = printable(r.reason, 256);
  if (auto v = r.header("content-type")) f["content_type"] = printable(*v, 256);
  if (auto v = r.header("server")) f["server"] = printable(*v, 256);
  if (auto v = r.header("date")) f[date_column] = printable(*v, 64);
}

nlohmann::json http_reply_columns(const HttpReply& r) {
  nlohmann::json f = nlohmann::json::object();
  http_status_columns(r, f, "http_date");
  const std::pair<const char*, const char*> map[] = {{"connection", "connection"},
                                                     {"www_authenticate", "www-authenticate"},
                                                     {"set_cookie", "set-cookie"},
                                                     {"content_length", "content-length"},
                                                     {"transfer_encoding", "transfer-encoding"}};
  for (const auto& [col, hdr] : map)
    if (auto v = r.header(hdr)) f[col] = printable(*v, 512);
  return f;
}

ProbeModule web_module(std::string name, std::string report_type, uint16_t port,
                       std::vector<std::string> columns, WebProbe probe) {
  ProbeModule m;
  m.tag = name;
  m.name = std::move(name);
  m.report_type = std::move(report_type);
  m.default_port = port;
  m.columns = std::move(columns);
  m.exchange = [probe](const ProbeTarget& t) { return make_web_exchange(probe, t); };
  m.request = [](const ProbeTarget&) { return std::string(); };
  m.complete = [](std::string_view) { return true; };
  m.parse = [probe](std::string_view b) { return replay_web(probe, b); };
  return m;
}

std::optional<std::string> json_text(const nlohmann::json& obj, const char* key) {
  if (!obj.is_object()) return std::nullopt;
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return std::nullopt;
  if (it->is_string()) return printable(it->get<std::string>(), 1024);
  if (it->is_boolean()) return it->get<bool>() ? "true" : "false";
  if (it->is_array()) {
    std::string out;
    for (const auto& v : *it) {
      if (!out.empty()) out += "|";
      out += v.is_string() ? v.get<std::string>() : v.dump();
      if (out.size() > 4096) break;
    }
    return printable(out, 4096);
  }
  return printable(it->dump(), 1024);
}

}  // namespace vantage::scanner

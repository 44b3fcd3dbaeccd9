// The web honeypot (HTTP, and HTTPS over the reactor's TLS): every request becomes an
// event4_honeypot_http_scan record, classified by the exploit signatures of rules.h. It
// answers like a stock Apache -- a default page at "/", 404 elsewhere -- and never runs,
// fetches or stores anything a request carries.

#include "sensors/honeypot/http/http.h"

#include <openssl/evp.h>
#include <sys/stat.h>

#include <ctime>

#include "common/strings.h"

namespace vantage::honeypot {

namespace http {

namespace {

constexpr std::string_view kType = "event4_honeypot_http_scan";

int64_t mtime_ns(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return -1;
  return static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
}

void append_base64(std::string& out, std::string_view bytes) {
  size_t at = out.size();
  out.resize(at + 4 * ((bytes.size() + 2) / 3) + 1);
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data() + at),
                          reinterpret_cast<const unsigned char*>(bytes.data()),
                          static_cast<int>(bytes.size()));
  out.resize(at + static_cast<size_t>(n));
}

void append_digest(std::string& out, const EVP_MD* md, std::string_view bytes) {
  unsigned char d[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_Digest(bytes.data(), bytes.size(), d, &n, md, nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  for (unsigned int i = 0; i < n; ++i) {
    out.push_back(kHex[d[i] >> 4]);
    out.push_back(kHex[d[i] & 15]);
  }
}

// The head of a request as sent: up to the blank line (all of `raw` when there is none).
std::string_view head_of(std::string_view raw) {
  size_t crlf = raw.find("\r\n\r\n");
  size_t lf = raw.find("\n\n");
  size_t end = std::min(crlf == std::string_view::npos ? raw.size() : crlf + 4,
                        lf == std::string_view::npos ? raw.size() : lf + 2);
  return raw.substr(0, end);
}

}  // namespace

Result<std::shared_ptr<LiveRules>> LiveRules::open(const std::string& path,
                                                   std::chrono::milliseconds check_every) {
  auto rules = RuleSet::load(path);
  if (!rules) return rules.error();
  auto live = std::shared_ptr<LiveRules>(new LiveRules());
  live->path_ = path;
  live->check_every_ = check_every;
  live->rules_ = std::move(*rules);
  live->mtime_ns_ = mtime_ns(path);
  live->next_check_ = std::chrono::steady_clock::now() + check_every;
  return live;
}

std::shared_ptr<const RuleSet> LiveRules::current() {
  std::lock_guard lock(mu_);
  auto now = std::chrono::steady_clock::now();
  if (now >= next_check_) {
    next_check_ = now + check_every_;
    int64_t m = mtime_ns(path_);
    if (m != mtime_ns_ && m >= 0) {
      mtime_ns_ = m;
      auto fresh = RuleSet::load(path_);
      if (fresh) {
        rules_ = std::move(*fresh);
        ++reloads_;
      } else {
        ++failures_;
        last_error_ = fresh.error().message;
      }
    }
  }
  return rules_;
}

int64_t LiveRules::reloads() const {
  std::lock_guard lock(mu_);
  return reloads_;
}
int64_t LiveRules::reload_failures() const {
  std::lock_guard lock(mu_);
  return failures_;
}
std::string LiveRules::last_error() const {
  std::lock_guard lock(mu_);
  return last_error_;
}

std::string http_rules_path(const HoneypotSettings& settings) {
  std::string dir = settings.rules_dir.empty() ? "conf/honeypot" : settings.rules_dir;
  return dir + "/http_rules.json";
}

void append_http_event(std::string& out, const HoneypotSettings& settings,
                       const sensors::ConnectionInfo& info, UnixSeconds when,
                       std::string_view scheme, std::string_view raw,
                       const sensors::HttpRequest* request, const Rule* rule,
                       std::string_view tag) {
  thread_local std::string scratch;
  auto line = begin_event(out, kType, settings, info.peer, info.local, "tcp", when);
  line.str("application", scheme).str("url_scheme", scheme);
  if (request) {
    line.str("http_url", request->target)
        .str("http_request_method", request->method)
        .str("http_agent", request->header("user-agent"));
  }
  if (rule) {
    line.str("pattern", rule->id)
        .str("tag", rule->tag.empty() ? std::string_view(rule->id) : std::string_view(rule->tag))
        .str("severity", rule->severity)
        .str("vulnerability_enum", "CVE")
        .str("vulnerability_id", rule->cve)
        .str("vulnerability_class", rule->vulnerability_class)
        .real("vulnerability_score", rule->cvss)
        .str("vulnerability_severity", rule->severity)
        .str("vulnerability_version", rule->cvss_version)
        .str("threat_framework", "MITRE ATT&CK")
        .str("threat_tactic_id", rule->tactic)
        .str("threat_technique_id", rule->technique)
        .str("target_vendor", rule->vendor)
        .str("target_product", rule->product)
        .str("target_class", rule->target_class);
  } else {
    line.str("tag", tag);
  }
  std::string_view head = request ? head_of(raw) : raw;
  scratch.clear();
  append_base64(scratch, head.substr(0, kMaxRawBytes));
  line.str("request_raw", scratch);
  if (request && !request->body.empty()) {
    scratch.clear();
    append_base64(scratch, request->body.substr(0, kMaxRawBytes));
    line.str("body_raw", scratch);
    // What was uploaded, hashed whole (the parser bounds it): the file_* columns.
    scratch.clear();
    append_digest(scratch, EVP_md5(), request->body);
    line.str("file_md5", scratch);
    scratch.clear();
    append_digest(scratch, EVP_sha256(), request->body);
    line.str("file_sha256", scratch);
  }
  line.finish();
}

}  // namespace http

namespace {

using namespace http;

constexpr std::string_view kIndexPage =
    "<!DOCTYPE html>\n<html><head><title>Welcome</title></head>\n"
    "<body><h1>It works!</h1>\n<p>This is the default web page for this server.</p>\n"
    "</body></html>\n";
constexpr std::string_view kNotFoundPage =
    "<!DOCTYPE HTML PUBLIC \"-//IETF//DTD HTML 2.0//EN\">\n<html><head>\n"
    "<title>404 Not Found</title>\n</head><body>\n<h1>Not Found</h1>\n"
    "<p>The requested URL was not found on this server.</p>\n</body></html>\n";
constexpr std::string_view kBadRequestPage =
    "<!DOCTYPE HTML PUBLIC \"-//IETF//DTD HTML 2.0//EN\">\n<html><head>\n"
    "<title>400 Bad Request</title>\n</head><body>\n<h1>Bad Request</h1>\n"
    "<p>Your browser sent a request that this server could not understand.</p>\n"
    "</body></html>\n";

// "Date: <IMF-fixdate>\r\n", formatted once a second per thread.
std::string_view date_header() {
  thread_local time_t last = 0;
  thread_local char buf[64];
  thread_local size_t len = 0;
  time_t now = ::time(nullptr);
  if (now != last) {
    last = now;
    struct tm tm {};
    ::gmtime_r(&now, &tm);
    len = std::strftime(buf, sizeof buf, "Date: %a, %d %b %Y %H:%M:%S GMT\r\n", &tm);
  }
  return {buf, len};
}

struct Shared {
  ServiceContext ctx;
  std::shared_ptr<LiveRules> rules;
  std::string scheme;         // "http" | "https"
  std::string server_header;  // "Server: ...\r\n"
};

class HttpSession : public sensors::Session {
 public:
  explicit HttpSession(std::shared_ptr<const Shared> shared)
      : shared_(std::move(shared)), rules_(shared_->rules->current()) {}

  size_t on_data(std::string_view in, sensors::SessionIo& io) override {
    size_t consumed = 0;
    while (consumed < in.size() && !closing_) {
      std::string_view rest = in.substr(consumed);
      std::string why;
      auto r = sensors::parse_http_request(rest, req_, limits_, &why);
      if (r == sensors::HttpParse::kIncomplete) {
        maybe_continue(rest, io);
        break;
      }
      if (r == sensors::HttpParse::kMalformed) {
        log(io, rest, nullptr, nullptr, "http-malformed");
        respond(io, "400 Bad Request", kBadRequestPage, false, false);
        return in.size();
      }
      std::string_view raw = rest.substr(0, req_.length);
      const Rule* rule = rules_->classify(RequestView{raw, &req_});
      log(io, raw, &req_, rule, "");
      consumed += req_.length;
      sent_continue_ = false;
      bool keep = req_.keep_alive() && !req_.version.empty();
      bool head = req_.method == "HEAD";
      if (req_.version.empty()) {  // HTTP/0.9: the body alone
        io.send(req_.path() == "/" ? kIndexPage : kNotFoundPage);
        io.close();
        closing_ = true;
      } else if (req_.path() == "/" || req_.path() == "/index.html") {
        respond(io, "200 OK", kIndexPage, keep, head);
      } else {
        respond(io, "404 Not Found", kNotFoundPage, keep, head);
      }
    }
    return closing_ ? in.size() : consumed;
  }

  void on_close(sensors::CloseReason why, std::string_view unconsumed,
                sensors::SessionIo& io) override {
    // A request cut short (the peer left, went silent, or sent more than the bounds allow)
    // is logged as far as it came: nothing received is dropped unseen.
    if (!unconsumed.empty()) {
      log(io, unconsumed, nullptr, nullptr,
          why == sensors::CloseReason::kInputLimit ? "http-oversized" : "http-incomplete");
    } else if (why == sensors::CloseReason::kTlsFailed && !io.info().tls.client_hello.empty()) {
      log(io, io.info().tls.client_hello, nullptr, nullptr, "tls-handshake-failed");
    }
  }

 private:
  void log(sensors::SessionIo& io, std::string_view raw, const sensors::HttpRequest* req,
           const Rule* rule, std::string_view tag) {
    const auto& info = io.info();
    auto& buf = shared_->ctx.host->tcp_buffer(info.thread);
    append_http_event(buf.text(), *shared_->ctx.settings, info, now_seconds(), shared_->scheme, raw,
                      req, rule, tag);
    buf.commit();
  }

  // curl and others wait for "100 Continue" before sending a body they announced.
  void maybe_continue(std::string_view rest, sensors::SessionIo& io) {
    if (sent_continue_) return;
    size_t end = rest.find("\r\n\r\n");
    if (end == std::string_view::npos) return;
    std::string lower = to_lower(rest.substr(0, end));
    if (lower.find("\nexpect: 100-continue") != std::string::npos &&
        lower.find(" http/1.1") != std::string::npos) {
      io.send("HTTP/1.1 100 Continue\r\n\r\n");
      sent_continue_ = true;
    }
  }

  void respond(sensors::SessionIo& io, std::string_view status, std::string_view body, bool keep,
               bool head) {
    auto& r = response_;
    r.clear();
    r.append("HTTP/1.1 ").append(status).append("\r\n");
    r.append(date_header());
    r.append(shared_->server_header);
    r.append("Content-Type: text/html; charset=iso-8859-1\r\nContent-Length: ");
    r.append(std::to_string(body.size()));
    r.append(keep ? "\r\nKeep-Alive: timeout=5, max=100\r\nConnection: Keep-Alive\r\n\r\n"
                  : "\r\nConnection: close\r\n\r\n");
    if (!head) r.append(body);
    io.send(r);
    if (!keep) {
      io.close();
      closing_ = true;
    }
  }

  std::shared_ptr<const Shared> shared_;
  std::shared_ptr<const RuleSet> rules_;  // the rules when the connection opened
  sensors::HttpLimits limits_;
  sensors::HttpRequest req_;
  std::string response_;
  bool sent_continue_ = false;
  bool closing_ = false;
};

Result<sensors::Endpoint> install_web(ServiceContext& ctx, const sensors::Endpoint& at, bool tls) {
  auto rules = LiveRules::open(http_rules_path(*ctx.settings));
  if (!rules) return rules.error();
  auto shared = std::make_shared<Shared>();
  shared->ctx = ctx;
  shared->rules = std::move(*rules);
  shared->scheme = tls ? "https" : "http";
  shared->server_header = "Server: " + strip_control(ctx.settings->scan.http_server) + "\r\n";
  auto lo = tcp_listener(ctx, shared->scheme, at);
  // A whole request (head and body at the parser's bounds) may sit unconsumed.
  sensors::HttpLimits limits;
  lo.max_unconsumed_bytes = limits.max_head_bytes + limits.max_body_bytes + 1024;
  if (tls) {
    const auto& s = ctx.settings->scan;
    auto tc = s.tls_cert.empty() ? sensors::tls_context_self_signed("localhost")
                                 : sensors::tls_context_from_files(s.tls_cert, s.tls_key);
    if (!tc) return tc.error();
    lo.tls = *tc;
  }
  std::shared_ptr<const Shared> frozen = shared;
  lo.factory = [frozen](const sensors::ConnectionInfo&) {
    return std::make_unique<HttpSession>(frozen);
  };
  return ctx.host->add_tcp(std::move(lo));
}

}  // namespace

ServiceModule http_service() {
  ServiceModule m;
  m.name = "http";
  m.transport = Transport::kTcp;
  m.standard_port = 80;
  m.loopback_port = 18080;
  m.report_types = {std::string(kType)};
  m.description =
      "Web server: every request logged and classified by the exploit signatures "
      "(rules_dir/http_rules.json: CVE, CVSS, ATT&CK, vendor/product)";
  m.install = [](ServiceContext& ctx, const sensors::Endpoint& at) {
    return install_web(ctx, at, false);
  };
  return m;
}

ServiceModule https_service() {
  ServiceModule m = http_service();
  m.name = "https";
  m.transport = Transport::kTls;
  m.standard_port = 443;
  m.loopback_port = 18443;
  m.description = "The web honeypot over TLS (honeypot.tls_cert/tls_key, else self-signed)";
  m.install = [](ServiceContext& ctx, const sensors::Endpoint& at) {
    return install_web(ctx, at, true);
  };
  return m;
}

}  // namespace vantage::honeypot

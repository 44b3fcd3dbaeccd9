#include "sensors/sinkhole/http_service.h"

#include "common/strings.h"
#include "sensors/common/http_request.h"
#include "sensors/sinkhole/raw_service.h"
#include "sensors/sinkhole/referer.h"
#include "sensors/sinkhole/tls_hello.h"

namespace vantage::sinkhole {

namespace {

// An empty page: a sinkhole gives a bot nothing to act on.
constexpr std::string_view kKeepAlive =
    "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 0\r\n\r\n";
constexpr std::string_view kKeepAlive10 =
    "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 0\r\nConnection: "
    "keep-alive\r\n\r\n";
constexpr std::string_view kClose =
    "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 0\r\nConnection: "
    "close\r\n\r\n";

class HttpSession : public sensors::Session {
 public:
  HttpSession(const Context& ctx, int thread, bool tls)
      : ctx_(ctx), loop_(ctx.tcp_loop(thread)), tls_(tls) {}

  size_t on_data(std::string_view in, sensors::SessionIo& io) override {
    size_t used = 0;
    while (used < in.size()) {
      std::string why;
      auto& req = loop_.request;
      auto r = sensors::parse_http_request(in.substr(used), req, limits_, &why);
      if (r == sensors::HttpParse::kIncomplete) break;
      if (r == sensors::HttpParse::kMalformed) {
        not_http(in.substr(used), why, io, kHttpMalformed);
        io.close();
        return in.size();
      }
      log_request(io);
      bool keep = !req.version.empty() && req.keep_alive();
      if (req.version.empty()) {
        // HTTP/0.9: no status line, no headers.
      } else if (!keep) {
        io.send(kClose);
      } else {
        io.send(req.version == "HTTP/1.1" ? kKeepAlive : kKeepAlive10);
      }
      used += req.length;
      if (!keep) {
        io.close();
        return in.size();
      }
    }
    return used;
  }

  void on_close(sensors::CloseReason why, std::string_view unconsumed,
                sensors::SessionIo& io) override {
    if (raw_logged_) return;
    if (why == sensors::CloseReason::kTlsFailed) {
      // Not TLS at all (a bot's own protocol on 443): its first bytes are what it sent.
      not_http(io.info().tls.client_hello, "TLS handshake failed", io, kHttpMalformed);
      return;
    }
    if (!unconsumed.empty()) {
      // A request that never ended (slowloris, a cut connection, a head over the bound).
      not_http(unconsumed,
               std::string("incomplete request, closed: ") + sensors::close_reason_name(why), io,
               kHttpIncomplete);
    }
  }

 private:
  void not_http(std::string_view bytes, const std::string& why, sensors::SessionIo& io,
                Counter counter) {
    raw_logged_ = true;
    const auto& ci = io.info();
    loop_.counters.add(counter);
    ctx_.malformed->add(tls_ ? "https" : "http", ci.peer, why, bytes);
    auto& buf = ctx_.host->tcp_buffer(ci.thread);
    log_raw(ctx_, loop_.view.current(), loop_.counters, buf.text(), ci.peer, ci.local, false,
            bytes.substr(0, ctx_.settings->first_packet_bytes), tls_ ? "https" : "http",
            now_seconds());
    buf.commit();
  }

  void fingerprint_tls(const sensors::ConnectionInfo& ci) {
    tls_done_ = true;
    ClientHello hello;
    const char* why = "";
    if (parse_client_hello(ci.tls.client_hello, hello, &why) == HelloParse::kOk) {
      ja3_ = ja3_hash(hello);
    } else {
      loop_.counters.add(kTlsHelloUnreadable);
      ctx_.malformed->add("https-clienthello", ci.peer, why, ci.tls.client_hello);
    }
  }

  void log_request(sensors::SessionIo& io) {
    const auto& req = loop_.request;
    auto& order = loop_.header_order;
    auto& host = loop_.host;
    const auto& ci = io.info();
    UnixSeconds now = now_seconds();
    const Snapshot& snap = loop_.view.current();
    if (tls_ && !tls_done_) fingerprint_tls(ci);
    std::string_view host_header, agent, referer, forwarded;
    bool has_agent = false;
    order.clear();
    for (const auto& [name, value] : req.headers) {
      if (!order.empty()) order.push_back(',');
      size_t at = order.size();
      order.append(name);
      for (size_t k = at; k < order.size(); ++k) {
        if (order[k] >= 'A' && order[k] <= 'Z') order[k] = static_cast<char>(order[k] + 32);
      }
      if (sensors::ascii_iequals(name, "host") && host_header.empty())
        host_header = value;
      else if (sensors::ascii_iequals(name, "user-agent") && !has_agent) {
        agent = value;
        has_agent = true;
      } else if (sensors::ascii_iequals(name, "referer") && referer.empty()) {
        referer = value;
      } else if (sensors::ascii_iequals(name, "x-forwarded-for") && forwarded.empty()) {
        forwarded = value;
      }
    }
    host_of(host_header, host);
    int host_family = -1;
    if (!host.empty()) {
      const ZoneEntry* z = snap.domains->find(host);
      if (z && z->kind == ZoneEntry::Kind::kSinkholed && z->active(day_of(now))) {
        host_family = z->family;
      }
    }
    HttpFacts f;
    f.method = req.method;
    f.target = req.target;
    f.path = req.path();
    f.query = req.query();
    f.host = host;
    f.agent = agent;
    f.has_agent = has_agent;
    f.header_order = order;
    f.body = req.body;
    f.ja3 = ja3_;
    f.sni = ci.tls.server_name;
    f.local_port = ci.local.port;
    f.tls = tls_;
    f.host_family = host_family;
    f.headers = &req.headers;
    Verdict v = snap.classifier.classify_http(f, snap.families);
    auto& c = loop_.counters;
    c.add(tls_ ? kHttpsRequests : kHttpRequests);
    c.add(req.method == "GET" ? kHttpGet : req.method == "POST" ? kHttpPost : kHttpOtherMethod);
    c.add(v.family == Families::kUnknown ? kHttpUnknown : kHttpNamed);
    ++requests_;
    const Family& family = snap.families.at(v.family);
    std::string_view application =
        v.application.empty() ? (tls_ ? "https" : "http") : v.application;
    auto& buf = ctx_.host->tcp_buffer(ci.thread);
    begin_event(buf.text(), ci.peer.ip.is_v4() ? "event4_sinkhole_http" : "event6_sinkhole_http",
                ctx_, ci.peer, ci.local, "tcp", now, family, v.tag, application)
        .str("http_url", req.target)
        .str("http_host", host_header)
        .str("http_agent", agent)
        .str("forwarded_by", forwarded)
        .str("ssl_cipher", ci.tls.cipher)
        .str("http_referer", referer)
        .str("ssl_servername", ci.tls.server_name)
        .finish();
    buf.commit();
    if (referer.empty()) return;
    auto site = referer_site(referer);
    if (!site || site->first == host) return;
    // A sinkholed name referring to another (a bot following its own redirects) is not a
    // compromised site.
    if (const ZoneEntry* z = snap.domains->find(site->first);
        z && z->kind == ZoneEntry::Kind::kSinkholed) {
      return;
    }
    RefererJob job;
    job.when = now;
    job.dst = ci.local;
    job.referer = std::string(referer);
    job.host = site->first;
    job.port = site->second;
    job.url = std::string(req.target);
    job.http_host = std::string(host_header);
    job.sni = ci.tls.server_name;
    job.application = std::string(application);
    job.infection = family.infection;
    job.family = family.name;
    job.tag = std::string(v.tag);
    job.severity = family.severity;
    ctx_.referers->submit(std::move(job), buf);
  }

  const Context& ctx_;
  LoopState& loop_;
  bool tls_;
  bool tls_done_ = false;
  bool raw_logged_ = false;
  int64_t requests_ = 0;
  sensors::HttpLimits limits_;
  std::string ja3_;
};

}  // namespace

void host_of(std::string_view authority, std::string& out) {
  authority = trim(authority);
  std::string_view host = authority;
  if (!authority.empty() && authority.front() == '[') {
    size_t close = authority.find(']');
    host = close == std::string_view::npos ? authority.substr(1) : authority.substr(1, close - 1);
  } else if (size_t colon = authority.find(':');
             colon != std::string_view::npos &&
             authority.find(':', colon + 1) == std::string_view::npos) {
    host = authority.substr(0, colon);
  }
  out.assign(host);
  for (auto& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
  }
  while (!out.empty() && out.back() == '.') out.pop_back();
}

std::string host_of(std::string_view authority) {
  std::string out;
  host_of(authority, out);
  return out;
}

Result<sensors::Endpoint> install_http(Context& ctx, const sensors::Endpoint& at,
                                       sensors::TlsContext tls) {
  sensors::ListenerOptions lo;
  lo.name = tls ? "https" : "http";
  lo.bind = at;
  lo.tls = tls;
  lo.idle_timeout = ctx.settings->idle_timeout;
  lo.session_timeout = ctx.settings->session_timeout;
  lo.max_input_bytes = ctx.settings->max_input_bytes;
  // A head never longer than the parser's bound: more unconsumed input is a slowloris.
  lo.max_unconsumed_bytes = 64 * 1024 + 16 * 1024;
  const Context* c = &ctx;
  bool is_tls = tls != nullptr;
  lo.factory = [c, is_tls](const sensors::ConnectionInfo& ci) -> std::unique_ptr<sensors::Session> {
    return std::make_unique<HttpSession>(*c, ci.thread, is_tls);
  };
  return ctx.host->add_tcp(std::move(lo));
}

}  // namespace vantage::sinkhole

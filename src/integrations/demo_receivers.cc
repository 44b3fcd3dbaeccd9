#include "integrations/demo_receivers.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>
#include <vector>

#include "api/http/http_server.h"
#include "api/params.h"
#include "common/strings.h"
#include "registry/secret_box.h"

namespace vantage::integrations {

namespace fs = std::filesystem;

namespace {

constexpr const char* kWebhookName = "demo-webhook";
constexpr const char* kSyslogName = "demo-syslog";
constexpr int64_t kReplayWindow = 300;  // seconds a signed request stays acceptable

void append_line(std::mutex& mu, const std::string& path, std::string_view text) {
  std::lock_guard lock(mu);
  std::ofstream out(path, std::ios::app | std::ios::binary);
  out << text;
  if (text.empty() || text.back() != '\n') out << '\n';
}

}  // namespace

bool take_syslog_frames(std::string& buffer, size_t max_frame,
                        const std::function<void(std::string_view)>& message) {
  size_t pos = 0;
  while (pos < buffer.size()) {
    char c = buffer[pos];
    if (c >= '1' && c <= '9') {  // octet counting: "<len> <msg>"
      size_t sp = buffer.find(' ', pos);
      if (sp == std::string::npos) {
        if (buffer.size() - pos > 10) return false;  // no length is that long
        break;
      }
      auto len = parse_uint(std::string_view(buffer).substr(pos, sp - pos));
      if (!len || *len > max_frame) return false;
      if (buffer.size() - sp - 1 < *len) break;  // incomplete
      message(std::string_view(buffer).substr(sp + 1, *len));
      pos = sp + 1 + *len;
    } else if (c == '<') {  // non-transparent framing: up to LF
      size_t lf = buffer.find('\n', pos);
      if (lf == std::string::npos) {
        if (buffer.size() - pos > max_frame) return false;
        break;
      }
      message(std::string_view(buffer).substr(pos, lf - pos));
      pos = lf + 1;
    } else if (c == '\n' || c == '\r') {
      ++pos;
    } else {
      return false;
    }
  }
  buffer.erase(0, pos);
  return true;
}

struct DemoReceivers::Impl {
  std::unique_ptr<http::HttpServer> http;
  std::mutex secret_mu;
  std::string secret;
  std::mutex file_mu;
  int listen_fd = -1;
  uint16_t syslog_port = 0;
  std::atomic<bool> stop{false};
  std::thread syslog_thread;
  std::atomic<int64_t> webhook_events{0}, syslog_messages{0};

  http::Response webhook(const http::Request& req, const std::string& file) {
    auto ts = req.header("X-Vantage-Timestamp");
    auto sig = req.header("X-Vantage-Signature");
    if (!ts || !sig || sig->substr(0, 3) != "v1=")
      return http::Response::json(401, R"({"error":"unsigned request"})");
    auto t = parse_int(*ts);
    if (!t || std::llabs(*t - now_seconds()) > kReplayWindow)
      return http::Response::json(401, R"({"error":"timestamp outside the replay window"})");
    std::string key;
    {
      std::lock_guard lock(secret_mu);
      key = secret;
    }
    if (!api::hmac_matches(key, std::string(*ts) + "." + req.body, sig->substr(3)))
      return http::Response::json(401, R"({"error":"bad signature"})");
    int64_t n = 0;
    for (auto line : split(req.body, '\n')) {
      if (trim(line).empty()) continue;
      append_line(file_mu, file, line);
      ++n;
    }
    webhook_events.fetch_add(n);
    return http::Response::json(200, "{\"received\":" + std::to_string(n) + "}");
  }

  void serve_syslog(const std::string& file) {
    struct Conn {
      int fd;
      std::string buffer;
    };
    std::vector<Conn> conns;
    while (!stop.load()) {
      std::vector<pollfd> fds = {{listen_fd, POLLIN, 0}};
      for (const auto& c : conns) fds.push_back({c.fd, POLLIN, 0});
      if (::poll(fds.data(), fds.size(), 200) <= 0) continue;
      if ((fds[0].revents & POLLIN) && conns.size() < 16) {
        int fd = ::accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
        if (fd >= 0) conns.push_back({fd, {}});
      }
      for (size_t i = 1; i < fds.size(); ++i) {
        if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
        Conn& c = conns[i - 1];
        char buf[16384];
        ssize_t n = ::recv(c.fd, buf, sizeof buf, 0);
        bool ok = n > 0;
        if (ok) {
          c.buffer.append(buf, static_cast<size_t>(n));
          ok = take_syslog_frames(c.buffer, 64 * 1024, [&](std::string_view msg) {
            append_line(file_mu, file, msg);
            syslog_messages.fetch_add(1);
          });
        }
        if (!ok) {
          ::close(c.fd);
          c.fd = -1;
        }
      }
      std::erase_if(conns, [](const Conn& c) { return c.fd < 0; });
    }
    for (auto& c : conns) ::close(c.fd);
  }
};

Result<std::unique_ptr<DemoReceivers>> DemoReceivers::start(const std::string& data_dir,
                                                            registry::Registry& registry,
                                                            const std::string& org_short_name) {
  std::unique_ptr<DemoReceivers> r(new DemoReceivers());
  r->impl_ = std::make_unique<Impl>();
  Impl& im = *r->impl_;
  std::error_code ec;
  fs::create_directories(data_dir + "/demo", ec);
  r->webhook_file_ = data_dir + "/demo/webhook-received.jsonl";
  r->syslog_file_ = data_dir + "/demo/syslog-received.log";

  http::HttpOptions ho;
  ho.bind_address = "127.0.0.1";
  ho.port = 0;
  ho.threads = 1;
  ho.access_log = [](const http::AccessLogEntry&) {};  // the service's log stays readable
  im.http = std::make_unique<http::HttpServer>(ho);
  std::string webhook_file = r->webhook_file_;
  im.http->route("POST", "/demo-webhook", [&im, webhook_file](const http::Request& req) {
    return im.webhook(req, webhook_file);
  });
  if (auto st = im.http->start(); !st) return st.error();

  im.listen_fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (im.listen_fd < 0 ||
      ::bind(im.listen_fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(im.listen_fd, 16) != 0 ||
      ::getsockname(im.listen_fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
    return Error::io("demo syslog receiver: cannot listen on 127.0.0.1");
  im.syslog_port = ntohs(addr.sin_port);
  std::string syslog_file = r->syslog_file_;
  im.syslog_thread = std::thread([&im, syslog_file] { im.serve_syslog(syslog_file); });

  // The demo subscriptions: created once, re-pointed at this start's ports.
  auto org = registry.find_org(org_short_name);
  if (!org) return org.error();
  auto subs = registry.list_subscriptions(org->id, /*with_secrets=*/true);
  if (!subs) return subs.error();
  const registry::Subscription* webhook = nullptr;
  const registry::Subscription* syslog = nullptr;
  for (const auto& s : *subs) {
    if (s.name == kWebhookName) webhook = &s;
    if (s.name == kSyslogName) syslog = &s;
  }
  std::string secret;
  if (webhook) {
    secret = webhook->secret;
    if (webhook->address != r->webhook_url()) {
      registry::SubscriptionUpdate u;
      u.address = r->webhook_url();
      if (auto up = registry.update_subscription(webhook->id, u); !up) return up.error();
    }
  } else {
    auto fresh = registry::random_hex(32);
    if (!fresh) return fresh.error();
    secret = *fresh;
    registry::NewSubscription n;
    n.name = kWebhookName;
    n.kind = registry::SubscriptionKind::kWebhook;
    n.address = r->webhook_url();
    n.min_severity = registry::Severity::kCritical;
    n.batch_window_s = 2;
    n.secret = secret;
    if (auto added = registry.add_subscription(org->id, n); !added) return added.error();
  }
  if (syslog) {
    if (syslog->address != r->syslog_address()) {
      registry::SubscriptionUpdate u;
      u.address = r->syslog_address();
      if (auto up = registry.update_subscription(syslog->id, u); !up) return up.error();
    }
  } else {
    registry::NewSubscription n;
    n.name = kSyslogName;
    n.kind = registry::SubscriptionKind::kSyslog;
    n.address = r->syslog_address();
    n.options = R"({"tls":false})";  // loopback demo; a real collector gets TLS (the default)
    n.min_severity = registry::Severity::kCritical;
    n.batch_window_s = 2;
    if (auto added = registry.add_subscription(org->id, n); !added) return added.error();
  }
  {
    std::lock_guard lock(im.secret_mu);
    im.secret = secret;
  }
  return r;
}

DemoReceivers::~DemoReceivers() {
  if (!impl_) return;
  impl_->stop.store(true);
  if (impl_->syslog_thread.joinable()) impl_->syslog_thread.join();
  if (impl_->listen_fd >= 0) ::close(impl_->listen_fd);
  if (impl_->http) impl_->http->stop();
}

std::string DemoReceivers::webhook_url() const {
  return "http://127.0.0.1:" + std::to_string(impl_->http->port()) + "/demo-webhook";
}

std::string DemoReceivers::syslog_address() const {
  return "127.0.0.1:" + std::to_string(impl_->syslog_port);
}

std::string DemoReceivers::describe() const {
  return "  webhook     " + webhook_url() + " (demo receiver) -> " + webhook_file_ +
         "\n  syslog      " + syslog_address() + " (demo receiver, RFC 5424 + CEF) -> " +
         syslog_file_ + "\n";
}

}  // namespace vantage::integrations

#include "sensors/honeypot/login.h"

#include <random>

namespace vantage::honeypot {

namespace {

constexpr std::string_view kType = "event4_honeypot_brute_force";

uint64_t random_u64() {
  // One engine per thread, seeded from the kernel: connection ids are made on loop threads.
  thread_local std::mt19937_64 engine{[] {
    std::random_device rd;
    return (uint64_t{rd()} << 32) ^ rd();
  }()};
  return engine();
}

}  // namespace

void write_login(std::string& out, const HoneypotSettings& settings, const sensors::Endpoint& peer,
                 const sensors::Endpoint& local, const LoginAttempt& a, UnixSeconds now) {
  std::string tag;
  if (a.tag.empty()) {
    tag.append(a.service).append("-brute-force");
  } else {
    tag.assign(a.tag);
  }
  if (!settings.extra_tag.empty()) tag.append(",").append(settings.extra_tag);
  begin_event(out, kType, settings, peer, local, "tcp", now)
      .str("application", a.service)
      .str("service", a.service)
      .str("tag", tag)
      .str("event_id", a.event_id)
      .time("start_time", a.start_time)
      .time("end_time", now)
      .str("client_version", a.client_version)
      .str("version", a.version)
      .str("username", a.username)
      .str("password", a.password)
      .str("payload_url", a.payload_url)
      .finish();
}

void log_tcp_login(const ServiceContext& ctx, sensors::SessionIo& io, ConnectionId& id,
                   LoginAttempt attempt) {
  const auto& info = io.info();
  auto& buf = ctx.host->tcp_buffer(info.thread);
  std::string event_id = id.next();
  attempt.start_time = info.opened;
  attempt.event_id = event_id;
  write_login(buf.text(), *ctx.settings, info.peer, info.local, attempt, now_seconds());
  buf.commit();
}

bool medium_login_accepted(const HoneypotSettings& settings, std::string_view username,
                           std::string_view password) {
  return settings.mode == "medium" && (username == "root" || username == "admin") &&
         !password.empty();
}

ConnectionId::ConnectionId() : id_(random_u64()) {}

std::string ConnectionId::next() {
  ++attempts_;
  static constexpr char kHex[] = "0123456789abcdef";
  std::string text(16, '0');
  for (int i = 0; i < 16; ++i) text[static_cast<size_t>(15 - i)] = kHex[(id_ >> (4 * i)) & 15];
  text.push_back('-');
  text.append(std::to_string(attempts_));
  return text;
}

}  // namespace vantage::honeypot

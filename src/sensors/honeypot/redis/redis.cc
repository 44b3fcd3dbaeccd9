// The Redis honeypot: answers like a password-protected Redis (every command but AUTH, HELLO
// and QUIT gets NOAUTH), and logs every AUTH / HELLO ... AUTH attempt as an
// event4_honeypot_brute_force row (login.h: application and service "redis", an event_id per
// attempt). Every password is refused, so nothing an attacker sends ever runs.

#include "sensors/honeypot/redis/redis.h"

#include <cctype>

#include "common/strings.h"
#include "sensors/honeypot/login.h"
#include "sensors/honeypot/service.h"

namespace vantage::honeypot {

namespace redis {

namespace {

// A CRLF-terminated line at in[pos]: its end (index of '\r') or npos.
size_t line_end(std::string_view in, size_t pos) {
  size_t cr = in.find("\r\n", pos);
  return cr;
}

bool parse_len(std::string_view s, size_t max, size_t& out) {
  if (s.empty() || s.size() > 10) return false;
  size_t v = 0;
  for (char c : s) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
    v = v * 10 + static_cast<size_t>(c - '0');
  }
  if (v > max) return false;
  out = v;
  return true;
}

}  // namespace

Parse parse_command(std::string_view in, std::vector<std::string_view>& args, size_t& used,
                    const Limits& limits) {
  args.clear();
  if (in.empty()) return Parse::kIncomplete;
  if (in[0] != '*') {
    // Inline command: words separated by spaces, up to LF (CRLF or bare LF).
    size_t lf = in.find('\n');
    if (lf == std::string_view::npos) {
      return in.size() > limits.max_inline_bytes ? Parse::kMalformed : Parse::kIncomplete;
    }
    std::string_view line = in.substr(0, lf);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    size_t i = 0;
    while (i < line.size()) {
      while (i < line.size() && line[i] == ' ') ++i;
      size_t j = i;
      while (j < line.size() && line[j] != ' ') ++j;
      if (j > i) {
        if (args.size() == limits.max_args) return Parse::kMalformed;
        args.push_back(line.substr(i, j - i));
      }
      i = j;
    }
    used = lf + 1;
    return Parse::kComplete;
  }
  size_t end = line_end(in, 1);
  if (end == std::string_view::npos) {
    return in.size() > 16 ? Parse::kMalformed : Parse::kIncomplete;
  }
  size_t count = 0;
  if (!parse_len(in.substr(1, end - 1), limits.max_args, count)) return Parse::kMalformed;
  size_t pos = end + 2;
  for (size_t k = 0; k < count; ++k) {
    if (pos >= in.size()) return Parse::kIncomplete;
    if (in[pos] != '$') return Parse::kMalformed;
    end = line_end(in, pos + 1);
    if (end == std::string_view::npos) {
      return in.size() - pos > 16 ? Parse::kMalformed : Parse::kIncomplete;
    }
    size_t len = 0;
    if (!parse_len(in.substr(pos + 1, end - pos - 1), limits.max_arg_bytes, len)) {
      return Parse::kMalformed;
    }
    pos = end + 2;
    if (in.size() < pos + len + 2) return Parse::kIncomplete;
    if (in.substr(pos + len, 2) != "\r\n") return Parse::kMalformed;
    args.push_back(in.substr(pos, len));
    pos += len + 2;
  }
  used = pos;
  return Parse::kComplete;
}

}  // namespace redis

namespace {

constexpr std::string_view kType = "event4_honeypot_brute_force";

class RedisSession : public sensors::Session {
 public:
  explicit RedisSession(const ServiceContext& ctx) : ctx_(ctx) {}

  size_t on_data(std::string_view in, sensors::SessionIo& io) override {
    size_t consumed = 0;
    while (consumed < in.size()) {
      size_t used = 0;
      auto r = redis::parse_command(in.substr(consumed), args_, used);
      if (r == redis::Parse::kIncomplete) break;
      if (r == redis::Parse::kMalformed) {
        io.send("-ERR Protocol error: invalid multibulk length\r\n");
        io.close();
        return in.size();
      }
      consumed += used;
      if (args_.empty()) continue;
      std::string cmd = to_lower(args_[0]);
      if (cmd == "auth" && (args_.size() == 2 || args_.size() == 3)) {
        log_attempt(io, args_.size() == 3 ? args_[1] : std::string_view{}, args_.back());
        io.send(args_.size() == 3
                    ? "-WRONGPASS invalid username-password pair or user is disabled.\r\n"
                    : "-ERR invalid password\r\n");
      } else if (cmd == "hello" && args_.size() >= 5 && to_lower(args_[2]) == "auth") {
        log_attempt(io, args_[3], args_[4]);
        io.send("-WRONGPASS invalid username-password pair or user is disabled.\r\n");
      } else if (cmd == "quit") {
        io.send("+OK\r\n");
        io.close();
        return in.size();
      } else if (cmd == "auth") {
        io.send("-ERR wrong number of arguments for 'auth' command\r\n");
      } else {
        io.send("-NOAUTH Authentication required.\r\n");
      }
    }
    return consumed;
  }

 private:
  void log_attempt(sensors::SessionIo& io, std::string_view user, std::string_view password) {
    LoginAttempt a;
    a.service = "redis";
    a.username = user;
    a.password = password;
    log_tcp_login(ctx_, io, id_, a);
  }

  ServiceContext ctx_;
  ConnectionId id_;
  std::vector<std::string_view> args_;
};

}  // namespace

ServiceModule redis_service() {
  ServiceModule m;
  m.name = "redis";
  m.transport = Transport::kTcp;
  m.standard_port = 6379;
  m.loopback_port = 16379;
  m.report_types = {std::string(kType)};
  m.description = "Redis with a password: every AUTH is logged and refused";
  m.install = [](ServiceContext& ctx, const sensors::Endpoint& at) {
    return install_tcp_sessions<RedisSession>(ctx, "redis", at);
  };
  return m;
}

}  // namespace vantage::honeypot

// The Telnet honeypot: negotiates like a Linux telnetd (it echoes, asks for the terminal type
// and window size), prompts "login:" and "Password:", logs every pair as an
// event4_honeypot_brute_force row (client_version: the terminal type the client announced)
// and answers "Login incorrect", closing after honeypot.max_attempts. In medium mode a login
// as root/admin gets the fake shell (shell/shell.h): commands are answered from canned text
// and the URLs they name are logged (payload_url), never fetched.

#include "sensors/honeypot/telnet/telnet.h"

#include <bitset>

#include "sensors/honeypot/login.h"
#include "sensors/honeypot/shell/shell.h"

namespace vantage::honeypot {

namespace telnet {

size_t Reader::feed(std::string_view in, std::vector<Item>& out, std::string* echo) {
  size_t i = 0;
  const size_t n = in.size();
  auto byte = [&](size_t k) { return static_cast<uint8_t>(in[k]); };
  while (i < n) {
    uint8_t b = byte(i);
    if (b == kIac) {
      if (i + 1 >= n) break;
      uint8_t cmd = byte(i + 1);
      if (cmd >= kWill && cmd <= kDont) {
        if (i + 2 >= n) break;
        Item it;
        it.kind = Item::Kind::kNegotiation;
        it.command = cmd;
        it.option = byte(i + 2);
        out.push_back(std::move(it));
        i += 3;
        continue;
      }
      if (cmd == kSb) {
        // Payload up to IAC SE; IAC IAC is a data 255. Another IAC command ends it early
        // (a broken client), as lenient servers do.
        std::string payload;
        size_t j = i + 2;
        bool done = false;
        while (j < n) {
          if (byte(j) == kIac) {
            if (j + 1 >= n) break;
            if (byte(j + 1) == kIac) {
              payload.push_back(static_cast<char>(kIac));
              j += 2;
            } else {
              j += 2;
              done = true;
              break;
            }
          } else {
            payload.push_back(in[j]);
            ++j;
          }
          if (payload.size() > limits_.max_subnegotiation + 1) break;
        }
        if (payload.size() > limits_.max_subnegotiation + 1) {
          out.push_back({Item::Kind::kTooLong, kSb, 0, {}});
          return n;
        }
        if (!done) break;  // the rest has not arrived yet
        Item it;
        it.kind = Item::Kind::kSubnegotiation;
        if (!payload.empty()) {
          it.option = static_cast<uint8_t>(payload[0]);
          it.text = payload.substr(1);
        }
        out.push_back(std::move(it));
        i = j;
        continue;
      }
      if (cmd == kIac) {
        b = kIac;  // an escaped data byte 255, handled below
        ++i;
      } else {
        if (cmd == kEc && !line_.empty()) line_.pop_back();
        if (cmd == kEl) line_.clear();
        i += 2;  // NOP, DM, BRK, IP, AO, AYT, GA, SE out of place: nothing to do
        continue;
      }
    }
    ++i;
    if (b == '\r' || (b == '\n' && !after_cr_)) {
      end_line(out);
      after_cr_ = b == '\r';
      if (echo) echo->append("\r\n");
      return i;  // the caller acts on the line before reading on (echo, prompts)
    }
    bool was_cr = after_cr_;
    after_cr_ = false;
    if ((b == '\n' || b == 0) && was_cr) continue;  // the rest of CR LF / CR NUL
    if (b == 0) continue;
    if (b == 8 || b == 127) {
      if (!line_.empty()) {
        line_.pop_back();
        if (echo) echo->append("\b \b");
      }
      continue;
    }
    if (line_.size() >= limits_.max_line) {
      out.push_back({Item::Kind::kTooLong, 0, 0, {}});
      return n;
    }
    line_.push_back(static_cast<char>(b));
    if (echo && b >= 0x20) echo->push_back(static_cast<char>(b));
  }
  return i;
}

void Reader::end_line(std::vector<Item>& out) {
  Item it;
  it.kind = Item::Kind::kLine;
  it.text = std::move(line_);
  out.push_back(std::move(it));
  std::string().swap(line_);  // an idle connection keeps no buffer
}

bool parse_ttype(std::string_view payload, std::string& name) {
  if (payload.empty() || payload[0] != 0) return false;  // 0 = IS
  name.assign(payload.substr(1, 64));
  return true;
}

bool parse_naws(std::string_view payload, uint16_t& width, uint16_t& height) {
  if (payload.size() != 4) return false;
  auto u = [&](size_t k) { return static_cast<uint16_t>(static_cast<uint8_t>(payload[k])); };
  width = static_cast<uint16_t>((u(0) << 8) | u(1));
  height = static_cast<uint16_t>((u(2) << 8) | u(3));
  return true;
}

}  // namespace telnet

namespace {

// "Username:" rather than Linux's "server login:": what routers and cameras (the usual telnet
// targets) print, and what hydra 9.4 needs to move to its next pair cleanly after a failure
// (after "login:" it resends a stale one).
constexpr char kLoginPrompt[] = "Username: ";

std::string iac(uint8_t cmd, uint8_t opt) {
  return {static_cast<char>(telnet::kIac), static_cast<char>(cmd), static_cast<char>(opt)};
}

// LF -> CR LF, as the NVT wants.
std::string crlf(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 16);
  for (char c : s) {
    if (c == '\n') out.push_back('\r');
    out.push_back(c);
  }
  return out;
}

class TelnetSession : public sensors::Session {
 public:
  explicit TelnetSession(const ServiceContext& ctx) : ctx_(ctx) {}

  void on_open(sensors::SessionIo& io) override {
    io.send(iac(telnet::kWill, telnet::kOptEcho) + iac(telnet::kWill, telnet::kOptSga) +
            iac(telnet::kDo, telnet::kOptTtype) + iac(telnet::kDo, telnet::kOptNaws));
    answered_.set(telnet::kOptEcho)
        .set(telnet::kOptSga)
        .set(telnet::kOptTtype)
        .set(telnet::kOptNaws);
    io.send("\r\nDebian GNU/Linux 12\r\n\r\n" + std::string(kLoginPrompt));
  }

  size_t on_data(std::string_view in, sensors::SessionIo& io) override {
    std::vector<telnet::Item> items;
    std::string echo;
    size_t consumed = 0;
    while (consumed < in.size()) {
      items.clear();
      echo.clear();
      // Echo what is typed (not the password), as a telnetd that said WILL ECHO does.
      size_t used =
          reader_.feed(in.substr(consumed), items, state_ == State::kPassword ? nullptr : &echo);
      consumed += used;
      if (!echo.empty()) io.send(echo);
      for (auto& it : items) {
        if (!handle(it, io)) {
          io.close();
          return in.size();
        }
      }
      if (used == 0) break;
    }
    return consumed;
  }

 private:
  enum class State : uint8_t { kUser, kPassword, kShell };

  bool handle(telnet::Item& it, sensors::SessionIo& io) {
    using Kind = telnet::Item::Kind;
    switch (it.kind) {
      case Kind::kTooLong: return false;
      case Kind::kNegotiation: negotiate(it.command, it.option, io); return true;
      case Kind::kSubnegotiation:
        if (it.option == telnet::kOptTtype) {
          std::string name;
          if (telnet::parse_ttype(it.text, name)) terminal_ = std::move(name);
        }
        return true;
      case Kind::kLine: return line(it.text, io);
    }
    return true;
  }

  void negotiate(uint8_t cmd, uint8_t opt, sensors::SessionIo& io) {
    if (cmd == telnet::kWill && opt == telnet::kOptTtype && !asked_ttype_) {
      asked_ttype_ = true;  // IAC SB TTYPE SEND IAC SE
      io.send(std::string{static_cast<char>(telnet::kIac), static_cast<char>(telnet::kSb),
                          static_cast<char>(telnet::kOptTtype), 1, static_cast<char>(telnet::kIac),
                          static_cast<char>(telnet::kSe)});
      return;
    }
    // Refuse what we did not offer, once per option (RFC 1143: never answer in a loop).
    if (answered_.test(opt) || cmd == telnet::kWont || cmd == telnet::kDont) return;
    answered_.set(opt);
    io.send(iac(cmd == telnet::kDo ? telnet::kWont : telnet::kDont, opt));
  }

  // False once the connection is to be closed.
  bool line(const std::string& text, sensors::SessionIo& io) {
    switch (state_) {
      case State::kUser:
        if (text.empty()) {
          io.send(std::string(kLoginPrompt));
          return true;
        }
        user_ = text;
        state_ = State::kPassword;
        io.send("Password: ");
        return true;
      case State::kPassword: {
        bool in = medium_login_accepted(*ctx_.settings, user_, text);
        log(io, user_, text, {}, in ? "telnet-login" : "");
        if (in) {
          state_ = State::kShell;
          io.send("\r\nLinux server 5.10.0-26-amd64 #1 SMP Debian 5.10.197-1 x86_64\r\n\r\n" +
                  shell::prompt(user_));
          return true;
        }
        if (static_cast<int>(id_.attempts()) >= ctx_.settings->max_attempts) {
          io.send("\r\nLogin incorrect\r\n");
          return false;
        }
        state_ = State::kUser;
        user_.clear();
        io.send("\r\nLogin incorrect\r\n\r\n" + std::string(kLoginPrompt));
        return true;
      }
      case State::kShell: {
        auto reply = shell::respond(text, user_);
        for (const auto& url : reply.urls) log(io, {}, {}, url, "telnet-payload");
        if (reply.exit) {
          io.send("logout\r\n");
          return false;
        }
        io.send(crlf(reply.output) + shell::prompt(user_));
        return true;
      }
    }
    return true;
  }

  void log(sensors::SessionIo& io, std::string_view user, std::string_view password,
           std::string_view url, std::string_view tag) {
    LoginAttempt a;
    a.service = "telnet";
    a.tag = tag;
    a.client_version = terminal_;
    a.username = user;
    a.password = password;
    a.payload_url = url;
    log_tcp_login(ctx_, io, id_, a);
  }

  ServiceContext ctx_;
  telnet::Reader reader_;
  ConnectionId id_;
  State state_ = State::kUser;
  bool asked_ttype_ = false;
  std::bitset<256> answered_;
  std::string user_;
  std::string terminal_;
};

}  // namespace

ServiceModule telnet_service() {
  ServiceModule m;
  m.name = "telnet";
  m.transport = Transport::kTcp;
  m.standard_port = 23;
  m.loopback_port = 10023;
  m.report_types = {"event4_honeypot_brute_force"};
  m.description =
      "Telnet login: every login/password pair is logged and refused (medium mode: a fake "
      "shell for root/admin that logs the URLs it is told to fetch)";
  m.install = [](ServiceContext& ctx, const sensors::Endpoint& at) {
    return install_tcp_sessions<TelnetSession>(ctx, "telnet", at);
  };
  return m;
}

}  // namespace vantage::honeypot

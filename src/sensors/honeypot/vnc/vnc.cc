// The VNC honeypot: an RFB 3.8 server offering only VNC authentication (RFC 6143 7.2.2).
// It sends a random 16-byte challenge, logs the client's answer (the challenge DES-encrypted
// with the password) as an event4_honeypot_brute_force row, and answers that authentication
// failed. One attempt per connection, as with a real server. Clients speaking 3.3 and 3.7 get
// those versions' handshakes.

#include "sensors/honeypot/vnc/vnc.h"

#include <openssl/rand.h>

#include <cctype>

#include "common/strings.h"
#include "sensors/honeypot/login.h"

namespace vantage::honeypot {

namespace vnc {

bool parse_version(std::string_view m, int& major, int& minor) {
  if (m.size() != 12 || m.substr(0, 4) != "RFB " || m[7] != '.' || m[11] != '\n') return false;
  auto num = [](std::string_view d, int& out) {
    out = 0;
    for (char c : d) {
      if (!std::isdigit(static_cast<unsigned char>(c))) return false;
      out = out * 10 + (c - '0');
    }
    return true;
  };
  return num(m.substr(4, 3), major) && num(m.substr(8, 3), minor);
}

std::string john_notation(std::string_view challenge, std::string_view response) {
  std::string out = "$vnc$*" + hex_encode(challenge) + "*" + hex_encode(response);
  for (auto& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  out.replace(0, 5, "$vnc$");  // the tag stays lower case
  return out;
}

}  // namespace vnc

namespace {

void put_u32(std::string& out, uint32_t v) {
  for (int i = 3; i >= 0; --i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

class VncSession : public sensors::Session {
 public:
  explicit VncSession(const ServiceContext& ctx) : ctx_(ctx) {}

  void on_open(sensors::SessionIo& io) override { io.send(vnc::kServerVersion); }

  size_t on_data(std::string_view in, sensors::SessionIo& io) override {
    switch (state_) {
      case State::kVersion: {
        if (in.size() < 12) return 0;
        int major = 0;
        if (!vnc::parse_version(in.substr(0, 12), major, minor_) || major != 3) {
          io.close();
          return in.size();
        }
        client_.assign(in.substr(0, 11));
        if (minor_ < 7) {
          // 3.3: the server picks the security type (u32), then the challenge follows.
          std::string out;
          put_u32(out, 2);
          challenge(io, out);
        } else {
          io.send(std::string("\x01\x02", 2));  // one type: VNC authentication
          state_ = State::kSecurityType;
        }
        return 12;
      }
      case State::kSecurityType: {
        if (in[0] != 2) {
          fail(io);
          return in.size();
        }
        std::string out;
        challenge(io, out);
        return 1;
      }
      case State::kResponse: {
        if (in.size() < 16) return 0;
        log(io, in.substr(0, 16));
        fail(io);
        return in.size();
      }
      case State::kDone: break;
    }
    return in.size();
  }

 private:
  enum class State : uint8_t { kVersion, kSecurityType, kResponse, kDone };

  void challenge(sensors::SessionIo& io, std::string& out) {
    unsigned char c[16];
    if (RAND_bytes(c, sizeof c) != 1) {
      for (int k = 0; k < 16; ++k) c[k] = static_cast<unsigned char>(k * 53 + 7);
    }
    challenge_.assign(reinterpret_cast<const char*>(c), sizeof c);
    out.append(challenge_);
    io.send(out);
    state_ = State::kResponse;
  }

  void fail(sensors::SessionIo& io) {
    std::string out;
    put_u32(out, 1);  // SecurityResult: failed
    if (minor_ >= 8) {
      constexpr std::string_view kReason = "Authentication failed";
      put_u32(out, static_cast<uint32_t>(kReason.size()));
      out.append(kReason);
    }
    io.send(out);
    io.close();
    state_ = State::kDone;
  }

  void log(sensors::SessionIo& io, std::string_view response) {
    std::string password = vnc::john_notation(challenge_, response);
    LoginAttempt a;
    a.service = "vnc";
    a.client_version = client_;
    a.password = password;
    log_tcp_login(ctx_, io, id_, a);
  }

  ServiceContext ctx_;
  ConnectionId id_;
  State state_ = State::kVersion;
  int minor_ = 8;
  std::string client_, challenge_;
};

}  // namespace

ServiceModule vnc_service() {
  ServiceModule m;
  m.name = "vnc";
  m.transport = Transport::kTcp;
  m.standard_port = 5900;
  m.loopback_port = 15900;
  m.report_types = {"event4_honeypot_brute_force"};
  m.description =
      "VNC (RFB 3.8, VNC authentication): every answer to the challenge is logged (challenge "
      "and response) and refused";
  m.install = [](ServiceContext& ctx, const sensors::Endpoint& at) {
    return install_tcp_sessions<VncSession>(ctx, "vnc", at);
  };
  return m;
}

}  // namespace vantage::honeypot

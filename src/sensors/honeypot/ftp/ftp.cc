// The FTP honeypot: answers like vsftpd that knows no user. Every USER/PASS pair is logged as
// an event4_honeypot_brute_force row and refused ("530 Login incorrect."); every other
// command before a login asks for one. After honeypot.max_attempts refused logins the
// connection is closed, as real servers do.

#include "sensors/honeypot/ftp/ftp.h"

#include <cctype>

#include "sensors/honeypot/login.h"

namespace vantage::honeypot {

namespace ftp {

Command split_command(std::string_view line) {
  Command c;
  size_t sp = line.find(' ');
  std::string_view verb = line.substr(0, sp);
  for (char ch : verb.substr(0, 8))
    c.verb += static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  if (sp != std::string_view::npos) c.arg = line.substr(sp + 1);
  return c;
}

}  // namespace ftp

namespace {

constexpr size_t kMaxLine = 1024;  // RFC 959 sets none; credentials are far shorter

class FtpSession : public sensors::Session {
 public:
  explicit FtpSession(const ServiceContext& ctx) : ctx_(ctx) {}

  void on_open(sensors::SessionIo& io) override { io.send("220 (vsFTPd 3.0.3)\r\n"); }

  size_t on_data(std::string_view in, sensors::SessionIo& io) override {
    size_t consumed = 0;
    while (consumed < in.size()) {
      std::string_view line;
      size_t used = 0;
      auto r = read_line(in.substr(consumed), kMaxLine, line, used);
      if (r == LineRead::kIncomplete) break;
      if (r == LineRead::kTooLong) {
        io.send("500 Input line too long.\r\n");
        io.close();
        return in.size();
      }
      consumed += used;
      if (!handle(ftp::split_command(line), io)) return in.size();
    }
    return consumed;
  }

 private:
  // False once the connection is closing.
  bool handle(const ftp::Command& c, sensors::SessionIo& io) {
    if (c.verb == "USER") {
      user_.assign(c.arg);
      have_user_ = true;
      io.send("331 Please specify the password.\r\n");
    } else if (c.verb == "PASS") {
      if (!have_user_) {
        io.send("503 Login with USER first.\r\n");
        return true;
      }
      log_attempt(io, c.arg);
      have_user_ = false;
      user_.clear();
      user_.shrink_to_fit();
      io.send("530 Login incorrect.\r\n");
      if (static_cast<int>(id_.attempts()) >= ctx_.settings->max_attempts) {
        io.close();
        return false;
      }
    } else if (c.verb == "QUIT") {
      io.send("221 Goodbye.\r\n");
      io.close();
      return false;
    } else if (c.verb == "FEAT") {
      io.send(
          "211-Features:\r\n EPRT\r\n EPSV\r\n MDTM\r\n PASV\r\n REST STREAM\r\n SIZE\r\n"
          " TVFS\r\n UTF8\r\n211 End\r\n");
    } else if (c.verb == "SYST") {
      io.send("215 UNIX Type: L8\r\n");
    } else if (c.verb == "NOOP") {
      io.send("200 NOOP ok.\r\n");
    } else if (c.verb == "AUTH") {
      io.send("530 Please login with USER and PASS.\r\n");
    } else if (!c.verb.empty()) {
      io.send("530 Please login with USER and PASS.\r\n");
    }
    return true;
  }

  void log_attempt(sensors::SessionIo& io, std::string_view password) {
    LoginAttempt a;
    a.service = "ftp";
    a.username = user_;
    a.password = password;
    log_tcp_login(ctx_, io, id_, a);
  }

  ServiceContext ctx_;
  ConnectionId id_;
  bool have_user_ = false;
  std::string user_;
};

}  // namespace

ServiceModule ftp_service() {
  ServiceModule m;
  m.name = "ftp";
  m.transport = Transport::kTcp;
  m.standard_port = 21;
  m.loopback_port = 10021;
  m.report_types = {"event4_honeypot_brute_force"};
  m.description = "FTP (vsftpd's replies): every USER/PASS pair is logged and refused";
  m.install = [](ServiceContext& ctx, const sensors::Endpoint& at) {
    return install_tcp_sessions<FtpSession>(ctx, "ftp", at);
  };
  return m;
}

}  // namespace vantage::honeypot

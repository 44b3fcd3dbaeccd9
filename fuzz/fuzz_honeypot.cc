// libFuzzer: every honeypot protocol reader on attacker bytes. The first input byte picks
// the reader (a table, so adding a service's parser is one line); the rest is what a client
// sent.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string_view>
#include <vector>

#include "sensors/honeypot/ftp/ftp.h"
#include "sensors/honeypot/mysql/mysql.h"
#include "sensors/honeypot/redis/redis.h"
#include "sensors/honeypot/shell/shell.h"
#include "sensors/honeypot/ssh/client_hello.h"
#include "sensors/honeypot/telnet/telnet.h"
#include "sensors/honeypot/vnc/vnc.h"

namespace {

using Reader = std::function<void(std::string_view)>;

const std::vector<Reader>& readers() {
  using namespace vantage::honeypot;
  static const std::vector<Reader> r{
      // Redis: a stream of commands, consumed as the session does.
      [](std::string_view in) {
        std::vector<std::string_view> args;
        for (int i = 0; i < 256 && !in.empty(); ++i) {
          size_t used = 0;
          if (redis::parse_command(in, args, used) != redis::Parse::kComplete) break;
          if (used == 0 || used > in.size()) __builtin_trap();
          in.remove_prefix(used);
        }
      },
      // FTP: command lines, as the session reads them.
      [](std::string_view in) {
        for (int i = 0; i < 256 && !in.empty(); ++i) {
          std::string_view line;
          size_t used = 0;
          if (read_line(in, 1024, line, used) != LineRead::kComplete) break;
          if (used == 0 || used > in.size() || line.size() > 1024) __builtin_trap();
          auto c = ftp::split_command(line);
          if (c.verb.size() > 8) __builtin_trap();
          in.remove_prefix(used);
        }
      },
      // Telnet: the NVT stream in arbitrary pieces (the first byte sets the piece size).
      [](std::string_view in) {
        telnet::Reader reader(telnet::Limits{64, 16});
        std::vector<telnet::Item> items;
        std::string echo, pending;
        size_t piece = in.empty() ? 1 : 1 + static_cast<uint8_t>(in[0]) % 17;
        for (size_t pos = 0; pos < in.size(); pos += piece) {
          pending.append(in.substr(pos, piece));
          for (int k = 0; k < 64 && !pending.empty(); ++k) {
            items.clear();
            size_t used = reader.feed(pending, items, &echo);
            if (used > pending.size()) __builtin_trap();
            for (const auto& it : items) {
              if (it.kind == telnet::Item::Kind::kLine && it.text.size() > 64) __builtin_trap();
              std::string name;
              uint16_t w = 0, h = 0;
              (void)telnet::parse_ttype(it.text, name);
              (void)telnet::parse_naws(it.text, w, h);
            }
            pending.erase(0, used);
            if (used == 0) break;
          }
        }
      },
      // MySQL: a packet, read as the client's handshake response.
      [](std::string_view in) {
        std::string_view payload;
        uint8_t seq = 0;
        size_t used = 0;
        if (mysql::read_packet(in, payload, seq, used) == mysql::Parse::kComplete) {
          if (used > in.size()) __builtin_trap();
          in = payload;
        }
        mysql::HandshakeResponse hr;
        (void)mysql::parse_handshake_response(in, hr);
        if (hr.plugin.size() > 64 || hr.client_name.size() > 64) __builtin_trap();
      },
      // VNC: the client's ProtocolVersion message.
      [](std::string_view in) {
        int major = 0, minor = 0;
        if (vnc::parse_version(in.substr(0, 12), major, minor) && (major > 999 || minor > 999))
          __builtin_trap();
        if (in.size() >= 32) (void)vnc::john_notation(in.substr(0, 16), in.substr(16, 16));
      },
      // SSH: the client's hello (identification line and KEXINIT), read as it grows.
      [](std::string_view in) {
        ssh::ClientHello hello;
        for (size_t n = 1; n <= in.size(); n += 1 + n / 2) {
          hello = {};
          auto r = ssh::parse_client_hello(in.substr(0, n), hello);
          if (r == ssh::HelloParse::kComplete && hello.hassh.size() != 32) __builtin_trap();
          if (r == ssh::HelloParse::kInvalid) break;
        }
        (void)ssh::parse_client_hello(in, hello);
      },
      // The fake shell: what an attacker types into it.
      [](std::string_view in) {
        auto r = shell::respond(in.substr(0, 4096), "root");
        if (r.urls.size() > shell::kMaxUrls) __builtin_trap();
        for (const auto& u : r.urls)
          if (u.size() > shell::kMaxUrlBytes) __builtin_trap();
      },
  };
  return r;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const auto& r = readers();
  r[data[0] % r.size()](std::string_view(reinterpret_cast<const char*>(data) + 1, size - 1));
  return 0;
}

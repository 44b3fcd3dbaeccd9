// libFuzzer: every honeypot protocol reader on attacker bytes. The first input byte picks
// the reader (a table, so adding a service's parser is one line); the rest is what a client
// sent.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "sensors/honeypot/adb/adb.h"
#include "sensors/honeypot/amp/protocols.h"
#include "sensors/honeypot/darknet/darknet.h"
#include "sensors/honeypot/ftp/ftp.h"
#include "sensors/honeypot/http/http.h"
#include "sensors/honeypot/ics/ics.h"
#include "sensors/honeypot/mysql/mysql.h"
#include "sensors/honeypot/rdp/rdp.h"
#include "sensors/honeypot/redis/redis.h"
#include "sensors/honeypot/shell/shell.h"
#include "sensors/honeypot/smb/smb.h"
#include "sensors/honeypot/ssh/client_hello.h"
#include "sensors/honeypot/telnet/telnet.h"
#include "sensors/honeypot/vnc/vnc.h"

namespace {

using Reader = std::function<void(std::string_view)>;

// A UDP request answered; the reply must stay modest whatever the request (the budget is
// counted in bytes, but no single reply should be a flood either).
void amp_reader(vantage::honeypot::amp::Responder respond, std::string_view in) {
  std::string reply, summary;
  vantage::sensors::Endpoint local{vantage::IpAddress::from_v4(0x7f000001), 53};
  if (respond(in, local, reply, summary) && reply.size() > 4096) __builtin_trap();
}

const std::vector<Reader>& readers() {
  using namespace vantage::honeypot;
  namespace sensors = vantage::sensors;
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
      // HTTP: requests classified by the shipped exploit rules, and their events written.
      [](std::string_view in) {
        static const auto rules =
            http::RuleSet::load(std::string(VANTAGE_SOURCE_DIR) + "/conf/honeypot/http_rules.json");
        if (!rules) std::abort();
        sensors::HttpRequest req;
        sensors::HttpLimits limits;
        std::string why, out;
        HoneypotSettings settings;
        sensors::ConnectionInfo info;
        for (int i = 0; i < 16 && !in.empty(); ++i) {
          auto r = sensors::parse_http_request(in, req, limits, &why);
          if (r != sensors::HttpParse::kComplete) {
            http::append_http_event(out, settings, info, 0, "http", in, nullptr, nullptr, "x");
            break;
          }
          std::string_view raw = in.substr(0, req.length);
          const auto* rule = (*rules)->classify(http::RequestView{raw, &req});
          http::append_http_event(out, settings, info, 0, "http", raw, &req, rule, "");
          in.remove_prefix(req.length);
        }
      },
      // HTTP rules files (operator data, but a broken one must be refused, never crash).
      [](std::string_view in) { (void)http::RuleSet::parse(in, "fuzz.json"); },
      // RDP: X.224 connection request, and the confirm built from it.
      [](std::string_view in) {
        rdp::ConnectionRequest req;
        if (rdp::parse_connection_request(in, req) == rdp::Parse::kComplete) {
          uint32_t selected = 0;
          if (req.length > in.size()) __builtin_trap();
          (void)rdp::connection_confirm(req, selected);
        }
      },
      // SMB: NetBIOS frames, SMB1/SMB2 messages, and every reply written from them.
      [](std::string_view in) {
        for (int i = 0; i < 32 && !in.empty(); ++i) {
          uint8_t type = 0;
          std::string_view payload;
          size_t used = 0;
          if (smb::parse_frame(in, type, payload, used) != smb::Parse::kComplete) break;
          if (used == 0 || used > in.size()) __builtin_trap();
          smb::Message m;
          if (smb::parse_message(payload, m) == smb::Parse::kComplete) {
            (void)smb::command_name(m.version, m.command);
            (void)smb::smb2_negotiate_response(m, 0x0311);
            (void)smb::smb1_negotiate_response(m, 0);
            (void)smb::smb1_session_setup_response(m);
            (void)smb::smb2_status(m, smb::kStatusAccessDenied);
          }
          in.remove_prefix(used);
        }
      },
      // ADB messages.
      [](std::string_view in) {
        for (int i = 0; i < 64 && !in.empty(); ++i) {
          adb::Message m;
          if (adb::parse_message(in, m) != adb::Parse::kComplete) break;
          if (m.length < 24 || m.length > in.size()) __builtin_trap();
          (void)adb::command_name(m.command);
          in.remove_prefix(m.length);
        }
      },
      // Modbus/TCP requests and the PLC's answers.
      [](std::string_view in) {
        for (int i = 0; i < 64 && !in.empty(); ++i) {
          ics::ModbusRequest r;
          if (ics::parse_modbus(in, r) != ics::Parse::kComplete) break;
          if (r.length > in.size()) __builtin_trap();
          (void)ics::modbus_response(r);
          in.remove_prefix(r.length);
        }
      },
      // S7comm over ISO-on-TCP.
      [](std::string_view in) {
        for (int i = 0; i < 64 && !in.empty(); ++i) {
          ics::S7Packet p;
          if (ics::parse_s7(in, p) != ics::Parse::kComplete) break;
          if (p.length > in.size()) __builtin_trap();
          (void)ics::s7_response(p);
          (void)ics::s7_function_name(p);
          in.remove_prefix(p.length);
        }
      },
      // The UDP amplifiers, one reader each.
      [](std::string_view in) { amp_reader(amp::respond_dns, in); },
      [](std::string_view in) { amp_reader(amp::respond_ntp, in); },
      [](std::string_view in) { amp_reader(amp::respond_ssdp, in); },
      [](std::string_view in) { amp_reader(amp::respond_chargen, in); },
      [](std::string_view in) { amp_reader(amp::respond_snmp, in); },
      [](std::string_view in) { amp_reader(amp::respond_memcached, in); },
      [](std::string_view in) { amp_reader(amp::respond_cldap, in); },
      // Darknet: packets from a packet socket.
      [](std::string_view in) {
        darknet::Packet p;
        (void)darknet::parse_packet(in, p);
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

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
#include "sensors/honeypot/http/http.h"
#include "sensors/honeypot/ics/ics.h"
#include "sensors/honeypot/rdp/rdp.h"
#include "sensors/honeypot/redis/redis.h"
#include "sensors/honeypot/smb/smb.h"

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

// The amplification honeypot services (AmpPot-style): one UDP listener per protocol of
// protocols.h, each with its own tracker (tracker.h) that keeps the replies within the
// per-source budget and turns floods from one spoofed source into one
// event4_honeypot_ddos_amp event, written on the UDP loop's tick once the attack has gone
// idle (and at shutdown).

#include <atomic>

#include "sensors/honeypot/amp/protocols.h"
#include "sensors/honeypot/amp/tracker.h"
#include "sensors/honeypot/service.h"

namespace vantage::honeypot {

namespace amp {

void append_printable(std::string& out, std::string_view s, size_t max) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (size_t i = 0; i < s.size() && i < max; ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out.push_back(static_cast<char>(c));
    } else {
      out.append("\\x");
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  if (s.size() > max) out.append("...");
}

}  // namespace amp

namespace {

struct AmpState {
  AmpState(const AmpSettings& s, std::string name) : tracker(s, std::move(name)) {}
  amp::AmpTracker tracker;
  std::atomic<int64_t> not_requests{0};  // datagrams that were no request of the protocol
};

ServiceModule amp_service(std::string name, uint16_t port, uint16_t loopback,
                          std::string description, amp::Responder respond) {
  ServiceModule m;
  m.name = name;
  m.transport = Transport::kUdp;
  m.standard_port = port;
  m.loopback_port = loopback;
  m.report_types = {"event4_honeypot_ddos_amp"};
  m.description = std::move(description);
  m.install = [name, respond](ServiceContext& ctx,
                              const sensors::Endpoint& at) -> Result<sensors::Endpoint> {
    auto state = std::make_shared<AmpState>(ctx.settings->scan.amp, name);
    sensors::UdpListenerOptions lo;
    lo.name = name;
    lo.bind = at;
    lo.handler = [state, respond](const sensors::Datagram& d, sensors::UdpReplies& replies) {
      // Per-thread scratch: a flood costs no allocation per datagram.
      thread_local std::string reply, summary;
      reply.clear();
      summary.clear();
      if (d.truncated || !respond(d.payload, d.local, reply, summary)) {
        state->not_requests.fetch_add(1, std::memory_order_relaxed);
        return;
      }
      if (state->tracker.on_request(d.peer, d.local, summary, d.payload.size(), reply.size(),
                                    amp::Clock::now()) &&
          !reply.empty()) {
        replies.reply(reply);
      }
    };
    ServiceContext c = ctx;
    auto tick = [state, c, name](int thread) {
      auto attacks = state->tracker.take_finished(amp::Clock::now(), c.host->stopping());
      if (attacks.empty()) return;
      auto& buf = c.host->udp_buffer(thread);
      for (const auto& a : attacks) {
        amp::append_attack_event(buf.text(), *c.settings, name, a);
        buf.commit();
      }
    };
    auto bound = ctx.host->add_udp(std::move(lo), tick);
    if (!bound) return bound.error();
    ctx.host->add_status(name, [state] {
      auto s = state->tracker.stats();
      return nlohmann::json{{"requests", s.requests},
                            {"replies", s.replies},
                            {"suppressed", s.suppressed},
                            {"reply_bytes", s.reply_bytes},
                            {"attacks", s.attacks},
                            {"scans", s.scans},
                            {"evicted", s.evicted},
                            {"tracked", s.tracked},
                            {"not_requests", state->not_requests.load()}};
    });
    return bound;
  };
  return m;
}

}  // namespace

ServiceModule dns_service() {
  return amp_service("dns", 53, 10053, "Open DNS resolver (amplification: ANY/TXT queries)",
                     amp::respond_dns);
}
ServiceModule ntp_service() {
  return amp_service("ntp", 123, 10123,
                     "NTP server answering mode 7 monlist, mode 6 readvar and mode 3",
                     amp::respond_ntp);
}
ServiceModule ssdp_service() {
  return amp_service("ssdp", 1900, 11900, "UPnP SSDP M-SEARCH responder", amp::respond_ssdp);
}
ServiceModule chargen_service() {
  return amp_service("chargen", 19, 10019, "Character generator (RFC 864)", amp::respond_chargen);
}
ServiceModule snmp_service() {
  return amp_service("snmp", 161, 10161, "SNMP v1/v2c agent (GetBulk amplification)",
                     amp::respond_snmp);
}
ServiceModule memcached_service() {
  return amp_service("memcached", 11211, 21211, "memcached over UDP (stats amplification)",
                     amp::respond_memcached);
}
ServiceModule cldap_service() {
  return amp_service("cldap", 389, 10389, "Connectionless LDAP rootDSE (Active Directory)",
                     amp::respond_cldap);
}

}  // namespace vantage::honeypot

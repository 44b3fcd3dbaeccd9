// The ICS honeypots (Modbus/TCP on 502, S7comm on 102): every request a scanner or attacker
// sends becomes an event4_honeypot_ics_scan row (unit/slave id, function, request and response
// in hex), answered as the PLC would; nothing is ever controlled.

#include "sensors/honeypot/ics/ics.h"

namespace vantage::honeypot {

namespace ics {

std::string hex_bounded(std::string_view bytes, size_t max) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string s;
  size_t n = std::min(bytes.size(), max);
  s.reserve(2 * n + 3);
  for (size_t i = 0; i < n; ++i) {
    auto c = static_cast<unsigned char>(bytes[i]);
    s.push_back(kHex[c >> 4]);
    s.push_back(kHex[c & 15]);
  }
  if (bytes.size() > max) s += "...";
  return s;
}

void append_ics_event(std::string& out, const HoneypotSettings& settings,
                      const sensors::ConnectionInfo& info, UnixSeconds when,
                      std::string_view application, std::string_view slave_id,
                      std::string_view function_code, std::string_view request,
                      std::string_view response, std::string_view tag) {
  begin_event(out, "event4_honeypot_ics_scan", settings, info.peer, info.local, "tcp", when)
      .str("application", application)
      .str("tag", tag)
      .str("slave_id", slave_id)
      .str("function_code", function_code)
      .str("request", hex_bounded(request))
      .str("response", hex_bounded(response))
      .finish();
}

}  // namespace ics

namespace {

// Both ICS sessions: frames parsed one by one, each answered and logged; garbage or a cut
// frame logged once as it came.
template <typename Frame, auto kParse, typename Handler>
size_t consume(std::string_view in, bool& closing, sensors::SessionIo& io, Handler on_frame,
               std::string_view malformed_tag,
               const std::function<void(std::string_view, std::string_view)>& log_raw) {
  size_t consumed = 0;
  while (consumed < in.size() && !closing) {
    Frame f;
    auto r = kParse(in.substr(consumed), f);
    if (r == ics::Parse::kIncomplete) break;
    if (r == ics::Parse::kMalformed) {
      log_raw(in.substr(consumed), malformed_tag);
      closing = true;
      io.close();
      return in.size();
    }
    on_frame(f, in.substr(consumed, f.length));
    consumed += f.length;
  }
  return closing ? in.size() : consumed;
}

class IcsSession : public sensors::Session {
 public:
  IcsSession(const ServiceContext& ctx, bool s7) : ctx_(ctx), s7_(s7) {}

  size_t on_data(std::string_view in, sensors::SessionIo& io) override {
    auto log_raw = [&](std::string_view raw, std::string_view tag) {
      log(io, "", "", raw, "", tag);
    };
    if (s7_) {
      return consume<ics::S7Packet, ics::parse_s7>(
          in, closing_, io,
          [&](const ics::S7Packet& p, std::string_view raw) {
            if (p.cotp == 0xe0) tsap_ = ics::hex_bounded(p.tsap_dst, 8);
            std::string reply = ics::s7_response(p);
            log(io, tsap_, ics::s7_function_name(p), raw, reply, "s7comm");
            if (!reply.empty()) io.send(reply);
          },
          "s7-malformed", log_raw);
    }
    return consume<ics::ModbusRequest, ics::parse_modbus>(
        in, closing_, io,
        [&](const ics::ModbusRequest& r, std::string_view raw) {
          std::string reply = ics::modbus_response(r);
          log(io, std::to_string(r.unit), std::to_string(r.function), raw, reply,
              ics::modbus_function_name(r.function));
          io.send(reply);
        },
        "modbus-malformed", log_raw);
  }

  void on_close(sensors::CloseReason, std::string_view unconsumed,
                sensors::SessionIo& io) override {
    if (!unconsumed.empty() && !closing_) {
      log(io, "", "", unconsumed, "", s7_ ? "s7-incomplete" : "modbus-incomplete");
    }
  }

 private:
  void log(sensors::SessionIo& io, std::string_view slave, std::string_view function,
           std::string_view request, std::string_view response, std::string_view tag) {
    const auto& info = io.info();
    auto& buf = ctx_.host->tcp_buffer(info.thread);
    ics::append_ics_event(buf.text(), *ctx_.settings, info, now_seconds(),
                          s7_ ? "s7comm" : "modbus", slave, function, request, response, tag);
    buf.commit();
  }

  ServiceContext ctx_;
  bool s7_;
  bool closing_ = false;
  std::string tsap_;  // the S7 connection's destination TSAP (rack/slot)
};

ServiceModule ics_service(bool s7) {
  ServiceModule m;
  m.name = s7 ? "s7" : "modbus";
  m.transport = Transport::kTcp;
  m.standard_port = s7 ? 102 : 502;
  m.loopback_port = s7 ? 10102 : 10502;
  m.report_types = {"event4_honeypot_ics_scan"};
  m.description = s7 ? "Siemens S7-300 PLC (S7comm over ISO-on-TCP: COTP, setup, SZL reads)"
                     : "Modbus/TCP PLC (Schneider M340: reads, device identification)";
  m.install = [s7](ServiceContext& ctx, const sensors::Endpoint& at) {
    auto lo = tcp_listener(ctx, s7 ? "s7" : "modbus", at);
    lo.max_unconsumed_bytes = 8192;
    ServiceContext copy = ctx;
    lo.factory = [copy, s7](const sensors::ConnectionInfo&) {
      return std::make_unique<IcsSession>(copy, s7);
    };
    return ctx.host->add_tcp(std::move(lo));
  };
  return m;
}

}  // namespace

ServiceModule modbus_service() {
  return ics_service(false);
}
ServiceModule s7_service() {
  return ics_service(true);
}

}  // namespace vantage::honeypot

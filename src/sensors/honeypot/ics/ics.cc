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
    SessionEvent ev(ctx_, io, "event4_honeypot_ics_scan");
    ev.line()
        .str("application", s7_ ? "s7comm" : "modbus")
        .str("tag", tag)
        .str("slave_id", slave)
        .str("function_code", function)
        .str("request", ics::hex_bounded(request))
        .str("response", ics::hex_bounded(response));
    ev.commit();
  }

  ServiceContext ctx_;
  bool s7_;
  bool closing_ = false;
  std::string tsap_;  // the S7 connection's destination TSAP (rack/slot)
};

struct ModbusSession : IcsSession {
  explicit ModbusSession(const ServiceContext& ctx) : IcsSession(ctx, false) {}
};
struct S7Session : IcsSession {
  explicit S7Session(const ServiceContext& ctx) : IcsSession(ctx, true) {}
};

}  // namespace

ServiceModule modbus_service() {
  return tcp_session_service<ModbusSession>(
      "modbus", 502, 10502, "event4_honeypot_ics_scan",
      "Modbus/TCP PLC (Schneider M340: reads, device identification)", 8192);
}
ServiceModule s7_service() {
  return tcp_session_service<S7Session>(
      "s7", 102, 10102, "event4_honeypot_ics_scan",
      "Siemens S7-300 PLC (S7comm over ISO-on-TCP: COTP, setup, SZL reads)", 8192);
}

}  // namespace vantage::honeypot

// The RDP honeypot: reads the X.224 Connection Request, logs it as an
// event4_honeypot_rdp_scan row (cookie = the mstshash user name scanners and brute-forcers
// send, requested protocols in session_tags), answers the Connection Confirm a Windows server
// with NLA would, and closes: no TLS or CredSSP follows, so nothing is ever authenticated.

#include "sensors/honeypot/rdp/rdp.h"

#include "sensors/honeypot/service.h"
#include "sensors/honeypot/wire.h"

namespace vantage::honeypot {

namespace rdp {

Parse parse_connection_request(std::string_view in, ConnectionRequest& out) {
  out = {};
  if (in.size() < 4) return in.empty() || in[0] == 3 ? Parse::kIncomplete : Parse::kMalformed;
  if (in[0] != 3 || in[1] != 0) return Parse::kMalformed;  // TPKT version 3
  size_t length = (static_cast<size_t>(static_cast<unsigned char>(in[2])) << 8) |
                  static_cast<unsigned char>(in[3]);
  if (length < 11 || length > 4096) return Parse::kMalformed;
  if (in.size() < length) return Parse::kIncomplete;
  auto li = static_cast<unsigned char>(in[4]);
  if (li + 5u != length || (static_cast<unsigned char>(in[5]) & 0xf0) != 0xe0) {
    return Parse::kMalformed;  // not a Connection Request TPDU filling the TPKT
  }
  out.length = length;
  std::string_view var = in.substr(11, length - 11);
  if (var.starts_with("Cookie: ")) {
    size_t crlf = var.find("\r\n");
    if (crlf == std::string_view::npos) return Parse::kMalformed;
    out.cookie = var.substr(8, crlf - 8);
    var.remove_prefix(crlf + 2);
  }
  if (var.size() >= 8 && var[0] == 0x01) {
    size_t neg_len = static_cast<unsigned char>(var[2]) | (static_cast<unsigned char>(var[3]) << 8);
    if (neg_len != 8) return Parse::kMalformed;
    out.negotiation = true;
    out.flags = static_cast<uint8_t>(var[1]);
    out.requested = wire::le32(var, 4);
  }
  return Parse::kComplete;
}

std::string connection_confirm(const ConnectionRequest& request, uint32_t& selected) {
  std::string cc("\x03\x00\x00\x0b\x06\xd0\x00\x00\x12\x34\x00", 11);
  selected = kProtocolRdp;
  if (!request.negotiation) return cc;
  cc[3] = 19;
  cc[4] = 14;
  uint32_t value;
  if (request.requested & kProtocolHybrid) {
    selected = kProtocolHybrid;
    value = kProtocolHybrid;
    cc.append("\x02\x1f\x08\x00", 4);  // RDP_NEG_RSP, flags as Windows Server 2019
  } else if (request.requested & kProtocolSsl) {
    selected = kProtocolSsl;
    value = kProtocolSsl;
    cc.append("\x02\x1f\x08\x00", 4);
  } else {
    value = 5;                         // HYBRID_REQUIRED_BY_SERVER
    cc.append("\x03\x00\x08\x00", 4);  // RDP_NEG_FAILURE
  }
  for (int i = 0; i < 4; ++i) cc.push_back(static_cast<char>((value >> (8 * i)) & 0xff));
  return cc;
}

std::string protocol_names(uint32_t p) {
  std::string s = "rdp";
  if (p & kProtocolSsl) s += "|ssl";
  if (p & kProtocolHybrid) s += "|hybrid";
  if (p & kProtocolRdstls) s += "|rdstls";
  if (p & kProtocolHybridEx) s += "|hybrid_ex";
  return s;
}

}  // namespace rdp

namespace {

constexpr std::string_view kType = "event4_honeypot_rdp_scan";

class RdpSession : public sensors::Session {
 public:
  explicit RdpSession(const ServiceContext& ctx) : ctx_(ctx) {}

  size_t on_data(std::string_view in, sensors::SessionIo& io) override {
    if (logged_) return in.size();
    rdp::ConnectionRequest req;
    auto r = rdp::parse_connection_request(in, req);
    if (r == rdp::Parse::kIncomplete) return 0;
    if (r == rdp::Parse::kMalformed) {
      log(io, nullptr, 0, "rdp-not-x224");
      io.close();
      return in.size();
    }
    uint32_t selected = 0;
    std::string cc = rdp::connection_confirm(req, selected);
    log(io, &req, selected, "");
    io.send(cc);
    io.close();
    return in.size();
  }

  void on_close(sensors::CloseReason, std::string_view unconsumed,
                sensors::SessionIo& io) override {
    if (!logged_ && !unconsumed.empty()) log(io, nullptr, 0, "rdp-incomplete");
  }

 private:
  void log(sensors::SessionIo& io, const rdp::ConnectionRequest* req, uint32_t selected,
           std::string_view problem) {
    logged_ = true;
    SessionEvent ev(ctx_, io, kType);
    ev.line().str("application", "rdp").str("tag", problem.empty() ? "rdp" : problem);
    if (req) {
      std::string tags = "requested=" + (req->negotiation ? rdp::protocol_names(req->requested)
                                                          : std::string("none"));
      tags += ";selected=" + rdp::protocol_names(selected);
      ev.line().str("cookie", req->cookie).str("session_tags", tags);
    }
    ev.commit();
  }

  ServiceContext ctx_;
  bool logged_ = false;
};

}  // namespace

ServiceModule rdp_service() {
  return tcp_session_service<RdpSession>(
      "rdp", 3389, 13389, std::string(kType),
      "RDP: logs the X.224 connection request (mstshash cookie, requested protocols), "
      "confirms it as Windows with NLA would, then closes",
      8192);
}

}  // namespace vantage::honeypot

#pragma once
// The RDP honeypot's reader of what every RDP client, scanner and brute-forcer sends first: a
// TPKT (RFC 1006) carrying an X.224 Connection Request with an optional routing token or
// cookie ("Cookie: mstshash=USER\r\n") and an RDP Negotiation Request (the security protocols
// the client can speak: standard RDP, TLS, CredSSP...), [MS-RDPBCGR] 2.2.1.1. Pure functions of
// their input; fuzzed.

#include <cstdint>
#include <string>
#include <string_view>

namespace vantage::honeypot::rdp {

enum class Parse { kComplete, kIncomplete, kMalformed };

// Requested/selected protocol flags ([MS-RDPBCGR] 2.2.1.1.1).
constexpr uint32_t kProtocolRdp = 0, kProtocolSsl = 1, kProtocolHybrid = 2, kProtocolRdstls = 4,
                   kProtocolHybridEx = 8;

struct ConnectionRequest {
  std::string_view cookie;   // after "Cookie: ", without the CRLF ("mstshash=admin")
  bool negotiation = false;  // an RDP_NEG_REQ was present
  uint8_t flags = 0;
  uint32_t requested = 0;  // requested protocols
  size_t length = 0;       // bytes of the TPKT
};

Parse parse_connection_request(std::string_view in, ConnectionRequest& out);

// The X.224 Connection Confirm a Windows server with NLA sends: CredSSP (HYBRID) when asked
// for, else TLS, else a negotiation failure (HYBRID_REQUIRED_BY_SERVER); without a negotiation
// request, a plain confirm. `selected` gets the choice (or kProtocolRdp on failure).
std::string connection_confirm(const ConnectionRequest& request, uint32_t& selected);

// "rdp|ssl|hybrid" style names of protocol flags.
std::string protocol_names(uint32_t protocols);

}  // namespace vantage::honeypot::rdp

// RDP's UDP transport (scan_rdpeudp, [MS-RDPEUDP]) on UDP 3389: the connection's first
// datagram, a SYN (section 3.1.5.1.1: RDPUDP_FEC_HEADER with snSourceAck -1, a receive window
// and RDPUDP_FLAG_SYN, then RDPUDP_SYNDATA_PAYLOAD with our initial sequence number and MTUs,
// zero-padded to 1232 bytes as the specification requires). A Windows RDP server with UDP
// enabled answers with SYN+ACK (flags SYN|ACK, snSourceAck = our sequence number, its own
// SYNDATA payload). Nothing follows: the handshake is never completed.
//
// sessionid: the server's initial sequence number (hex), which identifies the connection it
// opened; response_size/amplification over our 1232 bytes.
#include <cstdio>
#include <string>

#include "sensors/scanner/probes/udp_util.h"

namespace vantage::scanner {
namespace {

constexpr uint32_t kFlagSyn = 0x0001, kFlagAck = 0x0004;
constexpr uint32_t kOurSequence = 0x56414e54;  // "VANT"
constexpr size_t kSynSize = 1232;

const std::string& syn_datagram() {
  static const std::string s = [] {
    std::string d;
    octets::put_be32(d, 0xffffffff);  // snSourceAck: -1 in a SYN
    octets::put_be16(d, 64);          // uReceiveWindowSize
    octets::put_be16(d, kFlagSyn);
    octets::put_be32(d, kOurSequence);  // snInitialSequenceNumber
    octets::put_be16(d, 1232);          // uUpStreamMtu
    octets::put_be16(d, 1232);          // uDownStreamMtu
    d.resize(kSynSize, '\0');
    return d;
  }();
  return s;
}

Result<nlohmann::json> rdpeudp_parse(std::string_view framed) {
  const auto datagrams = udp_unframe(framed);
  for (auto d : datagrams) {
    if (d.size() < 16) continue;
    const uint32_t flags = octets::be16(d, 6);
    // SYN+ACK acknowledging our sequence number (what ties the answer to our SYN).
    if ((flags & (kFlagSyn | kFlagAck)) != (kFlagSyn | kFlagAck) ||
        octets::be32(d, 0) != kOurSequence)
      continue;
    const unsigned mtu_up = octets::be16(d, 12), mtu_down = octets::be16(d, 14);
    if (mtu_up < 1132 || mtu_up > 1232 || mtu_down < 1132 || mtu_down > 1232) continue;
    nlohmann::json f = nlohmann::json::object();
    char id[16];
    std::snprintf(id, sizeof id, "%08x", octets::be32(d, 8));
    f["sessionid"] = id;
    octets::set_amplification(f, datagrams, syn_datagram().size());
    return f;
  }
  return Error::invalid("no RDPEUDP SYN+ACK");
}

}  // namespace

ProbeModule rdpeudp_module() {
  ProbeModule m;
  m.name = "rdpeudp";
  m.report_type = "scan_rdpeudp";
  m.tag = "rdpeudp";
  m.default_port = 3389;
  m.transport = Transport::udp;
  m.columns = {"sessionid", "response_size", "amplification"};
  m.request = [](const ProbeTarget&) { return udp_frames({syn_datagram()}); };
  m.complete = octets::any_datagram;
  m.parse = rdpeudp_parse;
  return m;
}

}  // namespace vantage::scanner

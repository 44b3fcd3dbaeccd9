// MS-RPC endpoint mapper (scan_msrpc): one DCE/RPC bind (C706 section 12.6.4.3) to the endpoint
// mapper interface (e1af8308-5d1f-11c9-91a4-08002b14a0fa v3.0) with the NDR transfer syntax,
// as every RPC client does first on port 135. The server's bind_ack (or bind_nak) header and
// association fields fill the columns; no call is made on the interface (no ept_lookup): the
// endpoint list would need a column the catalogue does not have.
//
// version: rpc_vers.rpc_vers_minor; packet_type(_value): bind_ack 12 / bind_nak 13;
// packet_flags and data_representation in hex as on the wire; raw_response: the PDU in hex.
#include <cstdio>
#include <string>

#include "sensors/scanner/probes/probe.h"
#include "sensors/scanner/probes/udp_util.h"
#include "sensors/scanner/probes/wire.h"

namespace vantage::scanner {
namespace {

using namespace std::string_literals;

constexpr size_t kHeader = 16;
constexpr uint32_t kBind = 11, kBindAck = 12, kBindNak = 13;

// NDR encodes a UUID's first three fields little-endian.
const std::string kEpmUuid = "\x08\x83\xaf\xe1\x1f\x5d\xc9\x11\x91\xa4\x08\x00\x2b\x14\xa0\xfa"s;
const std::string kNdrUuid = "\x04\x5d\x88\x8a\xeb\x1c\xc9\x11\x9f\xe8\x08\x00\x2b\x10\x48\x60"s;

std::string bind_request() {
  std::string body;
  wire::put_le16(body, 4280);   // max_xmit_frag
  wire::put_le16(body, 4280);   // max_recv_frag
  wire::put_le32(body, 0);      // assoc_group_id: a new association
  body += "\x01\x00\x00\x00"s;  // one presentation context
  wire::put_le16(body, 0);      // context id
  body += "\x01\x00"s;          // one transfer syntax
  body += kEpmUuid;
  wire::put_le32(body, 3);  // interface version 3.0
  body += kNdrUuid;
  wire::put_le32(body, 2);  // NDR version 2
  std::string pdu = "\x05\x00"s;
  pdu += static_cast<char>(kBind);
  pdu += "\x03\x10\x00\x00\x00"s;  // first+last fragment; little-endian, ASCII, IEEE
  wire::put_le16(pdu, kHeader + body.size());
  wire::put_le16(pdu, 0);  // no authentication
  wire::put_le32(pdu, 1);  // call id
  return pdu + body;
}

std::string hex2(uint32_t v) {
  char b[8];
  std::snprintf(b, sizeof b, "%02x", v & 0xff);
  return b;
}

bool msrpc_complete(std::string_view b) {
  return b.size() >= kHeader && b.size() >= wire::le16(b, 8);
}

Result<nlohmann::json> msrpc_parse(std::string_view b) {
  if (b.size() < kHeader || wire::byte(b, 0) != 5 || wire::byte(b, 1) > 1)
    return Error::invalid("not a DCE/RPC PDU");
  const uint32_t type = wire::byte(b, 2);
  if (type != kBindAck && type != kBindNak) return Error::invalid("not a bind answer");
  // The data representation's integer flag must be a known one (big or little endian).
  const uint32_t drep = wire::byte(b, 4);
  if ((drep & 0xe0) != 0 || wire::byte(b, 6) != 0 || wire::byte(b, 7) != 0)
    return Error::invalid("bad DCE/RPC data representation");
  const bool le = (drep & 0x10) != 0;
  auto u16 = [&](size_t i) { return le ? wire::le16(b, i) : wire::be16(b, i); };
  auto u32 = [&](size_t i) { return le ? wire::le32(b, i) : wire::be32(b, i); };
  const size_t frag = u16(8);
  if (frag < kHeader || frag > 65535) return Error::invalid("bad DCE/RPC fragment length");
  nlohmann::json f = nlohmann::json::object();
  f["version"] = wire::byte(b, 0) + wire::byte(b, 1) / 10.0;
  f["packet_type"] = type == kBindAck ? "bind_ack" : "bind_nak";
  f["packet_type_value"] = type;
  f["packet_flags"] = hex2(wire::byte(b, 3));
  f["data_representation"] = octets::hex(b.substr(4, 4));
  f["fragment_length"] = frag;
  f["auth_length"] = std::to_string(u16(10));
  f["call_id"] = std::to_string(u32(12));
  if (type == kBindAck && b.size() >= kHeader + 8) {
    f["max_transmit"] = u16(16);
    f["max_receive"] = u16(18);
    f["association_group"] = std::to_string(u32(20));
  }
  f["raw_response"] = octets::hex(b.substr(0, std::min(frag, b.size())), 1024);
  return f;
}

}  // namespace

ProbeModule msrpc_module() {
  ProbeModule m;
  m.name = "msrpc";
  m.report_type = "scan_msrpc";
  m.tag = "msrpc";
  m.default_port = 135;
  m.columns = {"version",
               "packet_type",
               "packet_type_value",
               "packet_flags",
               "data_representation",
               "fragment_length",
               "auth_length",
               "call_id",
               "max_transmit",
               "max_receive",
               "association_group",
               "raw_response"};
  m.request = [](const ProbeTarget&) { return bind_request(); };
  m.complete = msrpc_complete;
  m.parse = msrpc_parse;
  return m;
}

}  // namespace vantage::scanner

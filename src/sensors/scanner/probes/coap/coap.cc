// CoAP (scan_coap, RFC 7252) over UDP 5683: a confirmable GET for /.well-known/core (RFC 6690
// resource discovery). The reply's version bits and its payload (the CoRE link format list of
// resources) are reported; any CoAP reply to our message id counts, error codes included (the
// response column then holds the code, "4.04" and so on, when there is no payload).
#include <string>

#include "sensors/scanner/probes/text_util.h"
#include "sensors/scanner/probes/udp_util.h"

namespace vantage::scanner {
namespace {

using namespace std::string_literals;

// Ver 1, CON, no token; GET; message id 0x5641; Uri-Path ".well-known" (delta 11, length
// 11), Uri-Path "core" (delta 0, length 4).
const std::string kRequest =
    "\x40\x01\x56\x41\xbb.well-known\x04"
    "core"s;

// Walks the options (RFC 7252 3.1: delta/length nibbles with 1- or 2-byte extensions) to the
// 0xff payload marker; returns its offset, or d.size() when there is no payload.
size_t payload_marker(std::string_view d) {
  size_t off = 4 + (octets::u8(d, 0) & 0x0f);  // after the token
  for (int i = 0; i < 64 && off < d.size(); ++i) {
    const unsigned b = octets::u8(d, off);
    if (b == 0xff) return off;
    unsigned delta = b >> 4, len = b & 0x0f;
    ++off;
    if (delta == 15 || len == 15) return d.size();  // reserved: malformed
    off += delta == 13 ? 1 : delta == 14 ? 2 : 0;
    if (len == 13) {
      if (off >= d.size()) return d.size();
      len = 13 + octets::u8(d, off);
      off += 1;
    } else if (len == 14) {
      if (off + 2 > d.size()) return d.size();
      len = 269 + octets::be16(d, off);
      off += 2;
    }
    off += len;
  }
  return d.size();
}

Result<nlohmann::json> coap_parse(std::string_view framed) {
  const auto ds = udp_unframe(framed);
  for (auto d : ds) {
    if (d.size() < 4 || octets::be16(d, 2) != 0x5641) continue;
    const unsigned version = octets::u8(d, 0) >> 6;
    const unsigned type = (octets::u8(d, 0) >> 4) & 3;
    if (type != 2 && type != 0 && type != 1) continue;  // ACK, or a separate CON/NON reply
    const unsigned code = octets::u8(d, 1);
    if (code < 0x40) continue;  // a request, not a response
    nlohmann::json f = nlohmann::json::object();
    f["version"] = version;
    const size_t marker = payload_marker(d);
    std::string payload;
    if (marker < d.size()) payload = printable(d.substr(marker + 1), 2048);
    f["response"] = payload.empty() ? std::to_string(code >> 5) + "." +
                                          (code % 32 < 10 ? "0" : "") + std::to_string(code % 32)
                                    : payload;
    octets::set_amplification(f, ds, kRequest.size());
    return f;
  }
  return Error::invalid("no CoAP response to our message");
}

}  // namespace

ProbeModule coap_module() {
  ProbeModule m;
  m.name = "coap";
  m.report_type = "scan_coap";
  m.tag = "coap";
  m.default_port = 5683;
  m.transport = Transport::udp;
  m.columns = {"version", "response", "response_size", "amplification"};
  m.request = [](const ProbeTarget&) { return udp_frames({kRequest}); };
  m.complete = octets::any_datagram;
  m.parse = coap_parse;
  return m;
}

}  // namespace vantage::scanner

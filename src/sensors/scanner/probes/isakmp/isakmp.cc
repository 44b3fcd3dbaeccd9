// ISAKMP / IKEv1 (scan_isakmp, RFC 2408/2409) over UDP 500: a Main Mode (Identity Protection)
// first message whose SA offers four common transforms (AES-128/3DES x SHA-1, pre-shared key,
// MODP 1024/2048, 8 hours). A responder answers with its own SA choice (Main Mode message 2)
// or an INFORMATIONAL exchange carrying a notification (NO-PROPOSAL-CHOSEN and the like):
// either way the header (SPIs, next payload, exchange type, flags, message id) and the first
// payload (its next payload, DOI, protocol id, SPI size, notify type) are reported. There is
// no IKEv2-only report type in the catalogue; an IKEv2-only responder ignores IKEv1 or answers
// with INVALID-MAJOR-VERSION, which is reported the same way.
#include <string>

#include "sensors/scanner/probes/udp_util.h"

namespace vantage::scanner {
namespace {

const std::string kInitiatorSpi = "VANTAGE1";

std::string attr(unsigned type, unsigned value) {  // TV-form attribute (AF bit set)
  std::string s;
  octets::put_be16(s, 0x8000 | type);
  octets::put_be16(s, value);
  return s;
}

const std::string& request_bytes() {
  static const std::string r = [] {
    struct T {
      unsigned enc, keylen, group;
    };
    const T transforms[] = {{7, 128, 14}, {7, 128, 2}, {5, 0, 14}, {5, 0, 2}};
    std::string proposals;
    const unsigned n = sizeof transforms / sizeof transforms[0];
    for (unsigned i = 0; i < n; ++i) {
      std::string a = attr(1, transforms[i].enc);
      if (transforms[i].keylen) a += attr(14, transforms[i].keylen);
      a += attr(2, 2) + attr(3, 1) + attr(4, transforms[i].group) + attr(11, 1) + attr(12, 28800);
      std::string t;
      t += static_cast<char>(i + 1 < n ? 3 : 0);  // next payload: transform or none
      t += '\0';
      octets::put_be16(t, static_cast<unsigned>(8 + a.size()));
      t += static_cast<char>(i + 1);  // transform number
      t += '\x01';                    // KEY_IKE
      t += std::string(2, '\0');
      proposals += t + a;
    }
    std::string prop;
    prop += '\0';  // last proposal
    prop += '\0';
    octets::put_be16(prop, static_cast<unsigned>(8 + proposals.size()));
    prop += '\x01';  // proposal 1
    prop += '\x01';  // PROTO_ISAKMP
    prop += '\0';    // SPI size
    prop += static_cast<char>(n);
    prop += proposals;
    std::string sa;
    sa += '\0';  // no next payload
    sa += '\0';
    octets::put_be16(sa, static_cast<unsigned>(12 + prop.size()));
    octets::put_be32(sa, 1);  // DOI IPsec
    octets::put_be32(sa, 1);  // SIT_IDENTITY_ONLY
    sa += prop;
    std::string h = kInitiatorSpi + std::string(8, '\0');
    h += '\x01';  // next payload SA
    h += '\x10';  // version 1.0
    h += '\x02';  // Identity Protection (Main Mode)
    h += '\0';    // flags
    octets::put_be32(h, 0);
    octets::put_be32(h, static_cast<uint32_t>(28 + sa.size()));
    return h + sa;
  }();
  return r;
}

Result<nlohmann::json> isakmp_parse(std::string_view framed) {
  const auto ds = udp_unframe(framed);
  for (auto d : ds) {
    if (d.size() < 28 || d.substr(0, 8) != kInitiatorSpi) continue;
    nlohmann::json f = nlohmann::json::object();
    f["initiator_spi"] = octets::hex(d.substr(0, 8));
    f["responder_spi"] = octets::hex(d.substr(8, 8));
    const unsigned next = octets::u8(d, 16);
    f["next_payload"] = next;
    f["exchange_type"] = octets::u8(d, 18);
    f["flags"] = octets::u8(d, 19);
    f["message_id"] = octets::hex(d.substr(20, 4));
    // The first payload: an SA (1) or a notification (11), both with DOI after the generic
    // 4-byte payload header.
    if (d.size() >= 28 + 4) {
      std::string_view p = d.substr(28);
      f["next_payload2"] = octets::u8(p, 0);
      const size_t plen = std::min<size_t>(octets::be16(p, 2), p.size());
      p = p.substr(0, plen);
      if (next == 11 && p.size() >= 12) {
        f["domain_of_interpretation"] = octets::be32(p, 4);
        f["protocol_id"] = octets::u8(p, 8);
        f["spi_size"] = octets::u8(p, 9);
        f["notify_message_type"] = octets::be16(p, 10);
      } else if (next == 1 && p.size() >= 12) {
        f["domain_of_interpretation"] = octets::be32(p, 4);
        if (p.size() >= 12 + 8) {  // the chosen proposal
          f["protocol_id"] = octets::u8(p, 12 + 5);
          f["spi_size"] = octets::u8(p, 12 + 6);
        }
      }
    }
    octets::set_amplification(f, ds, request_bytes().size());
    return f;
  }
  return Error::invalid("no ISAKMP reply to our initiator cookie");
}

}  // namespace

ProbeModule isakmp_module() {
  ProbeModule m;
  m.name = "isakmp";
  m.report_type = "scan_isakmp";
  m.tag = "isakmp";
  m.default_port = 500;
  m.transport = Transport::udp;
  m.columns = {"initiator_spi", "responder_spi", "next_payload",        "exchange_type",
               "flags",         "message_id",    "next_payload2",       "domain_of_interpretation",
               "protocol_id",   "spi_size",      "notify_message_type", "response_size",
               "amplification"};
  m.request = [](const ProbeTarget&) { return udp_frames({request_bytes()}); };
  m.complete = octets::any_datagram;
  m.parse = isakmp_parse;
  return m;
}

}  // namespace vantage::scanner

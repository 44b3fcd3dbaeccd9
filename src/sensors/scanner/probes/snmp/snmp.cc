// SNMP (scan_snmp): one SNMPv2c GetRequest with community "public" for sysDescr.0,
// sysUpTime.0 and sysName.0 (RFC 3418), and a BER reader for the GetResponse. The reader is
// bounded: definite lengths only (at most 4 length bytes), every length checked against what
// is left, nesting limited by the fixed shape we walk (message > PDU > varbind list > varbind).
#include <string>

#include "sensors/scanner/probes/probe.h"
#include "sensors/scanner/probes/text_util.h"

namespace vantage::scanner {
namespace {

using namespace std::string_literals;

const std::string kCommunity = "public";
// OIDs, BER-encoded contents (1.3.6.1.2.1.1.{1,3,5}.0).
const std::string kSysDescr = "\x2b\x06\x01\x02\x01\x01\x01\x00"s;
const std::string kSysUpTime = "\x2b\x06\x01\x02\x01\x01\x03\x00"s;
const std::string kSysName = "\x2b\x06\x01\x02\x01\x01\x05\x00"s;
constexpr uint32_t kRequestId = 0x56414e54;  // "VANT"

std::string tlv(uint8_t tag, const std::string& body) {
  std::string out(1, static_cast<char>(tag));
  if (body.size() < 0x80) {
    out += static_cast<char>(body.size());
  } else {
    out += '\x82';
    out += static_cast<char>(body.size() >> 8);
    out += static_cast<char>(body.size() & 0xff);
  }
  return out + body;
}

const std::string& request_bytes() {
  static const std::string r = [] {
    std::string binds;
    for (const auto* oid : {&kSysDescr, &kSysUpTime, &kSysName})
      binds += tlv(0x30, tlv(0x06, *oid) + "\x05\x00"s);
    std::string id;
    for (int i = 3; i >= 0; --i) id += static_cast<char>((kRequestId >> (8 * i)) & 0xff);
    const std::string pdu =
        tlv(0xa0, tlv(0x02, id) + tlv(0x02, "\x00"s) + tlv(0x02, "\x00"s) + tlv(0x30, binds));
    return tlv(0x30, tlv(0x02, "\x01"s) + tlv(0x04, kCommunity) + pdu);  // version 1 = v2c
  }();
  return r;
}

struct Tlv {
  uint8_t tag = 0;
  std::string_view value;
};

// Reads one TLV from the front of `in`.
bool read_tlv(std::string_view& in, Tlv* out) {
  if (in.size() < 2) return false;
  out->tag = static_cast<uint8_t>(in[0]);
  if ((out->tag & 0x1f) == 0x1f) return false;  // multi-byte tags: not in SNMP
  size_t len = static_cast<unsigned char>(in[1]);
  size_t hdr = 2;
  if (len & 0x80) {
    const size_t n = len & 0x7f;
    if (n == 0 || n > 4 || in.size() < 2 + n) return false;  // indefinite or absurd
    len = 0;
    for (size_t i = 0; i < n; ++i) len = (len << 8) | static_cast<unsigned char>(in[2 + i]);
    hdr += n;
  }
  if (in.size() - hdr < len) return false;
  out->value = in.substr(hdr, len);
  in.remove_prefix(hdr + len);
  return true;
}

// Unsigned integer value (INTEGER, TimeTicks, Counter), up to 8 bytes.
bool to_uint(std::string_view v, uint64_t* out) {
  if (v.empty() || v.size() > 9) return false;
  uint64_t x = 0;
  for (unsigned char c : v) x = (x << 8) | c;
  *out = x;
  return true;
}

bool snmp_complete(std::string_view framed) {
  return !udp_unframe(framed).empty();
}

Result<nlohmann::json> snmp_parse(std::string_view framed) {
  const auto ds = udp_unframe(framed);
  for (auto d : ds) {
    std::string_view in = d;
    Tlv msg, version, community, pdu;
    if (!read_tlv(in, &msg) || msg.tag != 0x30) continue;
    std::string_view m = msg.value;
    if (!read_tlv(m, &version) || version.tag != 0x02) continue;
    if (!read_tlv(m, &community) || community.tag != 0x04) continue;
    if (!read_tlv(m, &pdu) || pdu.tag != 0xa2) continue;  // GetResponse
    std::string_view p = pdu.value;
    Tlv reqid, status, index, binds;
    if (!read_tlv(p, &reqid) || !read_tlv(p, &status) || !read_tlv(p, &index) ||
        !read_tlv(p, &binds) || binds.tag != 0x30)
      continue;
    uint64_t v = 0, id = 0, err = 0;
    if (!to_uint(version.value, &v) || !to_uint(reqid.value, &id) || id != kRequestId) continue;
    nlohmann::json f = nlohmann::json::object();
    f["version"] = v == 0 ? "1" : v == 1 ? "2c" : std::to_string(v);
    f["community"] = printable(community.value, 64);
    if (to_uint(status.value, &err) && err != 0)
      return Error::invalid("SNMP error-status " + std::to_string(err));
    std::string_view bl = binds.value;
    for (int i = 0; i < 16 && !bl.empty(); ++i) {
      Tlv bind, oid, val;
      if (!read_tlv(bl, &bind) || bind.tag != 0x30) break;
      std::string_view b = bind.value;
      if (!read_tlv(b, &oid) || oid.tag != 0x06 || !read_tlv(b, &val)) break;
      if (oid.value == kSysDescr && val.tag == 0x04) {
        f["sysdesc"] = printable(val.value, 1024);
      } else if (oid.value == kSysName && val.tag == 0x04) {
        f["sysname"] = printable(val.value, 256);
      } else if (oid.value == kSysUpTime && val.tag == 0x43) {  // TimeTicks, 1/100 s
        uint64_t ticks = 0;
        if (to_uint(val.value, &ticks)) f["uptime"] = ticks / 100;
      }
    }
    size_t resp = 0;
    for (auto x : ds) resp += x.size();
    f["response_size"] = resp;
    f["amplification"] = static_cast<double>(resp) / static_cast<double>(request_bytes().size());
    return f;
  }
  return Error::invalid("no SNMP GetResponse to our request");
}

}  // namespace

ProbeModule snmp_module() {
  ProbeModule m;
  m.name = "snmp";
  m.report_type = "scan_snmp";
  m.tag = "snmp";
  m.default_port = 161;
  m.transport = Transport::udp;
  m.columns = {"version", "sysname",       "sysdesc",      "community",
               "uptime",  "response_size", "amplification"};
  m.request = [](const ProbeTarget&) { return udp_frames({request_bytes()}); };
  m.complete = snmp_complete;
  m.parse = snmp_parse;
  return m;
}

}  // namespace vantage::scanner

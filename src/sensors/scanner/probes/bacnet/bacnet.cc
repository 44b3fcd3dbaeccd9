// BACnet/IP (scan_ics, tag bacnet; ANSI/ASHRAE 135, Annex J and clause 15.5) over UDP 47808:
// confirmed ReadProperty requests to the device object with the wildcard instance 4194303
// (every device answers for itself), one datagram per property, invoke ids 1..6:
//   object-identifier (75) -> device_id (the device instance)
//   vendor-name (121) -> device_vendor, model-name (70) -> device_model,
//   firmware-revision (44) and application-software-version (12) -> device_version
//   ("firmware / application"), object-name (77) -> device_type (the name the operator
//   gave the device object, as Shadowserver's BACnet rows carry it).
// A ComplexACK carrying our invoke id is parsed; Error/Reject/Abort replies still prove a
// BACnet device. The engine stops once every request is answered.
#include <string>

#include "sensors/scanner/probes/ics_util.h"
#include "sensors/scanner/probes/text_util.h"

namespace vantage::scanner {
namespace {

using namespace std::string_literals;

constexpr unsigned kProps[] = {75, 121, 70, 44, 12, 77};
constexpr unsigned kCount = sizeof kProps / sizeof kProps[0];

std::string read_property(unsigned invoke, unsigned prop) {
  std::string apdu = "\x00\x05"s;  // confirmed request, max APDU 1476
  apdu += static_cast<char>(invoke);
  apdu += "\x0c\x0c\x02\x3f\xff\xff\x19"s;  // ReadProperty; [0] device,4194303; [1] prop
  apdu += static_cast<char>(prop);
  std::string npdu = "\x01\x04"s + apdu;  // version 1, expecting reply
  std::string bvlc = "\x81\x0a"s;         // BACnet/IP, Original-Unicast-NPDU
  octets::put_be16(bvlc, static_cast<unsigned>(4 + npdu.size()));
  return bvlc + npdu;
}

const std::vector<std::string>& requests() {
  static const std::vector<std::string> r = [] {
    std::vector<std::string> v;
    for (unsigned i = 0; i < kCount; ++i) v.push_back(read_property(i + 1, kProps[i]));
    return v;
  }();
  return r;
}

// The APDU of a BVLC/NPDU datagram, or empty.
std::string_view apdu_of(std::string_view d) {
  if (d.size() < 6 || octets::u8(d, 0) != 0x81 || octets::u8(d, 4) != 0x01) return {};
  const unsigned control = octets::u8(d, 5);
  size_t off = 6;
  if (control & 0x80) return {};  // network layer message, no APDU
  if (control & 0x20) {           // destination: net(2), len(1), address, later hop count
    if (off + 3 > d.size()) return {};
    off += 3 + octets::u8(d, off + 2);
  }
  if (control & 0x08) {  // source: net(2), len(1), address
    if (off + 3 > d.size()) return {};
    off += 3 + octets::u8(d, off + 2);
  }
  if (control & 0x20) off += 1;  // hop count
  return off < d.size() ? d.substr(off) : std::string_view{};
}

// The value inside the ACK's opening tag 3: a character string or an object identifier.
// ComplexACK: type, invoke id, service, [0] object id (0x0c + 4), [1] property id (0x19 or
// 0x1a + 1 or 2 bytes), optional [2] array index (0x29 + 1), then opening tag 3 (0x3e).
std::string property_value(std::string_view ack) {
  size_t open = 3;
  if (ack.size() < open + 7 || octets::u8(ack, open) != 0x0c) return {};
  open += 5;
  const unsigned prop_tag = octets::u8(ack, open);
  if (prop_tag != 0x19 && prop_tag != 0x1a) return {};
  open += 1 + (prop_tag & 0x07);
  if (open < ack.size() && octets::u8(ack, open) == 0x29) open += 2;
  if (open + 1 >= ack.size() || octets::u8(ack, open) != 0x3e) return {};
  std::string_view v = ack.substr(open + 1);
  const unsigned tag = octets::u8(v, 0);
  size_t len = tag & 0x07, off = 1;
  if ((tag & 0x08) != 0) return {};  // context tag: not an application value
  if (len == 5) {
    if (v.size() < 2) return {};
    len = octets::u8(v, 1);
    off = 2;
    if (len == 254) {
      if (v.size() < 4) return {};
      len = octets::be16(v, 2);
      off = 4;
    }
  }
  if (v.size() - off < len) return {};
  std::string_view body = v.substr(off, len);
  if ((tag >> 4) == 7 && !body.empty()) return printable(body.substr(1), 255);  // skip charset
  if ((tag >> 4) == 12 && body.size() == 4) return std::to_string(octets::be32(body, 0) & 0x3fffff);
  return {};
}

bool bacnet_complete(std::string_view framed) {
  return udp_unframe(framed).size() >= kCount;
}

Result<nlohmann::json> bacnet_parse(std::string_view framed) {
  const auto ds = udp_unframe(framed);
  std::string value[kCount];
  std::string all;
  bool bacnet = false;
  for (auto d : ds) {
    const std::string_view a = apdu_of(d);
    if (a.size() < 3) continue;
    const unsigned type = octets::u8(a, 0) >> 4;
    const unsigned invoke = octets::u8(a, 1);
    if (invoke < 1 || invoke > kCount || type < 2 || type > 7) continue;
    bacnet = true;  // SimpleACK, ComplexACK, SegmentACK, Error, Reject, Abort to our id
    all.append(d.data(), d.size());
    if (type == 3 && a.size() > 3 && octets::u8(a, 2) == 0x0c)
      value[invoke - 1] = property_value(a);
  }
  if (!bacnet) return Error::invalid("no BACnet reply to our ReadProperty requests");
  nlohmann::json f = ics::base_fields(all);
  f["response_size"] = octets::reply_bytes(ds);
  ics::set_if(f, "device_id", value[0]);
  ics::set_if(f, "device_vendor", value[1]);
  ics::set_if(f, "device_model", value[2]);
  std::string version = value[3];
  if (!value[4].empty()) version += (version.empty() ? "" : " / ") + value[4];
  ics::set_if(f, "device_version", version);
  ics::set_if(f, "device_type", value[5]);
  return f;
}

}  // namespace

ProbeModule bacnet_module() {
  ProbeModule m;
  m.name = "bacnet";
  m.report_type = "scan_ics";
  m.tag = "bacnet";
  m.default_port = 47808;
  m.transport = Transport::udp;
  m.columns = ics::columns();
  m.request = [](const ProbeTarget&) { return udp_frames(requests()); };
  m.complete = bacnet_complete;
  m.parse = bacnet_parse;
  return m;
}

}  // namespace vantage::scanner

// NetBIOS name service (scan_netbios, RFC 1002 4.2.17/4.2.18) over UDP 137: a NODE STATUS
// request (NBSTAT, type 0x21) for the wildcard name "*". The answer lists the node's names
// (15 characters, a suffix byte, flags) and ends with the unit id, the MAC address. From the
// names: machine_name is the unique name with suffix 0x00 (workstation) or 0x20 (server),
// workgroup the group name with suffix 0x00, username a unique 0x03 (messenger) name other
// than the machine's own.
#include <string>

#include "sensors/scanner/probes/text_util.h"
#include "sensors/scanner/probes/udp_util.h"

namespace vantage::scanner {
namespace {

using namespace std::string_literals;

const std::string& request_bytes() {
  static const std::string r = [] {
    // Transaction 0x5641, no flags, one question; "*" padded with NULs, first-level encoded
    // (each nibble + 'A': '*' = 0x2a -> "CK", NUL -> "AA").
    std::string s = "\x56\x41\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x20"s;
    s += "CK";
    s += std::string(30, 'A');
    s += "\x00\x00\x21\x00\x01"s;  // end of name, NBSTAT, IN
    return s;
  }();
  return r;
}

std::string trim_name(std::string_view n) {
  while (!n.empty() && (n.back() == ' ' || n.back() == '\0')) n.remove_suffix(1);
  return printable(n, 15);
}

Result<nlohmann::json> netbios_parse(std::string_view framed) {
  const auto ds = udp_unframe(framed);
  for (auto d : ds) {
    if (d.size() < 12 + 2 || octets::be16(d, 0) != 0x5641 || !(octets::u8(d, 2) & 0x80)) continue;
    size_t off = 12;
    // The answer's name: the encoded "*" (34 bytes) or a compression pointer.
    if ((octets::u8(d, off) & 0xc0) == 0xc0) {
      off += 2;
    } else {
      while (off < d.size() && octets::u8(d, off) != 0) off += 1 + octets::u8(d, off);
      off += 1;
    }
    if (off + 11 > d.size() || octets::be16(d, off) != 0x21) continue;
    const unsigned rdlen = octets::be16(d, off + 8);
    off += 10;
    if (d.size() - off < rdlen || rdlen < 1) continue;
    std::string_view rd = d.substr(off, rdlen);
    const unsigned count = octets::u8(rd, 0);
    if (rd.size() < 1 + size_t{count} * 18) continue;
    nlohmann::json f = nlohmann::json::object();
    std::string machine, workgroup, user;
    for (unsigned i = 0; i < count; ++i) {
      std::string_view e = rd.substr(1 + size_t{i} * 18, 18);
      const std::string name = trim_name(e.substr(0, 15));
      const unsigned suffix = octets::u8(e, 15);
      const bool group = octets::u8(e, 16) & 0x80;
      if (!group && (suffix == 0x00 || suffix == 0x20) && machine.empty()) machine = name;
      if (group && suffix == 0x00 && workgroup.empty()) workgroup = name;
      if (!group && suffix == 0x03 && user.empty()) user = name;
    }
    if (user == machine) user.clear();
    if (!machine.empty()) f["machine_name"] = machine;
    if (!workgroup.empty()) f["workgroup"] = workgroup;
    if (!user.empty()) f["username"] = user;
    if (rd.size() >= 1 + size_t{count} * 18 + 6)
      f["mac_address"] = octets::mac(rd.substr(1 + size_t{count} * 18, 6));
    octets::set_amplification(f, ds, request_bytes().size());
    return f;
  }
  return Error::invalid("no NetBIOS node status reply");
}

}  // namespace

ProbeModule netbios_module() {
  ProbeModule m;
  m.name = "netbios";
  m.report_type = "scan_netbios";
  m.tag = "netbios";
  m.default_port = 137;
  m.transport = Transport::udp;
  m.columns = {"mac_address", "workgroup",     "machine_name",
               "username",    "response_size", "amplification"};
  m.request = [](const ProbeTarget&) { return udp_frames({request_bytes()}); };
  m.complete = octets::any_datagram;
  m.parse = netbios_parse;
  return m;
}

}  // namespace vantage::scanner

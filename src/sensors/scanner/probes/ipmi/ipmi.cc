// IPMI (scan_ipmi; IPMI v2.0 spec, sections 13 and 22.13) over UDP 623 (RMCP): two sessionless
// requests, as `ipmitool -I lanplus` sends before it logs in:
//   Get Channel Authentication Capabilities (NetFn App, cmd 0x38; channel "this one", with
//     the IPMI v2.0 extended data bit, privilege Administrator): the authentication types the
//     BMC accepts (none, MD2, MD5, straight password, OEM), whether the KG key is the default
//     all-zero one, per-message and user-level authentication, null/non-null user names and
//     anonymous login -- the columns Shadowserver reports as risky;
//   Get Device ID (cmd 0x01): device id and revision, firmware, IPMI version, manufacturer
//     and product id. Many BMCs refuse it outside a session; the columns are then empty.
#include <string>

#include "sensors/scanner/probes/udp_util.h"

namespace vantage::scanner {
namespace {

using namespace std::string_literals;

// RMCP (v6, seq 0xff, class IPMI), session header (auth none, seq 0, id 0), message.
const std::string kAuthCaps =
    "\x06\x00\xff\x07\x00\x00\x00\x00\x00\x00\x00\x00\x00\x09"
    "\x20\x18\xc8\x81\x00\x38\x8e\x04\xb5"s;
const std::string kDeviceId =
    "\x06\x00\xff\x07\x00\x00\x00\x00\x00\x00\x00\x00\x00\x07"
    "\x20\x18\xc8\x81\x04\x01\x7a"s;

const char* manufacturer(uint32_t iana) {
  switch (iana) {
    case 2: return "IBM";
    case 11: return "Hewlett-Packard";
    case 42: return "Sun Microsystems";
    case 343: return "Intel";
    case 674: return "Dell";
    case 4128: return "ASUSTek";
    case 5771: return "Cisco";
    case 7154: return "Quanta";
    case 10876: return "Supermicro";
    case 15370: return "Fujitsu";
    case 19046: return "Lenovo";
    case 20301: return "IBM";
    case 40981: return "OpenIPMI";
    case 47196: return "Hewlett Packard Enterprise";
    default: return "";
  }
}

// The IPMI message inside an RMCP/IPMI 1.5 datagram (auth type none), or empty.
std::string_view message(std::string_view d) {
  if (d.size() < 14 + 7 || octets::u8(d, 0) != 0x06 || (octets::u8(d, 3) & 0x1f) != 0x07) return {};
  size_t off = 4;
  const unsigned auth = octets::u8(d, off);
  off += 1 + 4 + 4 + (auth != 0 ? 16 : 0);
  if (off + 1 > d.size()) return {};
  const unsigned len = octets::u8(d, off);
  off += 1;
  if (d.size() - off < len || len < 7) return {};
  return d.substr(off, len);
}

Result<nlohmann::json> ipmi_parse(std::string_view framed) {
  const auto ds = udp_unframe(framed);
  nlohmann::json f = nlohmann::json::object();
  bool caps = false;
  for (auto d : ds) {
    const std::string_view m = message(d);
    // rqAddr, netFn/LUN (response: netFn 7 = App response), chk, rsAddr, seq, cmd, cc, data.
    if (m.empty() || (octets::u8(m, 1) >> 2) != 0x07) continue;
    const unsigned cmd = octets::u8(m, 5), cc = octets::u8(m, 6);
    const std::string_view data = m.substr(7, m.size() - 8);  // drop the checksum
    if (cmd == 0x38) {
      if (cc != 0) {
        f["error"] = "completion code 0x" + octets::hex(m.substr(6, 1));
        caps = true;
        continue;
      }
      if (data.size() < 8) continue;
      caps = true;
      const unsigned types = octets::u8(data, 1), status = octets::u8(data, 2),
                     ext = octets::u8(data, 3);
      f["ipmi_version"] = (types & 0x80) && (ext & 0x02) ? "2.0" : "1.5";
      f["none_auth"] = (types & 0x01) != 0;
      f["md2_auth"] = (types & 0x02) != 0;
      f["md5_auth"] = (types & 0x04) != 0;
      f["passkey_auth"] = (types & 0x10) != 0;
      f["oem_auth"] = (types & 0x20) != 0;
      f["defaultkg"] = (status & 0x20) == 0;        // KG status 0: the default, all zeros
      f["permessage_auth"] = (status & 0x10) == 0;  // 0: per-message authentication enabled
      f["userlevel_auth"] = (status & 0x08) == 0;   // 0: user-level authentication enabled
      f["usernames"] = (status & 0x04) != 0;        // non-null user names enabled
      f["nulluser"] = (status & 0x02) != 0;
      f["anon_login"] = (status & 0x01) != 0;
    } else if (cmd == 0x01 && cc == 0 && data.size() >= 11) {
      f["deviceid"] = octets::u8(data, 0);
      f["devicerev"] = octets::u8(data, 1) & 0x0f;
      f["firmwarerev"] =
          std::to_string(octets::u8(data, 2) & 0x7f) + "." + octets::hex(data.substr(3, 1));
      f["version"] = std::to_string(octets::u8(data, 4) & 0x0f) + "." +
                     std::to_string(octets::u8(data, 4) >> 4);
      const uint32_t iana = octets::u8(data, 6) | (octets::u8(data, 7) << 8) |
                            (uint32_t{octets::u8(data, 8) & 0x0f} << 16);
      f["manufacturerid"] = iana;
      if (const char* name = manufacturer(iana); *name) f["manufacturername"] = name;
      f["productid"] = octets::le16(data, 9);
    }
  }
  if (!caps) return Error::invalid("no IPMI Get Channel Authentication Capabilities reply");
  return f;
}

bool ipmi_complete(std::string_view framed) {
  return udp_unframe(framed).size() >= 2;
}

}  // namespace

ProbeModule ipmi_module() {
  ProbeModule m;
  m.name = "ipmi";
  m.report_type = "scan_ipmi";
  m.tag = "ipmi";
  m.default_port = 623;
  m.transport = Transport::udp;
  m.columns = {"ipmi_version", "none_auth",  "md2_auth",        "md5_auth",         "passkey_auth",
               "oem_auth",     "defaultkg",  "permessage_auth", "userlevel_auth",   "usernames",
               "nulluser",     "anon_login", "error",           "deviceid",         "devicerev",
               "firmwarerev",  "version",    "manufacturerid",  "manufacturername", "productid"};
  m.request = [](const ProbeTarget&) { return udp_frames({kAuthCaps, kDeviceId}); };
  m.complete = ipmi_complete;
  m.parse = ipmi_parse;
  return m;
}

}  // namespace vantage::scanner

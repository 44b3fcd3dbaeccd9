// Apple Filing Protocol over TCP (scan_afp): one DSIGetStatus (DSI command 3), which asks for
// the FPGetSrvrInfo block without opening a session (Apple's "AFP over TCP" DSI chapter and
// the AFP reference's FPGetSrvrInfo). The block is a set of offsets into itself: machine
// type, AFP versions, UAMs, server signature, network addresses, directory services and the
// UTF-8 server name (netatalk and macOS fill all of them).
//
// Lists (afp_versions, uams, network_address, directory_service) are joined with "|";
// flags: the server flags word in hex; signature: the 16-byte server signature in hex.
#include <cstdio>
#include <string>
#include <vector>

#include "common/strings.h"
#include "sensors/scanner/probes/probe.h"
#include "sensors/scanner/probes/text_util.h"
#include "sensors/scanner/probes/udp_util.h"
#include "sensors/scanner/probes/wire.h"

namespace vantage::scanner {
namespace {

using namespace std::string_literals;

constexpr size_t kDsiHeader = 16;
constexpr uint32_t kDsiGetStatus = 3;
constexpr size_t kMaxBlock = 64 * 1024;

std::string get_status_request() {
  std::string r = "\x00"s;  // request
  r += static_cast<char>(kDsiGetStatus);
  wire::put_be16(r, 1);  // request id
  wire::put_be32(r, 0);  // error code / data offset
  wire::put_be32(r, 0);  // no payload
  wire::put_be32(r, 0);  // reserved
  return r;
}

bool afp_complete(std::string_view b) {
  return b.size() >= kDsiHeader &&
         (b.size() >= kDsiHeader + wire::be32(b, 8) || b.size() >= kDsiHeader + kMaxBlock);
}

// The UTF-8 server name as it is when it is clean UTF-8 text, else its printable form.
std::string utf8_text(std::string_view s) {
  s = s.substr(0, 255);
  return is_valid_utf8(s) && !has_control(s) ? std::string(s) : printable(s, 255);
}

// Pascal strings (one length byte) starting at `pos`, `count` of them.
std::vector<std::string> pstrings(std::string_view blk, size_t pos, size_t count) {
  std::vector<std::string> out;
  for (size_t i = 0; i < count && pos < blk.size(); ++i) {
    const size_t n = wire::byte(blk, pos);
    if (blk.size() - pos - 1 < n) break;
    out.push_back(printable(blk.substr(pos + 1, n), 255));
    pos += 1 + n;
  }
  return out;
}

// Network address entries: length byte (including itself and the tag), tag, address.
std::vector<std::string> addresses(std::string_view blk, size_t pos) {
  std::vector<std::string> out;
  if (pos >= blk.size()) return out;
  const size_t count = wire::byte(blk, pos++);
  for (size_t i = 0; i < count && pos + 2 <= blk.size(); ++i) {
    const size_t len = wire::byte(blk, pos), tag = wire::byte(blk, pos + 1);
    if (len < 2 || blk.size() - pos < len) break;
    std::string_view a = blk.substr(pos + 2, len - 2);
    if ((tag == 1 && a.size() == 4) || (tag == 2 && a.size() == 6) || (tag == 5 && a.size() == 6)) {
      std::string s = octets::ipv4(a.substr(0, 4));
      if (a.size() == 6) s += ":" + std::to_string(wire::be16(a, 4));
      out.push_back(tag == 5 ? "ssh://" + s : s);
    } else if ((tag == 6 && a.size() == 16) || (tag == 7 && a.size() == 18)) {
      std::string s =
          IpAddress::from_bytes(reinterpret_cast<const uint8_t*>(a.data()), 16).to_string();
      out.push_back(a.size() == 18 ? "[" + s + "]:" + std::to_string(wire::be16(a, 16)) : s);
    } else if (tag == 4) {
      out.push_back(printable(a.substr(0, a.find('\0')), 255));
    }
    pos += len;
  }
  return out;
}

Result<nlohmann::json> afp_parse(std::string_view b) {
  // DSI reply header: flags 1 (reply), command 3, request id, error code 0, length.
  if (b.size() < kDsiHeader || wire::byte(b, 0) != 1 || wire::byte(b, 1) != kDsiGetStatus ||
      wire::be32(b, 4) != 0)
    return Error::invalid("not a DSIGetStatus reply");
  const size_t len = wire::be32(b, 8);
  if (len > kMaxBlock || b.size() < kDsiHeader + len) return Error::invalid("truncated AFP block");
  const std::string_view blk = b.substr(kDsiHeader, len);
  if (blk.size() < 11) return Error::invalid("short FPGetSrvrInfo block");
  const size_t machine_off = wire::be16(blk, 0), versions_off = wire::be16(blk, 2),
               uams_off = wire::be16(blk, 4);
  const uint32_t flags = wire::be16(blk, 8);
  const size_t name_len = wire::byte(blk, 10);
  if (machine_off >= blk.size() || versions_off >= blk.size() || uams_off >= blk.size() ||
      11 + name_len > blk.size())
    return Error::invalid("FPGetSrvrInfo offsets out of the block");
  const auto machine = pstrings(blk, machine_off, 1);
  const auto versions = pstrings(blk, versions_off + 1, wire::byte(blk, versions_off));
  // Every AFP server offers at least one "AFPX.Y" or "AFPVersion ..." string.
  if (machine.empty() || versions.empty() || !versions[0].starts_with("AFP"))
    return Error::invalid("no AFP versions");
  nlohmann::json f = nlohmann::json::object();
  f["machine_type"] = machine[0];
  f["afp_versions"] = join(versions, "|");
  f["uams"] = join(pstrings(blk, uams_off + 1, wire::byte(blk, uams_off)), "|");
  char hex[8];
  std::snprintf(hex, sizeof hex, "%04x", flags);
  f["flags"] = hex;
  f["server_name"] = printable(blk.substr(11, name_len), 255);
  // The second set of offsets follows the name, at an even position.
  size_t pos = 11 + name_len;
  pos += pos % 2;
  if (blk.size() >= pos + 8) {
    const size_t sig_off = wire::be16(blk, pos), addr_off = wire::be16(blk, pos + 2),
                 dir_off = wire::be16(blk, pos + 4), utf8_off = wire::be16(blk, pos + 6);
    if ((flags & 0x10) && sig_off && blk.size() >= sig_off + 16)
      f["signature"] = octets::hex(blk.substr(sig_off, 16));
    if ((flags & 0x20) && addr_off)
      if (auto a = addresses(blk, addr_off); !a.empty()) f["network_address"] = join(a, "|");
    if ((flags & 0x100) && dir_off && dir_off < blk.size())
      if (auto d = pstrings(blk, dir_off + 1, wire::byte(blk, dir_off)); !d.empty())
        f["directory_service"] = join(d, "|");
    if ((flags & 0x200) && utf8_off && blk.size() >= utf8_off + 2) {
      const size_t n = wire::be16(blk, utf8_off);
      if (blk.size() - utf8_off - 2 >= n)
        f["utf8_servername"] = utf8_text(blk.substr(utf8_off + 2, n));
    }
  }
  return f;
}

}  // namespace

ProbeModule afp_module() {
  ProbeModule m;
  m.name = "afp";
  m.report_type = "scan_afp";
  m.tag = "afp";
  m.default_port = 548;
  m.columns = {
      "machine_type",      "afp_versions",    "uams",           "flags", "server_name", "signature",
      "directory_service", "utf8_servername", "network_address"};
  m.request = [](const ProbeTarget&) { return get_status_request(); };
  m.complete = afp_complete;
  m.parse = afp_parse;
  return m;
}

}  // namespace vantage::scanner

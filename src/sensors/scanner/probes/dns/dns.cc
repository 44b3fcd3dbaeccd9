// DNS open resolver (scan_dns). Two queries with recursion desired, in this order:
//   id 0x5642: version.bind CH TXT  (dns_version; many servers refuse, that is fine)
//   id 0x5641: vantage.invalid IN A (the open-resolver test)
// The name is under .invalid (RFC 6761), so nothing real is ever looked up: a server that
// answers it with RA set and NOERROR or NXDOMAIN offers recursion to anyone. Replies usually
// come back in order, so the engine stops at the A reply (version.bind was answered by then
// if it is answered at all); a late version reply is simply missed.
#include <string>

#include "sensors/scanner/probes/probe.h"
#include "sensors/scanner/probes/text_util.h"

namespace vantage::scanner {
namespace {

using namespace std::string_literals;

const std::string kVersionQuery =
    "\x56\x42\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00"
    "\x07version\x04"
    "bind\x00\x00\x10\x00\x03"s;
const std::string kOpenQuery =
    "\x56\x41\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00"
    "\x07vantage\x07invalid\x00\x00\x01\x00\x01"s;

uint16_t be16(std::string_view b, size_t off) {
  return static_cast<uint16_t>((static_cast<unsigned char>(b[off]) << 8) |
                               static_cast<unsigned char>(b[off + 1]));
}

// Skips a (possibly compressed) name; false when it runs past the end. A pointer ends the
// name, so no pointer is ever followed and loops are impossible.
bool skip_name(std::string_view b, size_t* off) {
  for (int labels = 0; labels < 128; ++labels) {
    if (*off >= b.size()) return false;
    const auto len = static_cast<unsigned char>(b[*off]);
    if (len == 0) {
      *off += 1;
      return true;
    }
    if ((len & 0xc0) == 0xc0) {
      if (*off + 2 > b.size()) return false;
      *off += 2;
      return true;
    }
    if (len & 0xc0) return false;  // reserved label types
    *off += 1 + size_t{len};
  }
  return false;
}

// The first TXT answer's strings, joined; empty when there is none.
std::string first_txt(std::string_view b) {
  if (b.size() < 12) return {};
  const uint16_t qd = be16(b, 4), an = be16(b, 6);
  size_t off = 12;
  for (uint16_t i = 0; i < qd && i < 4; ++i) {
    if (!skip_name(b, &off) || off + 4 > b.size()) return {};
    off += 4;
  }
  for (uint16_t i = 0; i < an && i < 16; ++i) {
    if (!skip_name(b, &off) || off + 10 > b.size()) return {};
    const uint16_t type = be16(b, off), rdlen = be16(b, off + 8);
    off += 10;
    if (b.size() - off < rdlen) return {};
    if (type == 16) {
      std::string out;
      std::string_view rd = b.substr(off, rdlen);
      while (!rd.empty()) {
        const auto n = static_cast<unsigned char>(rd[0]);
        if (rd.size() - 1 < n) break;
        out += rd.substr(1, n);
        rd.remove_prefix(1 + size_t{n});
      }
      return printable(out, 256);
    }
    off += rdlen;
  }
  return {};
}

bool is_reply(std::string_view d, char id_lo) {
  return d.size() >= 12 && d[0] == '\x56' && d[1] == id_lo &&
         (static_cast<unsigned char>(d[2]) & 0x80);
}

bool dns_complete(std::string_view framed) {
  for (auto d : udp_unframe(framed))
    if (is_reply(d, '\x41')) return true;
  return false;
}

Result<nlohmann::json> dns_parse(std::string_view framed) {
  nlohmann::json f = nlohmann::json::object();
  std::string_view open_reply;
  std::string version;
  for (auto d : udp_unframe(framed)) {
    if (is_reply(d, '\x41') && open_reply.empty()) open_reply = d;
    if (is_reply(d, '\x42') && (static_cast<unsigned char>(d[3]) & 0x0f) == 0)
      version = first_txt(d);
  }
  if (open_reply.empty()) return Error::invalid("no DNS reply to the recursive query");
  const auto flags = static_cast<unsigned char>(open_reply[3]);
  const int rcode = flags & 0x0f;
  if (!(flags & 0x80)) return Error::invalid("DNS server does not offer recursion (RA clear)");
  if (rcode != 0 && rcode != 3)
    return Error::invalid("DNS server refused recursion (rcode " + std::to_string(rcode) + ")");
  if (!version.empty()) f["dns_version"] = version;
  f["min_amplification"] =
      static_cast<double>(open_reply.size()) / static_cast<double>(kOpenQuery.size());
  return f;
}

}  // namespace

ProbeModule dns_module() {
  ProbeModule m;
  m.name = "dns";
  m.report_type = "scan_dns";
  m.tag = "openresolver";
  m.default_port = 53;
  m.transport = Transport::udp;
  m.columns = {"dns_version", "min_amplification"};
  m.request = [](const ProbeTarget&) { return udp_frames({kVersionQuery, kOpenQuery}); };
  m.complete = dns_complete;
  m.parse = dns_parse;
  return m;
}

}  // namespace vantage::scanner

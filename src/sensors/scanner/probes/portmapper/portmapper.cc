// Portmapper (scan_portmapper, RFC 1833) over UDP 111: one ONC RPC call (RFC 5531) to
// PMAPPROC_DUMP (program 100000, version 2, procedure 4), AUTH_NULL. The accepted reply is the
// list of registered (program, version, protocol, port) entries, reported as
// "program/version/protocol/port name" items joined by "; ", with the MOUNT daemon's port
// (program 100005) in mountd_port. The exports column needs a MOUNT EXPORT call to mountd's
// own port, which one datagram exchange with port 111 cannot make: it stays empty.
#include <string>

#include "sensors/scanner/probes/udp_util.h"

namespace vantage::scanner {
namespace {

constexpr uint32_t kXid = 0x56414e54;  // "VANT"
constexpr size_t kMaxEntries = 256;

const std::string& request_bytes() {
  static const std::string r = [] {
    std::string s;
    for (uint32_t v : {kXid, 0u, 2u, 100000u, 2u, 4u, 0u, 0u, 0u, 0u}) octets::put_be32(s, v);
    return s;  // xid, CALL, rpcvers 2, prog, vers, proc, cred AUTH_NULL, verf AUTH_NULL
  }();
  return r;
}

const char* program_name(uint32_t prog) {
  switch (prog) {
    case 100000: return "portmapper";
    case 100001: return "rstatd";
    case 100002: return "rusersd";
    case 100003: return "nfs";
    case 100004: return "ypserv";
    case 100005: return "mountd";
    case 100007: return "ypbind";
    case 100008: return "walld";
    case 100009: return "yppasswdd";
    case 100011: return "rquotad";
    case 100021: return "nlockmgr";
    case 100024: return "status";
    case 100083: return "ttdbserverd";
    case 100227: return "nfs_acl";
    case 150001: return "pcnfsd";
    default: return "";
  }
}

std::string proto_name(uint32_t p) {
  return p == 6 ? "tcp" : p == 17 ? "udp" : std::to_string(p);
}

Result<nlohmann::json> portmapper_parse(std::string_view framed) {
  const auto ds = udp_unframe(framed);
  for (auto d : ds) {
    // xid, REPLY, MSG_ACCEPTED, verifier (flavor, length, body), SUCCESS.
    if (d.size() < 24 || octets::be32(d, 0) != kXid || octets::be32(d, 4) != 1) continue;
    if (octets::be32(d, 8) != 0) return Error::invalid("RPC call denied");
    const uint32_t verf_len = octets::be32(d, 16);
    if (verf_len > 400 || d.size() < 24 + size_t{verf_len}) continue;
    size_t off = 20 + verf_len;
    if (octets::be32(d, off) != 0)
      return Error::invalid("RPC call not accepted (accept_stat " +
                            std::to_string(octets::be32(d, off)) + ")");
    off += 4;
    std::string programs;
    std::optional<uint32_t> mountd;
    for (size_t n = 0; n < kMaxEntries && off + 4 <= d.size() && octets::be32(d, off) == 1; ++n) {
      if (off + 20 > d.size()) break;
      const uint32_t prog = octets::be32(d, off + 4), vers = octets::be32(d, off + 8),
                     prot = octets::be32(d, off + 12), port = octets::be32(d, off + 16);
      off += 20;
      if (!programs.empty()) programs += "; ";
      programs += std::to_string(prog) + "/" + std::to_string(vers) + "/" + proto_name(prot) + "/" +
                  std::to_string(port);
      if (const char* name = program_name(prog); *name) programs += std::string(" ") + name;
      if (prog == 100005 && (!mountd || prot == 17)) mountd = port;
    }
    nlohmann::json f = nlohmann::json::object();
    f["programs"] = programs;
    if (mountd) f["mountd_port"] = *mountd;
    octets::set_amplification(f, ds, request_bytes().size());
    return f;
  }
  return Error::invalid("no RPC reply to our portmapper DUMP call");
}

}  // namespace

ProbeModule portmapper_module() {
  ProbeModule m;
  m.name = "portmapper";
  m.report_type = "scan_portmapper";
  m.tag = "portmapper";
  m.default_port = 111;
  m.transport = Transport::udp;
  m.columns = {"programs", "mountd_port", "response_size", "amplification"};
  m.request = [](const ProbeTarget&) { return udp_frames({request_bytes()}); };
  m.complete = octets::any_datagram;
  m.parse = portmapper_parse;
  return m;
}

}  // namespace vantage::scanner

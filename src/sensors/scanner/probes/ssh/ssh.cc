#include "sensors/scanner/probes/ssh/ssh.h"

#include <openssl/evp.h>

#include <cstdio>

#include "sensors/scanner/probes/probe.h"

namespace vantage::scanner {
namespace {

constexpr size_t kMaxPacket = 35000;  // RFC 4253 section 6.1 minimum every side must accept

uint32_t be32(const unsigned char* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}

// Offset just past the server's identification line (other lines may precede it, 4.2).
size_t ident_end(std::string_view b, size_t* start) {
  size_t pos = 0;
  while (pos < b.size()) {
    const size_t nl = b.find('\n', pos);
    if (nl == std::string_view::npos) return std::string_view::npos;
    if (b.substr(pos, 4) == "SSH-") {
      *start = pos;
      return nl + 1;
    }
    pos = nl + 1;
  }
  return std::string_view::npos;
}

std::string md5_hex(std::string_view s) {
  unsigned char d[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_Digest(s.data(), s.size(), d, &n, EVP_md5(), nullptr);
  std::string out;
  char buf[3];
  for (unsigned i = 0; i < n; ++i) {
    std::snprintf(buf, sizeof buf, "%02x", d[i]);
    out += buf;
  }
  return out;
}

}  // namespace

bool ssh_reply_complete(std::string_view b) {
  size_t start = 0;
  const size_t end = ident_end(b, &start);
  if (end == std::string_view::npos) return b.size() > 8192;
  const auto rest = b.substr(end);
  if (rest.size() < 4) return false;
  const uint32_t len = be32(reinterpret_cast<const unsigned char*>(rest.data()));
  if (len > kMaxPacket) return true;
  return rest.size() >= 4 + size_t{len};
}

Result<SshServerInfo> parse_ssh_server(std::string_view b) {
  size_t start = 0;
  const size_t end = ident_end(b, &start);
  if (end == std::string_view::npos) return Error::invalid("no SSH identification line");
  SshServerInfo info;
  std::string_view line = b.substr(start, end - start);
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
  info.ident = std::string(line);
  std::string_view body = line.substr(4);
  const size_t dash = body.find('-');
  if (dash == std::string_view::npos) return Error::invalid("bad SSH identification");
  info.proto = std::string(body.substr(0, dash));
  std::string_view sw = body.substr(dash + 1);
  if (const size_t sp = sw.find(' '); sp != std::string_view::npos) {
    info.comment = std::string(sw.substr(sp + 1));
    sw = sw.substr(0, sp);
  }
  info.software = std::string(sw);

  std::string_view rest = b.substr(end);
  if (rest.size() < 6) return info;
  const auto* p = reinterpret_cast<const unsigned char*>(rest.data());
  const uint32_t len = be32(p);
  const uint8_t pad = p[4];
  if (len > kMaxPacket || rest.size() < 4 + size_t{len} || len < size_t{pad} + 1 + 17) return info;
  std::string_view payload = rest.substr(5, len - 1 - pad);
  if (static_cast<uint8_t>(payload[0]) != 20) return info;  // SSH_MSG_KEXINIT
  char hex[3];
  for (int i = 1; i <= 16; ++i) {
    std::snprintf(hex, sizeof hex, "%02x",
                  static_cast<unsigned char>(payload[static_cast<size_t>(i)]));
    info.cookie_hex += hex;
  }
  size_t off = 17;
  for (int i = 0; i < 10; ++i) {
    if (payload.size() < off + 4) return info;
    const uint32_t n = be32(reinterpret_cast<const unsigned char*>(payload.data() + off));
    off += 4;
    if (payload.size() - off < n) return info;
    info.lists.emplace_back(payload.substr(off, n));
    off += n;
  }
  info.has_kexinit = true;
  // HASSH server (github.com/salesforce/hassh): kex;encryption_s2c;mac_s2c;compression_s2c.
  info.hassh_server_algorithms =
      info.lists[0] + ";" + info.lists[3] + ";" + info.lists[5] + ";" + info.lists[7];
  info.hassh_server = md5_hex(info.hassh_server_algorithms);
  return info;
}

ProbeModule ssh_module() {
  ProbeModule m;
  m.name = "ssh";
  m.report_type = "scan_ssh";
  m.tag = "ssh";
  m.default_port = 22;
  m.columns = {"serverid_raw",      "serverid_version", "serverid_software",
               "serverid_comment",  "server_cookie",    "available_kex",
               "available_ciphers", "available_mac",    "available_compression"};
  m.request = [](const ProbeTarget&) { return std::string("SSH-2.0-Vantage_0.1\r\n"); };
  m.complete = ssh_reply_complete;
  m.parse = [](std::string_view bytes) -> Result<nlohmann::json> {
    auto r = parse_ssh_server(bytes);
    if (!r) return r.error();
    nlohmann::json f = nlohmann::json::object();
    f["serverid_raw"] = r->ident;
    f["serverid_version"] = r->proto;
    f["serverid_software"] = r->software;
    if (!r->comment.empty()) f["serverid_comment"] = r->comment;
    if (r->has_kexinit) {
      f["server_cookie"] = r->cookie_hex;
      f["available_kex"] = r->lists[0];
      f["available_ciphers"] = r->lists[3];
      f["available_mac"] = r->lists[5];
      f["available_compression"] = r->lists[7];
    }
    return f;
  };
  return m;
}

}  // namespace vantage::scanner

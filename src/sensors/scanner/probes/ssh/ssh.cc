#include "sensors/scanner/probes/ssh/ssh.h"

#include <openssl/evp.h>

#include <cstdio>
#include <memory>

#include "sensors/scanner/probes/probe.h"

namespace vantage::scanner {
namespace {

constexpr size_t kMaxPacket = 35000;  // RFC 4253 section 6.1 minimum every side must accept
constexpr int kMaxPackets = 8;        // packets looked at after the identification line

enum : uint8_t {
  kMsgDisconnect = 1,
  kMsgKexinit = 20,
  kMsgKexEcdhInit = 30,
  kMsgKexEcdhReply = 31,
};

// What we offer. The kex list is curve25519 only (see ssh.h); the others are broad so that
// negotiation succeeds on old and new servers alike (a server drops us when a list has no
// match, before it would send its host key).
constexpr const char* kClientLists[10] = {
    "curve25519-sha256,curve25519-sha256@libssh.org",
    "ssh-ed25519,ecdsa-sha2-nistp256,ecdsa-sha2-nistp384,ecdsa-sha2-nistp521,rsa-sha2-512,"
    "rsa-sha2-256,ssh-rsa,ssh-dss",
    "chacha20-poly1305@openssh.com,aes128-ctr,aes192-ctr,aes256-ctr,aes128-gcm@openssh.com,"
    "aes256-gcm@openssh.com,aes128-cbc,aes256-cbc,3des-cbc",
    "chacha20-poly1305@openssh.com,aes128-ctr,aes192-ctr,aes256-ctr,aes128-gcm@openssh.com,"
    "aes256-gcm@openssh.com,aes128-cbc,aes256-cbc,3des-cbc",
    "hmac-sha2-256-etm@openssh.com,hmac-sha2-512-etm@openssh.com,umac-128-etm@openssh.com,"
    "hmac-sha2-256,hmac-sha2-512,umac-128@openssh.com,umac-64@openssh.com,hmac-sha1",
    "hmac-sha2-256-etm@openssh.com,hmac-sha2-512-etm@openssh.com,umac-128-etm@openssh.com,"
    "hmac-sha2-256,hmac-sha2-512,umac-128@openssh.com,umac-64@openssh.com,hmac-sha1",
    "none,zlib@openssh.com,zlib",
    "none,zlib@openssh.com,zlib",
    "",
    ""};

uint32_t be32(const unsigned char* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}

void put32(std::string& out, uint32_t v) {
  for (int i = 3; i >= 0; --i) out += static_cast<char>((v >> (8 * i)) & 0xff);
}

void put_string(std::string& out, std::string_view s) {
  put32(out, static_cast<uint32_t>(s.size()));
  out += s;
}

// An unencrypted binary packet (RFC 4253 section 6): padding to a multiple of 8, at least 4.
std::string packet(std::string_view payload) {
  size_t pad = 8 - ((5 + payload.size()) % 8);
  if (pad < 4) pad += 8;
  std::string out;
  put32(out, static_cast<uint32_t>(1 + payload.size() + pad));
  out += static_cast<char>(pad);
  out += payload;
  out.append(pad, '\0');
  return out;
}

// Reads an SSH "string" (uint32 length + bytes) from `in`, bounded by what is there.
bool get_string(std::string_view& in, std::string_view* out) {
  if (in.size() < 4) return false;
  const uint32_t n = be32(reinterpret_cast<const unsigned char*>(in.data()));
  if (in.size() - 4 < n) return false;
  *out = in.substr(4, n);
  in.remove_prefix(4 + size_t{n});
  return true;
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

std::string hex(std::string_view s) {
  static const char* d = "0123456789abcdef";
  std::string out;
  out.reserve(s.size() * 2);
  for (unsigned char c : s) {
    out += d[c >> 4];
    out += d[c & 15];
  }
  return out;
}

std::string digest_hex(std::string_view s, const EVP_MD* md) {
  unsigned char d[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_Digest(s.data(), s.size(), d, &n, md, nullptr);
  return hex(std::string_view(reinterpret_cast<const char*>(d), n));
}

std::string base64(std::string_view s) {
  std::string out(4 * ((s.size() + 2) / 3) + 1, '\0');
  const int n =
      EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                      reinterpret_cast<const unsigned char*>(s.data()), static_cast<int>(s.size()));
  out.resize(static_cast<size_t>(n < 0 ? 0 : n));
  return out;
}

// RFC 4253 7.1: the first algorithm on the client's list that is also on the server's.
std::string negotiate(std::string_view client, std::string_view server) {
  while (!client.empty()) {
    const size_t c = client.find(',');
    const std::string_view name = client.substr(0, c);
    client = c == std::string_view::npos ? std::string_view{} : client.substr(c + 1);
    for (std::string_view s = server; !s.empty();) {
      const size_t k = s.find(',');
      if (s.substr(0, k) == name) return std::string(name);
      s = k == std::string_view::npos ? std::string_view{} : s.substr(k + 1);
    }
  }
  return {};
}

// mpint without its sign-padding zero byte, as hex.
std::string mpint_hex(std::string_view v) {
  while (!v.empty() && v.front() == '\0') v.remove_prefix(1);
  return hex(v);
}

void parse_host_key(std::string_view blob, SshServerInfo& info) {
  info.host_key_base64 = base64(blob);
  info.host_key_sha256 = digest_hex(blob, EVP_sha256());
  std::string_view type;
  if (!get_string(blob, &type)) return;
  info.host_key_type = std::string(type);
  if (type == "ssh-rsa") {
    std::string_view e, n;
    if (get_string(blob, &e) && get_string(blob, &n)) {
      info.rsa_exponent = mpint_hex(e);
      info.rsa_modulus = mpint_hex(n);
      info.rsa_bits = info.rsa_modulus.size() * 4;
      if (!info.rsa_modulus.empty() && info.rsa_modulus[0] < '8') {
        // Leading hex digit below 8 means fewer significant bits in the top nibble.
        const char c = info.rsa_modulus[0];
        info.rsa_bits -= c >= '4' ? 1 : c >= '2' ? 2 : c >= '1' ? 3 : 4;
      }
    }
  } else if (type.substr(0, 11) == "ecdsa-sha2-") {
    std::string_view curve, q;
    if (get_string(blob, &curve) && get_string(blob, &q)) {
      info.ecdsa_curve = std::string(curve);
      info.ecdsa_point_hex = hex(q);
    }
  } else if (type == "ssh-ed25519") {
    std::string_view k;
    if (get_string(blob, &k)) info.ed25519_key_hex = hex(k);
  }
}

}  // namespace

std::string ssh_client_hello() {
  std::string out = "SSH-2.0-Vantage_0.1\r\n";
  std::string kexinit(1, static_cast<char>(kMsgKexinit));
  unsigned char cookie[16];
  std::unique_ptr<EVP_PKEY_CTX, decltype(&EVP_PKEY_CTX_free)> ctx(
      EVP_PKEY_CTX_new_id(EVP_PKEY_X25519, nullptr), EVP_PKEY_CTX_free);
  EVP_PKEY* key = nullptr;
  unsigned char pub[32] = {};
  size_t pub_len = sizeof pub;
  if (ctx && EVP_PKEY_keygen_init(ctx.get()) == 1 && EVP_PKEY_keygen(ctx.get(), &key) == 1) {
    EVP_PKEY_get_raw_public_key(key, pub, &pub_len);
    // The private half only made the public one valid; no secret is ever derived from it.
    EVP_PKEY_free(key);
  }
  // The cookie only has to differ between connections; the key bytes are fresh randomness.
  for (int i = 0; i < 16; ++i) cookie[i] = pub[i] ^ pub[16 + i];
  kexinit.append(reinterpret_cast<const char*>(cookie), 16);
  for (const char* l : kClientLists) put_string(kexinit, l);
  kexinit += '\0';          // first_kex_packet_follows
  kexinit.append(4, '\0');  // reserved
  std::string init(1, static_cast<char>(kMsgKexEcdhInit));
  put_string(init, std::string_view(reinterpret_cast<const char*>(pub), 32));
  return out + packet(kexinit) + packet(init);
}

bool ssh_reply_complete(std::string_view b) {
  size_t start = 0;
  const size_t end = ident_end(b, &start);
  if (end == std::string_view::npos) return b.size() > 8192;
  std::string_view rest = b.substr(end);
  for (int i = 0; i < kMaxPackets; ++i) {
    if (rest.size() < 6) return false;
    const uint32_t len = be32(reinterpret_cast<const unsigned char*>(rest.data()));
    if (len > kMaxPacket || len < 2) return true;  // not a packet we can read on from
    if (rest.size() < 4 + size_t{len}) return false;
    const auto type = static_cast<uint8_t>(rest[5]);
    if (type == kMsgKexEcdhReply || type == kMsgDisconnect) return true;
    rest.remove_prefix(4 + size_t{len});
  }
  return true;
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
  for (int i = 0; i < kMaxPackets; ++i) {
    if (rest.size() < 6) break;
    const auto* p = reinterpret_cast<const unsigned char*>(rest.data());
    const uint32_t len = be32(p);
    const uint8_t pad = p[4];
    if (len > kMaxPacket || rest.size() < 4 + size_t{len} || len < size_t{pad} + 2) break;
    std::string_view payload = rest.substr(5, len - 1 - pad);
    rest.remove_prefix(4 + size_t{len});
    const auto type = static_cast<uint8_t>(payload[0]);
    if (type == kMsgKexinit && !info.has_kexinit) {
      if (payload.size() < 17) break;
      info.cookie_hex = hex(payload.substr(1, 16));
      std::string_view lists = payload.substr(17);
      std::vector<std::string> got;
      for (int k = 0; k < 10; ++k) {
        std::string_view s;
        if (!get_string(lists, &s)) break;
        got.emplace_back(s);
      }
      if (got.size() != 10) break;
      info.lists = std::move(got);
      info.has_kexinit = true;
      // HASSH server (github.com/salesforce/hassh): kex;encryption_s2c;mac_s2c;compression_s2c.
      info.hassh_server_algorithms =
          info.lists[0] + ";" + info.lists[3] + ";" + info.lists[5] + ";" + info.lists[7];
      info.hassh_server = digest_hex(info.hassh_server_algorithms, EVP_md5());
      info.selected_kex = negotiate(kClientLists[0], info.lists[0]);
      info.selected_host_key = negotiate(kClientLists[1], info.lists[1]);
      info.selected_cipher = negotiate(kClientLists[3], info.lists[3]);
      info.selected_mac = negotiate(kClientLists[5], info.lists[5]);
      info.selected_compression = negotiate(kClientLists[7], info.lists[7]);
    } else if (type == kMsgKexEcdhReply && info.has_kexinit) {
      std::string_view r = payload.substr(1), ks, qs, sig;
      if (!get_string(r, &ks) || !get_string(r, &qs) || !get_string(r, &sig)) break;
      if (ks.empty()) break;
      info.has_host_key = true;
      parse_host_key(ks, info);
      info.signature_base64 = base64(sig);
      std::string_view sig_type;
      if (get_string(sig, &sig_type)) info.signature_type = std::string(sig_type);
      break;
    } else if (type == kMsgDisconnect) {
      std::string_view r = payload.substr(1), reason;
      if (r.size() >= 4) {
        r.remove_prefix(4);  // reason code
        if (get_string(r, &reason)) info.disconnect_reason = std::string(reason.substr(0, 256));
      }
      break;
    }
  }
  return info;
}

ProbeModule ssh_module() {
  ProbeModule m;
  m.name = "ssh";
  m.report_type = "scan_ssh";
  m.tag = "ssh";
  m.default_port = 22;
  m.columns = {"serverid_raw",
               "serverid_version",
               "serverid_software",
               "serverid_comment",
               "server_cookie",
               "available_kex",
               "available_ciphers",
               "available_mac",
               "available_compression",
               "hassh",
               "selected_kex",
               "algorithm",
               "selected_cipher",
               "selected_mac",
               "selected_compression",
               "server_host_key",
               "server_host_key_sha256",
               "server_signature_raw",
               "rsa_exponent",
               "rsa_modulus",
               "rsa_length",
               "ecdsa_curve",
               "ecdsa_public_key_x",
               "ecdsa_public_key_y"};
  m.request = [](const ProbeTarget&) { return ssh_client_hello(); };
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
      f["hassh"] = r->hassh_server;
      auto set = [&](const char* col, const std::string& v) {
        if (!v.empty()) f[col] = v;
      };
      set("selected_kex", r->selected_kex);
      set("algorithm", r->selected_host_key);
      set("selected_cipher", r->selected_cipher);
      set("selected_mac", r->selected_mac);
      set("selected_compression", r->selected_compression);
    }
    if (r->has_host_key) {
      f["server_host_key"] = r->host_key_type + " " + r->host_key_base64;
      f["server_host_key_sha256"] = r->host_key_sha256;
      f["server_signature_raw"] = r->signature_base64;
      if (!r->host_key_type.empty()) f["algorithm"] = r->host_key_type;
      if (!r->rsa_modulus.empty()) {
        f["rsa_exponent"] = r->rsa_exponent;
        f["rsa_modulus"] = r->rsa_modulus;
        f["rsa_length"] = std::to_string(r->rsa_bits);
      }
      if (!r->ecdsa_curve.empty()) {
        f["ecdsa_curve"] = r->ecdsa_curve;
        // Uncompressed point: 04 || X || Y (SEC 1 2.3.3).
        const auto& q = r->ecdsa_point_hex;
        if (q.size() > 2 && q.substr(0, 2) == "04" && (q.size() - 2) % 4 == 0) {
          const size_t half = (q.size() - 2) / 2;
          f["ecdsa_public_key_x"] = q.substr(2, half);
          f["ecdsa_public_key_y"] = q.substr(2 + half);
        }
      }
    }
    return f;
  };
  return m;
}

}  // namespace vantage::scanner

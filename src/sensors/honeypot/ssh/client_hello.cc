#include "sensors/honeypot/ssh/client_hello.h"

#include <openssl/evp.h>

#include "common/strings.h"

namespace vantage::honeypot::ssh {

namespace {

constexpr uint8_t kMsgKexinit = 20;

uint32_t be32(std::string_view s) {
  auto b = [&](size_t k) { return uint32_t{static_cast<uint8_t>(s[k])}; };
  return (b(0) << 24) | (b(1) << 16) | (b(2) << 8) | b(3);
}

std::string md5_hex(std::string_view s) {
  unsigned char d[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  if (EVP_Digest(s.data(), s.size(), d, &n, EVP_md5(), nullptr) != 1) return {};
  return hex_encode(d, n);
}

// KEXINIT payload: byte 20, cookie[16], ten name-lists (uint32 length + bytes), then
// first_kex_packet_follows and a reserved uint32 (not needed here).
bool parse_kexinit(std::string_view payload, ClientHello& out) {
  if (payload.size() < 17 || static_cast<uint8_t>(payload[0]) != kMsgKexinit) return false;
  std::string_view rest = payload.substr(17);
  for (auto& list : out.lists) {
    if (rest.size() < 4) return false;
    uint32_t n = be32(rest);
    if (rest.size() - 4 < n) return false;
    list.assign(rest.substr(4, n));
    rest.remove_prefix(4 + size_t{n});
  }
  out.hassh_algorithms =
      out.lists[0] + ";" + out.lists[2] + ";" + out.lists[4] + ";" + out.lists[6];
  out.hassh = md5_hex(out.hassh_algorithms);
  return true;
}

}  // namespace

HelloParse parse_client_hello(std::string_view sent, ClientHello& out) {
  // The identification line, perhaps after a few other lines (4.2 allows them of servers
  // only, but a lenient reader costs nothing).
  size_t pos = 0;
  size_t lines = 0;
  for (;;) {
    size_t lf = sent.substr(pos, kMaxIdentLine).find('\n');
    if (lf == std::string_view::npos) {
      return sent.size() - pos >= kMaxIdentLine ? HelloParse::kInvalid : HelloParse::kIncomplete;
    }
    std::string_view line = sent.substr(pos, lf);
    pos += lf + 1;
    if (line.substr(0, 4) == "SSH-") {
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      out.ident.assign(line);
      break;
    }
    if (++lines > kMaxLinesBefore) return HelloParse::kInvalid;
  }
  if (out.ident.substr(0, 8) != "SSH-2.0-" && out.ident.substr(0, 9) != "SSH-1.99-") {
    return HelloParse::kInvalid;
  }
  // The first binary packet (6): uint32 packet_length, byte padding_length, payload, padding.
  std::string_view rest = sent.substr(pos);
  if (rest.size() < 5) return HelloParse::kIdentOnly;
  uint32_t len = be32(rest);
  auto pad = static_cast<uint8_t>(rest[4]);
  if (len > kMaxPacket || len < size_t{pad} + 1 + 1) return HelloParse::kInvalid;
  if (rest.size() < 4 + size_t{len}) return HelloParse::kIdentOnly;
  if (!parse_kexinit(rest.substr(5, len - 1 - pad), out)) return HelloParse::kInvalid;
  return HelloParse::kComplete;
}

}  // namespace vantage::honeypot::ssh

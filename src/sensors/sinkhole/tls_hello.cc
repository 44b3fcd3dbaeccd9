#include "sensors/sinkhole/tls_hello.h"

#include <openssl/evp.h>

#include "common/strings.h"

namespace vantage::sinkhole {

namespace {

constexpr size_t kMaxRecord = 16384 + 2048;
constexpr size_t kMaxHello = 64 * 1024;

struct Reader {
  std::string_view in;
  size_t pos = 0;
  bool ok = true;
  size_t left() const { return in.size() - pos; }
  uint32_t get(int bytes) {
    if (!ok || left() < static_cast<size_t>(bytes)) {
      ok = false;
      return 0;
    }
    uint32_t v = 0;
    for (int i = 0; i < bytes; ++i) v = (v << 8) | static_cast<uint8_t>(in[pos++]);
    return v;
  }
  std::string_view take(size_t n) {
    if (!ok || left() < n) {
      ok = false;
      return {};
    }
    auto s = in.substr(pos, n);
    pos += n;
    return s;
  }
};

}  // namespace

bool is_grease(uint16_t v) {
  return (v & 0x0f0f) == 0x0a0a && (v >> 8) == (v & 0xff);
}

HelloParse parse_client_hello(std::string_view bytes, ClientHello& out, const char** why) {
  out = ClientHello{};
  // Join the handshake records' payloads until the ClientHello message is whole.
  std::string handshake;
  size_t pos = 0;
  size_t need = 0;  // total handshake bytes of the message, once its header is known
  while (true) {
    if (need > 0 && handshake.size() >= need) break;
    if (bytes.size() - pos < 5) return HelloParse::kIncomplete;
    auto type = static_cast<uint8_t>(bytes[pos]);
    auto major = static_cast<uint8_t>(bytes[pos + 1]);
    size_t length = (static_cast<size_t>(static_cast<uint8_t>(bytes[pos + 3])) << 8) |
                    static_cast<uint8_t>(bytes[pos + 4]);
    if (type != 22 || major != 3) {
      *why = "not a TLS handshake record";
      return HelloParse::kMalformed;
    }
    if (length == 0 || length > kMaxRecord) {
      *why = "bad record length";
      return HelloParse::kMalformed;
    }
    if (bytes.size() - pos - 5 < length) return HelloParse::kIncomplete;
    handshake.append(bytes.substr(pos + 5, length));
    pos += 5 + length;
    if (need == 0 && handshake.size() >= 4) {
      if (static_cast<uint8_t>(handshake[0]) != 1) {
        *why = "first handshake message is not a ClientHello";
        return HelloParse::kMalformed;
      }
      need = 4 + ((static_cast<size_t>(static_cast<uint8_t>(handshake[1])) << 16) |
                  (static_cast<size_t>(static_cast<uint8_t>(handshake[2])) << 8) |
                  static_cast<uint8_t>(handshake[3]));
      if (need > kMaxHello) {
        *why = "ClientHello longer than 64 KiB";
        return HelloParse::kMalformed;
      }
    }
  }
  Reader r{std::string_view(handshake).substr(4, need - 4)};
  out.version = static_cast<uint16_t>(r.get(2));
  r.take(32);        // random
  r.take(r.get(1));  // legacy_session_id
  size_t cipher_bytes = r.get(2);
  if (cipher_bytes % 2 != 0) {
    *why = "odd cipher suite length";
    return HelloParse::kMalformed;
  }
  Reader ciphers{r.take(cipher_bytes)};
  while (r.ok && ciphers.left() >= 2) out.ciphers.push_back(static_cast<uint16_t>(ciphers.get(2)));
  r.take(r.get(1));  // compression methods
  if (!r.ok) {
    *why = "truncated ClientHello";
    return HelloParse::kMalformed;
  }
  if (r.left() == 0) return HelloParse::kOk;  // no extensions (SSL 3 style)
  Reader ext{r.take(r.get(2))};
  if (!r.ok) {
    *why = "extensions past the message";
    return HelloParse::kMalformed;
  }
  while (ext.ok && ext.left() > 0) {
    auto type = static_cast<uint16_t>(ext.get(2));
    Reader body{ext.take(ext.get(2))};
    if (!ext.ok) break;
    out.extensions.push_back(type);
    if (type == 10) {  // supported_groups
      Reader list{body.take(body.get(2))};
      while (body.ok && list.left() >= 2) out.groups.push_back(static_cast<uint16_t>(list.get(2)));
    } else if (type == 11) {  // ec_point_formats
      Reader list{body.take(body.get(1))};
      while (body.ok && list.left() >= 1)
        out.point_formats.push_back(static_cast<uint8_t>(list.get(1)));
    } else if (type == 0) {  // server_name: host_name entries
      Reader list{body.take(body.get(2))};
      while (body.ok && list.ok && list.left() >= 3) {
        auto kind = list.get(1);
        auto name = list.take(list.get(2));
        if (list.ok && kind == 0 && out.server_name.empty()) out.server_name = std::string(name);
      }
    }
  }
  if (!ext.ok) {
    *why = "truncated extension";
    return HelloParse::kMalformed;
  }
  return HelloParse::kOk;
}

std::string ja3_text(const ClientHello& h) {
  std::string out = std::to_string(h.version) + ",";
  auto list = [&](const auto& values) {
    bool first = true;
    for (auto v : values) {
      if (is_grease(static_cast<uint16_t>(v))) continue;
      if (!first) out.push_back('-');
      first = false;
      out += std::to_string(v);
    }
  };
  list(h.ciphers);
  out.push_back(',');
  list(h.extensions);
  out.push_back(',');
  list(h.groups);
  out.push_back(',');
  bool first = true;  // point formats are single bytes: never GREASE
  for (auto v : h.point_formats) {
    if (!first) out.push_back('-');
    first = false;
    out += std::to_string(v);
  }
  return out;
}

std::string ja3_hash(const ClientHello& h) {
  std::string text = ja3_text(h);
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(text.data(), text.size(), md, &len, EVP_md5(), nullptr);
  return hex_encode(md, len);
}

}  // namespace vantage::sinkhole

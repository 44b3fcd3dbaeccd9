#pragma once
// Helpers shared by the delivery unit tests: base64 decoding and reading a ZIP back with zlib.

#include <zlib.h>

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

namespace vantage::delivery::testing {

inline std::string base64_decode(std::string_view in) {
  auto val = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    const int v = val(c);
    if (v < 0) continue;  // line breaks and padding
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  return out;
}

inline uint32_t le32(std::string_view s, size_t at) {
  return static_cast<uint8_t>(s[at]) | (static_cast<uint8_t>(s[at + 1]) << 8) |
         (static_cast<uint8_t>(s[at + 2]) << 16) |
         (static_cast<uint32_t>(static_cast<uint8_t>(s[at + 3])) << 24);
}
inline uint16_t le16(std::string_view s, size_t at) {
  return static_cast<uint16_t>(static_cast<uint8_t>(s[at]) |
                               (static_cast<uint8_t>(s[at + 1]) << 8));
}

// Walks the central directory and inflates each entry; returns name -> contents. Fails the
// caller's expectations by returning an empty map on any structural error or CRC mismatch.
inline std::map<std::string, std::string> read_zip(std::string_view z) {
  std::map<std::string, std::string> out;
  if (z.size() < 22 || le32(z, z.size() - 22) != 0x06054b50) return {};
  const size_t eocd = z.size() - 22;
  const uint16_t n = le16(z, eocd + 10);
  size_t cd = le32(z, eocd + 16);
  for (uint16_t i = 0; i < n; ++i) {
    if (cd + 46 > z.size() || le32(z, cd) != 0x02014b50) return {};
    const uint32_t crc = le32(z, cd + 16);
    const uint32_t csize = le32(z, cd + 20);
    const uint32_t usize = le32(z, cd + 24);
    const uint16_t nlen = le16(z, cd + 28);
    const uint32_t local = le32(z, cd + 42);
    std::string name(z.substr(cd + 46, nlen));
    cd += 46 + nlen + le16(z, cd + 30) + le16(z, cd + 32);
    if (le32(z, local) != 0x04034b50 || le16(z, local + 8) != 8) return {};
    const size_t data_at = local + 30 + le16(z, local + 26) + le16(z, local + 28);
    std::string data(usize, '\0');
    z_stream zs{};
    if (inflateInit2(&zs, -MAX_WBITS) != Z_OK) return {};
    zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(z.data() + data_at));
    zs.avail_in = csize;
    zs.next_out = reinterpret_cast<Bytef*>(data.data());
    zs.avail_out = usize;
    const int rc = inflate(&zs, Z_FINISH);
    inflateEnd(&zs);
    if (rc != Z_STREAM_END || zs.total_out != usize) return {};
    if (crc32(crc32(0, Z_NULL, 0), reinterpret_cast<const Bytef*>(data.data()), usize) != crc) {
      return {};
    }
    out[name] = std::move(data);
  }
  return out;
}

}  // namespace vantage::delivery::testing

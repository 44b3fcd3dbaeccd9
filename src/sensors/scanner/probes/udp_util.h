#pragma once
// Byte readers and the columns every amplification-prone UDP module shares (response_size,
// amplification). Header-only: each module is one .cc and these are a few lines each.
//
// The readers take an offset the caller has already checked against the size (every parser
// checks `size() >= off + n` before reading n bytes); they never read out of bounds when used
// that way, and the fuzzers (fuzz/fuzz_probe_udp.cc, fuzz/fuzz_probe_ics.cc) hold them to it.

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "sensors/scanner/probes/probe.h"

namespace vantage::scanner::octets {

inline unsigned u8(std::string_view b, size_t i) {
  return static_cast<unsigned char>(b[i]);
}
inline unsigned be16(std::string_view b, size_t i) {
  return (u8(b, i) << 8) | u8(b, i + 1);
}
inline uint32_t be32(std::string_view b, size_t i) {
  return (uint32_t{u8(b, i)} << 24) | (uint32_t{u8(b, i + 1)} << 16) | (u8(b, i + 2) << 8) |
         u8(b, i + 3);
}
inline unsigned le16(std::string_view b, size_t i) {
  return u8(b, i) | (u8(b, i + 1) << 8);
}
inline uint32_t le32(std::string_view b, size_t i) {
  return le16(b, i) | (uint32_t{le16(b, i + 2)} << 16);
}

inline void put_be16(std::string& s, unsigned v) {
  s += static_cast<char>((v >> 8) & 0xff);
  s += static_cast<char>(v & 0xff);
}
inline void put_be32(std::string& s, uint32_t v) {
  put_be16(s, v >> 16);
  put_be16(s, v & 0xffff);
}
inline void put_le16(std::string& s, unsigned v) {
  s += static_cast<char>(v & 0xff);
  s += static_cast<char>((v >> 8) & 0xff);
}
inline void put_le32(std::string& s, uint32_t v) {
  put_le16(s, v & 0xffff);
  put_le16(s, v >> 16);
}

// Lower-case hex of at most `max` bytes (raw_response columns, identifiers).
inline std::string hex(std::string_view b, size_t max = 4096) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < b.size() && i < max; ++i) {
    out += digits[u8(b, i) >> 4];
    out += digits[u8(b, i) & 15];
  }
  return out;
}

// "aa:bb:cc:dd:ee:ff" from six bytes.
inline std::string mac(std::string_view six) {
  std::string out;
  for (size_t i = 0; i < 6 && i < six.size(); ++i) {
    if (i) out += ':';
    out += hex(six.substr(i, 1));
  }
  return out;
}

// Dotted quad from four bytes in network order.
inline std::string ipv4(std::string_view four) {
  std::string out;
  for (size_t i = 0; i < 4 && i < four.size(); ++i) {
    if (i) out += '.';
    out += std::to_string(u8(four, i));
  }
  return out;
}

// response_size (every datagram of the reply) and amplification (that over the bytes sent).
inline size_t reply_bytes(const std::vector<std::string_view>& datagrams) {
  size_t n = 0;
  for (auto d : datagrams) n += d.size();
  return n;
}
inline void set_amplification(nlohmann::json& f, const std::vector<std::string_view>& datagrams,
                              size_t request_bytes) {
  const size_t n = reply_bytes(datagrams);
  f["response_size"] = n;
  if (request_bytes > 0)
    f["amplification"] = static_cast<double>(n) / static_cast<double>(request_bytes);
}

// complete() for modules that need one datagram.
inline bool any_datagram(std::string_view framed) {
  return !udp_unframe(framed).empty();
}

}  // namespace vantage::scanner::octets

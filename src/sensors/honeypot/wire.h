#pragma once
// Fixed-width integers in network protocols, big- and little-endian, read from and appended to
// byte strings: what every honeypot protocol reader and writer needs. Readers do not check
// bounds: callers check the length first (their parsers are fuzzed).

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace vantage::honeypot::wire {

inline uint8_t u8(std::string_view s, size_t at) {
  return static_cast<uint8_t>(s[at]);
}

inline uint16_t be16(std::string_view s, size_t at) {
  return static_cast<uint16_t>((u8(s, at) << 8) | u8(s, at + 1));
}
inline uint32_t be32(std::string_view s, size_t at) {
  return (static_cast<uint32_t>(be16(s, at)) << 16) | be16(s, at + 2);
}
inline uint16_t le16(std::string_view s, size_t at) {
  return static_cast<uint16_t>(u8(s, at) | (u8(s, at + 1) << 8));
}
inline uint32_t le32(std::string_view s, size_t at) {
  return le16(s, at) | (static_cast<uint32_t>(le16(s, at + 2)) << 16);
}
inline uint64_t le64(std::string_view s, size_t at) {
  return le32(s, at) | (static_cast<uint64_t>(le32(s, at + 4)) << 32);
}

inline void put_be16(std::string& o, uint32_t v) {
  o.push_back(static_cast<char>((v >> 8) & 0xff));
  o.push_back(static_cast<char>(v & 0xff));
}
inline void put_be32(std::string& o, uint32_t v) {
  put_be16(o, v >> 16);
  put_be16(o, v & 0xffff);
}
inline void put_le16(std::string& o, uint32_t v) {
  o.push_back(static_cast<char>(v & 0xff));
  o.push_back(static_cast<char>((v >> 8) & 0xff));
}
inline void put_le32(std::string& o, uint32_t v) {
  put_le16(o, v & 0xffff);
  put_le16(o, v >> 16);
}
inline void put_le64(std::string& o, uint64_t v) {
  put_le32(o, static_cast<uint32_t>(v));
  put_le32(o, static_cast<uint32_t>(v >> 32));
}

}  // namespace vantage::honeypot::wire

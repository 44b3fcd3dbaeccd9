#pragma once
// Fixed-width integers in network replies and requests. Readers do not check bounds: the
// caller has checked that `b` holds i + width bytes.

#include <cstdint>
#include <string>
#include <string_view>

namespace vantage::scanner::wire {

inline uint32_t byte(std::string_view b, size_t i) {
  return static_cast<unsigned char>(b[i]);
}
inline uint16_t be16(std::string_view b, size_t i) {
  return static_cast<uint16_t>((byte(b, i) << 8) | byte(b, i + 1));
}
inline uint32_t be32(std::string_view b, size_t i) {
  return (byte(b, i) << 24) | (byte(b, i + 1) << 16) | (byte(b, i + 2) << 8) | byte(b, i + 3);
}
inline uint16_t le16(std::string_view b, size_t i) {
  return static_cast<uint16_t>(byte(b, i) | (byte(b, i + 1) << 8));
}
inline uint32_t le32(std::string_view b, size_t i) {
  return byte(b, i) | (byte(b, i + 1) << 8) | (byte(b, i + 2) << 16) | (byte(b, i + 3) << 24);
}
inline int32_t le32s(std::string_view b, size_t i) {
  return static_cast<int32_t>(le32(b, i));
}
inline int64_t le64s(std::string_view b, size_t i) {
  return static_cast<int64_t>(uint64_t{le32(b, i)} | (uint64_t{le32(b, i + 4)} << 32));
}

inline void put_be16(std::string& s, uint32_t v) {
  s += static_cast<char>((v >> 8) & 0xff);
  s += static_cast<char>(v & 0xff);
}
inline void put_be32(std::string& s, uint32_t v) {
  put_be16(s, v >> 16);
  put_be16(s, v & 0xffff);
}
inline void put_le16(std::string& s, uint32_t v) {
  s += static_cast<char>(v & 0xff);
  s += static_cast<char>((v >> 8) & 0xff);
}
inline void put_le32(std::string& s, uint32_t v) {
  put_le16(s, v & 0xffff);
  put_le16(s, v >> 16);
}

}  // namespace vantage::scanner::wire

#include "common/ip.h"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>

namespace vantage {

IpAddress IpAddress::from_bytes(const uint8_t* bytes, int length) {
  if (length == 4) {
    return from_v4((uint32_t{bytes[0]} << 24) | (uint32_t{bytes[1]} << 16) |
                   (uint32_t{bytes[2]} << 8) | uint32_t{bytes[3]});
  }
  uint64_t hi = 0, lo = 0;
  for (int i = 0; i < 8; ++i) hi = (hi << 8) | bytes[i];
  for (int i = 8; i < 16; ++i) lo = (lo << 8) | bytes[i];
  return from_v6(hi, lo);
}

void IpAddress::to_bytes(uint8_t out[16]) const {
  for (int i = 0; i < 8; ++i) out[i] = static_cast<uint8_t>(hi_ >> (56 - 8 * i));
  for (int i = 0; i < 8; ++i) out[8 + i] = static_cast<uint8_t>(lo_ >> (56 - 8 * i));
}

namespace {

// Strict dotted quad: four decimal octets, no leading '+', no empty parts, at most 3 digits.
bool parse_v4(std::string_view s, uint32_t& out) {
  uint32_t value = 0;
  int parts = 0;
  size_t i = 0;
  while (parts < 4) {
    size_t start = i;
    uint32_t octet = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9' && i - start < 3) {
      octet = octet * 10 + static_cast<uint32_t>(s[i] - '0');
      ++i;
    }
    if (i == start || octet > 255) return false;
    value = (value << 8) | octet;
    ++parts;
    if (parts < 4) {
      if (i >= s.size() || s[i] != '.') return false;
      ++i;
    }
  }
  if (i != s.size()) return false;
  out = value;
  return true;
}

}  // namespace

Result<IpAddress> IpAddress::parse(std::string_view text) {
  if (text.empty()) return Error::invalid("empty address");
  if (text.size() > 45) return Error::invalid("address too long");
  uint32_t v4 = 0;
  if (text.find(':') == std::string_view::npos) {
    if (parse_v4(text, v4)) return from_v4(v4);
    return Error::invalid("not an IPv4 address: '" + std::string(text) + "'");
  }
  char buf[64];
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  uint8_t bytes[16];
  if (inet_pton(AF_INET6, buf, bytes) != 1) {
    return Error::invalid("not an IPv6 address: '" + std::string(text) + "'");
  }
  return from_bytes(bytes, 16);
}

std::string IpAddress::to_string() const {
  char buf[INET6_ADDRSTRLEN];
  if (is_v4()) {
    uint8_t b[4] = {static_cast<uint8_t>(v4() >> 24), static_cast<uint8_t>(v4() >> 16),
                    static_cast<uint8_t>(v4() >> 8), static_cast<uint8_t>(v4())};
    inet_ntop(AF_INET, b, buf, sizeof buf);
  } else {
    uint8_t b[16];
    to_bytes(b);
    inet_ntop(AF_INET6, b, buf, sizeof buf);
  }
  return buf;
}

IpPrefix IpPrefix::make(IpAddress address, int length) {
  IpPrefix p;
  int max = address.is_v4() ? 32 : 128;
  if (length < 0) length = 0;
  if (length > max) length = max;
  int len128 = address.is_v4() ? length + 96 : length;
  uint128 mask = len128 == 0 ? 0 : (~uint128{0}) << (128 - len128);
  p.address_ = IpAddress::from_u128(address.u128() & mask);
  p.length_ = length;
  return p;
}

Result<IpPrefix::Parsed> IpPrefix::parse(std::string_view text) {
  size_t slash = text.find('/');
  auto addr = IpAddress::parse(text.substr(0, slash));
  if (!addr) return addr.error();
  int max = addr->is_v4() ? 32 : 128;
  int length = max;
  if (slash != std::string_view::npos) {
    std::string_view len = text.substr(slash + 1);
    auto [ptr, ec] = std::from_chars(len.data(), len.data() + len.size(), length);
    if (len.empty() || ec != std::errc() || ptr != len.data() + len.size() || length < 0 ||
        length > max) {
      return Error::invalid("bad prefix length in '" + std::string(text) + "'");
    }
  }
  Parsed parsed;
  parsed.prefix = make(*addr, length);
  parsed.had_host_bits = parsed.prefix.address_ != *addr;
  return parsed;
}

IpAddress IpPrefix::last() const {
  int len128 = length128();
  uint128 host = len128 == 128 ? 0 : (~uint128{0}) >> len128;
  return IpAddress::from_u128(address_.u128() | host);
}

bool IpPrefix::contains(const IpAddress& a) const {
  return a >= first() && a <= last();
}

bool IpPrefix::contains(const IpPrefix& p) const {
  return p.length128() >= length128() && contains(p.address());
}

std::string IpPrefix::to_string() const {
  return address_.to_string() + "/" + std::to_string(length_);
}

}  // namespace vantage

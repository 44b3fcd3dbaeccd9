#pragma once
// IP addresses and prefixes, IPv4 and IPv6 in one value type.
// IPv4 addresses are held in their IPv4-mapped IPv6 form (::ffff:a.b.c.d) so that one
// 128-bit ordering covers both families; prefix lengths are kept in the family's own terms
// (0..32 for IPv4, 0..128 for IPv6). Thread-safe: plain values.

#include <compare>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"

namespace vantage {

__extension__ typedef unsigned __int128 uint128;

class IpAddress {
 public:
  constexpr IpAddress() = default;
  static constexpr IpAddress from_v4(uint32_t v4) {
    IpAddress a;
    a.hi_ = 0;
    a.lo_ = (uint64_t{0xffff} << 32) | v4;
    return a;
  }
  static constexpr IpAddress from_v6(uint64_t hi, uint64_t lo) {
    IpAddress a;
    a.hi_ = hi;
    a.lo_ = lo;
    return a;
  }
  static constexpr IpAddress from_u128(uint128 v) {
    return from_v6(static_cast<uint64_t>(v >> 64), static_cast<uint64_t>(v));
  }
  // From 16 network-order bytes (IPv6) or 4 (IPv4).
  static IpAddress from_bytes(const uint8_t* bytes, int length);

  // Parses dotted-quad IPv4 or any RFC 4291 IPv6 text form (zone ids are rejected).
  static Result<IpAddress> parse(std::string_view text);

  constexpr bool is_v4() const { return hi_ == 0 && (lo_ >> 32) == 0xffff; }
  constexpr uint32_t v4() const { return static_cast<uint32_t>(lo_); }
  constexpr uint64_t hi() const { return hi_; }
  constexpr uint64_t lo() const { return lo_; }
  constexpr uint128 u128() const { return (uint128{hi_} << 64) | lo_; }
  // Writes 16 network-order bytes.
  void to_bytes(uint8_t out[16]) const;

  // Canonical text: dotted quad for IPv4, RFC 5952 for IPv6.
  std::string to_string() const;

  constexpr auto operator<=>(const IpAddress&) const = default;

 private:
  uint64_t hi_ = 0;
  uint64_t lo_ = 0;
};

class IpPrefix {
 public:
  constexpr IpPrefix() = default;
  // Builds a prefix, clearing host bits. `length` is in the family's terms.
  static IpPrefix make(IpAddress address, int length);

  struct Parsed;
  // Parses "a.b.c.d/n", "x::/n" or a bare address (a host prefix). Host bits set below the
  // prefix length are cleared; `had_host_bits` tells the caller so it can warn.
  static Result<Parsed> parse(std::string_view text);

  const IpAddress& address() const { return address_; }
  int length() const { return length_; }
  bool is_v4() const { return address_.is_v4(); }
  // Length in the 128-bit space (IPv4 lengths + 96).
  int length128() const { return is_v4() ? length_ + 96 : length_; }
  IpAddress first() const { return address_; }
  IpAddress last() const;
  bool contains(const IpAddress& a) const;
  bool contains(const IpPrefix& p) const;
  std::string to_string() const;

  auto operator<=>(const IpPrefix&) const = default;

 private:
  IpAddress address_;
  int length_ = 0;
};

struct IpPrefix::Parsed {
  IpPrefix prefix;
  bool had_host_bits = false;
};

}  // namespace vantage

#pragma once
// The little of ASN.1 BER the SNMP and CLDAP amplifiers need, both ways: a bounded reader
// (definite lengths of at most 4 bytes, every length checked against what is left, single-
// byte tags) and writers for the replies.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace vantage::honeypot::amp::ber {

struct Tlv {
  uint8_t tag = 0;
  std::string_view value;
};

// Reads one TLV from the front of `in` and advances past it; false when malformed.
bool read(std::string_view& in, Tlv& out);
// Reads a TLV that must have tag `tag`.
bool expect(std::string_view& in, uint8_t tag, std::string_view& value);
// A two's-complement INTEGER (or ENUMERATED) of at most 8 bytes.
bool to_int(std::string_view v, int64_t& out);
// An OBJECT IDENTIFIER's arcs (at most `max_arcs`, each below 2^32).
bool to_oid(std::string_view v, std::vector<uint32_t>& arcs, size_t max_arcs = 64);
std::string oid_text(const std::vector<uint32_t>& arcs);  // "1.3.6.1.2.1"

// Appends tag, length and body.
void put(std::string& out, uint8_t tag, std::string_view body);
std::string tlv(uint8_t tag, std::string_view body);
std::string int_body(int64_t v);
std::string oid_body(const std::vector<uint32_t>& arcs);

}  // namespace vantage::honeypot::amp::ber

#pragma once
// Reads a TLS ClientHello (RFC 8446 4.1.2; the record layer of RFC 5246 6.2, fragments
// joined) from the raw bytes a client sent, and computes its JA3 fingerprint
// (github.com/salesforce/ja3: "SSLVersion,Ciphers,Extensions,EllipticCurves,PointFormats",
// decimal values joined by '-', GREASE values (RFC 8701) left out, then MD5). Bots built on
// one TLS library share a JA3, so it names a family where the HTTP request alone does not.
// Pure function of its input; fuzzed (fuzz/fuzz_sinkhole.cc).

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace vantage::sinkhole {

struct ClientHello {
  uint16_t version = 0;  // legacy_version of the hello (771 = TLS 1.2, as JA3 wants)
  std::vector<uint16_t> ciphers;
  std::vector<uint16_t> extensions;
  std::vector<uint16_t> groups;        // supported_groups (10)
  std::vector<uint8_t> point_formats;  // ec_point_formats (11)
  std::string server_name;             // server_name (0), host_name entry
};

enum class HelloParse { kOk, kIncomplete, kMalformed };

// `bytes` starts with the first TLS record the client sent.
HelloParse parse_client_hello(std::string_view bytes, ClientHello& out, const char** why);

bool is_grease(uint16_t v);
std::string ja3_text(const ClientHello& hello);
// MD5 of ja3_text, 32 lower-case hex digits.
std::string ja3_hash(const ClientHello& hello);

}  // namespace vantage::sinkhole

#pragma once
// JARM: an active TLS server fingerprint (Salesforce, 2020; https://github.com/salesforce/jarm).
// Ten ClientHellos that differ in version, cipher list and order, GREASE, ALPN and
// extension order are sent on ten connections; from each ServerHello the chosen cipher,
// version, ALPN and extension types are kept, and the ten results are folded into a 62-hex
// "fuzzy hash": per probe two hex digits for the cipher's index in JARM's list and one letter
// for the version, then the first 32 hex digits of SHA-256 over the ALPNs and extensions.
//
// This implementation follows the reference jarm.py (salesforce/jarm at a25b74d, the version
// with the corrected ALPN list and the server_hello_length check) byte for byte where it
// matters for the hash, including its quirks: the SNI carries the address text when no host
// name is known, a probe answered by an alert or nothing counts as "|||", a ServerHello whose
// extensions cannot be read gives "cipher|version||", a timeout makes the whole fingerprint
// zeros, and the reply is the first (at most 1,484) bytes received. Its ClientHellos are
// identical to jarm.py's for the same random bytes (jarm_test.cc). Thread-safe.

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace vantage::scanner::jarm {

inline constexpr int kProbes = 10;
inline constexpr size_t kMaxReply = 1484;  // jarm.py reads one recv(1484)

// Random bytes for client randoms, session ids, key shares and GREASE choices (the server's
// answer does not depend on them). Tests pass a fixed source.
using RandomBytes = std::function<void(uint8_t* out, size_t n)>;
RandomBytes system_random();

// ClientHello record of probe `index` (0..9) for server name `host`.
std::string client_hello(int index, std::string_view host, const RandomBytes& random);

// Whether `reply` (bytes received so far) is enough to decide the probe: the first TLS record
// is complete, or kMaxReply bytes arrived.
bool reply_complete(std::string_view reply);

// One probe's result from the server's reply: "cipher|version|alpn|ext-ext-...", or "|||".
std::string read_server_hello(std::string_view reply);

// The fingerprint of ten results ("|||" each when a probe failed); 62 zeros when all failed.
std::string fuzzy_hash(const std::vector<std::string>& results);

}  // namespace vantage::scanner::jarm

#pragma once
// Punycode (RFC 3492) and the IDNA "xn--" label conversion built on it, so that domain
// names typed in Unicode are stored and matched in the ASCII form DNS and event feeds use.
// Pure functions, thread-safe.
//
// Scope: this is the RFC 3492 bootstring codec with the RFC's parameters, plus
// per-label ToASCII. It does not implement the IDNA2008 mapping tables (NFC, case folding
// beyond the scripts to_lower_code_point knows); callers pass labels already in NFC.

#include <string>
#include <string_view>

#include "common/result.h"

namespace vantage::registry {

// Encodes code points to Punycode (without the "xn--" prefix). Case of ASCII code points is
// kept, as the RFC requires. Errors: a code point above U+10FFFF or a surrogate, overflow.
Result<std::string> punycode_encode(std::u32string_view input);

// Decodes Punycode (without "xn--"). Errors: bad digits, overflow, non-basic code points
// before the last delimiter.
Result<std::u32string> punycode_decode(std::string_view input);

// UTF-8 <-> code points. Decoding rejects malformed UTF-8 (overlongs, surrogates).
Result<std::u32string> utf8_to_code_points(std::string_view utf8);
std::string code_points_to_utf8(std::u32string_view cps);

// Lower-case for the common scripts (ASCII, Latin-1, Latin Extended-A, Greek, Cyrillic);
// other code points are returned unchanged.
char32_t to_lower_code_point(char32_t c);

// One DNS label to ASCII: pure-ASCII labels come back unchanged; others are lower-cased
// with to_lower_code_point and become "xn--" + punycode(label).
Result<std::string> label_to_ascii(std::string_view utf8_label);

}  // namespace vantage::registry

#pragma once
// Time-based one-time passwords (RFC 6238) over HOTP (RFC 4226), with HMAC-SHA1 from OpenSSL
// -- the variant every authenticator app implements -- and the base32 secrets (RFC 4648) and
// otpauth:// URIs those apps read.
//
// Thread-safety: pure functions. Secrets are never logged.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/time.h"

namespace vantage::portal {

// RFC 4648 base32, upper case, without padding.
std::string base32_encode(std::string_view bytes);
// Case-insensitive; spaces, hyphens and '=' padding ignored. nullopt on any other character.
std::optional<std::string> base32_decode(std::string_view text);

// RFC 4226: the `digits`-digit HOTP value of `counter` under `key`.
uint32_t hotp(std::string_view key, uint64_t counter, int digits = 6);
// RFC 6238: the TOTP value at time `t` (step 30 s, T0 = 0).
uint32_t totp(std::string_view key, UnixSeconds t, int digits = 6, int step = 30);

// Accepts `code` (exactly 6 digits) if it is the TOTP of the step at `now` or of one step
// either side (clock drift) and that step is later than `last_step` (a code is good once).
// Returns the accepted step.
std::optional<int64_t> totp_accept(std::string_view key, std::string_view code, UnixSeconds now,
                                   int64_t last_step);

// otpauth://totp/<issuer>:<account>?secret=<base32>&issuer=<issuer>&algorithm=SHA1&digits=6&period=30
std::string otpauth_uri(std::string_view issuer, std::string_view account,
                        std::string_view base32_secret);

}  // namespace vantage::portal

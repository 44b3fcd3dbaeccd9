#pragma once
// Account passwords: Argon2id (RFC 9106) through Debian's libargon2, stored in the PHC string
// format ("$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>") so that a stored hash carries its own
// parameters and raising them later never locks anyone out.
//
// Passwords are never logged, never stored in clear and never part of an error message.
// Thread-safety: pure functions (each call allocates its own Argon2 memory).

#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"

namespace vantage::portal {

struct Argon2Params {
  uint32_t memory_kib = 19456;  // OWASP's Argon2id minimum (19 MiB)
  uint32_t iterations = 2;
  uint32_t parallelism = 1;
};

// A fresh random salt per call. Errors: the password breaks the policy below, or libargon2
// fails (out of memory).
Result<std::string> hash_password(std::string_view password, const Argon2Params& params);
// True only when `encoded` is an Argon2id hash of `password`. Constant time in the hash.
bool verify_password(std::string_view encoded, std::string_view password);
// Runs one verification against a fixed hash, so that a sign-in for an unknown account costs
// what one for a known account costs (no timing oracle for which logins exist).
void burn_verification();

// 12 to 256 bytes of valid UTF-8, not the login itself.
Status check_password_policy(std::string_view password, std::string_view login);

}  // namespace vantage::portal

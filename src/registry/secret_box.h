#pragma once
// Encryption of API-key secrets at rest. The API server must recompute HMAC-SHA256 with the
// plaintext secret (docs/shadowserver-api.md), so secrets cannot be hashed; they are sealed
// with AES-256-GCM under a server key instead, and the public key id is bound in as
// associated data so a sealed secret cannot be moved to another key row.
//
// The server key is 32 random bytes, hex-encoded: from VANTAGE_SERVER_KEY if set, otherwise
// <data_dir>/server.key, created with mode 0600 on first use. A key file readable by group
// or others is refused, like ssh refuses such private keys.
//
// Thread-safety: a SecretBox is immutable after construction; seal/open may run concurrently.
// Secrets are never logged; error messages never contain them.

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"

namespace vantage::registry {

class SecretBox {
 public:
  static constexpr size_t kKeySize = 32;
  static constexpr size_t kNonceSize = 12;
  static constexpr size_t kTagSize = 16;

  // From 32 raw bytes.
  static Result<SecretBox> from_key(std::string_view raw_key);
  // From 64 hex characters (surrounding whitespace ignored).
  static Result<SecretBox> from_hex(std::string_view hex_key);
  // VANTAGE_SERVER_KEY, else <data_dir>/server.key (created 0600 if missing).
  static Result<SecretBox> load_or_create(const std::string& data_dir);

  SecretBox(const SecretBox&) = default;
  SecretBox& operator=(const SecretBox&) = default;
  ~SecretBox();

  // Returns nonce || ciphertext || tag (binary). A fresh random nonce per call.
  Result<std::string> seal(std::string_view plaintext, std::string_view aad) const;
  // Errors: kPermissionDenied when authentication fails (wrong server key, tampering, or an
  // aad that differs from the one used to seal).
  Result<std::string> open(std::string_view sealed, std::string_view aad) const;

  // A 32-byte key for another purpose, HMAC-SHA256(server key, label): the portal signs its
  // confirmation links and CSRF tokens with keys derived here, so the one server key covers
  // them and no second secret file is needed. Distinct labels give independent keys.
  std::string derive_key(std::string_view label) const;

 private:
  SecretBox() = default;
  std::array<uint8_t, kKeySize> key_{};
};

// Cryptographically secure random bytes (OpenSSL RAND_bytes).
Result<std::string> random_bytes(size_t n);
// n random bytes, hex-encoded (2n characters).
Result<std::string> random_hex(size_t n);

}  // namespace vantage::registry

#include "portal/password.h"

#include <argon2.h>

#include <vector>

#include "common/strings.h"
#include "registry/secret_box.h"

namespace vantage::portal {

Status check_password_policy(std::string_view password, std::string_view login) {
  if (password.size() < 12) return Error::invalid("the password must have at least 12 characters");
  if (password.size() > 256) return Error::invalid("the password must have at most 256 bytes");
  if (!is_valid_utf8(password)) return Error::invalid("the password is not valid UTF-8");
  if (!login.empty() && to_lower(password) == to_lower(login))
    return Error::invalid("the password must not be the sign-in name");
  return {};
}

Result<std::string> hash_password(std::string_view password, const Argon2Params& p) {
  if (password.empty() || password.size() > 256) return Error::invalid("unusable password");
  auto salt = registry::random_bytes(16);
  if (!salt) return salt.error();
  constexpr uint32_t kHashLen = 32;
  size_t len = argon2_encodedlen(p.iterations, p.memory_kib, p.parallelism,
                                 static_cast<uint32_t>(salt->size()), kHashLen, Argon2_id);
  std::vector<char> encoded(len + 1);
  int rc = argon2id_hash_encoded(p.iterations, p.memory_kib, p.parallelism, password.data(),
                                 password.size(), salt->data(), salt->size(), kHashLen,
                                 encoded.data(), encoded.size());
  if (rc != ARGON2_OK) return Error::internal(std::string("argon2: ") + argon2_error_message(rc));
  return std::string(encoded.data());
}

bool verify_password(std::string_view encoded, std::string_view password) {
  if (encoded.rfind("$argon2id$", 0) != 0 || encoded.size() > 512) return false;
  std::string e(encoded);  // libargon2 wants a NUL-terminated string
  return argon2id_verify(e.c_str(), password.data(), password.size()) == ARGON2_OK;
}

void burn_verification() {
  // A hash of a random password with the default parameters, made once.
  static const std::string dummy = [] {
    auto salt = registry::random_hex(8);
    auto r = hash_password("burn-verification-" + (salt ? *salt : std::string("x")), {});
    return r ? *r : std::string();
  }();
  (void)verify_password(dummy, "not the password");
}

}  // namespace vantage::portal

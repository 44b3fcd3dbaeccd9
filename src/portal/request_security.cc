#include "portal/request_security.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include "common/strings.h"
#include "registry/secret_box.h"

namespace vantage::portal {

std::vector<std::pair<std::string, std::string>> parse_cookies(std::string_view header) {
  std::vector<std::pair<std::string, std::string>> out;
  for (auto part : split(header, ';')) {
    if (out.size() >= 64) break;
    auto eq = part.find('=');
    if (eq == std::string_view::npos) continue;
    std::string_view name = trim(part.substr(0, eq));
    std::string_view value = trim(part.substr(eq + 1));
    if (name.empty()) continue;
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"')
      value = value.substr(1, value.size() - 2);
    out.emplace_back(std::string(name), std::string(value));
  }
  return out;
}

std::optional<std::string> cookie_value(const http::Request& request, std::string_view name) {
  std::optional<std::string> found;
  for (const auto& [h, v] : request.headers) {
    if (to_lower(h) != "cookie") continue;
    for (auto& [n, val] : parse_cookies(v)) {
      if (n != name) continue;
      if (found && *found != val) return std::nullopt;  // ambiguous: trust neither
      found = val;
    }
  }
  return found;
}

std::string set_cookie(const CookieSpec& c) {
  std::string out = c.name + "=" + c.value + "; Path=" + c.path;
  if (c.max_age >= 0) out += "; Max-Age=" + std::to_string(c.max_age);
  if (c.secure) out += "; Secure";
  if (c.http_only) out += "; HttpOnly";
  out += c.same_site == SameSite::kStrict ? "; SameSite=Strict" : "; SameSite=Lax";
  return out;
}

namespace {

std::string mac_hex(std::string_view key, std::string_view purpose, std::string_view payload,
                    std::string_view expires) {
  std::string msg =
      std::string(purpose) + '\x1f' + std::string(payload) + '\x1f' + std::string(expires);
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(msg.data()), msg.size(), out, &n);
  return hex_encode(out, n);
}

bool token_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
}

// "scheme://host[:port]/..." -> "host[:port]" (lower-cased); empty when not a URL.
std::string authority_of(std::string_view url) {
  auto p = url.find("://");
  if (p == std::string_view::npos) return {};
  url.remove_prefix(p + 3);
  auto end = url.find_first_of("/?#");
  return to_lower(url.substr(0, end));
}

}  // namespace

std::string sign_token(std::string_view key, std::string_view purpose, std::string_view payload,
                       UnixSeconds expires_at) {
  std::string exp = std::to_string(expires_at);
  return std::string(payload) + "." + exp + "." + mac_hex(key, purpose, payload, exp);
}

Result<std::string> verify_token(std::string_view key, std::string_view purpose,
                                 std::string_view token, UnixSeconds now) {
  const Error bad = Error::invalid("the link is not valid (mistyped or cut short?)");
  if (token.size() > 512) return bad;
  auto a = token.find('.');
  auto b = a == std::string_view::npos ? a : token.find('.', a + 1);
  if (b == std::string_view::npos) return bad;
  std::string_view payload = token.substr(0, a);
  std::string_view exp = token.substr(a + 1, b - a - 1);
  std::string_view mac = token.substr(b + 1);
  if (payload.empty() || exp.empty() || mac.size() != 64) return bad;
  for (char c : payload)
    if (!token_char(c)) return bad;
  auto expires = parse_int(exp);
  if (!expires) return bad;
  if (!equal_constant_time(to_lower(mac), mac_hex(key, purpose, payload, exp))) return bad;
  if (*expires < now) return Error{ErrorCode::kFailedPrecondition, "the link has expired"};
  return std::string(payload);
}

bool same_origin(const http::Request& request) {
  auto host = request.header("host");
  if (!host) return false;
  std::string want = to_lower(trim(*host));
  if (auto origin = request.header("origin")) {
    if (trim(*origin) == "null") return false;
    return authority_of(*origin) == want;
  }
  if (auto referer = request.header("referer")) return authority_of(*referer) == want;
  return true;
}

std::string random_token(size_t bytes) {
  auto r = registry::random_hex(bytes);
  // RAND_bytes failing means no safe randomness at all: nothing sensible can go on.
  if (!r) std::abort();
  return *r;
}

std::string sha256_hex(std::string_view data) {
  unsigned char out[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), out);
  return hex_encode(out, sizeof out);
}

bool equal_constant_time(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace vantage::portal

#pragma once
// The request-level pieces of the portal's security, kept free of I/O so that tests and the
// fuzzer (fuzz/fuzz_portal_request.cc) call them directly:
//   - the Cookie header parser and the Set-Cookie builder (Secure, HttpOnly, SameSite);
//   - signed, expiring tokens (e-mail confirmation links): HMAC-SHA256 over purpose, payload
//     and expiry, so a token made for one purpose never passes for another;
//   - the same-origin check on state-changing requests.
//
// Thread-safety: pure functions.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "api/http/http_server.h"
#include "common/result.h"
#include "common/time.h"

namespace vantage::portal {

// "a=1; b=2" -> [("a","1"), ("b","2")]. Names and values as sent (surrounding blanks and a
// pair of double quotes around a value removed; nothing decoded). Pairs without '=' and empty
// names are skipped; at most 64 pairs are read. Every Cookie header of the request counts.
std::vector<std::pair<std::string, std::string>> parse_cookies(std::string_view header);

// The value of cookie `name`. nullopt when absent -- and when it is sent more than once with
// different values (a sibling domain "tossing" a cookie in beside ours must not pick the
// session: the request is treated as carrying none).
std::optional<std::string> cookie_value(const http::Request& request, std::string_view name);

enum class SameSite { kStrict, kLax };

struct CookieSpec {
  std::string name;
  std::string value;
  int64_t max_age = -1;  // seconds; -1: a session cookie; 0: delete it
  bool secure = true;
  bool http_only = true;
  SameSite same_site = SameSite::kStrict;
  std::string path = "/";
};
std::string set_cookie(const CookieSpec& spec);

// "<payload>.<expires>.<hex mac>"; `payload` must be [A-Za-z0-9_-]+.
std::string sign_token(std::string_view key, std::string_view purpose, std::string_view payload,
                       UnixSeconds expires_at);
// The payload of a well-formed, authentic, unexpired token. Errors: kInvalidArgument
// (malformed or forged: one message for both), kFailedPrecondition (expired).
Result<std::string> verify_token(std::string_view key, std::string_view purpose,
                                 std::string_view token, UnixSeconds now);

// Whether a request's Origin (or, without one, Referer) names the host it was sent to. A
// request with neither passes: browsers send Origin on every cross-site POST, and non-browser
// clients are held back by the CSRF token instead.
bool same_origin(const http::Request& request);

// Random URL-safe token text (hex) of `bytes` random bytes.
std::string random_token(size_t bytes);
// Lower-case hex SHA-256.
std::string sha256_hex(std::string_view data);
// Constant-time comparison of two strings (different lengths compare unequal).
bool equal_constant_time(std::string_view a, std::string_view b);

}  // namespace vantage::portal

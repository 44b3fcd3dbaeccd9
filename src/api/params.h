#pragma once
// Request-parameter grammar of the Shadowserver api2 (docs/shadowserver-api.md §1.2, §2)
// and the HMAC2 check, kept free of I/O so tests and the fuzzer call them directly.
//
// Thread-safety: pure functions.

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"
#include "common/time.h"

namespace vantage::api {

struct DayRange {
  DayNumber first = 0;
  DayNumber last = 0;  // inclusive
};

// "YYYY-MM-DD", "now", "-N" (N days before today), or "A:B" with each end in those forms.
// Errors: kInvalidArgument (bad syntax, impossible date, start after end).
Result<DayRange> parse_date_range(std::string_view text, DayNumber today);

// Lower-case hex HMAC-SHA256 of `body` keyed with `secret`.
std::string hmac_sha256_hex(std::string_view secret, std::string_view body);
// True when `header_hex` (64 hex digits, either case, surrounding blanks ignored) is the
// HMAC of `body` under `secret`. Constant time in the compared bytes (CRYPTO_memcmp).
bool hmac_matches(std::string_view secret, std::string_view body, std::string_view header_hex);

// Lenient readers for parameters that clients send as numbers or strings (GOVCERT sends
// "limit": "1000", jnimmo "detail": "true"). nullopt: absent or null. Error: wrong shape.
Result<std::optional<int64_t>> int_param(const nlohmann::json& body, const char* name);
Result<bool> bool_param(const nlohmann::json& body, const char* name, bool fallback);
// A string or an array of strings (empty strings dropped). Error on other shapes.
Result<std::vector<std::string>> string_list_param(const nlohmann::json& body, const char* name);
// A string parameter; nullopt when absent, null or empty.
Result<std::optional<std::string>> string_param(const nlohmann::json& body, const char* name);

// Appends `text` as a JSON string literal, byte for byte what nlohmann's
// dump(-1, ' ', false, error_handler_t::replace) writes (invalid UTF-8 becomes U+FFFD).
// Printable ASCII without '"' or '\\' -- ids, type names, dates, URLs -- is copied without
// building a json value: reports/list answers are written this way (json trees and their
// escaping were the largest user-space cost of the method under load).
void append_json_string(std::string& out, std::string_view text);

}  // namespace vantage::api

#pragma once
// Small string helpers used across stages. All functions are pure and thread-safe.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vantage {

std::vector<std::string_view> split(std::string_view s, char sep);
std::string_view trim(std::string_view s);
std::string to_lower(std::string_view s);
std::string join(const std::vector<std::string>& parts, std::string_view sep);

// Strict decimal integer parse (optional leading '-', no spaces, no overflow).
std::optional<int64_t> parse_int(std::string_view s);
std::optional<uint64_t> parse_uint(std::string_view s);
std::optional<double> parse_double(std::string_view s);

// True if `s` is well-formed UTF-8 (no overlongs, no surrogates, <= U+10FFFF).
bool is_valid_utf8(std::string_view s);

// Replaces C0 control characters and DEL with nothing, except TAB which becomes a space,
// so that a value can never break a CSV line (report convention: no raw CR/LF in values).
std::string strip_control(std::string_view s);
bool has_control(std::string_view s);

// [A-Za-z0-9_] only: what report file names and IntelMQ's parser accept. Other characters
// become '_'.
std::string sanitize_identifier(std::string_view s);
bool is_identifier(std::string_view s);

std::string hex_encode(const uint8_t* data, size_t n);
inline std::string hex_encode(std::string_view s) {
  return hex_encode(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

}  // namespace vantage

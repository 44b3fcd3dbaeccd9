#include "api/params.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <charconv>

namespace vantage::api {

namespace {

Result<DayNumber> parse_day_term(std::string_view t, DayNumber today) {
  if (t == "now" || t == "today") return today;
  if (!t.empty() && t[0] == '-') {
    int64_t n = 0;
    auto [p, ec] = std::from_chars(t.data() + 1, t.data() + t.size(), n);
    if (t.size() == 1 || t[1] < '0' || t[1] > '9' || ec != std::errc() ||
        p != t.data() + t.size() || n > 100000)
      return Error::invalid("invalid date '" + std::string(t) + "'");
    return static_cast<DayNumber>(today - n);
  }
  if (t.size() != 10) return Error::invalid("invalid date '" + std::string(t) + "'");
  auto d = parse_date(t);
  if (!d) return Error::invalid("invalid date '" + std::string(t) + "'");
  return *d;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

Result<DayRange> parse_date_range(std::string_view text, DayNumber today) {
  text = trim(text);
  size_t colon = text.find(':');
  if (colon == std::string_view::npos) {
    auto d = parse_day_term(text, today);
    if (!d) return d.error();
    return DayRange{*d, *d};
  }
  if (text.find(':', colon + 1) != std::string_view::npos)
    return Error::invalid("invalid date range '" + std::string(text) + "'");
  auto a = parse_day_term(trim(text.substr(0, colon)), today);
  if (!a) return a.error();
  auto b = parse_day_term(trim(text.substr(colon + 1)), today);
  if (!b) return b.error();
  if (*a > *b)
    return Error::invalid("date range '" + std::string(text) + "' ends before it starts");
  return DayRange{*a, *b};
}

std::string hmac_sha256_hex(std::string_view secret, std::string_view body) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(body.data()), body.size(), mac, &len);
  static const char* kHex = "0123456789abcdef";
  std::string out;
  out.reserve(len * 2);
  for (unsigned i = 0; i < len; ++i) {
    out.push_back(kHex[mac[i] >> 4]);
    out.push_back(kHex[mac[i] & 15]);
  }
  return out;
}

bool hmac_matches(std::string_view secret, std::string_view body, std::string_view header_hex) {
  header_hex = trim(header_hex);
  if (header_hex.size() != 64) return false;
  unsigned char given[32];
  for (size_t i = 0; i < 32; ++i) {
    auto nib = [](char c) -> int {
      if (c >= '0' && c <= '9') return c - '0';
      if (c >= 'a' && c <= 'f') return c - 'a' + 10;
      if (c >= 'A' && c <= 'F') return c - 'A' + 10;
      return -1;
    };
    int hi = nib(header_hex[2 * i]), lo = nib(header_hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    given[i] = static_cast<unsigned char>(hi * 16 + lo);
  }
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(body.data()), body.size(), mac, &len);
  return len == 32 && CRYPTO_memcmp(given, mac, 32) == 0;
}

Result<std::optional<int64_t>> int_param(const nlohmann::json& body, const char* name) {
  auto it = body.find(name);
  if (it == body.end() || it->is_null()) return std::optional<int64_t>();
  if (it->is_number_integer()) return std::optional<int64_t>(it->get<int64_t>());
  if (it->is_number_unsigned()) {
    auto u = it->get<uint64_t>();
    return std::optional<int64_t>(u > INT64_MAX ? INT64_MAX : static_cast<int64_t>(u));
  }
  if (it->is_number_float()) {
    double d = it->get<double>();
    if (d >= -1e15 && d <= 1e15) return std::optional<int64_t>(static_cast<int64_t>(d));
  }
  if (it->is_string()) {
    std::string_view s = trim(it->get_ref<const std::string&>());
    if (s.empty()) return std::optional<int64_t>();
    int64_t v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec == std::errc() && p == s.data() + s.size()) return std::optional<int64_t>(v);
  }
  return Error::invalid(std::string("parameter '") + name + "' must be an integer");
}

Result<bool> bool_param(const nlohmann::json& body, const char* name, bool fallback) {
  auto it = body.find(name);
  if (it == body.end() || it->is_null()) return fallback;
  if (it->is_boolean()) return it->get<bool>();
  if (it->is_number_integer()) return it->get<int64_t>() != 0;
  if (it->is_string()) {
    const auto& s = it->get_ref<const std::string&>();
    if (s == "true" || s == "1" || s == "True" || s == "TRUE" || s == "yes") return true;
    if (s == "false" || s == "0" || s == "False" || s == "FALSE" || s == "no" || s.empty())
      return false;
  }
  return Error::invalid(std::string("parameter '") + name + "' must be a boolean");
}

Result<std::vector<std::string>> string_list_param(const nlohmann::json& body, const char* name) {
  std::vector<std::string> out;
  auto it = body.find(name);
  if (it == body.end() || it->is_null()) return out;
  if (it->is_string()) {
    if (!it->get_ref<const std::string&>().empty()) out.push_back(it->get<std::string>());
    return out;
  }
  if (it->is_array()) {
    for (const auto& v : *it) {
      if (!v.is_string())
        return Error::invalid(std::string("parameter '") + name + "' must hold strings");
      if (!v.get_ref<const std::string&>().empty()) out.push_back(v.get<std::string>());
    }
    return out;
  }
  return Error::invalid(std::string("parameter '") + name + "' must be a string or a list");
}

Result<std::optional<std::string>> string_param(const nlohmann::json& body, const char* name) {
  auto it = body.find(name);
  if (it == body.end() || it->is_null()) return std::optional<std::string>();
  if (it->is_string()) {
    if (it->get_ref<const std::string&>().empty()) return std::optional<std::string>();
    return std::optional<std::string>(it->get<std::string>());
  }
  if (it->is_number()) return std::optional<std::string>(it->dump());
  return Error::invalid(std::string("parameter '") + name + "' must be a string");
}

void append_json_string(std::string& out, std::string_view text) {
  for (char ch : text) {
    auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\') {
      out += nlohmann::json(std::string(text))
                 .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
      return;
    }
  }
  out += '"';
  out.append(text);
  out += '"';
}

}  // namespace vantage::api

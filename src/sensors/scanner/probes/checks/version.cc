#include "sensors/scanner/probes/checks/version.h"

#include <cctype>

namespace vantage::scanner {
namespace {

constexpr size_t kMaxComponents = 16;
constexpr size_t kMaxDigits = 18;  // fits unsigned long long with room to spare

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

std::optional<unsigned long long> parse_number(std::string_view digits) {
  if (digits.empty() || digits.size() > kMaxDigits) return std::nullopt;
  unsigned long long v = 0;
  for (char c : digits) {
    if (!is_digit(c)) return std::nullopt;
    v = v * 10 + static_cast<unsigned long long>(c - '0');
  }
  return v;
}

std::optional<Version> parse_dotted(std::string_view s) {
  Version v;
  size_t i = 0;
  while (i < s.size()) {
    if (!is_digit(s[i])) {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < s.size() && is_digit(s[j])) ++j;
    auto n = parse_number(s.substr(i, j - i));
    if (!n || v.numbers.size() == kMaxComponents) return std::nullopt;
    v.numbers.push_back(*n);
    i = j;
  }
  if (v.numbers.empty()) return std::nullopt;
  return v;
}

bool valid_identifier(std::string_view id) {
  if (id.empty()) return false;
  for (char c : id)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-') return false;
  return true;
}

std::optional<Version> parse_semver(std::string_view s) {
  if (!s.empty() && (s[0] == 'v' || s[0] == 'V')) s.remove_prefix(1);
  if (auto plus = s.find('+'); plus != std::string_view::npos) s = s.substr(0, plus);
  std::string_view pre;
  if (auto dash = s.find('-'); dash != std::string_view::npos) {
    pre = s.substr(dash + 1);
    s = s.substr(0, dash);
    if (pre.empty()) return std::nullopt;
  }
  Version v;
  while (true) {
    const size_t dot = s.find('.');
    auto n = parse_number(s.substr(0, dot));
    if (!n || v.numbers.size() == 3) return std::nullopt;
    v.numbers.push_back(*n);
    if (dot == std::string_view::npos) break;
    s.remove_prefix(dot + 1);
  }
  while (!pre.empty()) {
    const size_t dot = pre.find('.');
    const std::string_view id = pre.substr(0, dot);
    if (!valid_identifier(id) || v.prerelease.size() == kMaxComponents) return std::nullopt;
    v.prerelease.emplace_back(id);
    if (dot == std::string_view::npos) break;
    pre.remove_prefix(dot + 1);
    if (pre.empty()) return std::nullopt;
  }
  return v;
}

int compare_numbers(const std::vector<unsigned long long>& a,
                    const std::vector<unsigned long long>& b) {
  const size_t n = std::max(a.size(), b.size());
  for (size_t i = 0; i < n; ++i) {
    const unsigned long long x = i < a.size() ? a[i] : 0, y = i < b.size() ? b[i] : 0;
    if (x != y) return x < y ? -1 : 1;
  }
  return 0;
}

bool all_digits(std::string_view s) {
  for (char c : s)
    if (!is_digit(c)) return false;
  return !s.empty();
}

// semver.org section 11.4.
int compare_prerelease(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  if (a.empty() || b.empty()) return a.empty() == b.empty() ? 0 : (a.empty() ? 1 : -1);
  for (size_t i = 0; i < std::min(a.size(), b.size()); ++i) {
    const bool an = all_digits(a[i]), bn = all_digits(b[i]);
    if (an && bn) {
      // Equal-length digit strings compare as numbers when compared as text; else by length
      // (leading zeros are not valid semver, so the shorter one is smaller).
      if (a[i].size() != b[i].size()) return a[i].size() < b[i].size() ? -1 : 1;
      if (a[i] != b[i]) return a[i] < b[i] ? -1 : 1;
    } else if (an != bn) {
      return an ? -1 : 1;  // numeric identifiers sort before alphanumeric ones
    } else if (a[i] != b[i]) {
      return a[i] < b[i] ? -1 : 1;
    }
  }
  if (a.size() == b.size()) return 0;
  return a.size() < b.size() ? -1 : 1;
}

}  // namespace

std::optional<VersionScheme> parse_version_scheme(std::string_view name) {
  if (name == "dotted") return VersionScheme::dotted;
  if (name == "semver") return VersionScheme::semver;
  return std::nullopt;
}

std::optional<Version> parse_version(std::string_view text, VersionScheme scheme) {
  if (text.size() > 256) return std::nullopt;
  return scheme == VersionScheme::semver ? parse_semver(text) : parse_dotted(text);
}

int compare_versions(const Version& a, const Version& b, VersionScheme scheme) {
  if (int c = compare_numbers(a.numbers, b.numbers)) return c;
  return scheme == VersionScheme::semver ? compare_prerelease(a.prerelease, b.prerelease) : 0;
}

Result<VersionRanges> VersionRanges::parse(const std::vector<std::string>& ranges,
                                           VersionScheme scheme) {
  VersionRanges out;
  out.scheme_ = scheme;
  if (ranges.empty()) return Error::invalid("empty version range list");
  for (const auto& range : ranges) {
    std::vector<Comparator> comps;
    std::string_view rest = range;
    while (!rest.empty()) {
      while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
      if (rest.empty()) break;
      const size_t sp = rest.find(' ');
      std::string_view tok = rest.substr(0, sp);
      rest = sp == std::string_view::npos ? std::string_view{} : rest.substr(sp);
      Op op = Op::eq;
      static const std::pair<std::string_view, Op> ops[] = {
          {"<=", Op::le}, {">=", Op::ge}, {"==", Op::eq}, {"!=", Op::ne},
          {"<", Op::lt},  {">", Op::gt},  {"=", Op::eq}};
      for (const auto& [text, o] : ops) {
        if (tok.substr(0, text.size()) == text) {
          op = o;
          tok.remove_prefix(text.size());
          break;
        }
      }
      auto v = parse_version(tok, scheme);
      if (!v)
        return Error::invalid("bad version '" + std::string(tok) + "' in range '" + range + "'");
      comps.push_back({op, std::move(*v)});
    }
    if (comps.empty()) return Error::invalid("empty version range");
    out.ranges_.push_back(std::move(comps));
  }
  return out;
}

bool VersionRanges::contains(std::string_view version_text) const {
  auto v = parse_version(version_text, scheme_);
  if (!v) return false;
  for (const auto& range : ranges_) {
    bool all = true;
    for (const auto& c : range) {
      const int r = compare_versions(*v, c.version, scheme_);
      bool ok = false;
      switch (c.op) {
        case Op::lt: ok = r < 0; break;
        case Op::le: ok = r <= 0; break;
        case Op::gt: ok = r > 0; break;
        case Op::ge: ok = r >= 0; break;
        case Op::eq: ok = r == 0; break;
        case Op::ne: ok = r != 0; break;
      }
      if (!ok) {
        all = false;
        break;
      }
    }
    if (all) return true;
  }
  return false;
}

}  // namespace vantage::scanner

#pragma once
// Small helpers for line-based reply parsers.

#include <string>
#include <string_view>

namespace vantage::scanner {

// Printable rendering of a banner: CR/LF kept as "\r\n" escapes would confuse CSV consumers,
// so control bytes become '.', except that lines are joined with "\n".
inline std::string printable(std::string_view s, size_t max = 1024) {
  std::string out;
  for (char c : s.substr(0, max)) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '\r') continue;
    out += (c == '\n' || (u >= 0x20 && u < 0x7f)) ? c : '.';
  }
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

// "key:value" (or "key value") lines into a callback.
template <typename F>
void for_each_line(std::string_view s, F&& f) {
  while (!s.empty()) {
    const size_t nl = s.find('\n');
    std::string_view line = s.substr(0, nl);
    s = nl == std::string_view::npos ? std::string_view{} : s.substr(nl + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    f(line);
  }
}

}  // namespace vantage::scanner

#include <nlohmann/json.hpp>

#include "common/result.h"

namespace vantage::scanner {

// Telnet IAC stripping (probes/telnet/telnet.cc).
std::string strip_telnet_iac(std::string_view b, bool* saw_iac);

}  // namespace vantage::scanner

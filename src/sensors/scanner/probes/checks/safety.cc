#include "sensors/scanner/probes/checks/safety.h"

#include <algorithm>
#include <array>
#include <cctype>

#include "common/strings.h"

namespace vantage::scanner::check_safety {
namespace {

bool printable_ascii(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c >= 0x20 && c < 0x7f; });
}

std::string_view injection_marker(std::string_view s) {
  static constexpr std::array<std::string_view, 11> markers{"${", "#{", "$(", "`",  "<",    ">",
                                                            "'",  "\"", "|",  "{{", "jndi:"};
  const std::string lower = to_lower(s);
  for (auto m : markers)
    if (lower.find(m) != std::string::npos) return m;
  return {};
}

Status refuse(std::string_view rule, std::string_view what) {
  return Error::invalid("non-intrusion rule " + std::string(rule) + ": " + std::string(what));
}

}  // namespace

Status http_method(std::string_view method) {
  if (method == "GET" || method == "HEAD" || method == "OPTIONS") return {};
  return refuse("H1", "method " + std::string(method) + " is not GET, HEAD or OPTIONS");
}

Status http_path(std::string_view path) {
  if (path.empty() || path[0] != '/' || path.size() > 1024 || !printable_ascii(path) ||
      path.find(' ') != std::string_view::npos)
    return refuse("H2", "path must be \"/...\", printable ASCII without spaces, <= 1024 bytes");
  const std::string lower = to_lower(path);
  for (std::string_view bad : {"..", "\\", "%2e", "%2f", "%5c", "%00", "%0a", "%0d", "%25"})
    if (lower.find(bad) != std::string::npos)
      return refuse("H3", "path contains \"" + std::string(bad) + "\"");
  if (auto m = injection_marker(path); !m.empty())
    return refuse("H4", "path contains \"" + std::string(m) + "\"");
  return {};
}

Status http_header(std::string_view name, std::string_view value) {
  static constexpr std::array<std::string_view, 10> allowed{
      "accept",           "accept-language", "user-agent", "referer",       "cookie",
      "x-requested-with", "cache-control",   "origin",     "if-none-match", "if-modified-since"};
  const std::string lname = to_lower(name);
  if (std::find(allowed.begin(), allowed.end(), lname) == allowed.end())
    return refuse("H5", "header " + std::string(name) + " is not on the allow-list");
  if (value.size() > 512 || !printable_ascii(value))
    return refuse("H5", "header value must be printable ASCII, <= 512 bytes");
  if (auto m = injection_marker(value); !m.empty())
    return refuse("H4", "header value contains \"" + std::string(m) + "\"");
  return {};
}

Status raw_payload(std::string_view bytes) {
  if (bytes.size() > kMaxPayload) return refuse("R1", "payload over 512 bytes");
  const bool text = std::all_of(bytes.begin(), bytes.end(), [](char c) {
    return (c >= 0x20 && c < 0x7f) || c == '\r' || c == '\n' || c == '\t';
  });
  if (auto m = injection_marker(bytes); !m.empty())
    return refuse(text ? "R2" : "R3", "payload contains \"" + std::string(m) + "\"");
  if (!text || bytes.empty()) return {};
  static constexpr std::array<std::string_view, 21> verbs{
      "EHLO", "HELO",       "LHLO", "NOOP",    "QUIT",     "RSET",    "HELP",
      "CAPA", "CAPABILITY", "ID",   "LOGOUT",  "STARTTLS", "SYST",    "FEAT",
      "STAT", "PING",       "INFO", "VERSION", "STATS",    "OPTIONS", "T3"};
  auto is_verb = [&](std::string_view w) {
    std::string up(w);
    for (auto& c : up) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return std::find(verbs.begin(), verbs.end(), up) != verbs.end();
  };
  bool first = true;
  for (auto line : split(bytes, '\n')) {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) continue;
    const auto words = split(line, ' ');
    if (first) {
      first = false;
      bool ok = is_verb(words[0]);
      // IMAP-style tag before the verb: "a1 CAPABILITY".
      if (!ok && words.size() > 1 && words[0].size() <= 8 && is_identifier(words[0]))
        ok = is_verb(words[1]);
      if (!ok)
        return refuse("R2", "text payload must begin with a greeting verb, not \"" +
                                std::string(words[0]) + "\"");
      continue;
    }
    const size_t colon = line.find(':');
    const std::string_view name = line.substr(0, colon);
    const bool header_line = colon != std::string_view::npos && colon > 0 &&
                             std::all_of(name.begin(), name.end(), [](char c) {
                               return std::isalnum(static_cast<unsigned char>(c)) || c == '-';
                             });
    if (!header_line)
      return refuse("R2", "a text payload's later lines must be \"Name: value\" lines");
  }
  return {};
}

}  // namespace vantage::scanner::check_safety

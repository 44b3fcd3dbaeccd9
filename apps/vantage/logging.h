#pragma once
// Log set-up from the configuration (log.level, log.format). Logs go to stderr so they never
// mix with a command's output on stdout (report lists, the `listening ...` line that scripts
// read). Format "json" writes one JSON object per line for log shippers:
//   {"ts":"2026-11-23T11:17:27.123Z","level":"info","logger":"vantage","msg":"..."}

#include <string>
#include <string_view>

namespace vantage::cli {

// Installs the stderr logger as spdlog's default logger and sets its level. `verbose`
// (-v/--verbose) forces debug whatever log.level says. Values were validated by the config
// declarations; an unknown level falls back to info, an unknown format to text.
void configure_logging(const std::string& level, const std::string& format, bool verbose);

// Appends `text` to `out` as the inside of a JSON string: quotes, backslashes and control
// characters escaped, invalid UTF-8 bytes replaced by U+FFFD so every line stays valid JSON
// whatever a client put in a logged header or a file name.
void append_json_escaped(std::string& out, std::string_view text);

}  // namespace vantage::cli

#pragma once
// Lines of a line-based protocol (FTP commands, a telnet or SSH fake shell), bounded: a line
// that does not end within `max_line` bytes is an error, never a growing buffer.

#include <string_view>

namespace vantage::honeypot {

enum class LineRead { kComplete, kIncomplete, kTooLong };

// Reads the line at the start of `in`, ended by LF (a CR before it is dropped). kComplete
// sets `line` (a view into `in`, without CR LF) and `used` (bytes taken, terminator included).
inline LineRead read_line(std::string_view in, size_t max_line, std::string_view& line,
                          size_t& used) {
  size_t lf = in.substr(0, max_line + 2).find('\n');
  if (lf == std::string_view::npos) {
    return in.size() > max_line + 1 ? LineRead::kTooLong : LineRead::kIncomplete;
  }
  line = in.substr(0, lf);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (line.size() > max_line) return LineRead::kTooLong;
  used = lf + 1;
  return LineRead::kComplete;
}

}  // namespace vantage::honeypot

#include "sensors/common/json_line.h"

#include <charconv>
#include <cstdint>
#include <cstdio>

namespace vantage::sensors {

namespace {

// Length of the valid UTF-8 sequence at s[i], or 0 when the byte there does not start one
// (overlongs, surrogates and code points above U+10FFFF are invalid, as in is_valid_utf8).
size_t utf8_sequence_length(std::string_view s, size_t i) {
  const auto b = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = b(i);
  size_t n = c < 0xC2 ? 0 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : c < 0xF5 ? 4 : 0;
  if (n == 0 || i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k)
    if ((b(i + k) & 0xC0) != 0x80) return 0;
  if (n == 3) {
    if (c == 0xE0 && b(i + 1) < 0xA0) return 0;   // overlong
    if (c == 0xED && b(i + 1) >= 0xA0) return 0;  // surrogate
  }
  if (n == 4) {
    if (c == 0xF0 && b(i + 1) < 0x90) return 0;   // overlong
    if (c == 0xF4 && b(i + 1) >= 0x90) return 0;  // above U+10FFFF
  }
  return n;
}

constexpr char kHex[] = "0123456789abcdef";

}  // namespace

void append_json_escaped(std::string& out, std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
      // Runs of plain ASCII are the common case: copy them in one append.
      size_t j = i + 1;
      while (j < s.size()) {
        unsigned char d = static_cast<unsigned char>(s[j]);
        if (d < 0x20 || d >= 0x7f || d == '"' || d == '\\') break;
        ++j;
      }
      out.append(s.data() + i, j - i);
      i = j;
      continue;
    }
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(static_cast<char>(c));
      ++i;
    } else if (c < 0x20 || c == 0x7f) {
      out.append("\\u00");
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
      ++i;
    } else if (size_t n = utf8_sequence_length(s, i); n > 0) {
      out.append(s.data() + i, n);
      i += n;
    } else {
      out.append("\\\\x");  // the text \xNN: a JSON-escaped backslash, then x and two digits
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
      ++i;
    }
  }
}

JsonLine::JsonLine(std::string& out, std::string_view type) : out_(out) {
  out_.append("{\"type\":\"");
  append_json_escaped(out_, type);
  out_.append("\",\"fields\":{");
}

void JsonLine::key(std::string_view name) {
  if (!first_) out_.push_back(',');
  first_ = false;
  out_.push_back('"');
  out_.append(name);  // column names are catalogue identifiers: nothing to escape
  out_.append("\":");
}

JsonLine& JsonLine::str(std::string_view name, std::string_view value) {
  if (value.empty()) return *this;
  key(name);
  out_.push_back('"');
  append_json_escaped(out_, value);
  out_.push_back('"');
  return *this;
}

JsonLine& JsonLine::num(std::string_view name, int64_t value) {
  key(name);
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, value);
  out_.append(buf, static_cast<size_t>(r.ptr - buf));
  return *this;
}

JsonLine& JsonLine::real(std::string_view name, double value) {
  key(name);
  char buf[32];
  int n = std::snprintf(buf, sizeof buf, "%.6g", value);
  out_.append(buf, n > 0 ? static_cast<size_t>(n) : 0);
  return *this;
}

JsonLine& JsonLine::ip(std::string_view name, const IpAddress& value) {
  key(name);
  out_.push_back('"');
  if (value.is_v4()) {
    // Every event has two addresses: four decimal bytes by hand, not inet_ntop's sprintf.
    uint32_t v = value.v4();
    for (int shift = 24; shift >= 0; shift -= 8) {
      unsigned b = (v >> shift) & 0xff;
      if (b >= 100) out_.push_back(static_cast<char>('0' + b / 100));
      if (b >= 10) out_.push_back(static_cast<char>('0' + b / 10 % 10));
      out_.push_back(static_cast<char>('0' + b % 10));
      if (shift > 0) out_.push_back('.');
    }
  } else {
    out_.append(value.to_string());
  }
  out_.push_back('"');
  return *this;
}

JsonLine& JsonLine::time(std::string_view name, UnixSeconds value) {
  key(name);
  // Events of one thread mostly carry the same second: format it once (snprintf is the
  // costliest part of a record otherwise).
  thread_local UnixSeconds last = INT64_MIN;
  thread_local std::string text;
  if (value != last) {
    text.clear();
    append_timestamp(text, value);
    last = value;
  }
  out_.push_back('"');
  out_.append(text);
  out_.push_back('"');
  return *this;
}

void JsonLine::finish() {
  out_.append("}}\n");
}

}  // namespace vantage::sensors

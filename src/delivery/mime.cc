#include "delivery/mime.h"

#include <array>
#include <atomic>
#include <cstdio>
#include <random>

#include "common/strings.h"

namespace vantage::delivery {

namespace {

constexpr std::string_view kCrlf = "\r\n";
constexpr char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

std::string base64_raw(std::string_view data) {
  std::string out;
  out.reserve((data.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < data.size(); i += 3) {
    const uint32_t v = (static_cast<uint8_t>(data[i]) << 16) |
                       (static_cast<uint8_t>(data[i + 1]) << 8) | static_cast<uint8_t>(data[i + 2]);
    out += kB64[(v >> 18) & 63];
    out += kB64[(v >> 12) & 63];
    out += kB64[(v >> 6) & 63];
    out += kB64[v & 63];
  }
  if (i + 1 == data.size()) {
    const uint32_t v = static_cast<uint8_t>(data[i]) << 16;
    out += kB64[(v >> 18) & 63];
    out += kB64[(v >> 12) & 63];
    out += "==";
  } else if (i + 2 == data.size()) {
    const uint32_t v =
        (static_cast<uint8_t>(data[i]) << 16) | (static_cast<uint8_t>(data[i + 1]) << 8);
    out += kB64[(v >> 18) & 63];
    out += kB64[(v >> 12) & 63];
    out += kB64[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

std::string strip_crlf(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    if (c == '\r' || c == '\n') continue;
    out += c == '\t' ? ' ' : c;
  }
  return out;
}

bool is_ascii(std::string_view s) {
  for (char c : s) {
    if (static_cast<unsigned char>(c) >= 0x80) return false;
  }
  return true;
}

// A quoted-string parameter value (RFC 2045 §5.1): backslash-escapes '"' and '\'.
std::string quoted_param(std::string_view v) {
  std::string out = "\"";
  for (char c : strip_crlf(v)) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  out += '"';
  return out;
}

std::string random_hex(size_t bytes) {
  static thread_local std::mt19937_64 rng{[] {
    std::random_device rd;
    std::seed_seq seq{rd(), rd(), rd(), rd(), rd(), rd(), rd(), rd()};
    return std::mt19937_64(seq);
  }()};
  std::string raw(bytes, '\0');
  for (size_t i = 0; i < bytes; i += 8) {
    const uint64_t v = rng();
    for (size_t j = 0; j < 8 && i + j < bytes; ++j) raw[i + j] = static_cast<char>(v >> (8 * j));
  }
  return hex_encode(raw);
}

// "Name: value" folded so that lines stay within 78 characters where the value allows it
// (RFC 5322 §2.2.3): a break goes before a space, or after a comma (then a space starts the
// continuation line). Long report-id lists and subjects would otherwise break the 998-byte
// line limit. Encoded-words from header_text are already folded and pass through.
std::string folded_header(std::string_view name, const std::string& value) {
  std::string out(name);
  out += ": ";
  if (value.find('\n') != std::string::npos) return out + value + "\r\n";
  size_t line = out.size();
  size_t pos = 0;
  while (pos < value.size()) {
    // The next piece runs up to (not including) a space, or through a comma.
    size_t end = pos + 1;
    while (end < value.size() && value[end] != ' ' && value[end - 1] != ',') ++end;
    const std::string_view piece = std::string_view(value).substr(pos, end - pos);
    if (line + piece.size() > 78 && line > name.size() + 2) {
      out += piece.front() == ' ' ? "\r\n" : "\r\n ";
      line = piece.front() == ' ' ? 0 : 1;
    }
    out += piece;
    line += piece.size();
    pos = end;
  }
  out += "\r\n";
  return out;
}

void text_part(std::string& out, std::string_view body_text) {
  bool plain = is_ascii(body_text);
  size_t line = 0;
  for (char c : body_text) {
    if (c == '\n') {
      line = 0;
    } else if (++line > 76 || (c == '\r')) {
      plain = false;  // long lines or stray CRs need quoted-printable
    }
  }
  out += "Content-Type: text/plain; charset=utf-8\r\n";
  if (plain) {
    out += "Content-Transfer-Encoding: 7bit\r\n\r\n";
    for (char c : body_text) {
      if (c == '\n') {
        out += kCrlf;
      } else {
        out += c;
      }
    }
    if (!body_text.empty() && body_text.back() != '\n') out += kCrlf;
  } else {
    out += "Content-Transfer-Encoding: quoted-printable\r\n\r\n";
    out += quoted_printable(body_text);
  }
}

}  // namespace

std::string rfc5322_date(UnixSeconds t) {
  static constexpr std::array<const char*, 7> kDays = {"Thu", "Fri", "Sat", "Sun",
                                                       "Mon", "Tue", "Wed"};  // 1970-01-01: Thu
  static constexpr std::array<const char*, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                          "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const DayNumber d = day_of(t);
  int y = 0;
  unsigned m = 0, dd = 0;
  civil_from_days(d, y, m, dd);
  const auto secs = static_cast<int>(t - static_cast<UnixSeconds>(d) * 86400);
  const int wd = ((d % 7) + 7) % 7;
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s, %02u %s %04d %02d:%02d:%02d +0000", kDays[wd], dd,
                kMonths[m - 1], y, secs / 3600, (secs / 60) % 60, secs % 60);
  return buf;
}

std::string make_message_id(std::string_view domain) {
  static std::atomic<uint64_t> counter{0};
  const UnixSeconds now = now_seconds();
  const std::string ts = format_timestamp(now);  // "YYYY-MM-DD HH:MM:SS"
  std::string compact;
  for (char c : ts) {
    if (c >= '0' && c <= '9') compact += c;
  }
  return "<" + compact + "." + random_hex(16) + "." + std::to_string(++counter) + "@" +
         strip_crlf(domain) + ">";
}

std::string domain_of(std::string_view address) {
  const size_t close = address.rfind('>');
  if (close != std::string_view::npos) address = address.substr(0, close);
  const size_t at = address.rfind('@');
  if (at == std::string_view::npos || at + 1 == address.size()) return "localhost";
  return strip_crlf(address.substr(at + 1));
}

std::string header_text(std::string_view value) {
  std::string clean = strip_crlf(value);
  if (is_ascii(clean)) return clean;
  // RFC 2047 §2: an encoded-word is at most 75 characters, so split the UTF-8 text into
  // chunks of at most 45 bytes (60 base64 characters) at character boundaries.
  std::string out;
  size_t pos = 0;
  while (pos < clean.size()) {
    size_t end = std::min(pos + 45, clean.size());
    while (end < clean.size() && end > pos &&
           (static_cast<unsigned char>(clean[end]) & 0xC0) == 0x80) {
      --end;
    }
    if (!out.empty()) out += "\r\n ";
    out += "=?UTF-8?B?" + base64_raw(std::string_view(clean).substr(pos, end - pos)) + "?=";
    pos = end;
  }
  return out;
}

std::string base64_mime(std::string_view data) {
  const std::string raw = base64_raw(data);
  std::string out;
  out.reserve(raw.size() + raw.size() / 76 * 2 + 2);
  for (size_t i = 0; i < raw.size(); i += 76) {
    out.append(raw, i, 76);
    out += kCrlf;
  }
  return out;
}

std::string quoted_printable(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  std::string line;
  auto flush_soft = [&] {
    out += line;
    out += "=\r\n";
    line.clear();
  };
  for (size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c == '\n' || (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n')) {
      if (c == '\r') ++i;
      // Trailing white space before a line break must be encoded (RFC 2045 §6.7 rule 3).
      if (!line.empty() && (line.back() == ' ' || line.back() == '\t')) {
        const auto ws = static_cast<unsigned char>(line.back());
        line.pop_back();
        line += '=';
        line += kHex[ws >> 4];
        line += kHex[ws & 15];
      }
      out += line;
      out += kCrlf;
      line.clear();
      continue;
    }
    std::string token;
    if ((c >= 33 && c <= 126 && c != '=') || c == ' ' || c == '\t') {
      token = static_cast<char>(c);
    } else {
      token = {'=', kHex[c >> 4], kHex[c & 15]};
    }
    if (line.size() + token.size() > 75) flush_soft();
    line += token;
  }
  if (!line.empty()) {
    if (line.back() == ' ' || line.back() == '\t') line += "=";  // soft break protects it
    out += line;
    out += kCrlf;
  }
  return out;
}

std::string make_boundary() {
  // '=' and '_' never appear in base64 bodies, and "=_" cannot start a valid quoted-printable
  // escape, so no encoded line can equal the boundary.
  return "=_vantage_" + random_hex(12);
}

std::string build_content_entity(std::string_view body_text,
                                 const std::vector<MimeAttachment>& attachments) {
  std::string out;
  if (attachments.empty()) {
    text_part(out, body_text);
    return out;
  }
  const std::string boundary = make_boundary();
  out += "Content-Type: multipart/mixed; boundary=\"" + boundary + "\"\r\n\r\n";
  out += "This is a multi-part message in MIME format.\r\n";
  out += "--" + boundary + kCrlf.data();
  text_part(out, body_text);
  for (const MimeAttachment& a : attachments) {
    out += "--" + boundary + kCrlf.data();
    out += "Content-Type: " + strip_crlf(a.content_type) + "; name=" + quoted_param(a.filename) +
           kCrlf.data();
    out += "Content-Transfer-Encoding: base64\r\n";
    out += "Content-Disposition: attachment; filename=" + quoted_param(a.filename) + "\r\n\r\n";
    out += base64_mime(a.data);
  }
  out += "--" + boundary + "--\r\n";
  return out;
}

std::string build_pgp_mime_entity(std::string_view armored) {
  const std::string boundary = make_boundary();
  std::string out;
  out +=
      "Content-Type: multipart/encrypted; protocol=\"application/pgp-encrypted\";\r\n"
      " boundary=\"" +
      boundary + "\"\r\n\r\n";
  out += "This is an OpenPGP/MIME encrypted message (RFC 3156).\r\n";
  out += "--" + boundary + kCrlf.data();
  out += "Content-Type: application/pgp-encrypted\r\n";
  out += "Content-Description: PGP/MIME version identification\r\n\r\n";
  out += "Version: 1\r\n\r\n";
  out += "--" + boundary + kCrlf.data();
  out += "Content-Type: application/octet-stream; name=\"encrypted.asc\"\r\n";
  out += "Content-Description: OpenPGP encrypted message\r\n";
  out += "Content-Disposition: inline; filename=\"encrypted.asc\"\r\n\r\n";
  for (size_t i = 0; i < armored.size(); ++i) {
    if (armored[i] == '\n' && (i == 0 || armored[i - 1] != '\r')) {
      out += kCrlf;
    } else {
      out += armored[i];
    }
  }
  if (!armored.empty() && armored.back() != '\n') out += kCrlf;
  out += "--" + boundary + "--\r\n";
  return out;
}

std::string build_message(const MessageHeaders& h, std::string_view entity) {
  std::string out;
  out += "From: " + strip_crlf(h.from) + kCrlf.data();
  out += "To: ";
  for (size_t i = 0; i < h.to.size(); ++i) {
    if (i) out += ",\r\n ";
    out += strip_crlf(h.to[i]);
  }
  out += kCrlf;
  out += folded_header("Subject", header_text(h.subject));
  out += "Date: " + rfc5322_date(h.date) + kCrlf.data();
  out += "Message-ID: " + strip_crlf(h.message_id) + kCrlf.data();
  if (!h.list_id.empty()) out += "List-Id: <" + strip_crlf(h.list_id) + ">\r\n";
  out += "Auto-Submitted: auto-generated\r\n";
  for (const auto& [name, value] : h.extra) {
    out += folded_header(strip_crlf(name), header_text(value));
  }
  out += "MIME-Version: 1.0\r\n";
  out += entity;
  return out;
}

}  // namespace vantage::delivery

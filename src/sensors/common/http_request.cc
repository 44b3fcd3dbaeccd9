#include "sensors/common/http_request.h"

#include <algorithm>
#include <cctype>

namespace vantage::sensors {

namespace {

// RFC 9110 token characters (method, header names).
bool is_tchar(unsigned char c) {
  if (std::isalnum(c)) return true;
  switch (c) {
    case '!':
    case '#':
    case '$':
    case '%':
    case '&':
    case '\'':
    case '*':
    case '+':
    case '-':
    case '.':
    case '^':
    case '_':
    case '`':
    case '|':
    case '~': return true;
    default: return false;
  }
}

bool is_token(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(),
                                   [](char c) { return is_tchar(static_cast<unsigned char>(c)); });
}

std::string_view trim_ows(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

// The next line of `in` from `pos` (without its CRLF/LF), advancing `pos` past it; false when
// no line end is there yet.
bool next_line(std::string_view in, size_t& pos, std::string_view& line) {
  size_t lf = in.find('\n', pos);
  if (lf == std::string_view::npos) return false;
  size_t end = lf > pos && in[lf - 1] == '\r' ? lf - 1 : lf;
  line = in.substr(pos, end - pos);
  pos = lf + 1;
  return true;
}

bool contains_token(std::string_view list, std::string_view token) {
  size_t start = 0;
  while (start <= list.size()) {
    size_t comma = list.find(',', start);
    auto item = trim_ows(list.substr(
        start, comma == std::string_view::npos ? std::string_view::npos : comma - start));
    if (ascii_iequals(item, token)) return true;
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return false;
}

HttpParse fail(std::string* why, const char* reason) {
  if (why) *why = reason;
  return HttpParse::kMalformed;
}

// Decodes a chunked body starting at in[pos]. kComplete sets `end` past the last CRLF.
HttpParse parse_chunked(std::string_view in, size_t pos, const HttpLimits& limits,
                        std::string& body, size_t& end, std::string* why) {
  body.clear();
  while (true) {
    std::string_view line;
    size_t line_start = pos;
    if (!next_line(in, pos, line)) {
      return in.size() - line_start > 64 ? fail(why, "chunk size line too long")
                                         : HttpParse::kIncomplete;
    }
    line = line.substr(0, line.find(';'));  // chunk extensions are ignored
    line = trim_ows(line);
    if (line.empty() || line.size() > 8) return fail(why, "bad chunk size");
    size_t size = 0;
    for (char c : line) {
      int d = std::isdigit(static_cast<unsigned char>(c)) ? c - '0'
              : (c >= 'a' && c <= 'f')                    ? c - 'a' + 10
              : (c >= 'A' && c <= 'F')                    ? c - 'A' + 10
                                                          : -1;
      if (d < 0) return fail(why, "bad chunk size");
      size = size * 16 + static_cast<size_t>(d);
    }
    if (size == 0) {
      // Trailers, then an empty line.
      while (true) {
        std::string_view trailer;
        if (!next_line(in, pos, trailer)) return HttpParse::kIncomplete;
        if (trailer.empty()) break;
        if (pos > limits.max_head_bytes + limits.max_body_bytes * 2) {
          return fail(why, "trailers too large");
        }
      }
      end = pos;
      return HttpParse::kComplete;
    }
    if (body.size() + size > limits.max_body_bytes) return fail(why, "chunked body too large");
    if (in.size() < pos + size + 1) return HttpParse::kIncomplete;
    body.append(in.substr(pos, size));
    pos += size;
    if (in[pos] == '\r') {
      if (in.size() < pos + 2) return HttpParse::kIncomplete;
      if (in[pos + 1] != '\n') return fail(why, "chunk not followed by CRLF");
      pos += 2;
    } else if (in[pos] == '\n') {
      pos += 1;
    } else {
      return fail(why, "chunk not followed by CRLF");
    }
  }
}

}  // namespace

bool ascii_iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

std::string_view HttpRequest::header(std::string_view name) const {
  for (const auto& [k, v] : headers)
    if (ascii_iequals(k, name)) return v;
  return {};
}

bool HttpRequest::keep_alive() const {
  auto conn = header("connection");
  if (version == "HTTP/1.1") return !contains_token(conn, "close");
  return contains_token(conn, "keep-alive");
}

std::string_view HttpRequest::path() const {
  return target.substr(0, target.find('?'));
}

std::string_view HttpRequest::query() const {
  auto q = target.find('?');
  return q == std::string_view::npos ? std::string_view{} : target.substr(q + 1);
}

void HttpRequest::clear() {
  method = target = version = body = {};
  headers.clear();
  chunked_body.clear();
  length = 0;
}

HttpParse parse_http_request(std::string_view input, HttpRequest& out, const HttpLimits& limits,
                             std::string* why) {
  out.clear();
  // Tolerate the blank lines some clients send between keep-alive requests (RFC 9112 2.2).
  size_t pos = 0;
  while (pos < input.size() && (input[pos] == '\r' || input[pos] == '\n')) ++pos;
  std::string_view line;
  size_t line_start = pos;
  if (!next_line(input, pos, line)) {
    if (input.size() - line_start > limits.max_head_bytes)
      return fail(why, "request line too long");
    // Reject early what can never become a request line.
    for (size_t i = line_start; i < input.size() && i < line_start + 32; ++i) {
      unsigned char c = static_cast<unsigned char>(input[i]);
      if (c == ' ') break;
      if (!is_tchar(c)) return fail(why, "not an HTTP request line");
    }
    return HttpParse::kIncomplete;
  }
  size_t sp1 = line.find(' ');
  if (sp1 == std::string_view::npos) return fail(why, "request line without a target");
  out.method = line.substr(0, sp1);
  if (!is_token(out.method)) return fail(why, "bad method");
  std::string_view rest = line.substr(sp1 + 1);
  while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
  size_t sp2 = rest.rfind(' ');
  if (sp2 != std::string_view::npos && rest.substr(sp2 + 1).starts_with("HTTP/")) {
    out.target = rest.substr(0, sp2);
    while (!out.target.empty() && out.target.back() == ' ') out.target.remove_suffix(1);
    out.version = rest.substr(sp2 + 1);
  } else {
    out.target = rest;  // HTTP/0.9: no version, no headers
    if (out.target.empty() || out.target.find(' ') != std::string_view::npos) {
      return fail(why, "bad request target");
    }
    out.length = pos;
    return HttpParse::kComplete;
  }
  if (out.target.empty()) return fail(why, "empty request target");
  while (true) {
    if (pos > limits.max_head_bytes) return fail(why, "request head too large");
    size_t header_start = pos;
    if (!next_line(input, pos, line)) {
      return input.size() - header_start > limits.max_head_bytes ? fail(why, "header too long")
                                                                 : HttpParse::kIncomplete;
    }
    if (line.empty()) break;
    if (line.front() == ' ' || line.front() == '\t') {
      // Obsolete line folding (RFC 9112 5.2): ignored here; the raw request still has it.
      if (out.headers.empty()) return fail(why, "continuation line before any header");
      continue;
    }
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) return fail(why, "header line without ':'");
    auto name = line.substr(0, colon);
    if (!is_token(name)) return fail(why, "bad header name");
    if (out.headers.size() >= limits.max_headers) return fail(why, "too many headers");
    out.headers.emplace_back(name, trim_ows(line.substr(colon + 1)));
  }
  if (pos > limits.max_head_bytes) return fail(why, "request head too large");
  auto te = out.header("transfer-encoding");
  if (!te.empty() && contains_token(te, "chunked")) {
    size_t end = 0;
    auto r = parse_chunked(input, pos, limits, out.chunked_body, end, why);
    if (r != HttpParse::kComplete) return r;
    out.body = out.chunked_body;
    out.length = end;
    return HttpParse::kComplete;
  }
  auto cl = out.header("content-length");
  size_t body = 0;
  if (!cl.empty()) {
    if (cl.size() > 12) return fail(why, "bad Content-Length");
    for (char c : cl) {
      if (!std::isdigit(static_cast<unsigned char>(c))) return fail(why, "bad Content-Length");
      body = body * 10 + static_cast<size_t>(c - '0');
    }
    if (body > limits.max_body_bytes) return fail(why, "body too large");
  }
  if (input.size() < pos + body) return HttpParse::kIncomplete;
  out.body = input.substr(pos, body);
  out.length = pos + body;
  return HttpParse::kComplete;
}

}  // namespace vantage::sensors

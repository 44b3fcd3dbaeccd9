#pragma once
// A bounded HTTP/1.x request parser for the listening sensors (honeypot web, sinkhole web):
// it takes whatever a bot or scanner sends -- CRLF or bare LF line ends, HTTP/0.9 request
// lines, headers in any order and case, chunked or Content-Length bodies -- and keeps the
// header order (a fingerprint of the client), never allocating per header. Anything it cannot
// read as HTTP is reported as malformed with a reason, so the caller logs the raw bytes
// rather than dropping them. Pure function of its input; fuzzed (fuzz/fuzz_sensor_common.cc).

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace vantage::sensors {

struct HttpLimits {
  size_t max_head_bytes = 16 * 1024;  // request line + headers
  size_t max_headers = 100;
  size_t max_body_bytes = 64 * 1024;
};

struct HttpRequest {
  std::string_view method;
  std::string_view target;   // as sent: "/path?query", "http://host/..." (proxy form), "*"
  std::string_view version;  // "HTTP/1.1"; "" for an HTTP/0.9 request line
  std::vector<std::pair<std::string_view, std::string_view>> headers;  // in the order sent
  std::string_view body;     // Content-Length bytes, or the decoded chunked body
  std::string chunked_body;  // storage for a decoded chunked body
  size_t length = 0;         // bytes of the input this request took (head + body as sent)

  // The first header of that name (ASCII case-insensitive), or "".
  std::string_view header(std::string_view name) const;
  // Whether the connection stays open after the response (HTTP/1.1 default, keep-alive).
  bool keep_alive() const;
  // The path part of the target (before '?'), and the query (after it).
  std::string_view path() const;
  std::string_view query() const;
  void clear();
};

enum class HttpParse { kComplete, kIncomplete, kMalformed };

// Parses one request from the start of `input`. kIncomplete: more bytes are needed (and
// the head is still within its bound). kMalformed: `why` says what is wrong.
HttpParse parse_http_request(std::string_view input, HttpRequest& out, const HttpLimits& limits,
                             std::string* why);

// Lower-cases ASCII letters; for header names.
bool ascii_iequals(std::string_view a, std::string_view b);

}  // namespace vantage::sensors

#pragma once
// HTTP/1.x reply parsing shared by the http module and the template checks.

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"

namespace vantage::scanner {

struct HttpReply {
  std::string version;  // "HTTP/1.1"
  int code = 0;
  std::string reason;
  std::multimap<std::string, std::string> headers;  // names lower-cased
  std::string body;
  std::optional<std::string> header(std::string_view lower_name) const;
};

// Parses a status line, headers and whatever body arrived (chunked bodies are de-chunked as
// far as they go). Error when the bytes do not start like an HTTP reply.
Result<HttpReply> parse_http_reply(std::string_view bytes);

// True when `bytes` hold a whole reply: headers plus Content-Length bytes, or a final chunk.
bool http_reply_complete(std::string_view bytes);

std::string http_get_request(std::string_view host, std::string_view path,
                             std::string_view method = "GET");

}  // namespace vantage::scanner

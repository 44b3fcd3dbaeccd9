// libFuzzer: what the listening sensors share and feed with attacker bytes -- the HTTP
// request parser (keep-alive sequences, chunked bodies, bounds) and the JSON Lines escaping
// of attacker-chosen values (the result must always be a well-formed JSON string body).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "common/strings.h"
#include "sensors/common/http_request.h"
#include "sensors/common/json_line.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace vantage::sensors;
  if (size == 0) return 0;
  const std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (data[0] % 2 == 0) {
    // A connection's worth of pipelined requests, parsed the way a session consumes them.
    HttpLimits limits;
    limits.max_head_bytes = 2048;
    limits.max_body_bytes = 4096;
    HttpRequest req;
    std::string why;
    std::string_view rest = in;
    for (int i = 0; i < 64 && !rest.empty(); ++i) {
      auto r = parse_http_request(rest, req, limits, &why);
      if (r != HttpParse::kComplete) break;
      if (req.length == 0 || req.length > rest.size()) std::abort();  // must make progress
      (void)req.keep_alive();
      (void)req.path();
      (void)req.query();
      rest.remove_prefix(req.length);
    }
  } else {
    std::string out;
    append_json_escaped(out, in);
    // Escaped output is valid UTF-8 with no raw control characters or bare quotes.
    if (!vantage::is_valid_utf8(out)) std::abort();
    for (size_t i = 0; i < out.size(); ++i) {
      unsigned char c = static_cast<unsigned char>(out[i]);
      if (c < 0x20 || c == 0x7f) std::abort();
      if (c == '"' && (i == 0 || out[i - 1] != '\\')) std::abort();
      if (c == '\\') ++i;  // skip the escaped character
    }
  }
  return 0;
}

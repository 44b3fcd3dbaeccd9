#pragma once
// The Redis honeypot's protocol reader, apart from the service so that it can be tested and
// fuzzed on its own: one command in RESP (what redis-cli, hydra and bots send: "*2\r\n$4\r\n
// AUTH\r\n$3\r\npw1\r\n") or inline form ("AUTH pw1\r\n").

#include <string>
#include <string_view>
#include <vector>

namespace vantage::honeypot::redis {

enum class Parse { kComplete, kIncomplete, kMalformed };

struct Limits {
  size_t max_args = 64;
  size_t max_arg_bytes = 64 * 1024;
  size_t max_inline_bytes = 64 * 1024;
};

// Reads one command from the start of `in`. kComplete fills `args` (views into `in`) and
// `used` (bytes taken).
Parse parse_command(std::string_view in, std::vector<std::string_view>& args, size_t& used,
                    const Limits& limits = {});

}  // namespace vantage::honeypot::redis

// libFuzzer: every honeypot protocol reader on attacker bytes. The first input byte picks
// the reader (a table, so adding a service's parser is one line); the rest is what a client
// sent.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string_view>
#include <vector>

#include "sensors/honeypot/ftp/ftp.h"
#include "sensors/honeypot/redis/redis.h"

namespace {

using Reader = std::function<void(std::string_view)>;

const std::vector<Reader>& readers() {
  using namespace vantage::honeypot;
  static const std::vector<Reader> r{
      // Redis: a stream of commands, consumed as the session does.
      [](std::string_view in) {
        std::vector<std::string_view> args;
        for (int i = 0; i < 256 && !in.empty(); ++i) {
          size_t used = 0;
          if (redis::parse_command(in, args, used) != redis::Parse::kComplete) break;
          if (used == 0 || used > in.size()) __builtin_trap();
          in.remove_prefix(used);
        }
      },
      // FTP: command lines, as the session reads them.
      [](std::string_view in) {
        for (int i = 0; i < 256 && !in.empty(); ++i) {
          std::string_view line;
          size_t used = 0;
          if (read_line(in, 1024, line, used) != LineRead::kComplete) break;
          if (used == 0 || used > in.size() || line.size() > 1024) __builtin_trap();
          auto c = ftp::split_command(line);
          if (c.verb.size() > 8) __builtin_trap();
          in.remove_prefix(used);
        }
      },
  };
  return r;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const auto& r = readers();
  r[data[0] % r.size()](std::string_view(reinterpret_cast<const char*>(data) + 1, size - 1));
  return 0;
}

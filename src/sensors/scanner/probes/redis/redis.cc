// Redis: one RESP command, INFO, answered with a bulk string of "key:value" lines when the
// server is open (no AUTH configured); "-NOAUTH ..." otherwise, which still proves Redis and
// is reported with no INFO fields. We never send AUTH.
#include <charconv>

#include "sensors/scanner/probes/probe.h"
#include "sensors/scanner/probes/text_util.h"

namespace vantage::scanner {
namespace {

bool redis_complete(std::string_view b) {
  if (b.empty()) return false;
  if (b[0] == '-' || b[0] == '+') return b.find("\r\n") != std::string_view::npos;
  if (b[0] != '$') return true;
  const size_t eol = b.find("\r\n");
  if (eol == std::string_view::npos) return false;
  long n = 0;
  auto [p, ec] = std::from_chars(b.data() + 1, b.data() + eol, n);
  (void)p;
  if (ec != std::errc{} || n < 0) return true;
  return b.size() >= eol + 2 + static_cast<size_t>(n);
}

Result<nlohmann::json> redis_parse(std::string_view b) {
  nlohmann::json f = nlohmann::json::object();
  if (b.substr(0, 7) == "-NOAUTH" || b.substr(0, 5) == "-ERR " || b.substr(0, 7) == "-DENIED") {
    return f;  // a Redis that refuses us: still Redis, no INFO
  }
  if (b.empty() || b[0] != '$') return Error::invalid("not a RESP bulk reply");
  const size_t eol = b.find("\r\n");
  if (eol == std::string_view::npos) return Error::invalid("truncated RESP");
  const std::pair<const char*, const char*> map[] = {{"redis_version", "version"},
                                                     {"redis_git_sha1", "git_sha1"},
                                                     {"redis_git_dirty", "git_dirty_flag"},
                                                     {"redis_build_id", "build_id"},
                                                     {"redis_mode", "mode"},
                                                     {"os", "os"},
                                                     {"arch_bits", "architecture"},
                                                     {"multiplexing_api", "multiplexing_api"},
                                                     {"gcc_version", "gcc_version"},
                                                     {"process_id", "process_id"},
                                                     {"run_id", "run_id"},
                                                     {"uptime_in_seconds", "uptime"},
                                                     {"connected_clients", "connected_clients"}};
  bool any = false;
  for_each_line(b.substr(eol + 2), [&](std::string_view line) {
    const size_t c = line.find(':');
    if (c == std::string_view::npos) return;
    const auto key = line.substr(0, c);
    for (const auto& [k, col] : map)
      if (key == k) {
        f[col] = printable(line.substr(c + 1), 256);
        any = true;
      }
  });
  if (!any) return Error::invalid("INFO reply without known fields");
  return f;
}

}  // namespace

ProbeModule redis_module() {
  ProbeModule m;
  m.name = "redis";
  m.report_type = "scan_redis";
  m.tag = "redis";
  m.default_port = 6379;
  m.columns = {"version", "git_sha1",     "git_dirty_flag",   "build_id",    "mode",
               "os",      "architecture", "multiplexing_api", "gcc_version", "process_id",
               "run_id",  "uptime",       "connected_clients"};
  m.request = [](const ProbeTarget&) { return std::string("*1\r\n$4\r\nINFO\r\n"); };
  m.complete = redis_complete;
  m.parse = redis_parse;
  return m;
}

}  // namespace vantage::scanner

#pragma once
// The probe-module contract (ZMap's probe_module_t idea, applied to application-layer
// grabs in the ZGrab2 manner). A module is a plain value: its name, the Shadowserver report
// type it fills and the exact columns it may set, a default port, and three pure functions:
//
//   request(target)   bytes to send once connected ("" = just listen for a banner);
//   complete(bytes)   true once the reply so far is enough (the engine stops reading);
//   parse(bytes)      the module's columns as a JSON object, or an Error when the bytes are
//                     not this protocol (no event is emitted then).
//
// Modules never authenticate and never follow redirects. They are listed by hand in
// registry.cc (no static self-registration). parse() sees untrusted bytes and is fuzzed
// (fuzz/fuzz_probe_*.cc).

#include <functional>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/ip.h"
#include "common/result.h"

namespace vantage::scanner {

struct ProbeTarget {
  IpAddress ip;
  uint16_t port = 0;
};

struct ProbeModule {
  std::string name;
  std::string report_type;
  std::vector<std::string> columns;  // module-specific columns (besides the common ones)
  uint16_t default_port = 0;
  std::string tag;
  std::function<std::string(const ProbeTarget&)> request;
  std::function<bool(std::string_view)> complete;
  std::function<Result<nlohmann::json>(std::string_view)> parse;
};

// Columns every event carries, set by the engine: timestamp, ip, port, protocol, tag
// (and severity where the module sets it).
inline const std::vector<std::string>& common_columns() {
  static const std::vector<std::string> c{"timestamp", "ip", "port", "protocol", "tag", "severity"};
  return c;
}

// The built-in modules, in one hand-kept list.
const std::vector<ProbeModule>& builtin_modules();
const ProbeModule* find_module(std::string_view name);
// The module whose default port is `port`, if any.
const ProbeModule* module_for_port(uint16_t port);

// Module builders (one per folder).
ProbeModule http_module();
ProbeModule ssh_module();
ProbeModule redis_module();
ProbeModule memcached_module();
ProbeModule telnet_module();
ProbeModule ftp_module();
ProbeModule smtp_module();

}  // namespace vantage::scanner

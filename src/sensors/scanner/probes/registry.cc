#include "sensors/scanner/probes/probe.h"

namespace vantage::scanner {

const std::vector<ProbeModule>& builtin_modules() {
  static const std::vector<ProbeModule> modules{
      ftp_module(),  http_module(), memcached_module(), redis_module(),
      smtp_module(), ssh_module(),  telnet_module(),
  };
  return modules;
}

const ProbeModule* find_module(std::string_view name) {
  for (const auto& m : builtin_modules())
    if (m.name == name) return &m;
  return nullptr;
}

const ProbeModule* module_for_port(uint16_t port) {
  for (const auto& m : builtin_modules())
    if (m.default_port == port) return &m;
  return nullptr;
}

}  // namespace vantage::scanner

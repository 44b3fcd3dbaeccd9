// libFuzzer: the line/banner protocols (redis, memcached, telnet, ftp, smtp) on untrusted bytes.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "sensors/scanner/probes/probe.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace vantage::scanner;
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  for (const char* name : {"redis", "memcached", "telnet", "ftp", "smtp"}) {
    const ProbeModule* m = find_module(name);
    (void)m->complete(in);
    (void)m->parse(in);
  }
  return 0;
}

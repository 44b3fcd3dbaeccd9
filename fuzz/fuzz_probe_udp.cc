// libFuzzer: the UDP reply parsers (dns, ntp, ntpmonitor, snmp, ssdp) on untrusted bytes, both
// as the engine frames datagrams and as one raw datagram.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "sensors/scanner/probes/probe.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace vantage::scanner;
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  const std::string one = udp_frames({std::string(in.substr(0, 0xffff))});
  for (const char* name : {"dns", "ntp", "ntpmonitor", "snmp", "ssdp"}) {
    const ProbeModule* m = find_module(name);
    for (std::string_view framed : {in, std::string_view(one)}) {
      (void)m->complete(framed);
      (void)m->parse(framed);
    }
  }
  return 0;
}

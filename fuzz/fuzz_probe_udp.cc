// libFuzzer: every UDP reply parser (dns, ntp, ntpmonitor, snmp, ssdp and the issue #18
// modules: chargen, qotd, tftp, portmapper, netbios, mdns, isakmp, stun, coap, ipmi, xdmcp,
// quic, bacnet, enip, ubiquiti, slp, mssql, nat_pmp, ws_discovery, gtp; then cldap, sip_udp,
// db2, ard, rdpeudp, netis, appended at the registry's end so older seeds keep their module).
// The first byte picks the module (so each input exercises one parser, and the corpus can aim
// at any); the rest is fed both as the engine frames datagrams and as one raw datagram.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "sensors/scanner/probes/probe.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace vantage::scanner;
  static const std::vector<const ProbeModule*> udp = [] {
    std::vector<const ProbeModule*> v;
    for (const auto& m : builtin_modules())
      if (m.transport == Transport::udp) v.push_back(&m);
    return v;
  }();
  if (size < 1) return 0;
  const ProbeModule* m = udp[data[0] % udp.size()];
  const std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  const std::string one = udp_frames({std::string(in.substr(0, 0xffff))});
  for (std::string_view framed : {in, std::string_view(one)}) {
    (void)m->complete(framed);
    (void)m->parse(framed);
  }
  return 0;
}

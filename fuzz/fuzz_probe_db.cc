// libFuzzer: the database and broker reply parsers (mysql greeting, postgres SSLRequest answer
// + ErrorResponse (and the in-band TLS after 'S'), mqtt CONNACK, elasticsearch JSON).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "sensors/scanner/probes/probe.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace vantage::scanner;
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  for (const char* name : {"mysql", "postgres", "mqtt", "elasticsearch"}) {
    const ProbeModule* m = find_module(name);
    (void)m->complete(in);
    (void)m->parse(in);
  }
  // The postgres exchange fed byte by byte, as a slow server would deliver it.
  auto x = find_module("postgres")->exchange({});
  (void)x->start();
  bool done = false;
  for (size_t i = 0; i < in.size() && i < 64 && !done; ++i) (void)x->feed(in.substr(i, 1), &done);
  if (!done && in.size() > 64) (void)x->feed(in.substr(64), &done);
  (void)x->result();
  return 0;
}

// libFuzzer: the TCP ICS reply parsers (modbus, dnp3, iec104, fox) and the S7 exchange
// (COTP/S7/SZL state machine fed the input in two chunks). The first byte picks the parser.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "sensors/scanner/probes/probe.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace vantage::scanner;
  static const char* const names[] = {"modbus", "dnp3", "iec104", "fox", "s7"};
  if (size < 1) return 0;
  const ProbeModule* m = find_module(names[data[0] % 5]);
  const std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (m->exchange) {
    auto ex = m->exchange({});
    (void)ex->start();
    bool done = false;
    const size_t half = in.size() / 2;
    (void)ex->feed(in.substr(0, half), &done);
    if (!done) (void)ex->feed(in.substr(half), &done);
    (void)ex->result();
    return 0;
  }
  (void)m->complete(in);
  (void)m->parse(in);
  return 0;
}

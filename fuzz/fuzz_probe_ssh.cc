// libFuzzer: SSH identification + KEXINIT parsing on untrusted bytes.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "sensors/scanner/probes/probe.h"
#include "sensors/scanner/probes/ssh/ssh.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace vantage::scanner;
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  (void)ssh_reply_complete(in);
  (void)ssh_module().parse(in);
  return 0;
}

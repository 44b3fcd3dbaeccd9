// libFuzzer: HTTP reply parsing (http module, template checks) on untrusted bytes.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "sensors/scanner/probes/checks/checks.h"
#include "sensors/scanner/probes/http/http.h"
#include "sensors/scanner/probes/probe.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace vantage::scanner;
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  (void)http_reply_complete(in);
  (void)http_module().parse(in);
  static const auto check = parse_check(
      R"({"id":"f","request":{"path":"/"},"match":{"status":[200],"headers":{"server":"x"},"body_regex":"a+b"}})",
      "fuzz");
  if (check.ok()) (void)check->parse(in);
  return 0;
}

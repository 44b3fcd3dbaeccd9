// The integrations' parsers of network bytes, one target for the family; the first byte picks
// the parser: 0 a syslog stream (the demo receiver's framing), 1 an Elasticsearch _bulk answer,
// 2 an api2 reports/list answer (the collector's upstream), 3 an HTTP Basic header (the MISP
// feed). Each must return a value for any input, never crash or leak.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "integrations/answers.h"
#include "integrations/demo_receivers.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  using namespace vantage::integrations;
  switch (data[0] % 4) {
    case 0: {
      // Fed in two pieces, as a socket would hand them over.
      std::string buffer(input.substr(0, input.size() / 2));
      size_t messages = 0;
      auto count = [&](std::string_view m) { messages += m.size() > 0 ? 1 : 0; };
      if (take_syslog_frames(buffer, 4096, count)) {
        buffer += input.substr(input.size() / 2);
        (void)take_syslog_frames(buffer, 4096, count);
      }
      break;
    }
    case 1: (void)parse_bulk_answer(input); break;
    case 2: (void)parse_report_list(input); break;
    case 3: (void)parse_basic_credentials(input); break;
  }
  return 0;
}

// libFuzzer target for the JSON Lines decoder (the partner feed, sensor and push-endpoint
// format): any bytes must decode or fail with a named field and reason, never crash; a
// record that decodes must survive the row codec unchanged.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/catalogue.h"
#include "core/event.h"
#include "pipeline/jsonl_decoder.h"
#include "pipeline/line_reader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const vantage::core::Catalogue& catalogue = vantage::core::Catalogue::builtin();
  static vantage::pipeline::JsonlDecoder decoder(catalogue, nullptr, 4096);
  std::string_view input(reinterpret_cast<const char*>(data), size);
  vantage::pipeline::LineReader lines(input, 4096);
  std::string_view line;
  vantage::core::Event event;
  vantage::pipeline::DecodeError error;
  std::string encoded;
  while (true) {
    auto r = lines.next(line);
    if (r == vantage::pipeline::LineReader::Next::kEnd) break;
    if (r != vantage::pipeline::LineReader::Next::kLine) continue;
    if (decoder.decode(line, event, error)) {
      encoded.clear();
      event.encode(encoded);
      auto back = vantage::core::Event::decode(event.type(), encoded);
      if (!back.ok() || !(*back == event)) __builtin_trap();
    } else if (error.reason.empty()) {
      __builtin_trap();  // every rejection must say why
    }
  }
  return 0;
}

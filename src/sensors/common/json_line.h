#pragma once
// Writes one sensor event as a JSON Lines record in the shape the pipeline's JSONL decoder
// reads (pipeline/jsonl_decoder.h):
//
//   {"type":"event4_honeypot_http_scan","fields":{"timestamp":"...","src_ip":"...",...}}
//
// Sensors log an event per connection or request, so this is a hot path: it appends to a
// caller-owned buffer with no allocation once the buffer has grown, instead of building a
// DOM. Values are attacker-chosen bytes: control characters are escaped, and bytes that are
// not valid UTF-8 are written as the text \xNN (so a credential made of raw bytes is kept,
// readably, rather than rejected by the decoder or replaced by U+FFFD).
//
// Not thread-safe: one JsonLine per thread (or per use).

#include <cstdint>
#include <string>
#include <string_view>

#include "common/ip.h"
#include "common/time.h"

namespace vantage::sensors {

class JsonLine {
 public:
  // Starts a record of `type` (a catalogue report type name) in `out` (appended to).
  JsonLine(std::string& out, std::string_view type);
  // Each field is written once; empty strings are skipped (an empty column is "unknown").
  JsonLine& str(std::string_view name, std::string_view value);
  JsonLine& num(std::string_view name, int64_t value);
  JsonLine& real(std::string_view name, double value);
  JsonLine& ip(std::string_view name, const IpAddress& value);
  JsonLine& time(std::string_view name, UnixSeconds value);  // "YYYY-MM-DD HH:MM:SS" (UTC)
  // Closes the record and appends the newline. Must be called exactly once.
  void finish();

 private:
  void key(std::string_view name);
  std::string& out_;
  bool first_ = true;
};

// Appends `s` as the inside of a JSON string (no quotes), escaping as described above.
void append_json_escaped(std::string& out, std::string_view s);

}  // namespace vantage::sensors

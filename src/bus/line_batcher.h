#pragma once
// Splits raw input (CSV or JSON Lines) into bus message bodies of at most N records and at
// most max_bytes each (NATS refuses a payload over its max_payload, 1 MiB by default; a
// single record larger than max_bytes still goes alone), so one large file becomes many
// messages that workers ingest independently.
//
// CSV: the first record is the header; every body starts with it (the worker decodes each
// body on its own, by header name). A newline inside a quoted CSV field stays inside its
// record. Bytes are passed through unchanged otherwise: decoding, validation and quarantine
// of bad records are the worker's (the same pipeline as `vantage ingest`).
//
// Thread-safety: one instance per input, used from one thread.

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

namespace vantage::bus {

class LineBatcher {
 public:
  using Emit = std::function<void(std::string body, size_t records)>;
  LineBatcher(bool csv, size_t records_per_body, size_t max_bytes, Emit emit);

  void feed(std::string_view data);
  // Emits what is left (a last record without its newline gets one).
  void finish();

 private:
  void end_record();

  bool csv_;
  size_t per_body_;
  size_t max_bytes_;
  Emit emit_;
  std::string header_;
  bool have_header_ = false;
  std::string record_;
  bool in_quotes_ = false;
  std::string body_;
  size_t records_ = 0;
};

}  // namespace vantage::bus

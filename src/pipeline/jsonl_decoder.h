#pragma once
// Decodes one JSON Lines record into an Event. Two shapes are accepted, field names as in
// the catalogue:
//   {"type": "scan_http", "fields": {"timestamp": "...", "ip": "...", "port": 80, ...}}
//   {"type": "scan_http", "timestamp": "...", "ip": "...", "port": 80, ...}
// (the scanner and honeypots write the first; partners often the second). Values may be
// strings, numbers, booleans or null; each is parsed as its column's kind. With a forced
// type (`vantage ingest --type`) the "type" key may be absent.
//
// Errors are values naming the field and the reason; a field the type does not have is an
// error (never dropped silently). Not thread-safe: one decoder per thread (it owns the
// simdjson parser buffers, reused across records so decoding does not allocate per record).

#include <memory>
#include <string>
#include <string_view>

#include "core/catalogue.h"
#include "core/event.h"

namespace vantage::pipeline {

struct DecodeError {
  std::string field;  // empty when the record as a whole is bad
  std::string reason;
};

class JsonlDecoder {
 public:
  // `forced_type` may be null (then every record names its type).
  JsonlDecoder(const core::Catalogue& catalogue, const core::ReportType* forced_type,
               size_t max_record_bytes = size_t{1} << 20);
  ~JsonlDecoder();

  // True on success (`event` holds the record); false with `error` filled otherwise.
  bool decode(std::string_view line, core::Event& event, DecodeError& error);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vantage::pipeline

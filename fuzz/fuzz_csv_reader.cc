// Fuzzes the report CSV reader with three properties beyond "no crash, no sanitizer report":
//  1. reading from a FILE* in tiny chunks gives exactly what reading the buffer gives
//     (events, error messages and statistics), so chunk boundaries never change a result;
//  2. every event the reader accepts, written back by the CSV writer and read again, is the
//     same event (the writer's output is always valid input);
//  3. the row codec round-trips every accepted event.
// Input: the first byte picks the report type, the rest is the CSV text.

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "core/catalogue.h"
#include "core/csv_reader.h"
#include "core/csv_writer.h"
#include "core/event.h"

using namespace vantage::core;

namespace {

struct Outcome {
  std::vector<Event> events;
  std::vector<std::string> errors;
};

Outcome read_all(CsvReader& reader) {
  Outcome out;
  Event e;
  for (int guard = 0; guard < 1000000; ++guard) {
    auto r = reader.next(e);
    if (r == CsvReader::Next::kEnd) return out;
    if (r == CsvReader::Next::kError) {
      out.errors.push_back(reader.error().message());
    } else {
      out.events.push_back(e);
    }
  }
  std::abort();  // the reader must make progress on every call
}

void check(bool ok) {
  if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const Catalogue& cat = Catalogue::builtin();
  const ReportType& type = *cat.types()[data[0] % cat.size()];
  const std::string text(reinterpret_cast<const char*>(data + 1), size - 1);

  CsvReaderOptions opt;
  opt.source_name = "fuzz.csv";
  opt.max_field_bytes = 512;
  opt.max_record_bytes = 4096;
  opt.chunk_bytes = 64;
  CsvReader from_buffer = CsvReader::from_buffer(text, type, opt);
  Outcome a = read_all(from_buffer);

  std::FILE* f = fmemopen(const_cast<char*>(text.data()), text.size(), "rb");
  if (f && !text.empty()) {
    CsvReader from_file = CsvReader::from_file(f, type, opt);
    Outcome b = read_all(from_file);
    std::fclose(f);
    check(a.events.size() == b.events.size() && a.errors == b.errors);
    for (size_t i = 0; i < a.events.size(); ++i) check(a.events[i] == b.events[i]);
    check(from_buffer.stats().bytes == from_file.stats().bytes);
    check(from_buffer.stats().rows == from_file.stats().rows);
  } else if (f) {
    std::fclose(f);
  }

  if (a.events.empty()) return 0;
  std::string written;
  append_csv_header(type, written);
  for (const Event& e : a.events) append_csv_record(e, written);
  CsvReader again = CsvReader::from_buffer(written, type, CsvReaderOptions{});
  Outcome c = read_all(again);
  check(c.errors.empty() && c.events.size() == a.events.size());
  for (size_t i = 0; i < a.events.size(); ++i) {
    check(c.events[i] == a.events[i]);
    std::string row;
    a.events[i].encode(row);
    auto back = Event::decode(&type, row);
    check(back.ok() && *back == a.events[i]);
  }
  return 0;
}

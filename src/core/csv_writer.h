#pragma once
// Writes report CSV exactly as Shadowserver does (docs/shadowserver-api.md §5):
//  - UTF-8, LF line ends, including after the last record; first line is the header;
//  - every header name double-quoted, columns in the report type's catalogue order;
//  - string, timestamp, IP and boolean values double-quoted, `"` doubled (RFC 4180),
//    control characters removed (TAB becomes a space) so a value never breaks a line;
//  - integer and float values bare; null as nothing between the commas (`,,`), an empty
//    string as `""`;
//  - timestamps "YYYY-MM-DD HH:MM:SS" in UTC, no zone suffix.
//
// Streaming in constant memory: rows are formatted into an internal buffer that is handed to
// the sink whenever it passes `flush_bytes`, so a million-row report never sits in memory.
// Not thread-safe; one writer per output.

#include <cstdint>
#include <cstdio>
#include <functional>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>

#include "common/result.h"
#include "core/catalogue.h"
#include "core/event.h"

namespace vantage::core {

// Where the bytes go. A sink returns an error (disk full, peer gone) to stop the writer.
using CsvSink = std::function<Status(std::string_view bytes)>;
CsvSink string_sink(std::string* out);  // appends
CsvSink file_sink(std::FILE* file);     // fwrite; the caller opens and closes the file
CsvSink stream_sink(std::ostream* out);

// Appends the header line (with its LF) / one record line for `e` to `out`.
void append_csv_header(const ReportType& type, std::string& out);
void append_csv_record(const Event& e, std::string& out);
// Appends `v` double-quoted with `"` doubled and control characters removed.
void append_csv_quoted(std::string_view v, std::string& out);

class CsvWriter {
 public:
  static constexpr size_t kDefaultFlushBytes = 64 * 1024;

  // Formats the header at once (it reaches the sink with the first flush).
  CsvWriter(const ReportType& type, CsvSink sink, size_t flush_bytes = kDefaultFlushBytes);
  CsvWriter(const CsvWriter&) = delete;
  CsvWriter& operator=(const CsvWriter&) = delete;

  // `e` must be of this writer's report type (an error otherwise). After a sink error every
  // later call returns that error.
  Status write(const Event& e);
  // Hands the remaining bytes to the sink. Call once at the end; writing after it is allowed
  // (it starts a new buffer) but rarely what you want.
  Status finish();

  int64_t rows() const { return rows_; }
  int64_t bytes() const { return bytes_ + static_cast<int64_t>(buf_.size()); }

 private:
  Status flush();

  const ReportType& type_;
  CsvSink sink_;
  size_t flush_bytes_;
  std::string buf_;
  int64_t rows_ = 0;
  int64_t bytes_ = 0;  // already handed to the sink
  std::optional<Error> failed_;
};

}  // namespace vantage::core

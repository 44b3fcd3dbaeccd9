#pragma once
// Splits a byte stream into lines in bounded memory: reads a FILE* (or a buffer) in chunks and
// returns one line at a time without its terminator (LF or CRLF). A line longer than
// `max_line_bytes` is not buffered whole: it is skipped up to the next LF and reported as
// oversized, so a 100 MB line costs no more memory than the limit. Not thread-safe.

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

namespace vantage::pipeline {

class LineReader {
 public:
  enum class Next { kLine, kOversized, kEnd, kIoError };

  LineReader(std::FILE* file, size_t max_line_bytes, size_t chunk_bytes = 1 << 16);
  LineReader(std::string_view buffer, size_t max_line_bytes);

  // kLine: `line` is valid until the next call. kOversized: a line was skipped (its number
  // is line_number()). kEnd: no more input.
  Next next(std::string_view& line);
  int64_t line_number() const { return line_number_; }
  int64_t bytes_consumed() const { return consumed_; }

 private:
  bool fill();

  std::FILE* file_ = nullptr;
  std::string_view fixed_;  // buffer mode
  size_t max_line_;
  size_t chunk_;
  std::string buf_;
  size_t pos_ = 0;
  bool eof_ = false;
  bool error_ = false;
  int64_t line_number_ = 0;
  int64_t consumed_ = 0;
};

}  // namespace vantage::pipeline

#pragma once
// A byte range of a file, read with pread(2): how a report's bytes are read whether the report
// is a file of its own (the whole file) or a range of a day's pack file (report/pack.h).
// Readers of report bytes (downloads, mail attachments, exports) go through this one type so
// that neither layout needs its own code path.
//
// Thread-safety: a FileRangeReader is used by one thread at a time; any number of readers may
// read the same file at once.

#include <cstdint>
#include <memory>
#include <streambuf>
#include <string>

#include "common/result.h"

namespace vantage {

struct FileRange {
  std::string path;
  int64_t offset = -1;  // < 0: the whole file (its size on disk decides the length)
  int64_t length = 0;   // with offset >= 0: the range's length
};

class FileRangeReader {
 public:
  // Opens the file and checks that the range lies inside it (a truncated pack is an error,
  // not a short read later). kNotFound when the file does not exist.
  static Result<std::unique_ptr<FileRangeReader>> open(const FileRange& range);
  ~FileRangeReader();
  FileRangeReader(const FileRangeReader&) = delete;
  FileRangeReader& operator=(const FileRangeReader&) = delete;

  int64_t size() const { return length_; }
  // Appends up to `max` of the next bytes to `out`; 0 at the end of the range.
  Result<size_t> read(std::string& out, size_t max);

 private:
  FileRangeReader() = default;
  int fd_ = -1;
  std::string path_;
  int64_t begin_ = 0, length_ = 0, pos_ = 0;
};

// The whole range in memory (mail attachments, exports, tests).
Result<std::string> read_file_range(const FileRange& range);

// A std::streambuf over a FileRangeReader, for code that parses with an istream.
class FileRangeStreambuf : public std::streambuf {
 public:
  explicit FileRangeStreambuf(std::unique_ptr<FileRangeReader> reader)
      : reader_(std::move(reader)) {}

 protected:
  int_type underflow() override;

 private:
  std::unique_ptr<FileRangeReader> reader_;
  std::string buf_;
};

}  // namespace vantage

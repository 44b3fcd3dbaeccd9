#include "pipeline/line_reader.h"

#include <cstring>

namespace vantage::pipeline {

LineReader::LineReader(std::FILE* file, size_t max_line_bytes, size_t chunk_bytes)
    : file_(file), max_line_(max_line_bytes), chunk_(chunk_bytes) {}

LineReader::LineReader(std::string_view buffer, size_t max_line_bytes)
    : fixed_(buffer), max_line_(max_line_bytes), chunk_(0), eof_(true) {}

bool LineReader::fill() {
  if (eof_ || !file_) return false;
  if (pos_ > 0) {
    buf_.erase(0, pos_);
    pos_ = 0;
  }
  size_t old = buf_.size();
  buf_.resize(old + chunk_);
  size_t n = std::fread(buf_.data() + old, 1, chunk_, file_);
  buf_.resize(old + n);
  if (n == 0) {
    eof_ = true;
    if (std::ferror(file_)) error_ = true;
    return false;
  }
  return true;
}

LineReader::Next LineReader::next(std::string_view& line) {
  if (!file_) {
    // Buffer mode: no copying at all.
    if (pos_ >= fixed_.size()) return Next::kEnd;
    size_t nl = fixed_.find('\n', pos_);
    size_t end = nl == std::string_view::npos ? fixed_.size() : nl;
    size_t start = pos_;
    pos_ = nl == std::string_view::npos ? fixed_.size() : nl + 1;
    consumed_ = static_cast<int64_t>(pos_);
    ++line_number_;
    if (end - start > max_line_) return Next::kOversized;
    line = fixed_.substr(start, end - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    return Next::kLine;
  }
  size_t scan_from = pos_;
  bool skipping = false;
  while (true) {
    const char* base = buf_.data();
    const void* hit = scan_from < buf_.size()
                          ? std::memchr(base + scan_from, '\n', buf_.size() - scan_from)
                          : nullptr;
    if (hit) {
      size_t nl = static_cast<size_t>(static_cast<const char*>(hit) - base);
      size_t start = pos_;
      pos_ = nl + 1;
      consumed_ += static_cast<int64_t>(nl + 1 - start);
      ++line_number_;
      if (skipping || nl - start > max_line_) return Next::kOversized;
      line = std::string_view(base + start, nl - start);
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      return Next::kLine;
    }
    if (buf_.size() - pos_ > max_line_) {
      // Too long already: drop what we have and keep scanning for the end of the line.
      consumed_ += static_cast<int64_t>(buf_.size() - pos_);
      buf_.clear();
      pos_ = 0;
      skipping = true;
    }
    scan_from = buf_.size() - pos_;  // relative to pos_ after fill() compacts
    if (!fill()) {
      if (error_) return Next::kIoError;
      if (pos_ < buf_.size() || skipping) {
        // Last line without LF.
        size_t start = pos_;
        consumed_ += static_cast<int64_t>(buf_.size() - start);
        pos_ = buf_.size();
        ++line_number_;
        if (skipping || buf_.size() - start > max_line_) return Next::kOversized;
        line = std::string_view(buf_.data() + start, buf_.size() - start);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        return Next::kLine;
      }
      return Next::kEnd;
    }
    // fill() moved the unread bytes to the front; continue where the last scan stopped.
  }
}

}  // namespace vantage::pipeline

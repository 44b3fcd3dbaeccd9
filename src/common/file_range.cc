#include "common/file_range.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace vantage {

Result<std::unique_ptr<FileRangeReader>> FileRangeReader::open(const FileRange& range) {
  std::unique_ptr<FileRangeReader> r(new FileRangeReader());
  r->path_ = range.path;
  r->fd_ = ::open(range.path.c_str(), O_RDONLY | O_CLOEXEC);
  if (r->fd_ < 0) {
    int err = errno;
    return Error{err == ENOENT ? ErrorCode::kNotFound : ErrorCode::kIo,
                 "cannot open " + range.path + ": " + std::strerror(err)};
  }
  struct stat st {};
  if (::fstat(r->fd_, &st) != 0) return Error::io("cannot stat " + range.path);
  if (range.offset < 0) {
    r->begin_ = 0;
    r->length_ = st.st_size;
  } else {
    if (range.length < 0 || range.offset + range.length > st.st_size) {
      return Error::io(range.path + " holds " + std::to_string(st.st_size) +
                       " bytes, fewer than the range [" + std::to_string(range.offset) + ", " +
                       std::to_string(range.offset + range.length) + ")");
    }
    r->begin_ = range.offset;
    r->length_ = range.length;
  }
  return r;
}

FileRangeReader::~FileRangeReader() {
  if (fd_ >= 0) ::close(fd_);
}

Result<size_t> FileRangeReader::read(std::string& out, size_t max) {
  size_t want = static_cast<size_t>(std::min<int64_t>(static_cast<int64_t>(max), length_ - pos_));
  if (want == 0) return size_t{0};
  size_t old = out.size();
  out.resize(old + want);
  size_t got = 0;
  while (got < want) {
    ssize_t n = ::pread(fd_, out.data() + old + got, want - got, begin_ + pos_ + got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      out.resize(old + got);
      return Error::io(
          "cannot read " + path_ +
          (n < 0 ? ": " + std::string(std::strerror(errno)) : ": file shrank while read"));
    }
    got += static_cast<size_t>(n);
  }
  pos_ += static_cast<int64_t>(got);
  return got;
}

Result<std::string> read_file_range(const FileRange& range) {
  auto reader = FileRangeReader::open(range);
  if (!reader) return reader.error();
  std::string out;
  out.reserve(static_cast<size_t>((*reader)->size()));
  while (true) {
    auto n = (*reader)->read(out, 1 << 20);
    if (!n) return n.error();
    if (*n == 0) break;
  }
  return out;
}

FileRangeStreambuf::int_type FileRangeStreambuf::underflow() {
  if (gptr() < egptr()) return traits_type::to_int_type(*gptr());
  buf_.clear();
  auto n = reader_->read(buf_, 64 * 1024);
  if (!n || *n == 0) return traits_type::eof();  // a read error ends the stream early
  setg(buf_.data(), buf_.data(), buf_.data() + buf_.size());
  return traits_type::to_int_type(*gptr());
}

}  // namespace vantage

#include "store/segment/segment_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "common/hash.h"

namespace vantage::store {

namespace {

constexpr size_t kFixed = 4 + 4 + 4 + 8 + 8 + 8 + 4 + 1;  // length .. severity
constexpr size_t kTrailer = 8;                            // checksum, length again
constexpr size_t kReadWindow = 1024;  // a read by id reads this much, then the rest if needed
// read_sorted: the next wanted record joins the current stretch when at most this many bytes
// lie between them (a page-cache copy of 64 KiB costs about what one more pread does) and
// the stretch stays under the second figure (its buffer).
constexpr int64_t kStretchGap = int64_t{64} << 10;
constexpr int64_t kStretchMax = int64_t{4} << 20;

template <typename T>
void put(std::string& out, T v) {
  char b[sizeof(T)];
  std::memcpy(b, &v, sizeof(T));
  out.append(b, sizeof(T));
}

template <typename T>
T get(const char* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}

void put_text(std::string& out, std::string_view s) {
  uint64_t v = s.size();
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
  out.append(s);
}

bool get_text(std::string_view in, size_t& pos, std::string_view& s) {
  uint64_t v = 0;
  for (int shift = 0;; shift += 7) {
    if (shift >= 64 || pos >= in.size()) return false;
    auto byte = static_cast<uint8_t>(in[pos++]);
    v |= static_cast<uint64_t>(byte & 0x7f) << shift;
    if (!(byte & 0x80)) break;
  }
  if (v > in.size() - pos) return false;
  s = in.substr(pos, v);
  pos += v;
  return true;
}

uint32_t checksum(std::string_view bytes) {
  Hash64 h;
  h.add(bytes);
  return static_cast<uint32_t>(h.finish());
}

Error errno_error(const std::string& what) {
  return Error::io(what + ": " + std::strerror(errno));
}

Status write_all(int fd, const char* p, size_t n, off_t at, const std::string& path) {
  while (n > 0) {
    ssize_t w = ::pwrite(fd, p, n, at);
    if (w < 0) {
      if (errno == EINTR) continue;
      return errno_error("cannot write " + path);
    }
    p += w;
    n -= static_cast<size_t>(w);
    at += w;
  }
  return {};
}

// Reads up to n bytes at `at`; returns how many (fewer at the end of the file).
Result<size_t> read_at(int fd, char* p, size_t n, off_t at) {
  size_t got = 0;
  while (got < n) {
    ssize_t r = ::pread(fd, p + got, n - got, at + static_cast<off_t>(got));
    if (r < 0) {
      if (errno == EINTR) continue;
      return errno_error("cannot read an event segment");
    }
    if (r == 0) break;
    got += static_cast<size_t>(r);
  }
  return got;
}

}  // namespace

void encode_segment_record(const SegmentRecord& r, std::string& out) {
  size_t start = out.size();
  put<uint32_t>(out, 0);  // the length, set below
  put<int32_t>(out, r.day);
  put<uint32_t>(out, static_cast<uint32_t>(r.type_id));
  put<uint64_t>(out, r.event_key);
  put<int64_t>(out, r.timestamp);
  put<int64_t>(out, r.rank);
  put<uint32_t>(out, r.asn);
  out.push_back(static_cast<char>(r.severity));
  for (auto s : {r.ip, r.geo, r.region, r.tag, r.routes, r.row}) put_text(out, s);
  auto length = static_cast<uint32_t>(out.size() + kTrailer - start);
  std::memcpy(out.data() + start, &length, 4);
  put<uint32_t>(out, checksum(std::string_view(out).substr(start)));
  put<uint32_t>(out, length);
}

bool decode_segment_record(std::string_view bytes, SegmentRecord& r) {
  if (bytes.size() < kFixed + kTrailer) return false;
  const char* p = bytes.data();
  auto length = get<uint32_t>(p);
  if (length != bytes.size() || get<uint32_t>(p + length - 4) != length) return false;
  if (get<uint32_t>(p + length - 8) != checksum(bytes.substr(0, length - kTrailer))) return false;
  r.day = get<int32_t>(p + 4);
  r.type_id = get<uint32_t>(p + 8);
  r.event_key = get<uint64_t>(p + 12);
  r.timestamp = get<int64_t>(p + 20);
  r.rank = get<int64_t>(p + 28);
  r.asn = get<uint32_t>(p + 36);
  r.severity = static_cast<uint8_t>(p[40]);
  std::string_view body = bytes.substr(0, length - kTrailer);
  size_t pos = kFixed;
  for (auto* s : {&r.ip, &r.geo, &r.region, &r.tag, &r.routes, &r.row}) {
    if (!get_text(body, pos, *s)) return false;
  }
  return pos == body.size();
}

void encode_representative(const SegmentRecord& r, std::string& out) {
  out.clear();
  put<int64_t>(out, r.rank);
  put<uint32_t>(out, r.asn);
  out.push_back(static_cast<char>(r.severity));
  for (auto s : {r.ip, r.geo, r.region, r.tag, r.row}) put_text(out, s);
}

bool decode_representative(std::string_view bytes, SegmentRecord& r) {
  if (bytes.size() < 13) return false;
  r.rank = get<int64_t>(bytes.data());
  r.asn = get<uint32_t>(bytes.data() + 8);
  r.severity = static_cast<uint8_t>(bytes[12]);
  size_t pos = 13;
  for (auto* s : {&r.ip, &r.geo, &r.region, &r.tag, &r.row}) {
    if (!get_text(bytes, pos, *s)) return false;
  }
  return pos == bytes.size();
}

SegmentLog::SegmentLog(std::string dir, int64_t segment_bytes)
    : dir_(std::move(dir)), segment_bytes_(segment_bytes) {}

SegmentLog::~SegmentLog() {
  close_readers();
}

std::string SegmentLog::path_of(int64_t segment) const {
  char name[32];
  std::snprintf(name, sizeof name, "/%06lld.seg", static_cast<long long>(segment));
  return dir_ + name;
}

void SegmentLog::close_readers() {
  for (auto& [n, fd] : read_fds_) {
    if (fd >= 0) ::close(fd);
  }
  read_fds_.clear();
}

Result<int> SegmentLog::reader_fd(int64_t segment) {
  if (auto it = read_fds_.find(segment); it != read_fds_.end() && it->second >= 0) {
    return it->second;
  }
  int fd = ::open(path_of(segment).c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return -1;  // not cached: a later batch may create it
    return errno_error("cannot open " + path_of(segment));
  }
  read_fds_[segment] = fd;
  return fd;
}

Status SegmentLog::truncate_to(int64_t end) {
  pending_.clear();
  close_readers();
  // The file holding `end` keeps its first bytes; every later file goes.
  int64_t last = end > 0 ? segment_of(end - 1) : 0;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir_, ec)) {
    auto name = entry.path().filename().string();
    if (name.size() != 10 || name.substr(6) != ".seg") continue;
    int64_t n = std::strtoll(name.c_str(), nullptr, 10);
    if (n > last) std::filesystem::remove(entry.path(), ec);
  }
  if (ec) return Error::io("cannot list " + dir_ + ": " + ec.message());
  std::string path = path_of(last);
  if (std::filesystem::exists(path)) {
    if (::truncate(path.c_str(), end - last * segment_bytes_) != 0) {
      return errno_error("cannot truncate " + path);
    }
  }
  return {};
}

Result<int64_t> SegmentLog::append(int64_t end, std::string_view record) {
  auto size = static_cast<int64_t>(record.size());
  if (size > segment_bytes_) {
    return Error::invalid("an event record of " + std::to_string(size) +
                          " bytes exceeds the segment size");
  }
  int64_t start = end;
  if (!pending_.empty()) {
    const auto& last = pending_.rbegin()->second;
    start = last.start + static_cast<int64_t>(last.bytes.size());
  }
  int64_t segment = segment_of(start);
  if (start + size > (segment + 1) * segment_bytes_) {  // does not fit: the next file
    ++segment;
    start = segment * segment_bytes_;
  }
  auto& p = pending_[segment];
  if (p.bytes.empty()) {
    p.start = start;
    if (p.bytes.capacity() < spare_.capacity()) p.bytes.swap(spare_);
  }
  p.bytes.append(record);
  return start + size;
}

std::string_view SegmentLog::pending(int64_t id) const {
  int64_t segment = segment_of(id - 1);
  auto it = pending_.find(segment);
  if (it == pending_.end()) return {};
  const auto& p = it->second;
  int64_t end = id - p.start;
  if (end < 4 || end > static_cast<int64_t>(p.bytes.size())) return {};
  uint32_t length = get<uint32_t>(p.bytes.data() + end - 4);
  if (length > end) return {};
  return std::string_view(p.bytes).substr(static_cast<size_t>(end - length), length);
}

void SegmentLog::drop_pending() {
  pending_.clear();
}

Status SegmentLog::sync() {
  for (auto& [segment, p] : pending_) {
    if (p.bytes.empty()) continue;
    std::string path = path_of(segment);
    bool created = !std::filesystem::exists(path);
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0640);
    if (fd < 0) return errno_error("cannot open " + path);
    auto st =
        write_all(fd, p.bytes.data(), p.bytes.size(), p.start - segment * segment_bytes_, path);
    if (st.ok() && ::fdatasync(fd) != 0) st = errno_error("cannot sync " + path);
    ::close(fd);
    if (!st) return st;
    if (created) {  // the new file's name must survive a crash as well as its bytes
      int dfd = ::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (dfd < 0) return errno_error("cannot open " + dir_);
      int rc = ::fsync(dfd);
      ::close(dfd);
      if (rc != 0) return errno_error("cannot sync " + dir_);
    }
  }
  // The batch buffer's memory serves the next batch (no regrowth from empty per batch).
  for (auto& [segment, p] : pending_) {
    if (p.bytes.capacity() > spare_.capacity()) spare_.swap(p.bytes);
  }
  spare_.clear();
  pending_.clear();
  return {};
}

Status SegmentLog::remove_segment(int64_t segment) {
  if (auto it = read_fds_.find(segment); it != read_fds_.end()) {
    if (it->second >= 0) ::close(it->second);
    read_fds_.erase(it);
  }
  std::error_code ec;
  std::filesystem::remove(path_of(segment), ec);
  if (ec) return Error::io("cannot remove " + path_of(segment) + ": " + ec.message());
  return {};
}

Status SegmentLog::read(int64_t id, std::string& buffer, SegmentRecord& out) {
  int64_t segment = segment_of(id - 1);
  auto fd = reader_fd(segment);
  if (!fd) return fd.error();
  if (*fd < 0) return Error::not_found("event " + std::to_string(id) + " was dropped");
  int64_t end = id - segment * segment_bytes_;
  auto window = std::min<int64_t>(end, kReadWindow);
  buffer.resize(static_cast<size_t>(window));
  auto got = read_at(*fd, buffer.data(), buffer.size(), end - window);
  if (!got) return got.error();
  if (*got != buffer.size()) return Error::internal("event " + std::to_string(id) + " is cut");
  uint32_t length = get<uint32_t>(buffer.data() + buffer.size() - 4);
  if (length < kFixed + kTrailer || length > end) {
    return Error::internal("event " + std::to_string(id) + " is damaged");
  }
  if (length > window) {
    buffer.resize(length);
    got = read_at(*fd, buffer.data(), length, end - length);
    if (!got) return got.error();
    if (*got != length) return Error::internal("event " + std::to_string(id) + " is cut");
  }
  std::string_view bytes = std::string_view(buffer).substr(buffer.size() - length);
  if (!decode_segment_record(bytes, out)) {
    return Error::internal("event " + std::to_string(id) + " is damaged");
  }
  return {};
}

Status SegmentLog::read_sorted(std::span<const int64_t> ids,
                               const std::function<void(size_t, const SegmentRecord&)>& record) {
  SegmentRecord r;
  size_t i = 0;
  while (i < ids.size()) {
    int64_t segment = segment_of(ids[i] - 1);
    int64_t file_start = segment * segment_bytes_;
    auto fd = reader_fd(segment);
    if (!fd) return fd.error();
    if (*fd < 0) {  // removed by retention: its events are gone
      while (i < ids.size() && segment_of(ids[i] - 1) == segment) ++i;
      continue;
    }
    // [lo, hi): from a read window before the first record's end (its start is known only from
    // its trailer) to the last record's end. Every later record of the stretch starts at or
    // after the end of the one before it, so it lies whole inside.
    int64_t lo = std::max(file_start, ids[i] - static_cast<int64_t>(kReadWindow));
    int64_t hi = ids[i];
    size_t j = i + 1;
    while (j < ids.size() && segment_of(ids[j] - 1) == segment && ids[j] - hi <= kStretchGap &&
           ids[j] - lo <= kStretchMax) {
      hi = ids[j++];
    }
    stretch_buffer_.resize(static_cast<size_t>(hi - lo));
    auto got = read_at(*fd, stretch_buffer_.data(), stretch_buffer_.size(), lo - file_start);
    if (!got) return got.error();
    if (*got != stretch_buffer_.size()) {
      return Error::internal("event " + std::to_string(hi) + " is cut");
    }
    for (size_t k = i; k < j; ++k) {
      int64_t end = ids[k] - lo;  // the record's end inside the buffer
      uint32_t length = get<uint32_t>(stretch_buffer_.data() + end - 4);
      if (length < kFixed + kTrailer || length > ids[k] - file_start) {
        return Error::internal("event " + std::to_string(ids[k]) + " is damaged");
      }
      if (length > end) {  // the first record, longer than the read window: read it alone
        if (auto st = read(ids[k], scan_buffer_, r); !st) return st;
      } else if (!decode_segment_record(std::string_view(stretch_buffer_)
                                            .substr(static_cast<size_t>(end - length), length),
                                        r)) {
        return Error::internal("event " + std::to_string(ids[k]) + " is damaged");
      }
      record(k, r);
    }
    i = j;
  }
  return {};
}

Status SegmentLog::scan(int64_t after, int64_t end,
                        const std::function<bool(int64_t, const SegmentRecord&)>& record) {
  constexpr size_t kChunk = size_t{1} << 20;
  int64_t pos = after;
  SegmentRecord r;
  while (pos < end) {
    int64_t segment = segment_of(pos);
    int64_t file_start = segment * segment_bytes_;
    // The last file is read up to the committed end; an earlier one to its own end (it was
    // complete when the writer moved on).
    int64_t limit = std::min(end, file_start + segment_bytes_);
    auto fd = reader_fd(segment);
    if (!fd) return fd.error();
    if (*fd < 0) {  // removed by retention
      pos = file_start + segment_bytes_;
      continue;
    }
    bool file_done = false;
    while (!file_done && pos < limit) {
      size_t want = static_cast<size_t>(std::min<int64_t>(limit - pos, kChunk));
      scan_buffer_.resize(want);
      auto got = read_at(*fd, scan_buffer_.data(), want, pos - file_start);
      if (!got) return got.error();
      std::string_view chunk(scan_buffer_.data(), *got);
      size_t used = 0;
      while (chunk.size() - used >= 4) {
        uint32_t length = get<uint32_t>(chunk.data() + used);
        if (length < kFixed + kTrailer) {
          return Error::internal("damaged event segment " + path_of(segment));
        }
        if (length > chunk.size() - used) {
          if (used == 0) {  // a record longer than the chunk: read it whole
            scan_buffer_.resize(length);
            got = read_at(*fd, scan_buffer_.data(), length, pos - file_start);
            if (!got) return got.error();
            if (*got != length) return Error::internal("cut event in " + path_of(segment));
            chunk = std::string_view(scan_buffer_.data(), length);
            continue;
          }
          break;
        }
        if (!decode_segment_record(chunk.substr(used, length), r)) {
          return Error::internal("damaged event in " + path_of(segment));
        }
        used += length;
        if (!record(pos + static_cast<int64_t>(used), r)) return {};
      }
      if (used == 0) file_done = true;  // the file ends before `limit`
      pos += static_cast<int64_t>(used);
    }
    if (pos < end) pos = file_start + segment_bytes_;
  }
  return {};
}

}  // namespace vantage::store

#include "sensors/common/event_journal.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "common/strings.h"
#include "common/time.h"

namespace vantage::sensors {

namespace fs = std::filesystem;

namespace {

constexpr std::string_view kPartSuffix = ".part";
constexpr std::string_view kSegmentSuffix = ".jsonl";
constexpr std::string_view kTempSuffix = ".tmp";  // add_segment() before its rename

std::string errno_text() {
  return std::strerror(errno);
}

// Writes all of `data` (write() may be partial on a signal or a full disk).
bool write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

// "<prefix>-0001765432100-000000042": fixed widths, so names sort in the order written.
std::string segment_stem(const std::string& prefix, int64_t opened, uint64_t seq) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "-%013lld-%09llu", static_cast<long long>(opened),
                static_cast<unsigned long long>(seq));
  return prefix + buf;
}

// The names in the directory behind `dir_fd` (its own descriptor is left open).
std::vector<std::string> list_dir(int dir_fd) {
  std::vector<std::string> out;
  int fd = ::dup(dir_fd);
  if (fd < 0) return out;
  DIR* d = ::fdopendir(fd);
  if (!d) {
    ::close(fd);
    return out;
  }
  ::rewinddir(d);
  while (dirent* e = ::readdir(d)) out.emplace_back(e->d_name);
  ::closedir(d);
  return out;
}

}  // namespace

EventJournal::EventJournal(JournalOptions options) : options_(std::move(options)) {}

Result<std::unique_ptr<EventJournal>> EventJournal::open(JournalOptions options) {
  if (options.dir.empty()) return Error::invalid("journal directory not set");
  if (!is_identifier(options.prefix)) {
    return Error::invalid("journal prefix '" + options.prefix + "' must be [A-Za-z0-9_]");
  }
  std::error_code ec;
  fs::create_directories(options.dir, ec);
  if (ec) return Error::io("cannot create " + options.dir + ": " + ec.message());
  auto j = std::unique_ptr<EventJournal>(new EventJournal(std::move(options)));
  j->dir_fd_ = ::open(j->options_.dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (j->dir_fd_ < 0) return Error::io("cannot open " + j->options_.dir + ": " + errno_text());
  j->lock_fd_ = ::openat(j->dir_fd_, ".lock", O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (j->lock_fd_ < 0)
    return Error::io("cannot open " + j->options_.dir + "/.lock: " + errno_text());
  if (::flock(j->lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    return Error{ErrorCode::kFailedPrecondition,
                 "journal " + j->options_.dir + " is in use by another process"};
  }
  j->opened_unix_ = now_seconds();
  if (auto st = j->recover(); !st) return st.error();
  return j;
}

EventJournal::~EventJournal() {
  {
    std::lock_guard lock(mu_);
    (void)close_segment_locked();
  }
  if (lock_fd_ >= 0) ::close(lock_fd_);
  if (dir_fd_ >= 0) ::close(dir_fd_);
}

// Closes every .part a previous run left: its records up to the last newline are kept, a
// torn last record is cut off. The sequence continues after the highest one seen, so new
// segments sort after the recovered ones even if the clock went back.
Status EventJournal::recover() {
  std::vector<std::string> parts;
  for (const auto& name : list_dir(dir_fd_)) {
    if (!name.starts_with(options_.prefix + "-")) continue;
    if (name.ends_with(std::string(kSegmentSuffix) + std::string(kPartSuffix))) {
      parts.push_back(name);
    }
    // An add_segment() that never reached its rename: its writer writes it again.
    if (name.ends_with(std::string(kSegmentSuffix) + std::string(kTempSuffix))) {
      if (::unlinkat(dir_fd_, name.c_str(), 0) != 0) {
        return Error::io("cannot remove " + options_.dir + "/" + name + ": " + errno_text());
      }
      ++stats_.temporaries_removed;
      continue;
    }
    // The highest (opened, seq) already used: recovered names keep theirs.
    auto fields = split(name, '-');
    if (fields.size() >= 3) {
      auto opened = parse_int(fields[fields.size() - 2]);
      auto seq = parse_uint(fields.back().substr(0, fields.back().find('.')));
      if (opened && *opened >= opened_unix_) opened_unix_ = *opened;
      if (opened && seq && *opened == opened_unix_) seq_ = std::max(seq_, *seq);
    }
  }
  for (const auto& p : parts) {
    int fd = ::openat(dir_fd_, p.c_str(), O_RDWR | O_CLOEXEC);
    if (fd < 0) return Error::io("cannot open " + options_.dir + "/" + p + ": " + errno_text());
    struct stat st {};
    ::fstat(fd, &st);
    // Find the end of the last complete record by reading back from the end.
    off_t keep = 0;
    char buf[4096];
    for (off_t end = st.st_size; end > 0 && keep == 0;) {
      off_t from = std::max<off_t>(0, end - static_cast<off_t>(sizeof buf));
      ssize_t n = ::pread(fd, buf, static_cast<size_t>(end - from), from);
      if (n <= 0) break;
      for (ssize_t i = n - 1; i >= 0; --i) {
        if (buf[i] == '\n') {
          keep = from + i + 1;
          break;
        }
      }
      end = from;
    }
    stats_.torn_bytes_dropped += st.st_size - keep;
    bool ok = ::ftruncate(fd, keep) == 0 && ::fsync(fd) == 0;
    ::close(fd);
    if (!ok) return Error::io("cannot recover " + options_.dir + "/" + p + ": " + errno_text());
    std::string name = p.substr(0, p.size() - kPartSuffix.size());
    if (keep == 0) {
      ok = ::unlinkat(dir_fd_, p.c_str(), 0) == 0;
    } else {
      ok = ::renameat(dir_fd_, p.c_str(), dir_fd_, name.c_str()) == 0;
      ++stats_.segments_recovered;
    }
    if (!ok) return Error::io("cannot recover " + options_.dir + "/" + p + ": " + errno_text());
  }
  if (!parts.empty() && ::fsync(dir_fd_) != 0) {
    return Error::io("cannot sync " + options_.dir + ": " + errno_text());
  }
  return {};
}

Status EventJournal::open_segment_locked() {
  part_name_ = segment_stem(options_.prefix, opened_unix_, ++seq_) + std::string(kSegmentSuffix) +
               std::string(kPartSuffix);
  fd_ = ::openat(dir_fd_, part_name_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC,
                 0644);
  if (fd_ < 0)
    return Error::io("cannot create " + options_.dir + "/" + part_name_ + ": " + errno_text());
  segment_bytes_ = 0;
  segment_opened_ = std::chrono::steady_clock::now();
  return {};
}

Status EventJournal::close_segment_locked() {
  if (fd_ < 0) return {};
  int fd = fd_;
  fd_ = -1;
  bool ok = ::fsync(fd) == 0;
  ok &= ::close(fd) == 0;
  std::string where = options_.dir + "/" + part_name_;
  if (!ok) return Error::io("cannot sync " + where + ": " + errno_text());
  std::string done = part_name_.substr(0, part_name_.size() - kPartSuffix.size());
  if (::renameat(dir_fd_, part_name_.c_str(), dir_fd_, done.c_str()) != 0) {
    return Error::io("cannot close " + where + ": " + errno_text());
  }
  ++stats_.segments_closed;
  if (::fsync(dir_fd_) != 0) return Error::io("cannot sync " + options_.dir + ": " + errno_text());
  return {};
}

Status EventJournal::append(std::string_view records, int64_t count) {
  if (records.empty()) return {};
  std::lock_guard lock(mu_);
  if (fd_ < 0) {
    if (auto st = open_segment_locked(); !st) return st;
  }
  if (!write_all(fd_, records)) {
    std::string why = errno_text();
    // Leave the segment as it was: cut off whatever part of the records reached it.
    (void)::ftruncate(fd_, segment_bytes_);
    return Error::io("cannot append to " + options_.dir + "/" + part_name_ + ": " + why);
  }
  segment_bytes_ += static_cast<int64_t>(records.size());
  stats_.records_appended += count;
  stats_.bytes_appended += static_cast<int64_t>(records.size());
  if (segment_bytes_ >= options_.max_segment_bytes) return close_segment_locked();
  return {};
}

Status EventJournal::add_segment(std::string_view records, int64_t count) {
  if (records.empty()) return {};
  std::lock_guard lock(mu_);
  if (fd_ >= 0 && segment_bytes_ > 0) {
    if (auto st = close_segment_locked(); !st) return st;
  }
  std::string name =
      segment_stem(options_.prefix, opened_unix_, ++seq_) + std::string(kSegmentSuffix);
  std::string temp = name + std::string(kTempSuffix);
  int fd = ::openat(dir_fd_, temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Error::io("cannot create " + options_.dir + "/" + temp + ": " + errno_text());
  bool ok = write_all(fd, records) && ::fsync(fd) == 0;
  std::string why = ok ? std::string() : errno_text();
  ok &= ::close(fd) == 0;
  if (ok) ok = ::renameat(dir_fd_, temp.c_str(), dir_fd_, name.c_str()) == 0;
  if (!ok) {
    if (why.empty()) why = errno_text();
    (void)::unlinkat(dir_fd_, temp.c_str(), 0);
    return Error::io("cannot write " + options_.dir + "/" + name + ": " + why);
  }
  if (::fsync(dir_fd_) != 0) return Error::io("cannot sync " + options_.dir + ": " + errno_text());
  stats_.records_appended += count;
  stats_.bytes_appended += static_cast<int64_t>(records.size());
  ++stats_.segments_closed;
  return {};
}

Status EventJournal::rotate(bool force) {
  std::lock_guard lock(mu_);
  if (fd_ < 0 || segment_bytes_ == 0) return {};
  if (!force && std::chrono::steady_clock::now() - segment_opened_ < options_.max_segment_age) {
    return {};
  }
  return close_segment_locked();
}

std::vector<std::string> EventJournal::ready_segments() const {
  std::vector<std::string> out;
  for (auto& name : list_dir(dir_fd_)) {
    if (name.starts_with(options_.prefix + "-") && name.ends_with(kSegmentSuffix)) {
      out.push_back(std::move(name));
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

Result<int> EventJournal::open_segment(const std::string& name) const {
  int fd = ::openat(dir_fd_, name.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Error::io("cannot open " + options_.dir + "/" + name + ": " + errno_text());
  return fd;
}

Status EventJournal::remove_segment(const std::string& name) {
  if (::unlinkat(dir_fd_, name.c_str(), 0) != 0 && errno != ENOENT) {
    return Error::io("cannot remove " + options_.dir + "/" + name + ": " + errno_text());
  }
  return {};
}

Status EventJournal::set_aside(const std::string& name, const std::string& why) {
  if (::mkdirat(dir_fd_, "rejected", 0755) != 0 && errno != EEXIST) {
    return Error::io("cannot create " + options_.dir + "/rejected: " + errno_text());
  }
  int aside = ::openat(dir_fd_, "rejected", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (aside < 0) return Error::io("cannot open " + options_.dir + "/rejected: " + errno_text());
  bool ok = ::renameat(dir_fd_, name.c_str(), aside, name.c_str()) == 0;
  std::string note = name + ".error";
  int fd = ::openat(aside, note.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd >= 0) {
    ok &= write_all(fd, why + "\n");
    ::close(fd);
  }
  ::close(aside);
  return ok ? Status{} : Error::io("cannot set " + name + " aside: " + errno_text());
}

JournalStats EventJournal::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

Status JournalBuffer::flush() {
  if (pending_ == 0) {
    text_.clear();
    return {};
  }
  auto st = journal_->append(text_, pending_);
  if (!st) lost_ += pending_;
  pending_ = 0;
  text_.clear();
  if (text_.capacity() > flush_bytes_ * 4) text_.shrink_to_fit();
  return st;
}

}  // namespace vantage::sensors

#include "report/pack.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "common/strings.h"

namespace vantage::report {

namespace fs = std::filesystem;

namespace {

// Large writes: a day of small reports would otherwise cost one write(2) per report.
constexpr size_t kBufferBytes = 4 << 20;

Status write_all(int fd, std::string_view bytes, const std::string& path) {
  while (!bytes.empty()) {
    ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return Error::io("cannot write " + path + ": " + std::strerror(errno));
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return {};
}

}  // namespace

Result<std::unique_ptr<PackWriter>> PackWriter::create(const fs::path& day_dir) {
  std::error_code ec;
  fs::create_directories(day_dir, ec);
  if (ec) return Error::io("cannot create " + day_dir.string() + ": " + ec.message());
  std::unique_ptr<PackWriter> w(new PackWriter());
  // The generation: nanoseconds since the epoch, so that a later build sorts after an earlier
  // one; O_EXCL refuses a clash (two builds in the same nanosecond) instead of sharing a file.
  auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                std::chrono::system_clock::now().time_since_epoch())
                .count();
  char name[48];
  std::snprintf(name, sizeof name, "reports-%016llx.pack", static_cast<unsigned long long>(ns));
  w->path_ = (day_dir / name).string();
  w->fd_ = ::open(w->path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (w->fd_ < 0) return Error::io("cannot create " + w->path_ + ": " + std::strerror(errno));
  w->md_ = EVP_MD_CTX_new();
  if (!w->md_) return Error::internal("out of memory for a digest");
  w->buffer_.reserve(kBufferBytes);
  return w;
}

PackWriter::~PackWriter() {
  if (fd_ >= 0) ::close(fd_);
  if (!committed_ && !path_.empty()) ::unlink(path_.c_str());
  if (md_) EVP_MD_CTX_free(md_);
}

void PackWriter::begin() {
  report_start_ = written_ + static_cast<int64_t>(buffer_.size());
  EVP_DigestInit_ex(md_, EVP_sha256(), nullptr);
}

core::CsvSink PackWriter::sink() {
  return [this](std::string_view bytes) -> Status {
    EVP_DigestUpdate(md_, bytes.data(), bytes.size());
    if (buffer_.size() + bytes.size() > kBufferBytes) {
      if (auto st = flush_buffer(); !st) return st;
      if (bytes.size() >= kBufferBytes) {
        if (auto st = write_all(fd_, bytes, path_); !st) return st;
        written_ += static_cast<int64_t>(bytes.size());
        return {};
      }
    }
    buffer_.append(bytes);
    return {};
  };
}

Status PackWriter::flush_buffer() {
  if (buffer_.empty()) return {};
  if (auto st = write_all(fd_, buffer_, path_); !st) return st;
  written_ += static_cast<int64_t>(buffer_.size());
  buffer_.clear();
  return {};
}

Result<PackWriter::Written> PackWriter::end() {
  Written w;
  w.offset = report_start_;
  w.length = written_ + static_cast<int64_t>(buffer_.size()) - report_start_;
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned len = 0;
  EVP_DigestFinal_ex(md_, digest, &len);
  w.sha256 = hex_encode(digest, len);
  ++reports_;
  return w;
}

Status PackWriter::discard() {
  if (report_start_ >= written_) {  // still in the buffer
    buffer_.resize(static_cast<size_t>(report_start_ - written_));
    return {};
  }
  buffer_.clear();
  if (::ftruncate(fd_, report_start_) != 0 || ::lseek(fd_, report_start_, SEEK_SET) < 0)
    return Error::io("cannot truncate " + path_ + ": " + std::strerror(errno));
  written_ = report_start_;
  return {};
}

Status PackWriter::commit() {
  if (auto st = flush_buffer(); !st) return st;
  if (::fdatasync(fd_) != 0) return Error::io("cannot sync " + path_ + ": " + std::strerror(errno));
  fs::path dir = fs::path(path_).parent_path();
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) return Error::io("cannot open " + dir.string());
  bool ok = ::fsync(dfd) == 0;
  ::close(dfd);
  if (!ok) return Error::io("cannot sync " + dir.string());
  committed_ = true;
  return {};
}

bool is_pack_file_name(std::string_view name) {
  return name.starts_with("reports-") && name.ends_with(".pack");
}

Result<int64_t> remove_unreferenced_packs(const fs::path& day_dir,
                                          const std::set<std::string>& referenced) {
  int64_t removed = 0;
  std::error_code ec;
  for (fs::directory_iterator it(day_dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (!is_pack_file_name(it->path().filename().string())) continue;
    if (referenced.count(it->path().string())) continue;
    std::error_code rec;
    if (fs::remove(it->path(), rec)) ++removed;
    if (rec) return Error::io("cannot remove " + it->path().string() + ": " + rec.message());
  }
  if (ec && ec != std::errc::no_such_file_or_directory)
    return Error::io("cannot list " + day_dir.string() + ": " + ec.message());
  return removed;
}

}  // namespace vantage::report

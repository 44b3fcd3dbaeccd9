#include "pipeline/source_identity.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <vector>

#include "common/strings.h"

namespace vantage::pipeline {

namespace {

constexpr int64_t kSample = 1 << 20;

bool read_at(int fd, int64_t offset, int64_t n, std::vector<unsigned char>& out) {
  out.resize(static_cast<size_t>(n));
  int64_t got = 0;
  while (got < n) {
    ssize_t r = pread(fd, out.data() + got, static_cast<size_t>(n - got), offset + got);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    got += r;
  }
  return true;
}

}  // namespace

Result<SourceIdentity> identify_file(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Error::io(path + ": " + std::strerror(errno));
  struct FdCloser {
    int fd;
    ~FdCloser() { close(fd); }
  } closer{fd};
  struct stat st {};
  if (fstat(fd, &st) != 0) return Error::io(path + ": " + std::strerror(errno));
  if (!S_ISREG(st.st_mode)) return Error::invalid(path + ": not a regular file");
  int64_t size = st.st_size;

  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr);
  EVP_DigestUpdate(ctx.get(), &size, sizeof size);
  std::vector<unsigned char> buf;
  int64_t head = size < kSample ? size : kSample;
  if (!read_at(fd, 0, head, buf)) return Error::io(path + ": short read");
  EVP_DigestUpdate(ctx.get(), buf.data(), buf.size());
  if (size > kSample) {
    int64_t tail_start = size - kSample > kSample ? size - kSample : kSample;
    if (!read_at(fd, tail_start, size - tail_start, buf)) return Error::io(path + ": short read");
    EVP_DigestUpdate(ctx.get(), buf.data(), buf.size());
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx.get(), digest, &len);
  return SourceIdentity{"sha256:" + hex_encode(digest, len), size};
}

}  // namespace vantage::pipeline

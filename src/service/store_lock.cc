#include "service/store_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace vantage::service {

StoreLock& StoreLock::operator=(StoreLock&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = other.fd_;
    other.fd_ = -1;
  }
  return *this;
}

StoreLock::~StoreLock() {
  if (fd_ >= 0) ::close(fd_);
}

Result<StoreLock> StoreLock::shared(const std::string& data_dir) {
  return take(data_dir, false);
}

Result<StoreLock> StoreLock::exclusive(const std::string& data_dir) {
  return take(data_dir, true);
}

Result<StoreLock> StoreLock::take(const std::string& data_dir, bool exclusive) {
  std::string path = data_dir + "/store.lock";
  StoreLock lock;
  lock.fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (lock.fd_ < 0) return Error::io("cannot open " + path + ": " + std::strerror(errno));
  if (::flock(lock.fd_, (exclusive ? LOCK_EX : LOCK_SH) | LOCK_NB) != 0) {
    if (errno != EWOULDBLOCK) return Error::io("cannot lock " + path + ": " + std::strerror(errno));
    return Error{ErrorCode::kFailedPrecondition,
                 exclusive ? "another vantage process uses the event store of " + data_dir + " (" +
                                 path + " is held): stop it first"
                           : "the event store of " + data_dir + " is being migrated (" + path +
                                 " is held by vantage store migrate)"};
  }
  return lock;
}

}  // namespace vantage::service

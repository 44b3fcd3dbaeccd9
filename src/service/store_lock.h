#pragma once
// Who uses a data directory's event store, so that `vantage store migrate` can refuse to copy a
// store while something writes it: every command that opens the store through open_runtime
// (ingest, generate, collect, serve, up, report build, the portal, the cluster roles) holds a
// shared flock(2) on <data_dir>/store.lock for its whole life; migrate takes it exclusively and
// does not wait. The kernel drops a killed process's lock. Processes on other machines (cluster
// workers writing a ClickHouse store) hold no such lock: migrate also checks that the source
// did not change during the copy (store/copy.h).

#include <string>

#include "common/result.h"

namespace vantage::service {

class StoreLock {
 public:
  StoreLock() = default;
  StoreLock(StoreLock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  StoreLock& operator=(StoreLock&& other) noexcept;
  StoreLock(const StoreLock&) = delete;
  StoreLock& operator=(const StoreLock&) = delete;
  ~StoreLock();

  // A user of the store: fails (without waiting) while a migration holds the store.
  static Result<StoreLock> shared(const std::string& data_dir);
  // The migration: fails (without waiting) while any user holds it.
  static Result<StoreLock> exclusive(const std::string& data_dir);

 private:
  static Result<StoreLock> take(const std::string& data_dir, bool exclusive);
  int fd_ = -1;
};

}  // namespace vantage::service

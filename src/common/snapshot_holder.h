#pragma once
// Holds the current immutable snapshot of something replaced whole (a subscription index,
// the enrichment data): readers take a shared_ptr to it and keep using it as long as they
// hold it; a writer publishes a new one, and a reader sees the old or the new, never a mix.
// Thread-safe.
//
// A mutex rather than std::atomic<std::shared_ptr>: libstdc++ 12 (Debian 12's) releases the
// internal lock of atomic<shared_ptr>::load() with relaxed order, so a load() and a concurrent
// store() race on the raw pointer (ThreadSanitizer reports it once several processing threads
// load while the registry is refreshed). Readers load once per batch, so the lock costs
// nothing measurable.

#include <memory>
#include <mutex>

namespace vantage {

template <typename T>
class SnapshotHolder {
 public:
  std::shared_ptr<const T> load() const {
    std::lock_guard lock(mu_);
    return current_;
  }
  // The previous snapshot is released outside the lock, by whoever holds it last.
  void store(std::shared_ptr<const T> next) {
    {
      std::lock_guard lock(mu_);
      current_.swap(next);
    }
  }

 private:
  mutable std::mutex mu_;
  std::shared_ptr<const T> current_;
};

}  // namespace vantage

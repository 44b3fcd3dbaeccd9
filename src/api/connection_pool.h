#pragma once
// A small pool of single-threaded database objects (report::Manifest, store::EventStore),
// each holding its own SQLite connection to the same file.
//
// Why: those objects are not thread-safe, and sharing one behind a mutex serialised every
// api2 request on the server's threads (reports/list p99 34 ms at 64 connections). A handler
// borrows an object for the duration of one query; the pool's lock is held only to pop or
// push a pointer, never while a query runs. WAL mode lets the readers run beside the report
// builder writing the same file.
//
// Without an opener the pool holds just the object it was given (callers that constructed
// the service from ready-made objects): borrowers then take turns, as with a mutex.
//
// Thread-safety: acquire() and Lease destruction may be called from any thread.

#include <algorithm>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

#include "common/result.h"

namespace vantage::api {

template <class T>
class ConnectionPool {
 public:
  using Opener = std::function<Result<std::unique_ptr<T>>()>;

  // `first` may be null; with neither `first` nor `open` the pool is empty and acquire()
  // returns an empty lease (callers treat that as "no data source").
  ConnectionPool(std::unique_ptr<T> first, Opener open, size_t max_objects)
      : open_(std::move(open)), max_(open_ ? std::max<size_t>(1, max_objects) : (first ? 1 : 0)) {
    if (first) {
      free_.push_back(std::move(first));
      created_ = 1;
    }
  }
  ConnectionPool(const ConnectionPool&) = delete;
  ConnectionPool& operator=(const ConnectionPool&) = delete;

  class Lease {
   public:
    Lease() = default;
    Lease(ConnectionPool* pool, std::unique_ptr<T> obj) : pool_(pool), obj_(std::move(obj)) {}
    Lease(Lease&& o) noexcept : pool_(o.pool_), obj_(std::move(o.obj_)) { o.pool_ = nullptr; }
    Lease& operator=(Lease&&) = delete;
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    ~Lease() {
      if (pool_ && obj_) pool_->release(std::move(obj_));
    }
    T* get() const { return obj_.get(); }
    T* operator->() const { return obj_.get(); }
    T& operator*() const { return *obj_; }
    explicit operator bool() const { return obj_ != nullptr; }

   private:
    ConnectionPool* pool_ = nullptr;
    std::unique_ptr<T> obj_;
  };

  // Borrows a free object, opens a new one while fewer than `max_objects` exist, or waits
  // for one to come back. An opener failure is returned (and the slot freed again).
  Result<Lease> acquire() {
    std::unique_lock lock(mu_);
    if (max_ == 0) return Lease();
    for (;;) {
      if (!free_.empty()) {
        auto obj = std::move(free_.back());
        free_.pop_back();
        return Lease(this, std::move(obj));
      }
      if (created_ < max_ && open_) {
        ++created_;
        lock.unlock();
        // Outside the pool's lock (opening takes a while and must not stall borrowers), but
        // one open at a time: opening may write (schema checks), and concurrent openers of
        // one SQLite file can fail with "database is locked" instead of waiting.
        Result<std::unique_ptr<T>> opened = [&] {
          std::lock_guard open_lock(open_mu_);
          return open_();
        }();
        if (!opened) {
          lock.lock();
          --created_;
          cv_.notify_one();
          return opened.error();
        }
        return Lease(this, std::move(*opened));
      }
      cv_.wait(lock);
    }
  }

  size_t created() const {
    std::lock_guard lock(mu_);
    return created_;
  }

 private:
  void release(std::unique_ptr<T> obj) {
    {
      std::lock_guard lock(mu_);
      free_.push_back(std::move(obj));
    }
    cv_.notify_one();
  }

  mutable std::mutex mu_;
  std::mutex open_mu_;
  std::condition_variable cv_;
  Opener open_;
  size_t max_;
  size_t created_ = 0;
  std::vector<std::unique_ptr<T>> free_;
};

}  // namespace vantage::api

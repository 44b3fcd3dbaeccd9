#pragma once
// Asynchronous reverse DNS (PTR) for the `hostname` column, built so that the per-event
// caller never waits on the network:
//   - lookup() answers from a bounded LRU cache, or queues the address for a small pool of
//     worker threads (getnameinfo with NI_NAMEREQD) and returns nullopt at once;
//   - the queue is bounded: when it is full the request is dropped and counted (the next
//     event with that address asks again), so a DNS outage cannot grow memory;
//   - per-query timeout: a request that waited in the queue longer than `timeout` is not
//     resolved (its event is long gone), and an answer that took longer than `timeout` is
//     cached as a failure for `negative_ttl` so that a slow zone is not asked again and
//     again. getnameinfo itself cannot be cancelled; its own bound is the system resolver's
//     (`options timeout:N attempts:N` in resolv.conf).
// Off by default in batch mode: the pipeline creates a resolver only when asked to.
//
// Thread-safety: every public member may be called from any thread. The destructor stops
// and joins the workers (at most one in-flight getnameinfo per worker is waited for).

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <list>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "common/ip.h"

namespace vantage::enrich {

struct ReverseDnsOptions {
  size_t workers = 2;
  size_t cache_capacity = 65536;  // entries, positive and negative together
  size_t queue_capacity = 4096;   // pending addresses
  std::chrono::milliseconds timeout{2000};
  std::chrono::seconds positive_ttl{3600};
  std::chrono::seconds negative_ttl{300};
  // The blocking resolver run on the workers; nullopt = no name. Default: getnameinfo.
  // Tests inject a fake.
  std::function<std::optional<std::string>(const IpAddress&)> resolve;
};

struct ReverseDnsStats {
  uint64_t hits = 0;          // answered from cache (including cached "no name")
  uint64_t misses = 0;        // queued or already pending
  uint64_t dropped_full = 0;  // queue full
  uint64_t resolved = 0;      // names found
  uint64_t failed = 0;        // no name, error, or too slow
  uint64_t expired_in_queue = 0;
};

// The default resolver: getnameinfo(NI_NAMEREQD); nullopt when there is no PTR record.
std::optional<std::string> resolve_with_getnameinfo(const IpAddress& a);

class ReverseDnsResolver {
 public:
  explicit ReverseDnsResolver(ReverseDnsOptions options);
  ~ReverseDnsResolver();
  ReverseDnsResolver(const ReverseDnsResolver&) = delete;
  ReverseDnsResolver& operator=(const ReverseDnsResolver&) = delete;

  // Never blocks on DNS. Returns the cached name ("" for a cached "no name"), or nullopt
  // when the answer is not known yet (the address is then queued, once).
  std::optional<std::string> lookup(const IpAddress& a);

  // Blocks until the queue is empty and no worker is busy, or `limit` passes. For tests and
  // for one-shot CLI use (`vantage lookup --rdns`). Returns true if drained.
  bool drain(std::chrono::milliseconds limit);

  ReverseDnsStats stats() const;
  size_t cache_size() const;

 private:
  using Clock = std::chrono::steady_clock;
  struct Entry {
    std::string name;
    Clock::time_point expires;
    std::list<IpAddress>::iterator lru_pos;
  };
  struct Hash {
    size_t operator()(const IpAddress& a) const {
      return std::hash<uint64_t>()(a.hi() * 0x9E3779B97F4A7C15ULL ^ a.lo());
    }
  };
  void worker();
  void store(const IpAddress& a, std::string name, std::chrono::seconds ttl);

  ReverseDnsOptions options_;
  mutable std::mutex mu_;
  std::condition_variable work_cv_;
  std::condition_variable idle_cv_;
  std::deque<std::pair<IpAddress, Clock::time_point>> queue_;
  std::unordered_set<IpAddress, Hash> pending_;  // queued or being resolved
  std::unordered_map<IpAddress, Entry, Hash> cache_;
  std::list<IpAddress> lru_;  // front = most recently used
  size_t busy_ = 0;
  bool stop_ = false;
  ReverseDnsStats stats_;
  std::vector<std::thread> threads_;
};

}  // namespace vantage::enrich

#include "enrich/reverse_dns.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>

namespace vantage::enrich {

std::optional<std::string> resolve_with_getnameinfo(const IpAddress& a) {
  char host[NI_MAXHOST];
  int rc;
  if (a.is_v4()) {
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(a.v4());
    rc = getnameinfo(reinterpret_cast<const sockaddr*>(&sin), sizeof sin, host, sizeof host,
                     nullptr, 0, NI_NAMEREQD);
  } else {
    sockaddr_in6 sin6{};
    sin6.sin6_family = AF_INET6;
    a.to_bytes(sin6.sin6_addr.s6_addr);
    rc = getnameinfo(reinterpret_cast<const sockaddr*>(&sin6), sizeof sin6, host, sizeof host,
                     nullptr, 0, NI_NAMEREQD);
  }
  if (rc != 0) return std::nullopt;
  return std::string(host);
}

ReverseDnsResolver::ReverseDnsResolver(ReverseDnsOptions options) : options_(std::move(options)) {
  if (!options_.resolve) options_.resolve = resolve_with_getnameinfo;
  options_.workers = std::max<size_t>(1, options_.workers);
  options_.cache_capacity = std::max<size_t>(1, options_.cache_capacity);
  threads_.reserve(options_.workers);
  for (size_t i = 0; i < options_.workers; ++i) threads_.emplace_back([this] { worker(); });
}

ReverseDnsResolver::~ReverseDnsResolver() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  work_cv_.notify_all();
  for (auto& t : threads_) t.join();
}

std::optional<std::string> ReverseDnsResolver::lookup(const IpAddress& a) {
  std::lock_guard lock(mu_);
  auto it = cache_.find(a);
  if (it != cache_.end()) {
    if (it->second.expires > Clock::now()) {
      lru_.splice(lru_.begin(), lru_, it->second.lru_pos);
      ++stats_.hits;
      return it->second.name;
    }
    lru_.erase(it->second.lru_pos);
    cache_.erase(it);
  }
  ++stats_.misses;
  if (pending_.count(a)) return std::nullopt;
  if (queue_.size() >= options_.queue_capacity) {
    ++stats_.dropped_full;
    return std::nullopt;
  }
  pending_.insert(a);
  queue_.emplace_back(a, Clock::now());
  work_cv_.notify_one();
  return std::nullopt;
}

void ReverseDnsResolver::store(const IpAddress& a, std::string name, std::chrono::seconds ttl) {
  // Called with mu_ held.
  auto it = cache_.find(a);
  if (it != cache_.end()) {
    lru_.erase(it->second.lru_pos);
    cache_.erase(it);
  }
  while (cache_.size() >= options_.cache_capacity && !lru_.empty()) {
    cache_.erase(lru_.back());
    lru_.pop_back();
  }
  lru_.push_front(a);
  cache_.emplace(a, Entry{std::move(name), Clock::now() + ttl, lru_.begin()});
}

void ReverseDnsResolver::worker() {
  std::unique_lock lock(mu_);
  while (true) {
    work_cv_.wait(lock, [this] { return stop_ || !queue_.empty(); });
    if (stop_) return;
    auto [addr, queued_at] = queue_.front();
    queue_.pop_front();
    if (Clock::now() - queued_at > options_.timeout) {
      pending_.erase(addr);
      ++stats_.expired_in_queue;
      if (queue_.empty() && busy_ == 0) idle_cv_.notify_all();
      continue;
    }
    ++busy_;
    lock.unlock();
    auto started = Clock::now();
    std::optional<std::string> name = options_.resolve(addr);
    bool too_slow = Clock::now() - started > options_.timeout;
    lock.lock();
    --busy_;
    pending_.erase(addr);
    if (name && !too_slow) {
      ++stats_.resolved;
      store(addr, std::move(*name), options_.positive_ttl);
    } else {
      ++stats_.failed;
      store(addr, std::string(), options_.negative_ttl);
    }
    if (queue_.empty() && busy_ == 0) idle_cv_.notify_all();
  }
}

bool ReverseDnsResolver::drain(std::chrono::milliseconds limit) {
  std::unique_lock lock(mu_);
  return idle_cv_.wait_for(lock, limit, [this] { return queue_.empty() && busy_ == 0; });
}

ReverseDnsStats ReverseDnsResolver::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

size_t ReverseDnsResolver::cache_size() const {
  std::lock_guard lock(mu_);
  return cache_.size();
}

}  // namespace vantage::enrich

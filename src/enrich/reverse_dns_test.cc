#include "enrich/reverse_dns.h"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <mutex>

namespace vantage::enrich {
namespace {

using namespace std::chrono_literals;

IpAddress ip(std::string_view s) {
  return *IpAddress::parse(s);
}

TEST(ReverseDns, QueuesThenAnswersFromCache) {
  std::atomic<int> calls{0};
  // The resolver waits until the test has made its lookups, so the second lookup of
  // 192.0.2.1 really finds it pending (a fast worker could otherwise answer in between).
  std::promise<void> go;
  std::shared_future<void> started = go.get_future().share();
  ReverseDnsOptions o;
  o.resolve = [&calls, started](const IpAddress& a) -> std::optional<std::string> {
    started.wait();
    ++calls;
    if (a == ip("192.0.2.1")) return std::string("host.example.");
    return std::nullopt;
  };
  ReverseDnsResolver r(o);
  EXPECT_FALSE(r.lookup(ip("192.0.2.1")));
  EXPECT_FALSE(r.lookup(ip("192.0.2.2")));
  EXPECT_FALSE(r.lookup(ip("192.0.2.1")));  // already pending: not queued twice
  go.set_value();
  ASSERT_TRUE(r.drain(5s));
  EXPECT_EQ(r.lookup(ip("192.0.2.1")), std::optional<std::string>("host.example."));
  EXPECT_EQ(r.lookup(ip("192.0.2.2")), std::optional<std::string>(""));  // negative cached
  EXPECT_EQ(calls.load(), 2);
  auto s = r.stats();
  EXPECT_EQ(s.resolved, 1u);
  EXPECT_EQ(s.failed, 1u);
  EXPECT_EQ(s.hits, 2u);
}

TEST(ReverseDns, NeverBlocksWhileTheResolverHangs) {
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  ReverseDnsOptions o;
  o.workers = 1;
  o.queue_capacity = 2;
  o.timeout = 10s;
  o.resolve = [released](const IpAddress&) -> std::optional<std::string> {
    released.wait();
    return std::string("slow.example.");
  };
  ReverseDnsResolver r(o);
  auto start = std::chrono::steady_clock::now();
  for (uint32_t i = 0; i < 100; ++i) EXPECT_FALSE(r.lookup(IpAddress::from_v4(0x08000000 + i)));
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1s);
  // One in flight, two queued, the rest dropped because the queue is full.
  EXPECT_GE(r.stats().dropped_full, 96u);
  release.set_value();
  ASSERT_TRUE(r.drain(5s));
}

TEST(ReverseDns, SlowAnswersAreCachedAsFailures) {
  ReverseDnsOptions o;
  o.timeout = 100ms;
  o.resolve = [](const IpAddress&) -> std::optional<std::string> {
    std::this_thread::sleep_for(300ms);
    return std::string("too-late.example.");
  };
  ReverseDnsResolver r(o);
  EXPECT_FALSE(r.lookup(ip("198.51.100.1")));
  ASSERT_TRUE(r.drain(5s));
  EXPECT_EQ(r.lookup(ip("198.51.100.1")), std::optional<std::string>(""));
  EXPECT_EQ(r.stats().failed, 1u);
}

TEST(ReverseDns, StaleQueuedRequestsAreSkipped) {
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::atomic<int> calls{0};
  ReverseDnsOptions o;
  o.workers = 1;
  o.timeout = 200ms;
  o.resolve = [&, released](const IpAddress&) -> std::optional<std::string> {
    ++calls;
    released.wait();
    return std::string("x.");
  };
  ReverseDnsResolver r(o);
  EXPECT_FALSE(r.lookup(ip("198.51.100.1")));  // occupies the only worker
  for (int i = 0; i < 500 && calls.load() == 0; ++i) std::this_thread::sleep_for(1ms);
  EXPECT_EQ(calls.load(), 1);  // not ASSERT: the worker must still be released below
  EXPECT_FALSE(r.lookup(ip("198.51.100.2")));  // waits in the queue past its timeout
  std::this_thread::sleep_for(400ms);
  release.set_value();
  ASSERT_TRUE(r.drain(5s));
  EXPECT_EQ(calls.load(), 1);
  EXPECT_EQ(r.stats().expired_in_queue, 1u);
}

TEST(ReverseDns, CacheIsBoundedLru) {
  ReverseDnsOptions o;
  o.cache_capacity = 3;
  o.resolve = [](const IpAddress& a) -> std::optional<std::string> { return a.to_string(); };
  ReverseDnsResolver r(o);
  // One at a time: with several resolver threads, answers to a burst enter the cache in any
  // order, and the test needs a known least-recently-used entry.
  for (const char* a : {"192.0.2.1", "192.0.2.2", "192.0.2.3"}) {
    r.lookup(ip(a));
    ASSERT_TRUE(r.drain(5s));
  }
  EXPECT_TRUE(r.lookup(ip("192.0.2.1")));  // touch: .1 becomes most recent
  r.lookup(ip("192.0.2.4"));
  ASSERT_TRUE(r.drain(5s));
  EXPECT_EQ(r.cache_size(), 3u);
  EXPECT_TRUE(r.lookup(ip("192.0.2.1")));
  EXPECT_TRUE(r.lookup(ip("192.0.2.4")));
  EXPECT_FALSE(r.lookup(ip("192.0.2.2")));  // the least recently used went
}

TEST(ReverseDns, GetnameinfoResolvesLoopback) {
  // Loopback comes from /etc/hosts, so no network is needed; if this machine maps it to no
  // name at all there is nothing to check.
  auto name = resolve_with_getnameinfo(ip("127.0.0.1"));
  if (!name) GTEST_SKIP() << "127.0.0.1 has no name on this machine";
  EXPECT_FALSE(name->empty());
}

}  // namespace
}  // namespace vantage::enrich

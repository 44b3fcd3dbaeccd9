#pragma once
// Referer events: a request to a sinkholed name whose Referer is another site says that site
// links to (or embeds) the malware's address -- usually a compromised web site. The
// event4_sinkhole_http_referer row reports the referring site (http_referer_ip, its
// hostname and port), so it reaches whoever runs that site.
//
// The referring site's address: the Referer's host when it is an address; otherwise it is
// resolved through sinkhole.resolver on this service's thread (cached for an hour, failures
// for five minutes) while the loop goes on. A row waiting for its name (at most the resolver's
// timeout) is written without an address if the sinkhole stops first; without a resolver,
// rows name the host only.

#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>

#include "sensors/common/sensor_host.h"
#include "sensors/sinkhole/context.h"
#include "sensors/sinkhole/resolver.h"

namespace vantage::sinkhole {

struct RefererJob {
  UnixSeconds when = 0;
  sensors::Endpoint dst;
  std::string referer;  // the header as sent
  std::string host;     // of the Referer URL, lower case
  uint16_t port = 0;    // of the Referer URL (explicit, else the scheme's)
  std::string url, http_host, sni, application;
  std::string infection, family, tag, severity;
};

// The Referer's site as (host, port), or nullopt when the Referer is not an absolute
// http(s) URL.
std::optional<std::pair<std::string, uint16_t>> referer_site(std::string_view referer);

void write_referer_event(std::string& out, const Context& ctx, const RefererJob& job,
                         const IpAddress* address);

class RefererResolver : public sensors::StandaloneService {
 public:
  // `resolver`: where names are asked (null: rows name the host only).
  RefererResolver(const Context& ctx, std::unique_ptr<StubResolver> resolver);
  ~RefererResolver() override;

  // From a loop thread: written into `buffer` now when the address is known, else queued.
  void submit(RefererJob job, sensors::JournalBuffer& buffer);

  std::string name() const override { return "referer-resolver"; }
  Status start() override;
  void stop() override;
  nlohmann::json status() const override;

 private:
  struct Cached {
    std::optional<IpAddress> address;
    std::chrono::steady_clock::time_point until;
  };
  void run();
  std::optional<std::optional<IpAddress>> cached(const std::string& host);
  void write_now(const RefererJob& job, const IpAddress* address);

  const Context& ctx_;
  std::unique_ptr<StubResolver> resolver_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<RefererJob> queue_;
  std::unordered_map<std::string, Cached> cache_;
  bool stopping_ = false, started_ = false;
  std::thread thread_;
  int64_t resolved_ = 0, unresolved_ = 0, overflow_ = 0, written_ = 0;
};

}  // namespace vantage::sinkhole

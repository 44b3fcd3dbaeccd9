#pragma once
// The domain lifecycle watch. A sinkholed domain is only ours while the registry delegates it
// to our name servers and the registration lasts: one that lapses or is re-delegated hands
// its victims back to the criminals (Alowaisheq et al., NDSS 2019, found 14 % of taken-down
// domains back on the market within ten months). Every sinkhole.watch_interval_s the watch
//   * asks sinkhole.resolver for the NS records of each listed domain (and of a sample of
//     each DGA line's domains of today) and compares them with sinkhole.nameservers:
//     "delegation-lost" (none of ours), "foreign-ns" (some not ours), "not-delegated"
//     (NXDOMAIN: the domain is gone), "unresolved" (no answer);
//   * warns when a registration's `expires` date is within sinkhole.expiry_warn_days
//     ("expires-soon") or past ("expired").
// The problems are in the sensor's status file (`vantage status`) and /metrics.

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "sensors/common/sensor_host.h"
#include "sensors/sinkhole/context.h"
#include "sensors/sinkhole/resolver.h"

namespace vantage::sinkhole {

struct WatchProblem {
  std::string domain;
  std::string problem;
  std::string detail;
};

class DomainWatch : public sensors::StandaloneService {
 public:
  // `resolver` null: only expiry dates are watched.
  DomainWatch(const Context& ctx, std::unique_ptr<StubResolver> resolver);
  ~DomainWatch() override;

  std::string name() const override { return "domain-watch"; }
  Status start() override;
  void stop() override;
  nlohmann::json status() const override;

  // One full round now, on the calling thread.
  void round();
  std::vector<WatchProblem> problems() const;

 private:
  bool pause(std::chrono::milliseconds d);  // false when stopping
  const Context& ctx_;
  std::unique_ptr<StubResolver> resolver_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread thread_;
  std::vector<WatchProblem> problems_;
  int64_t rounds_ = 0, checked_ = 0, ok_ = 0;
  UnixSeconds last_round_ = 0;
};

}  // namespace vantage::sinkhole

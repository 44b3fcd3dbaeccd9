#pragma once
// A stub resolver: asks one configured recursive resolver (sinkhole.resolver) over UDP and
// waits for its answer, on the calling thread. For the lifecycle watch (NS of each sinkholed
// domain) and the referer rows (A/AAAA of a referring site). It only ever sends to that one
// address.

#include <chrono>
#include <random>
#include <string>
#include <string_view>

#include "common/result.h"
#include "sensors/common/tcp_reactor.h"
#include "sensors/sinkhole/dns_message.h"

namespace vantage::sinkhole {

class StubResolver {
 public:
  explicit StubResolver(sensors::Endpoint server,
                        std::chrono::milliseconds timeout = std::chrono::milliseconds(2000),
                        int tries = 2);
  // The answer (any rcode) to `name`/`type`; an error when none came (timeout, unreachable,
  // unreadable answers only).
  Result<dns::ResolverAnswer> query(std::string_view name, uint16_t type);
  const sensors::Endpoint& server() const { return server_; }

 private:
  sensors::Endpoint server_;
  std::chrono::milliseconds timeout_;
  int tries_;
  std::mt19937 random_;
};

}  // namespace vantage::sinkhole

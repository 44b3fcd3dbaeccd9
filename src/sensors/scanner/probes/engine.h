#pragma once
// The application-layer probe engine: Boost.Asio on one thread, up to `concurrency`
// connections in flight, each with a connect deadline, a read deadline and a byte cap
// (tarpits cannot hold a slot or memory for long: ZGrab2 issues #163/#165). Outcome
// statuses follow ZGrab2's enum (success, connection-refused, connection-timeout, io-timeout,
// protocol-error, unknown-error) so results map onto its schema.

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "sensors/scanner/probes/probe.h"

namespace vantage::scanner {

struct ProbeJob {
  ProbeTarget target;
  const ProbeModule* module = nullptr;
};

struct EngineOptions {
  size_t concurrency = 1000;
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds read_timeout{5000};
  size_t max_bytes = 64 * 1024;
  double rate = 0;  // probes started per second; 0 = as fast as concurrency allows
};

struct ProbeOutcome {
  ProbeTarget target;
  const ProbeModule* module = nullptr;
  std::string status;                    // ZGrab2 status
  std::optional<nlohmann::json> fields;  // set on success
  std::string error;
  size_t bytes = 0;
};

// Runs every job; `sink` is called once per job, on the calling thread.
void run_probes(const std::vector<ProbeJob>& jobs, const EngineOptions& options,
                const std::function<void(const ProbeOutcome&)>& sink);

}  // namespace vantage::scanner

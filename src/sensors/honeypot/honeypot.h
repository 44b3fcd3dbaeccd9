#pragma once
// The honeypot sensor: the services of registry.cc, each bound where honeypot.listen says,
// on one sensor host (journal, shipper into the pipeline, privilege drop, status file).
// Used by `vantage honeypot` and, as a child process, by `vantage up`.

#include <memory>
#include <string>
#include <vector>

#include "common/result.h"
#include "sensors/common/sensor_host.h"
#include "sensors/honeypot/service.h"

namespace vantage::honeypot {

struct ServiceBinding {
  const ServiceModule* service = nullptr;
  sensors::Endpoint at;
};

// Parses honeypot.listen entries, "name=HOST:PORT" (e.g. "ssh=0.0.0.0:22", "dns=[::]:53").
// An empty list means every built-in service on 127.0.0.1 at its loopback port: nothing is
// exposed to a network unless the operator says so.
Result<std::vector<ServiceBinding>> parse_listen(const std::vector<std::string>& entries);

class Honeypot {
 public:
  // Opens the journal and binds every service (call as root for ports below 1024); nothing
  // is served until start().
  // `any_port_if_busy`: a service whose port is taken listens on a free port instead (for
  // `vantage up`, which must come up whatever else runs on the machine).
  static Result<std::unique_ptr<Honeypot>> create(HoneypotSettings settings,
                                                  const std::vector<ServiceBinding>& services,
                                                  sensors::SensorHostOptions host,
                                                  bool any_port_if_busy = false);
  Status start() { return host_->start(); }
  void stop() { host_->stop(); }
  sensors::SensorHost& host() { return *host_; }
  // service name and where it listens, in the order bound.
  const std::vector<std::pair<std::string, sensors::Endpoint>>& bound() const { return bound_; }

 private:
  Honeypot() = default;
  HoneypotSettings settings_;  // referenced by the services' contexts: lives as long as they do
  std::unique_ptr<sensors::SensorHost> host_;
  std::vector<std::pair<std::string, sensors::Endpoint>> bound_;
};

}  // namespace vantage::honeypot

#pragma once
// The sinkhole sensor (docs/sinkholes.md): an authoritative DNS server for the seized and
// pre-registered domains of the domain file, web and raw listeners on the sinkhole addresses
// those names resolve to, a classifier naming the malware family of each connection, the
// lifecycle watch of the domains, all on one sensor host (journal, shipper into the pipeline,
// privilege drop, status file). Used by `vantage sinkhole` and, as a child process, by
// `vantage up`.
//
// Its services, bound where sinkhole.listen says ("SERVICE=HOST:PORT"):
//   dns    UDP and TCP            event4_sinkhole_dns (aggregated per period, dns_counts.h)
//   http   HTTP                   event4/6_sinkhole_http, _http_referer; event4/6_sinkhole
//   https  HTTP over TLS          the same, with SNI, cipher and JA3
//   tcp    raw TCP, first packet  event4/6_sinkhole
//   udp    raw UDP, each datagram event4/6_sinkhole
// Besides the listeners, threads of its own: the data reloader (domain, families and rules
// files checked every reload_interval and swapped in whole when changed -- no restart, no
// query lost), the DNS counts' maintenance (every second), the lifecycle watch and the
// referer resolver.

#include <memory>
#include <string>
#include <vector>

#include "common/result.h"
#include "sensors/common/sensor_host.h"
#include "sensors/sinkhole/context.h"

namespace vantage::sinkhole {

enum class ServiceKind { kDns, kHttp, kHttps, kTcp, kUdp };

struct ServiceInfo {
  ServiceKind kind;
  std::string name;
  std::string transport;
  uint16_t standard_port;
  uint16_t loopback_port;  // where `vantage up` runs it on 127.0.0.1
  std::vector<std::string> report_types;
  std::string description;
};
const std::vector<ServiceInfo>& services();

struct ServiceBinding {
  const ServiceInfo* service = nullptr;
  sensors::Endpoint at;
};

// Parses sinkhole.listen entries, "name=HOST:PORT" (a name may repeat: several raw ports).
// An empty list means every service on 127.0.0.1 at its loopback port.
Result<std::vector<ServiceBinding>> parse_listen(const std::vector<std::string>& entries);

class DnsWorker;
class DomainWatch;
class RefererResolver;

class Sinkhole {
 public:
  // Loads the data files (an error names the file and line), opens the journal and the DNS
  // counts, binds every service (call as root for ports below 1024); nothing is served until
  // start(). `any_port_if_busy`: a service whose port is taken listens on a free one.
  static Result<std::unique_ptr<Sinkhole>> create(SinkholeSettings settings,
                                                  const std::vector<ServiceBinding>& services,
                                                  sensors::SensorHostOptions host,
                                                  bool any_port_if_busy = false);
  ~Sinkhole();
  Status start();
  void stop();
  sensors::SensorHost& host() { return *host_; }
  const std::vector<std::pair<std::string, sensors::Endpoint>>& bound() const { return bound_; }

  // For tests and `vantage sinkhole --check`.
  CountStore& counts() { return *counts_; }
  Status maintain_counts(UnixSeconds now);  // one maintenance pass of the DNS counts
  Status reload();                          // reloads the data files now
  DomainWatch& watch() { return *watch_; }
  std::shared_ptr<const Snapshot> snapshot() const { return snapshots_.get(); }
  nlohmann::json counters() const;

 private:
  Sinkhole() = default;
  class CountsService;
  class Reloader;
  SinkholeSettings settings_;
  std::unique_ptr<sensors::SensorHost> host_;
  SnapshotBox snapshots_;
  std::unique_ptr<CountStore> counts_;
  std::unique_ptr<AsideLog> malformed_, captures_;
  std::vector<std::unique_ptr<LoopState>> udp_loops_, tcp_loops_;
  std::vector<std::unique_ptr<DnsWorker>> udp_workers_, tcp_workers_;
  Context ctx_;
  DomainWatch* watch_ = nullptr;         // owned by the host
  RefererResolver* referers_ = nullptr;  // owned by the host
  std::vector<std::pair<std::string, sensors::Endpoint>> bound_;
  mutable std::mutex reload_mu_;
  std::string last_reload_error_;
  int64_t reloads_ = 0, reload_failures_ = 0;
};

}  // namespace vantage::sinkhole

#pragma once
// The sinkhole's authoritative DNS server (UDP and TCP): answers for the zones of the domain
// map -- the sinkhole addresses for every name of a sinkholed domain, NS and SOA at its apex,
// NXDOMAIN in our own zone, REFUSED elsewhere -- and counts every query it reads (resolver,
// name, type) in the CountStore before its answer leaves. Response-rate limiting is not done
// here: were it added, it would limit answers only, never counting.

#include <memory>
#include <string>
#include <string_view>

#include "common/result.h"
#include "sensors/common/tcp_reactor.h"
#include "sensors/sinkhole/context.h"
#include "sensors/sinkhole/dns_message.h"

namespace vantage::sinkhole {

// One loop thread's DNS work: parse, answer, count. Not thread-safe (one per thread).
class DnsWorker {
 public:
  // `writer`: this thread's CountStore writer; `loop`: its state. Both outlive the worker.
  DnsWorker(const Context& ctx, int writer, LoopState& loop);

  // Answers `msg` from `peer` into `answer` (left empty when nothing is to be sent) and adds
  // the query's count line to the writer's pending lines (commit() is the caller's, once per
  // batch, before the answers are sent).
  void handle(std::string_view msg, const sensors::Endpoint& peer, bool tcp, std::string& answer);
  int writer() const { return writer_; }

 private:
  void answer_zone(const Snapshot& snap, const ZoneEntry& zone, bool own, std::string& answer,
                   size_t limit);
  const Context& ctx_;
  int writer_;
  Counters* counters_;
  SnapshotBox::View& view_;
  dns::Query q_;
  std::string name_;
  std::vector<dns::WireName> nameservers_;
  std::vector<std::string> nameserver_text_;
  std::vector<uint32_t> v4_;
  std::vector<IpAddress> v6_;
};

// Installs the UDP listener and (if `tcp`) the TCP listener at `at`; the TCP one gets the
// same port as the UDP one when `at` asks for port 0.
Result<sensors::Endpoint> install_dns(Context& ctx, const sensors::Endpoint& at,
                                      std::vector<std::unique_ptr<DnsWorker>>& udp_workers,
                                      std::vector<std::unique_ptr<DnsWorker>>& tcp_workers);

}  // namespace vantage::sinkhole

#pragma once
// `vantage up`'s demo attacker: real brute-force tools (Debian's hydra) against the
// honeypot's login services every few minutes, so that the dashboard and the demo
// organisations' reports show honeypot data from the start. Everything it causes is marked
// as demo data: every password it tries starts with "demo-", and the honeypot it attacks in a
// namespace tags its rows "demo" and calls itself "vantage-demo-attacker" (public_source).
//
// Two ways, chosen at start:
//   * as root, with iproute2 and hydra: two private network namespaces joined by a veth pair.
//     A second honeypot (its own state under <data_dir>/demo/attack-sensor) listens in one of
//     them on the services' standard ports of 169.254.77.1; hydra in the other connects from
//     `source`, an address of a demo organisation's network, so the events it causes land in
//     that organisation's reports. No host address, route or rule is touched; the traffic never
//     leaves the two namespaces, which are deleted when `up` stops. The honeypot in the
//     namespace ships into a directory of its own, which this job moves into the inbox (it runs
//     as the sensor user, the inbox is not its to write).
//   * otherwise: hydra against the loopback honeypot that `up` runs, from 127.0.0.1 (the events
//     reach the dashboard's statistics, not an organisation's report).
// Without hydra there is no demo attacker (said once on stderr).

#include <chrono>
#include <string>

#include "registry/registry.h"
#include "service/service.h"

namespace vantage::cli {

using service::ServiceInfo;

struct DemoAttackOptions {
  std::string vantage;   // this binary
  std::string data_dir;  // `up`'s
  std::string source;    // the attacker's IPv4 address; empty: loopback only
  std::string sensor_user = "nobody";
  std::chrono::seconds first{20};
  std::chrono::seconds interval{300};
};

// The address the demo attacker uses: the first host address of the network of the demo
// organisation claimed by CIDR ("demo_net_*"); empty when there is none.
std::string demo_attacker_address(registry::Registry& registry);

// Runs until the service stops (a ServiceHooks job).
void run_demo_attacks(const DemoAttackOptions& options, const ServiceInfo& info);

}  // namespace vantage::cli

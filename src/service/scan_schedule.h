#pragma once
// Scheduled scanning inside `vantage serve` / `vantage up` (scan.enabled with scan.schedule):
// each module of the schedule probes its default port over its target set on its interval;
// events land in the inbox as JSON Lines (so they go through the pipeline like any input) and
// every run is recorded in <data_dir>/scan_state.json (sensors/scanner/schedule.h).
//
// Target sets: the entry's own CIDRs, else scan.targets, else every CIDR the registry holds
// for the constituency (resources not rejected). IPv4 prefixes are probed address by address
// (connect probes; at most scan.max_addresses); IPv6 prefixes cannot be swept, so they are
// replaced by the hit list of IPv6 addresses the pipeline has seen inside them (events of the
// last 30 days). The built-in blocklist applies, lifted only by scan.allow_reserved.

#include <functional>
#include <string>
#include <vector>

#include "common/ip.h"
#include "common/result.h"
#include "service/service.h"

namespace vantage::service {

// The background job; nothing to do (returns at once) unless scan.enabled and scan.schedule.
std::function<void(const ServiceInfo&)> scan_schedule_job(const GlobalOptions& global);

// Distinct IPv6 addresses of stored events of the last `days` days, inside `within` when it
// is not empty (the `vantage hitlist` export and the scheduler's IPv6 target sets).
Result<std::vector<IpAddress>> ipv6_hitlist(const GlobalOptions& global, int days,
                                            const std::vector<IpPrefix>& within);

}  // namespace vantage::service

#pragma once
// What the listening sensors (honeypot, sinkhole) say about themselves in their status files
// (<data_dir>/sensors/<sensor>/status.json, rewritten every few seconds by the running sensor),
// for `vantage status` and the service's /metrics: when each last reported, its events and
// shipping, and every problem a sensor service lists (the sinkhole's lifecycle watch: lost
// delegations, lapsing registrations).

#include <string>

namespace vantage::service {

// Human-readable lines for `vantage status` ("" when no sensor has a status file).
std::string sensor_status_text(const std::string& data_dir);

// Prometheus text: per sensor its journal and shipper counters and the problems its services
// list; the sinkhole's DNS query count.
std::string sensor_metrics(const std::string& data_dir);

}  // namespace vantage::service

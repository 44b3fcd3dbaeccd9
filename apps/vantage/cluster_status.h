#pragma once
// What the cluster mode reports about itself: the bus (JetStream stream and consumer info)
// and the workers of this data directory (each writes <data_dir>/cluster/worker-<pid>.json
// every second). Used by `vantage status`, `vantage cluster status` and /metrics.

#include <cstdint>
#include <string>

#include "bus/jetstream.h"
#include "commands.h"

namespace vantage::cli {

// The bus settings from the configuration (cluster.*).
bus::BusOptions bus_options(const config::Config& c);

// Sums over the live workers' state files.
struct WorkerTotals {
  int workers = 0;
  int64_t messages = 0;  // bus messages ingested and acknowledged
  int64_t records = 0;   // input records read
  int64_t accepted = 0;
  int64_t rejected = 0;      // quarantined records
  int64_t redeliveries = 0;  // messages delivered more than once
  int64_t already_done = 0;  // redelivered messages the store had committed (skipped)
  int64_t set_aside = 0;     // messages that could not be ingested (kept in cluster/rejected/)
  int64_t errors = 0;        // store or bus errors (the message is redelivered)
  double events_per_s = 0;   // accepted events per second over the last interval
};
WorkerTotals worker_totals(const std::string& data_dir);
std::string worker_state_dir(const std::string& data_dir);

// Prometheus text: bus and worker gauges/counters; vantage_bus_up 0 when NATS is unreachable.
std::string cluster_metrics(const GlobalOptions& global);
// The ClickHouse shards of the cluster store, one line each with its rows and bytes, or DOWN
// with the reason ("" when the store is the embedded one).
std::string store_shards_text(const GlobalOptions& global);
// The status section (human-readable lines; the shards' lines included).
std::string cluster_status_text(const GlobalOptions& global);

}  // namespace vantage::cli

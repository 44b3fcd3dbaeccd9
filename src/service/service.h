#pragma once
// The long-running service behind `vantage serve` and `vantage up`: one HTTP server (push
// endpoint, api2, downloads, dashboard, /healthz, /metrics), the inbox watch, day close and
// retention. `vantage up` adds its own background jobs (the scan schedule, the synthetic
// feed) through ServiceHooks.

#include <atomic>
#include <functional>
#include <string>
#include <vector>

#include "common/time.h"
#include "service/options.h"

namespace vantage::service {

// What a background job learns when the service is up.
struct ServiceInfo {
  std::string base_url;                     // "http://127.0.0.1:8080"
  std::string inbox;                        // directory watched for input files
  const std::atomic<bool>* stop = nullptr;  // set on Ctrl-C / SIGTERM: return promptly
  // Builds (and, with SMTP configured, mails) one day's reports, as day close does.
  std::function<void(DayNumber)> build_reports;
};

struct ServiceHooks {
  std::string command = "serve";  // for messages
  std::string listen;             // HOST:PORT; empty: api.listen
  bool day_close = true;
  // false: no push endpoint and no inbox watch (the cluster's reporter and api roles, whose
  // store the workers write).
  bool local_ingest = true;
  // Appended to /metrics (the cluster's bus and worker figures).
  std::function<std::string()> extra_metrics;
  // When the configured port is taken, serve on a free port instead of failing.
  bool fall_back_to_free_port = false;
  // Called once on the main thread after the server listens and the jobs started.
  std::function<void(const ServiceInfo&)> on_ready;
  // Each runs on its own thread until *info.stop; the service joins them before exiting.
  std::vector<std::function<void(const ServiceInfo&)>> jobs;
};

// Runs until SIGINT/SIGTERM. Throws CommandFailed when the service cannot start.
void run_service(const GlobalOptions& global, const ServiceHooks& hooks);

}  // namespace vantage::service

#pragma once
// Child processes of the long-running service (`vantage up`'s jobs): a bounded run of a tool,
// and a child kept running until the service stops. Both stop their child promptly when the
// service is stopping.

#include <atomic>
#include <chrono>
#include <string>
#include <vector>

#include "service/service.h"

namespace vantage::cli {

using service::ServiceInfo;

// Sleeps up to `d`, returning early (false) when the service is stopping.
bool sleep_unless_stopped(const ServiceInfo& info, std::chrono::milliseconds d);

// Runs `argv` (argv[0] a path) with a time limit, in `cwd` when given; output goes to the log
// file. Returns the exit status, -1 when it could not start, ran over or was stopped.
int run_bounded(const std::vector<std::string>& argv, const std::string& log,
                std::chrono::seconds limit, const std::atomic<bool>& stop,
                const std::string& cwd = {});

// Keeps `argv` running until the service stops: output to `log`, `env_extra` ("NAME=value")
// added to the environment (secrets travel there, not in argv where `ps` shows them), a
// crashed child restarted with growing back-off, SIGTERM on stop (SIGKILL if it lingers).
void run_supervised(const std::vector<std::string>& argv, const std::vector<std::string>& env_extra,
                    const std::string& log, const ServiceInfo& info);

}  // namespace vantage::cli

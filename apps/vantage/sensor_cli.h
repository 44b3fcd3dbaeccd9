#pragma once
// What the listening-sensor commands (`vantage honeypot`, `vantage sinkhole`) share: where
// their events go (push endpoint or local inbox, from [sensor] settings and flags), the
// host's options, and running until Ctrl-C / SIGTERM / --duration.

#include <chrono>
#include <memory>
#include <string>

#include "commands.h"
#include "sensors/common/sensor_host.h"

namespace vantage::cli {

struct SensorFlags {
  std::string push_url;  // overrides sensor.push_url
  std::string inbox;     // overrides the default inbox
  std::string user;      // overrides sensor.user
  int duration_s = 0;    // 0: until stopped
};

// The host's options for `sensor` ("honeypot", "sinkhole"): state under
// <data_dir>/sensors/<sensor>, the destination, the user. Throws CommandFailed on bad input.
sensors::SensorHostOptions sensor_host_options(const GlobalOptions& global, const SensorFlags& f,
                                               const std::string& sensor, int threads,
                                               size_t max_connections);

// Starts the host (privileges drop here), checks that the destination is usable by the user
// the sensor now runs as, then serves until SIGINT/SIGTERM or the duration, writing the status
// file every few seconds; stops cleanly (events flushed and shipped).
void run_sensor(sensors::SensorHost& host, const SensorFlags& f, const std::string& sensor);

void add_sensor_flags(CLI::App* cmd, SensorFlags& f);

}  // namespace vantage::cli

#include "sensor_cli.h"

#include <atomic>
#include <csignal>
#include <filesystem>
#include <iostream>
#include <thread>

namespace vantage::cli {

namespace {

std::atomic<bool> g_sensor_stop{false};
void on_sensor_signal(int) {
  g_sensor_stop.store(true);
}

std::string inbox_of(const GlobalOptions& global, const SensorFlags& f) {
  if (!f.inbox.empty()) return f.inbox;
  if (!global.config.inbox_dir.empty()) return global.config.inbox_dir;
  return global.data_dir + "/inbox";
}

}  // namespace

void add_sensor_flags(CLI::App* cmd, SensorFlags& f) {
  cmd->add_option("--push", f.push_url,
                  "Ship events to this push endpoint (http://HOST:PORT/ingest) with "
                  "sensor.ingest_key / VANTAGE_SENSOR_INGEST_SECRET (default: sensor.push_url)");
  cmd->add_option("--inbox", f.inbox,
                  "Ship events into this inbox directory (default: the data directory's)");
  cmd->add_option("--user", f.user, "User to switch to after binding, when root (sensor.user)");
  cmd->add_option("--duration", f.duration_s, "Stop after this many seconds (0: run until stopped)")
      ->check(CLI::Range(0, 100000000));
}

sensors::SensorHostOptions sensor_host_options(const GlobalOptions& global, const SensorFlags& f,
                                               const std::string& sensor, int threads,
                                               size_t max_connections) {
  sensors::SensorHostOptions o;
  o.sensor = sensor;
  o.state_dir = global.data_dir + "/sensors/" + sensor;
  o.tcp_threads = threads;
  o.udp_threads = threads;
  o.max_connections = max_connections;
  o.user = f.user.empty() ? global.config.sensor_user : f.user;
  std::string push = f.push_url.empty() ? global.config.sensor_push_url : f.push_url;
  if (!push.empty() && f.inbox.empty()) {
    if (global.config.sensor_ingest_key.empty() || global.config.sensor_ingest_secret.empty()) {
      std::cerr << "vantage " << sensor << ": pushing to " << push
                << " needs sensor.ingest_key and sensor.ingest_secret (or "
                   "VANTAGE_SENSOR_INGEST_KEY / VANTAGE_SENSOR_INGEST_SECRET)\n";
      throw CommandFailed(2);
    }
    o.destination = sensors::push_destination(
        {push, global.config.sensor_ingest_key, global.config.sensor_ingest_secret});
  } else {
    std::error_code ec;
    std::filesystem::create_directories(inbox_of(global, f), ec);
    o.destination = sensors::inbox_destination(inbox_of(global, f));
  }
  return o;
}

void run_sensor(sensors::SensorHost& host, const SensorFlags& f, const std::string& sensor) {
  if (auto st = host.start(); !st) {
    std::cerr << "vantage " << sensor << ": " << st.message() << "\n";
    if (st.error().code == ErrorCode::kPermissionDenied) {
      std::cerr << "  (ship with --push / sensor.push_url instead, or choose a sensor.user that "
                   "may write there)\n";
    }
    throw CommandFailed(1);
  }
  std::signal(SIGINT, on_sensor_signal);
  std::signal(SIGTERM, on_sensor_signal);
  auto started = std::chrono::steady_clock::now();
  auto next_status = started;
  while (!g_sensor_stop.load()) {
    auto now = std::chrono::steady_clock::now();
    if (f.duration_s > 0 && now - started >= std::chrono::seconds(f.duration_s)) break;
    if (now >= next_status) {
      host.write_status();
      next_status = now + std::chrono::seconds(5);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  std::cerr << "vantage " << sensor << ": stopping (flushing events)\n";
  host.stop();
  host.write_status();
}

}  // namespace vantage::cli

// `vantage honeypot`: the honeypot services (src/sensors/honeypot/registry.cc) on the
// addresses honeypot.listen gives (default: every service on 127.0.0.1 at its loopback
// port), logging what attackers do as event4_honeypot_* events into the pipeline.
//   vantage honeypot --list                     the services, ports and report types
//   vantage honeypot [--listen redis=0.0.0.0:6379 ...] [--push URL | --inbox DIR]

#include <iostream>

#include "commands.h"
#include "common/strings.h"
#include "sensor_cli.h"
#include "sensors/honeypot/honeypot.h"
#include "service/runtime.h"

namespace vantage::cli {

using service::resolve_data_path;

namespace {

struct HoneypotFlags {
  std::vector<std::string> listen;
  bool list = false;
  bool any_port_if_busy = false;
  SensorFlags sensor;
};

void list_services() {
  std::cout << "service      transport  port   loopback  reports\n";
  for (const auto& s : honeypot::builtin_services()) {
    std::string name = s.name;
    name.resize(std::max<size_t>(name.size(), 12), ' ');
    std::string t = honeypot::transport_name(s.transport);
    t.resize(10, ' ');
    std::string port = std::to_string(s.standard_port);
    port.resize(6, ' ');
    std::string lp = std::to_string(s.loopback_port);
    lp.resize(9, ' ');
    std::cout << name << " " << t << " " << port << " " << lp << " " << join(s.report_types, ",")
              << "\n             " << s.description << "\n";
  }
}

void run_honeypot(const HoneypotFlags& f, const GlobalOptions& global) {
  if (f.list) {
    list_services();
    return;
  }
  const auto& c = global.config;
  auto bindings = honeypot::parse_listen(f.listen.empty() ? c.honeypot_listen : f.listen);
  if (!bindings) {
    std::cerr << "vantage honeypot: " << bindings.error().message << "\n";
    throw CommandFailed(2);
  }
  honeypot::HoneypotSettings settings;
  settings.sensor_name = c.honeypot_sensor_name;
  settings.mode = c.honeypot_mode;
  settings.rules_dir = resolve_data_path(c.honeypot_rules_dir);
  settings.idle_timeout = std::chrono::seconds(c.honeypot_idle_timeout_s);
  settings.session_timeout = std::chrono::seconds(c.honeypot_session_timeout_s);
  settings.max_attempts = static_cast<int>(c.honeypot_max_attempts);
  settings.ssh_host_key = c.honeypot_ssh_host_key;
  settings.ssh_version = c.honeypot_ssh_version;
  settings.extra_tag = c.honeypot_extra_tag;
  settings.scan.http_server = c.honeypot_http_server;
  settings.scan.tls_cert = c.honeypot_tls_cert;
  settings.scan.tls_key = c.honeypot_tls_key;
  settings.scan.amp.replies_per_minute = c.honeypot_amp_replies_per_minute;
  settings.scan.amp.reply_bytes_per_minute = c.honeypot_amp_reply_bytes_per_minute;
  settings.scan.amp.attack_min_requests = c.honeypot_amp_attack_min_requests;
  settings.scan.amp.attack_idle = std::chrono::seconds(c.honeypot_amp_attack_idle_s);
  settings.scan.amp.max_tracked_sources = static_cast<size_t>(c.honeypot_amp_max_tracked);
  settings.scan.darknet.interval = std::chrono::seconds(c.honeypot_darknet_interval_s);
  settings.scan.darknet.max_tracked = static_cast<size_t>(c.honeypot_darknet_max_tracked);
  auto host =
      sensor_host_options(global, f.sensor, "honeypot", static_cast<int>(c.honeypot_threads),
                          static_cast<size_t>(c.honeypot_max_connections));
  auto hp = honeypot::Honeypot::create(settings, *bindings, std::move(host), f.any_port_if_busy);
  if (!hp) {
    std::cerr << "vantage honeypot: " << hp.error().message << "\n";
    throw CommandFailed(1);
  }
  for (const auto& [name, at] : (*hp)->bound()) {
    std::cout << "honeypot: " << name << " listening on " << at.to_string() << "\n";
  }
  std::cout << std::flush;
  run_sensor((*hp)->host(), f.sensor, "honeypot");
}

}  // namespace

void add_honeypot_command(CLI::App& app, GlobalOptions& global) {
  auto f = std::make_shared<HoneypotFlags>();
  auto* cmd = app.add_subcommand(
      "honeypot",
      "Run the honeypot services (brute force, scans, amplification) and feed what they see "
      "into the pipeline");
  cmd->add_option("--listen", f->listen,
                  "SERVICE=HOST:PORT, repeatable (default: honeypot.listen; empty: every "
                  "service on 127.0.0.1)");
  cmd->add_flag("--list", f->list, "List the services and exit");
  cmd->add_flag("--any-port-if-busy", f->any_port_if_busy,
                "A service whose port is taken listens on a free port instead");
  add_sensor_flags(cmd, f->sensor);
  cmd->callback([f, &global] { run_honeypot(*f, global); });
}

}  // namespace vantage::cli

// `vantage sinkhole`: the sinkhole sensor (src/sensors/sinkhole, docs/sinkholes.md) -- the
// authoritative DNS server of the sinkholed domains and the web and raw listeners on the
// sinkhole addresses -- logging every bot that calls home as event4_sinkhole* events into the
// pipeline.
//   vantage sinkhole --list                     the services, ports and report types
//   vantage sinkhole --check                    load the data files, say what they hold
//   vantage sinkhole [--listen dns=0.0.0.0:53 ...] [--push URL | --inbox DIR]

#include <iostream>

#include "commands.h"
#include "common/strings.h"
#include "sensor_cli.h"
#include "sensors/sinkhole/sinkhole.h"
#include "service/runtime.h"

namespace vantage::cli {

using service::resolve_data_path;

namespace {

struct SinkholeFlags {
  std::vector<std::string> listen;
  bool list = false;
  bool check = false;
  bool any_port_if_busy = false;
  SensorFlags sensor;
};

void list_services() {
  std::cout << "service  transport  port  loopback  reports\n";
  for (const auto& s : sinkhole::services()) {
    std::string name = s.name;
    name.resize(8, ' ');
    std::string t = s.transport;
    t.resize(10, ' ');
    std::string port = s.standard_port ? std::to_string(s.standard_port) : "any";
    port.resize(5, ' ');
    std::string lp = std::to_string(s.loopback_port);
    lp.resize(9, ' ');
    std::cout << name << " " << t << " " << port << " " << lp << " " << join(s.report_types, ",")
              << "\n         " << s.description << "\n";
  }
}

sinkhole::SinkholeSettings settings_from(const config::Config& c) {
  sinkhole::SinkholeSettings s;
  s.sensor_name = c.sinkhole_sensor_name;
  // Relative paths: from the working directory, else from the installation (runtime.h).
  s.domains_file = resolve_data_path(c.sinkhole_domains);
  s.families_file = resolve_data_path(c.sinkhole_families);
  s.rules_file = resolve_data_path(c.sinkhole_rules);
  for (const auto& a : c.sinkhole_addresses) {
    auto ip = IpAddress::parse(a);
    if (!ip) {
      std::cerr << "vantage sinkhole: sinkhole.addresses: '" << a << "' is not an address\n";
      throw CommandFailed(2);
    }
    s.addresses.push_back(*ip);
  }
  s.nameservers = c.sinkhole_nameservers;
  s.ttl = static_cast<uint32_t>(c.sinkhole_ttl);
  s.dns_period_s = c.sinkhole_dns_period_s;
  if (86400 % s.dns_period_s != 0) {
    std::cerr << "vantage sinkhole: sinkhole.dns_period_s must divide 86400\n";
    throw CommandFailed(2);
  }
  s.dga_slack_days = static_cast<int>(c.sinkhole_dga_slack_days);
  s.tls_cert = resolve_data_path(c.sinkhole_tls_cert);
  s.tls_key = resolve_data_path(c.sinkhole_tls_key);
  s.idle_timeout = std::chrono::seconds(c.sinkhole_idle_timeout_s);
  s.session_timeout = std::chrono::seconds(c.sinkhole_session_timeout_s);
  s.first_packet_bytes = static_cast<size_t>(c.sinkhole_first_packet_bytes);
  s.reload_interval = std::chrono::seconds(c.sinkhole_reload_interval_s);
  s.resolver = c.sinkhole_resolver;
  s.watch_interval = std::chrono::seconds(c.sinkhole_watch_interval_s);
  s.expiry_warn_days = static_cast<int>(c.sinkhole_expiry_warn_days);
  s.watch_dga_sample = static_cast<int>(c.sinkhole_watch_dga_sample);
  return s;
}

void check_data(const sinkhole::SinkholeSettings& s) {
  auto snap = sinkhole::load_snapshot(s, today());
  if (!snap) {
    std::cerr << "vantage sinkhole: " << snap.error().message << "\n";
    throw CommandFailed(1);
  }
  const auto& d = *(*snap)->domains;
  size_t own = 0, listed = 0, generated = 0, active = 0;
  for (const auto& e : d.entries()) {
    if (e.kind == sinkhole::ZoneEntry::Kind::kOwn)
      ++own;
    else if (e.generated)
      ++generated;
    else
      ++listed;
    active += e.active(today()) ? 1 : 0;
  }
  std::cout << s.families_file << ": " << (*snap)->families.size() << " families\n"
            << s.rules_file << ": " << (*snap)->classifier.http_rules() << " HTTP rules, "
            << (*snap)->classifier.raw_rules() << " raw rules\n"
            << s.domains_file << ": " << own << " own zone(s), " << listed << " domains, "
            << d.dga_lines().size() << " DGA lines giving " << generated
            << " domains around today; " << active << " answered today\n";
}

void run_sinkhole(const SinkholeFlags& f, const GlobalOptions& global) {
  if (f.list) {
    list_services();
    return;
  }
  const auto& c = global.config;
  auto settings = settings_from(c);
  if (f.check) {
    check_data(settings);
    return;
  }
  auto bindings = sinkhole::parse_listen(f.listen.empty() ? c.sinkhole_listen : f.listen);
  if (!bindings) {
    std::cerr << "vantage sinkhole: " << bindings.error().message << "\n";
    throw CommandFailed(2);
  }
  auto host =
      sensor_host_options(global, f.sensor, "sinkhole", static_cast<int>(c.sinkhole_threads),
                          static_cast<size_t>(c.sinkhole_max_connections));
  auto sk = sinkhole::Sinkhole::create(std::move(settings), *bindings, std::move(host),
                                       f.any_port_if_busy);
  if (!sk) {
    std::cerr << "vantage sinkhole: " << sk.error().message << "\n";
    throw CommandFailed(1);
  }
  for (const auto& [name, at] : (*sk)->bound()) {
    std::cout << "sinkhole: " << name << " listening on " << at.to_string() << "\n";
  }
  std::cout << std::flush;
  // The sinkhole's own start: periods of DNS counts that ended while it was down go out first.
  if (auto st = (*sk)->maintain_counts(now_seconds()); !st) {
    std::cerr << "vantage sinkhole: DNS counts: " << st.message() << "\n";
  }
  run_sensor((*sk)->host(), f.sensor, "sinkhole");
}

}  // namespace

void add_sinkhole_command(CLI::App& app, GlobalOptions& global) {
  auto f = std::make_shared<SinkholeFlags>();
  auto* cmd = app.add_subcommand(
      "sinkhole",
      "Run the sinkhole (authoritative DNS for seized domains, web and raw listeners) and feed "
      "the bots that call home into the pipeline");
  cmd->add_option("--listen", f->listen,
                  "SERVICE=HOST:PORT, repeatable (default: sinkhole.listen; empty: every "
                  "service on 127.0.0.1)");
  cmd->add_flag("--list", f->list, "List the services and exit");
  cmd->add_flag("--check", f->check, "Load the domain, families and rules files, summarise, exit");
  cmd->add_flag("--any-port-if-busy", f->any_port_if_busy,
                "A service whose port is taken listens on a free port instead");
  add_sensor_flags(cmd, f->sensor);
  cmd->callback([f, &global] { run_sinkhole(*f, global); });
}

}  // namespace vantage::cli

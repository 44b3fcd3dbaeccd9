#include "demo_attacks.h"

#include <pwd.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <thread>

#include "child_process.h"
#include "common/ip.h"
#include "common/strings.h"
#include "sensors/honeypot/service.h"

namespace vantage::cli {

using service::ServiceInfo;

namespace {

namespace fs = std::filesystem;

// The honeypot's address inside its namespace (link-local: never routed anywhere).
constexpr char kHoneypotAddress[] = "169.254.77.1";
// The login services attacked, in this order.
constexpr const char* kServices[] = {"ssh", "telnet", "ftp", "mysql", "vnc", "redis"};

std::string find_tool(const std::string& name) {
  std::string path = getenv("PATH") ? getenv("PATH") : "";
  path += ":/usr/sbin:/sbin:/usr/bin:/bin";
  for (auto dir : split(path, ':')) {
    if (dir.empty()) continue;
    std::string candidate = std::string(dir) + "/" + name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return {};
}

// Where the loopback honeypot of `up` listens, per service, from its status file.
std::map<std::string, std::string> loopback_listeners(const std::string& data_dir) {
  std::map<std::string, std::string> out;
  std::ifstream in(data_dir + "/sensors/honeypot/status.json");
  auto j = nlohmann::json::parse(in, nullptr, false);
  if (j.is_discarded() || !j.contains("listeners")) return out;
  for (const auto& l : j["listeners"]) {
    if (l.contains("listen")) out[l.value("service", "")] = l.value("listen", "");
  }
  return out;
}

class DemoAttacker {
 public:
  DemoAttacker(const DemoAttackOptions& o, const ServiceInfo& info)
      : o_(o), info_(info), dir_(o.data_dir + "/demo"), log_(dir_ + "/attacks.log") {
    std::string tag = std::to_string(::getpid());
    ns_honeypot_ = "vantage-demo-hp-" + tag;
    ns_attacker_ = "vantage-demo-atk-" + tag;
    veth_honeypot_ = "vdh" + tag;
    veth_attacker_ = "vda" + tag;
  }

  void run() {
    hydra_ = find_tool("hydra");
    if (hydra_.empty()) {
      std::cerr << "vantage up: hydra not installed: no demo attacker (the honeypots still "
                   "run)\n";
      return;
    }
    std::error_code ec;
    fs::create_directories(dir_, ec);
    write_lists();
    ip_ = find_tool("ip");
    bool in_namespaces = ::geteuid() == 0 && !ip_.empty() && !o_.source.empty() && setup();
    if (!in_namespaces) {
      std::cerr << "vantage up: demo attacker on loopback (from 127.0.0.1: its events reach "
                   "the dashboard, not an organisation's report; "
                << (o_.source.empty()  ? "no demo organisation claimed by CIDR"
                    : ::geteuid() != 0 ? "not root, so no private network namespace"
                                       : "network namespaces unavailable, see " + log_)
                << ")\n";
    }
    std::thread honeypot;
    if (in_namespaces) honeypot = std::thread([this] { run_namespace_honeypot(); });
    auto wait = std::chrono::milliseconds(o_.first);
    for (int round = 1; sleep_moving(wait); ++round) {
      attack(in_namespaces);
      wait = std::chrono::milliseconds(o_.interval);
    }
    if (honeypot.joinable()) honeypot.join();
    move_events();
    if (in_namespaces) teardown();
  }

 private:
  int ip(std::vector<std::string> args) {
    args.insert(args.begin(), ip_);
    return run_bounded(args, log_, std::chrono::seconds(10), *info_.stop);
  }

  // Two namespaces and a veth pair between them; addresses and routes only inside them.
  bool setup() {
    remove_orphaned_namespaces();
    teardown();  // what a killed run with our pid left
    std::string src = o_.source + "/32";
    std::string hp = std::string(kHoneypotAddress) + "/32";
    const std::vector<std::vector<std::string>> steps = {
        {"netns", "add", ns_honeypot_},
        {"netns", "add", ns_attacker_},
        {"link", "add", veth_honeypot_, "netns", ns_honeypot_, "type", "veth", "peer", "name",
         veth_attacker_, "netns", ns_attacker_},
        {"-n", ns_honeypot_, "addr", "add", hp, "dev", veth_honeypot_},
        {"-n", ns_honeypot_, "link", "set", "lo", "up"},
        {"-n", ns_honeypot_, "link", "set", veth_honeypot_, "up"},
        {"-n", ns_honeypot_, "route", "add", src, "dev", veth_honeypot_},
        {"-n", ns_attacker_, "addr", "add", src, "dev", veth_attacker_},
        {"-n", ns_attacker_, "link", "set", "lo", "up"},
        {"-n", ns_attacker_, "link", "set", veth_attacker_, "up"},
        {"-n", ns_attacker_, "route", "add", hp, "dev", veth_attacker_},
    };
    for (const auto& s : steps) {
      if (ip(s) != 0) {
        teardown();
        return false;
      }
    }
    // The namespace honeypot drops to the sensor user: its inbox must be that user's.
    attack_inbox_ = dir_ + "/attack-inbox";
    std::error_code ec;
    fs::create_directories(attack_inbox_, ec);
    if (const passwd* pw = ::getpwnam(o_.sensor_user.c_str())) {
      (void)!::chown(attack_inbox_.c_str(), pw->pw_uid, pw->pw_gid);
    }
    return true;
  }

  void teardown() {
    if (ip_.empty()) return;
    for (const auto& ns : {ns_honeypot_, ns_attacker_}) {
      if (fs::exists("/run/netns/" + ns)) delete_namespace(ns);
    }
  }

  // The namespaces of a run killed with SIGKILL (it could not tear them down) carry its pid:
  // those whose process is gone are removed before this run makes its own.
  void remove_orphaned_namespaces() {
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator("/run/netns", ec)) {
      std::string name = entry.path().filename().string();
      for (const char* prefix : {"vantage-demo-hp-", "vantage-demo-atk-"}) {
        if (name.rfind(prefix, 0) != 0) continue;
        auto pid = parse_int(std::string_view(name).substr(std::strlen(prefix)));
        if (pid && *pid > 1 && ::kill(static_cast<pid_t>(*pid), 0) != 0 && errno == ESRCH) {
          delete_namespace(name);
        }
      }
    }
  }

  void delete_namespace(const std::string& ns) {
    std::vector<std::string> del = {ip_, "netns", "del", ns};
    std::atomic<bool> never{false};  // cleanup runs while the service stops
    run_bounded(del, log_, std::chrono::seconds(10), never);
  }

  // The second honeypot, inside its namespace on the standard ports, until `up` stops.
  void run_namespace_honeypot() {
    std::vector<std::string> argv = {ip_,
                                     "netns",
                                     "exec",
                                     ns_honeypot_,
                                     o_.vantage,
                                     "--data-dir",
                                     dir_ + "/attack-sensor",
                                     "honeypot",
                                     "--inbox",
                                     attack_inbox_};
    for (const char* name : kServices) {
      const auto* s = honeypot::find_service(name);
      if (!s) continue;
      argv.push_back("--listen");
      argv.push_back(std::string(name) + "=" + kHoneypotAddress + ":" +
                     std::to_string(s->standard_port));
    }
    run_supervised(
        argv,
        {"VANTAGE_HONEYPOT_SENSOR_NAME=vantage-demo-attacker", "VANTAGE_HONEYPOT_EXTRA_TAG=demo"},
        dir_ + "/attack-honeypot.log", info_);
  }

  // Sleeps like sleep_unless_stopped, moving the namespace honeypot's events meanwhile.
  bool sleep_moving(std::chrono::milliseconds d) {
    auto until = std::chrono::steady_clock::now() + d;
    while (std::chrono::steady_clock::now() < until) {
      move_events();
      if (!sleep_unless_stopped(info_, std::chrono::seconds(1))) return false;
    }
    return true;
  }

  void move_events() {
    if (attack_inbox_.empty()) return;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(attack_inbox_, ec)) {
      std::string name = e.path().filename().string();
      if (name.size() < 6 || name.substr(name.size() - 6) != ".jsonl") continue;
      fs::rename(e.path(), info_.inbox + "/demo-attack-" + name, ec);
    }
  }

  void write_lists() {
    std::ofstream(dir_ + "/attack-users") << "root\nadmin\n";
    // "demo-": these attempts are the demo's own, whoever reads the report.
    std::ofstream(dir_ + "/attack-passwords") << "demo-123456\ndemo-admin\ndemo-password\n";
  }

  void attack(bool in_namespaces) {
    auto loopback =
        in_namespaces ? std::map<std::string, std::string>{} : loopback_listeners(o_.data_dir);
    for (const char* name : kServices) {
      if (info_.stop->load()) return;
      std::string host, port;
      if (in_namespaces) {
        const auto* s = honeypot::find_service(name);
        if (!s) continue;
        host = kHoneypotAddress;
        port = std::to_string(s->standard_port);
      } else {
        auto it = loopback.find(name);
        if (it == loopback.end()) continue;
        size_t colon = it->second.rfind(':');
        host = it->second.substr(0, colon);
        port = it->second.substr(colon + 1);
      }
      std::vector<std::string> argv;
      if (in_namespaces) argv = {ip_, "netns", "exec", ns_attacker_};
      argv.insert(argv.end(), {hydra_, "-I", "-t", "2", "-s", port});
      if (std::string_view(name) != "vnc" && std::string_view(name) != "redis") {
        argv.insert(argv.end(), {"-L", dir_ + "/attack-users"});
      }
      argv.insert(argv.end(), {"-P", dir_ + "/attack-passwords", host, name});
      run_bounded(argv, log_, std::chrono::seconds(60), *info_.stop, dir_);
    }
  }

  DemoAttackOptions o_;
  const ServiceInfo& info_;
  std::string dir_, log_, hydra_, ip_, attack_inbox_;
  std::string ns_honeypot_, ns_attacker_, veth_honeypot_, veth_attacker_;
};

}  // namespace

std::string demo_attacker_address(registry::Registry& registry) {
  auto orgs = registry.list_orgs();
  if (!orgs) return {};
  for (const auto& org : *orgs) {
    if (org.short_name.rfind("demo_net_", 0) != 0) continue;
    auto rec = registry.org_record(org.id);
    if (!rec) continue;
    for (const auto& r : rec->resources) {
      if (r.kind != registry::ResourceKind::kCidr) continue;
      auto p = IpPrefix::parse(r.value);
      if (!p || !p->prefix.address().is_v4() || p->prefix.length() > 30) continue;
      return IpAddress::from_v4(p->prefix.address().v4() + 1).to_string();
    }
  }
  return {};
}

void run_demo_attacks(const DemoAttackOptions& options, const ServiceInfo& info) {
  DemoAttacker(options, info).run();
}

}  // namespace vantage::cli

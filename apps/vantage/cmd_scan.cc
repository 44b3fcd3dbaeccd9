// `vantage scan`: stateless SYN (or UDP) discovery, then application-layer probes.
// `vantage probe`: probes only, on given HOST:PORT targets.
// Safety: no default targets; the built-in blocklist (conf/blocklist.conf) always applies and
// is lifted only range by range with --allow-reserved; --optout adds the operator's list.

#include <arpa/inet.h>
#include <netdb.h>

#include <array>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <iostream>
#include <mutex>
#include <optional>
#include <sstream>

#include "commands.h"
#include "sensors/scanner/discovery.h"
#include "sensors/scanner/probes/checks/checks.h"
#include "sensors/scanner/probes/checks/fixtures.h"
#include "sensors/scanner/probes/engine.h"
#include "sensors/scanner/probes/output.h"
#include "sensors/scanner/probes/ssl/ssl.h"
#include "sensors/scanner/targets.h"
#include "service/scan_schedule.h"

namespace vantage::cli {

using service::ipv6_hitlist;

namespace {

using namespace vantage::scanner;

[[noreturn]] void fail(int code, const std::string& msg) {
  std::cerr << "vantage: " << msg << "\n";
  throw CommandFailed(code, msg);
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) fail(2, "cannot read " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

IntervalSet parse_list(const std::string& text, const std::string& origin) {
  auto r = parse_blocklist(text, origin);
  if (!r) fail(2, r.error().message);
  return *r;
}

struct ProbeFlags {
  std::vector<std::string> modules;  // empty: by port
  std::string checks_dir;
  std::string events_path = "-";
  size_t concurrency = 1000;
  int connect_timeout_ms = 5000;
  int read_timeout_ms = 5000;
  size_t max_bytes = 64 * 1024;
  double probe_rate = 1000;  // probes started per second (UDP probes can amplify: be gentle)
  std::string ca_file;       // ssl: trust store for cert_valid/browser_trusted
  bool no_jarm = false;      // ssl: skip the ten JARM connections
  bool checks_on_every_port = false;         // `vantage probe`: run every check on every target
  Transport discovered_by = Transport::tcp;  // hits from a UDP scan go to UDP modules
};

void add_probe_flags(CLI::App* cmd, ProbeFlags& f) {
  cmd->add_option("--module", f.modules,
                  "Probe module (default: by port: http 80, ssh 22, ssl 443, dns 53/udp, ...)")
      ->expected(1)
      ->allow_extra_args(false)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  cmd->add_option("--checks", f.checks_dir, "Directory of JSON check templates (conf/checks)");
  cmd->add_option("--events", f.events_path, "JSON Lines events output ('-' = stdout)")
      ->capture_default_str();
  cmd->add_option("--concurrency", f.concurrency, "Connections in flight")->capture_default_str();
  cmd->add_option("--connect-timeout-ms", f.connect_timeout_ms)->capture_default_str();
  cmd->add_option("--read-timeout-ms", f.read_timeout_ms)->capture_default_str();
  cmd->add_option("--max-bytes", f.max_bytes, "Bytes kept per reply")->capture_default_str();
  cmd->add_option("--probe-rate", f.probe_rate, "Probes started per second, 0 = unlimited")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--ca-file", f.ca_file,
                  "ssl: PEM file of trusted CAs for cert_valid/browser_trusted (default: the "
                  "system store, /etc/ssl/certs)");
  cmd->add_flag("--no-jarm", f.no_jarm, "ssl: skip the JARM fingerprint (ten more connections)");
}

// Runs probes on targets; returns the number of events written.
size_t run_probe_stage(const std::vector<ProbeTarget>& targets, const ProbeFlags& f) {
  std::vector<ProbeModule> checks;
  if (!f.checks_dir.empty()) {
    auto c = load_checks(f.checks_dir);
    if (!c) fail(2, c.error().message);
    checks = std::move(*c);
  }
  // The ssl module with the operator's trust store / without JARM replaces the built-in one.
  std::optional<ProbeModule> ssl_override;
  if (!f.ca_file.empty() || f.no_jarm) {
    auto m = ssl_module(TlsProbeOptions{f.ca_file, !f.no_jarm});
    if (!m) fail(2, m.error().message);
    ssl_override = std::move(*m);
  }
  auto resolve = [&](const ProbeModule* m) {
    return ssl_override && m && m->name == "ssl" ? &*ssl_override : m;
  };
  std::vector<const ProbeModule*> chosen;
  for (const auto& name : f.modules) {
    const ProbeModule* m = resolve(find_module(name));
    if (!m) {
      for (const auto& c : checks)
        if (c.name == name) m = &c;
    }
    if (!m) fail(2, "unknown probe module: " + name);
    chosen.push_back(m);
  }
  std::vector<ProbeJob> jobs;
  for (const auto& t : targets) {
    if (!chosen.empty()) {
      for (auto* m : chosen) jobs.push_back({t, m});
    } else {
      for (auto* m : modules_for_port(t.port, f.discovered_by)) jobs.push_back({t, resolve(m)});
    }
    if (f.modules.empty())
      for (const auto& c : checks)
        if (f.checks_on_every_port || c.default_port == t.port) jobs.push_back({t, &c});
  }
  std::FILE* out = stdout;
  if (f.events_path != "-") {
    out = std::fopen(f.events_path.c_str(), "w");
    if (!out) fail(2, "cannot write " + f.events_path);
  }
  EngineOptions opt;
  opt.concurrency = f.concurrency;
  opt.connect_timeout = std::chrono::milliseconds(f.connect_timeout_ms);
  opt.read_timeout = std::chrono::milliseconds(f.read_timeout_ms);
  opt.max_bytes = f.max_bytes;
  opt.rate = f.probe_rate;
  const ProbeRunStats st = run_probes_to_jsonl(jobs, opt, out, [](const ProbeOutcome& o) {
    std::fprintf(stderr, "probe %s %s:%u: %s%s%s\n", o.module->name.c_str(),
                 o.target.ip.to_string().c_str(), o.target.port, o.status.c_str(),
                 o.error.empty() ? "" : ": ", o.error.c_str());
  });
  if (out != stdout) std::fclose(out);
  std::fprintf(stderr, "probe: %zu jobs, %zu events, %zu without result\n", st.jobs, st.events,
               st.failed);
  return st.events;
}

// The built-in blocklist minus the --allow-reserved holes.
IntervalSet blocked_set(const std::vector<std::string>& allow_reserved) {
  IntervalSet blocked = parse_list(std::string(builtin_blocklist_text()), "builtin blocklist");
  if (!allow_reserved.empty()) {
    std::string allow;
    for (const auto& a : allow_reserved) allow += a + "\n";
    blocked = blocked.minus(parse_list(allow, "--allow-reserved"));
  }
  return blocked;
}

struct ScanFlags {
  std::vector<std::string> targets;
  std::string target_file, ipv6_targets, optout_file, out_path, iface, src_ip, gateway_mac, shard;
  std::vector<std::string> allow_reserved;
  std::string ports_text = "80";  // comma-separated
  std::vector<uint16_t> ports;
  std::string udp;
  uint64_t rate = 10000, seed = 0, max_targets = 0;
  uint32_t threads = 1, batch = 64;
  int probes = 1;
  double cooldown = 8;
  bool dry_run = false, no_probes = false, quiet = false;
  bool connect = false;  // no raw discovery: every target address goes to the probes
  ProbeFlags probe;
};

void run_scan(ScanFlags& f) {
  f.ports.clear();
  for (std::string_view rest = f.ports_text; !rest.empty();) {
    const size_t comma = rest.find(',');
    const std::string item(rest.substr(0, comma));
    rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
    int port = 0;
    try {
      port = std::stoi(item);
    } catch (...) {
      port = 0;
    }
    if (port <= 0 || port > 65535) fail(2, "bad --port '" + item + "'");
    f.ports.push_back(static_cast<uint16_t>(port));
  }
  std::string text;
  for (const auto& t : f.targets) text += t + "\n";
  if (!f.target_file.empty()) text += read_file(f.target_file);
  if (text.empty() && f.ipv6_targets.empty())
    fail(2,
         "no targets: give CIDRs/addresses, --target-file or --ipv6-targets (there is no default)");
  IntervalSet blocked = blocked_set(f.allow_reserved);
  if (!f.optout_file.empty()) {
    IntervalSet optout = parse_list(read_file(f.optout_file), f.optout_file);
    IntervalSet merged;
    for (const auto* s : {&blocked, &optout})
      for (const auto& iv : s->intervals()) merged.add(iv.lo, iv.hi);
    merged.normalise();
    blocked = merged;
  }
  IntervalSet targets = parse_list(text, "targets");
  // IPv4 only for the raw discovery stage.
  IntervalSet v4all;
  v4all.add(IpPrefix::parse("0.0.0.0/0")->prefix);
  v4all.normalise();
  const IntervalSet v6part = targets.minus(v4all);
  if (!v6part.empty() && !f.connect)
    fail(2,
         "IPv6 targets go in --ipv6-targets FILE (a hit list), not CIDRs (--connect takes "
         "small IPv6 prefixes)");

  std::vector<ProbeTarget> found;
  std::mutex found_mu;
  std::FILE* out = nullptr;
  if (!f.out_path.empty()) {
    out = f.out_path == "-" ? stdout : std::fopen(f.out_path.c_str(), "w");
    if (!out) fail(2, "cannot write " + f.out_path);
  }
  IntervalSet hitlist6;  // IPv6 hit list, one address an interval
  if (!f.ipv6_targets.empty()) {
    const std::string list = read_file(f.ipv6_targets);
    size_t line_no = 0;
    std::istringstream in(list);
    for (std::string line; std::getline(in, line);) {
      ++line_no;
      if (auto h = line.find('#'); h != std::string::npos) line.resize(h);
      while (!line.empty() && std::isspace(static_cast<unsigned char>(line.back())))
        line.pop_back();
      if (line.empty()) continue;
      auto a = IpAddress::parse(line);
      if (!a || a->is_v4())
        fail(2, f.ipv6_targets + ":" + std::to_string(line_no) + ": not an IPv6 address");
      hitlist6.add(a->u128(), a->u128());
    }
    hitlist6.normalise();
  }
  // IPv6 hit lists go through SYN (or UDP) discovery like IPv4 when raw sockets are in use
  // (--iface or --dry-run); without them every listed address goes straight to the
  // connect-based probes.
  const bool raw6 = !f.iface.empty() || f.dry_run;
  auto discover = [&](const IntervalSet& family_targets) {
    ScanConfig cfg;
    cfg.targets = TargetSpace::make(family_targets, blocked);
    if (cfg.targets.size() == 0)
      fail(2, "every target is in the blocklist (use --allow-reserved CIDR for a test range)");
    cfg.ports = f.ports;
    cfg.iface = f.iface;
    if (!f.gateway_mac.empty()) {
      cfg.gateway_mac = parse_mac(f.gateway_mac);
      if (!cfg.gateway_mac) fail(2, "bad --gateway-mac");
    }
    if (!f.src_ip.empty()) {
      in_addr a{};
      in6_addr a6{};
      if (inet_pton(AF_INET, f.src_ip.c_str(), &a) == 1) {
        cfg.src_ip = a.s_addr;
      } else if (inet_pton(AF_INET6, f.src_ip.c_str(), &a6) == 1) {
        std::array<uint8_t, 16> b;
        std::memcpy(b.data(), a6.s6_addr, 16);
        cfg.src_ip6 = b;
      } else {
        fail(2, "bad --src-ip");
      }
    }
    cfg.rate = f.rate;
    cfg.seed = f.seed;
    cfg.threads = f.threads;
    cfg.batch = f.batch;
    cfg.probes = f.probes;
    cfg.cooldown_s = f.cooldown;
    cfg.max_targets = f.max_targets;
    cfg.udp_module = f.udp;
    cfg.dry_run = f.dry_run;
    cfg.progress = !f.quiet;
    if (!f.shard.empty()) {
      unsigned i = 0, n = 0;
      if (std::sscanf(f.shard.c_str(), "%u/%u", &i, &n) != 2 || n == 0 || i >= n)
        fail(2, "--shard must be i/n with 0 <= i < n");
      cfg.shard = i;
      cfg.shards = n;
    }
    const bool single_port = f.ports.size() == 1;
    cfg.on_hit = [&](const Hit& h) {
      const IpAddress ip = h.addr;
      std::lock_guard lk(found_mu);
      found.push_back({ip, h.port});
      if (out) {
        if (single_port) {
          std::fprintf(out, "%s\n", ip.to_string().c_str());
        } else {
          std::fprintf(out, "%s,%u\n", ip.to_string().c_str(), h.port);
        }
      }
    };
    auto st = run_discovery(cfg);
    if (out) std::fflush(out);
    if (!st) fail(1, st.error().message);
    std::fprintf(stderr, "scan: sent %llu probes in %.2fs (%.0f pps), %llu hits, %llu closed\n",
                 static_cast<unsigned long long>(st->sent), st->seconds,
                 st->seconds > 0 ? static_cast<double>(st->sent) / st->seconds : 0.0,
                 static_cast<unsigned long long>(st->hits),
                 static_cast<unsigned long long>(st->closed));
  };
  if (f.connect) {
    // Connect mode (no raw sockets, no --iface): every address left after the blocklist is
    // probed on every --port, for scheduled and small scans; bounded by --max-targets.
    for (const auto* set : {&targets, &hitlist6}) {
      const TargetSpace space = TargetSpace::make(*set, blocked);
      const uint64_t cap = f.max_targets ? f.max_targets : 65536;
      if (space.size() * f.ports.size() > cap)
        fail(2, "--connect over " + std::to_string(space.size()) +
                    " addresses exceeds --max-targets " + std::to_string(cap));
      for (uint64_t i = 0; i < space.size(); ++i)
        for (uint16_t p : f.ports) found.push_back({space.at(i), p});
    }
    if (found.empty()) fail(2, "every target is in the blocklist");
  } else if (!targets.empty()) {
    discover(targets);
  }
  if (!hitlist6.empty() && !f.connect) {
    if (raw6) {
      discover(hitlist6);
    } else {
      // No raw sockets: IPv6 space cannot be enumerated anyway, so the listed addresses go
      // straight to the (connect-based) probe stage on every --port, after the blocklist.
      for (const auto& iv : hitlist6.intervals()) {
        const IpAddress a = IpAddress::from_u128(iv.lo);
        if (blocked.contains(a)) continue;
        for (uint16_t p : f.ports) found.push_back({a, p});
      }
    }
  }
  if (out && out != stdout) std::fclose(out);
  if (!f.udp.empty()) f.probe.discovered_by = Transport::udp;
  if (!f.no_probes && !f.dry_run) run_probe_stage(found, f.probe);
}

// The addresses `name` resolves to (the system resolver: /etc/hosts, then DNS), first one.
std::optional<IpAddress> resolve_host(const std::string& name) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (getaddrinfo(name.c_str(), nullptr, &hints, &res) != 0 || !res) return std::nullopt;
  std::optional<IpAddress> out;
  for (addrinfo* a = res; a && !out; a = a->ai_next) {
    char text[INET6_ADDRSTRLEN] = {};
    const void* addr =
        a->ai_family == AF_INET
            ? static_cast<const void*>(&reinterpret_cast<sockaddr_in*>(a->ai_addr)->sin_addr)
            : static_cast<const void*>(&reinterpret_cast<sockaddr_in6*>(a->ai_addr)->sin6_addr);
    if ((a->ai_family == AF_INET || a->ai_family == AF_INET6) &&
        inet_ntop(a->ai_family, addr, text, sizeof text))
      if (auto ip = IpAddress::parse(text)) out = *ip;
  }
  freeaddrinfo(res);
  return out;
}

// HOST:PORT, [V6]:PORT, NAME:PORT (resolved) or NAME@ADDRESS:PORT (not resolved). A name is
// kept as the target's host: TLS SNI and the HTTP Host header.
std::vector<ProbeTarget> parse_host_ports(const std::vector<std::string>& items) {
  std::vector<ProbeTarget> out;
  for (const auto& s : items) {
    std::string name, host, port;
    std::string rest = s;
    if (const auto at = rest.find('@'); at != std::string::npos) {
      name = rest.substr(0, at);
      rest = rest.substr(at + 1);
      if (name.empty()) fail(2, "bad target " + s + " (want NAME@ADDRESS:PORT)");
    }
    if (!rest.empty() && rest[0] == '[') {
      const auto close = rest.find("]:");
      if (close == std::string::npos) fail(2, "bad target " + s + " (want [v6]:PORT)");
      host = rest.substr(1, close - 1);
      port = rest.substr(close + 2);
    } else {
      const auto colon = rest.rfind(':');
      if (colon == std::string::npos) fail(2, "bad target " + s + " (want HOST:PORT)");
      host = rest.substr(0, colon);
      port = rest.substr(colon + 1);
    }
    std::optional<IpAddress> a;
    if (auto literal = IpAddress::parse(host)) a = *literal;
    if (!a && name.empty()) {
      // A host name: resolved here, and kept for SNI and Host.
      name = host;
      a = resolve_host(host);
      if (!a) fail(2, "cannot resolve " + host);
    }
    int p = 0;
    try {
      p = std::stoi(port);
    } catch (...) {
      p = 0;
    }
    if (!a || p <= 0 || p > 65535) fail(2, "bad target " + s);
    out.push_back({*a, static_cast<uint16_t>(p), name});
  }
  return out;
}

}  // namespace

void add_scan_commands(CLI::App& app, GlobalOptions& global) {
  auto flags = std::make_shared<ScanFlags>();
  auto* scan = app.add_subcommand("scan", "Stateless SYN/UDP discovery scan, then probes");
  scan->add_option("targets", flags->targets, "IPv4 CIDRs or addresses (required; no default)");
  scan->add_option("--target-file", flags->target_file, "File of CIDRs, one a line");
  scan->add_option("--ipv6-targets", flags->ipv6_targets,
                   "IPv6 hit list, one address a line (SYN/UDP discovery with --iface, else "
                   "probed by connect)");
  scan->add_option("--optout", flags->optout_file,
                   "Operator opt-out list (CIDRs), added to the blocklist");
  scan->add_option("--allow-reserved", flags->allow_reserved,
                   "Lift the built-in blocklist for exactly this CIDR (test ranges)")
      ->expected(1)
      ->allow_extra_args(false)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  scan->add_option("-p,--port", flags->ports_text, "Ports, comma-separated")->capture_default_str();
  scan->add_option("--udp", flags->udp, "UDP discovery module: dns, ntp, snmp, ssdp, memcached");
  scan->add_option("--iface", flags->iface, "Interface to send on (AF_PACKET)");
  scan->add_option("--src-ip", flags->src_ip,
                   "Source IPv4, or IPv6 for a hit-list scan (default: the interface's)");
  scan->add_option("--gateway-mac", flags->gateway_mac, "Next-hop MAC (required off loopback)");
  scan->add_option("--rate", flags->rate, "Packets per second, 0 = unlimited")
      ->capture_default_str();
  scan->add_option("--shard", flags->shard, "i/n: this process's share of the permutation");
  scan->add_option("--seed", flags->seed, "Permutation/key seed (same on every shard)");
  scan->add_option("--threads", flags->threads, "Sender threads")->capture_default_str();
  scan->add_option("--batch", flags->batch, "Frames per sendmmsg")->capture_default_str();
  scan->add_option("--probes", flags->probes, "Copies of each probe")->capture_default_str();
  scan->add_option("--cooldown", flags->cooldown, "Seconds to wait for replies after sending")
      ->capture_default_str();
  scan->add_option("--max-targets", flags->max_targets, "Stop after this many (ip,port) targets");
  scan->add_option("--out", flags->out_path, "Hit list: 'ip' (one port) or 'ip,port' lines");
  scan->add_flag("--dry-run", flags->dry_run, "Print the probes (ip,port) instead of sending");
  scan->add_flag("--no-probes", flags->no_probes, "Discovery only");
  scan->add_flag("--connect", flags->connect,
                 "No raw discovery: probe every target address on every --port by connect "
                 "(at most --max-targets, default 65536, address-port pairs)");
  scan->add_flag("-q,--quiet", flags->quiet, "No progress lines");
  add_probe_flags(scan, flags->probe);
  scan->callback([flags] { run_scan(*flags); });

  // `vantage hitlist`: the IPv6 addresses the pipeline has seen, for --ipv6-targets.
  struct HitlistFlags {
    int days = 30;
    std::vector<std::string> within;
    std::string out = "-";
  };
  auto hflags = std::make_shared<HitlistFlags>();
  auto* hitlist = app.add_subcommand(
      "hitlist", "IPv6 hit list: addresses of stored events, one a line (for scan --ipv6-targets)");
  hitlist->add_option("--days", hflags->days, "Events of the last N days")->capture_default_str();
  hitlist->add_option("--within", hflags->within, "Only addresses inside this prefix (repeatable)")
      ->expected(1)
      ->allow_extra_args(false)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  hitlist->add_option("--out", hflags->out, "Output file ('-' = stdout)")->capture_default_str();
  hitlist->callback([hflags, &global] {
    std::vector<IpPrefix> within;
    for (const auto& w : hflags->within) {
      auto p = IpPrefix::parse(w);
      if (!p || p->prefix.is_v4()) fail(2, "--within wants an IPv6 prefix: " + w);
      within.push_back(p->prefix);
    }
    auto list = ipv6_hitlist(global, hflags->days, within);
    if (!list) fail(1, list.error().message);
    std::FILE* out = hflags->out == "-" ? stdout : std::fopen(hflags->out.c_str(), "w");
    if (!out) fail(2, "cannot write " + hflags->out);
    for (const auto& a : *list) std::fprintf(out, "%s\n", a.to_string().c_str());
    if (out != stdout) std::fclose(out);
    std::fprintf(stderr, "hitlist: %zu IPv6 addresses\n", list->size());
  });

  auto pflags = std::make_shared<ProbeFlags>();
  auto hosts = std::make_shared<std::vector<std::string>>();
  auto allow = std::make_shared<std::vector<std::string>>();
  auto* probe = app.add_subcommand("probe", "Application-layer probes on HOST:PORT targets");
  probe
      ->add_option("targets", *hosts,
                   "ADDRESS:PORT, [V6]:PORT, NAME:PORT (resolved) or NAME@ADDRESS:PORT; a name is "
                   "sent as TLS SNI and HTTP Host")
      ->required();
  probe
      ->add_option("--allow-reserved", *allow,
                   "Lift the built-in blocklist for exactly this CIDR (test ranges)")
      ->expected(1)
      ->allow_extra_args(false)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  add_probe_flags(probe, *pflags);
  probe->callback([pflags, hosts, allow] {
    if (pflags->modules.empty() && pflags->checks_dir.empty())
      fail(2, "give --module NAME (or --checks DIR)");
    pflags->checks_on_every_port = true;
    const IntervalSet blocked = blocked_set(*allow);
    std::vector<ProbeTarget> targets;
    for (const auto& t : parse_host_ports(*hosts)) {
      if (blocked.contains(t.ip)) {
        std::cerr << "vantage: " << t.ip.to_string() << " is in the blocklist; skipped\n";
        continue;
      }
      targets.push_back(t);
    }
    if (targets.empty()) fail(2, "no target left after the blocklist");
    run_probe_stage(targets, *pflags);
  });

  // `vantage checks list|test [DIR]`: what a checks directory holds, and its fixtures run
  // (docs/checks.md). Nothing is sent anywhere.
  auto* checks = app.add_subcommand("checks", "Vulnerability check templates (docs/checks.md)");
  checks->require_subcommand(1);
  auto dir = std::make_shared<std::string>("conf/checks");
  auto* list = checks->add_subcommand("list", "Load every check in DIR and list them");
  list->add_option("dir", *dir, "Checks directory")->capture_default_str();
  list->callback([dir] {
    auto loaded = load_check_templates(*dir);
    if (!loaded) fail(2, loaded.error().message);
    for (const auto& c : *loaded)
      std::printf("check:%s\t%s/%u\t%s\t%s\t%s\n", c->id.c_str(),
                  c->protocol == CheckProtocol::udp ? "udp" : "tcp", c->port,
                  c->report_type.c_str(), c->tag.c_str(), c->info.name.c_str());
  });
  auto* test = checks->add_subcommand("test", "Run every check in DIR against DIR/fixtures/");
  test->add_option("dir", *dir, "Checks directory")->capture_default_str();
  test->callback([dir] {
    auto report = run_fixture_dir(*dir);
    if (!report) fail(2, report.error().message);
    for (const auto& f : report->failures)
      std::fprintf(stderr, "FAIL %s%s%s: %s\n", f.check.c_str(), f.name.empty() ? "" : " / ",
                   f.name.c_str(), f.reason.c_str());
    std::printf("checks: %zu checks (%zu with CVEs), %zu fixture cases, %zu failures\n",
                report->checks, report->cves, report->cases, report->failures.size());
    if (!report->failures.empty()) throw CommandFailed(1, "fixture failures");
  });
}

}  // namespace vantage::cli

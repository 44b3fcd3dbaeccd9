// `vantage up`: the whole service in one process on the embedded default, for an operator
// trying Vantage. On top of `vantage serve` (pipeline, push endpoint, inbox watch, API,
// downloads, dashboard, day close, retention) it
//   * creates the data directory and, unless --no-demo, a demo constituency clearly marked as
//     such: organisations defined by real ASNs and a real prefix from the routing data, and a
//     national CSIRT for one country -- with API keys printed once and kept (0600) in
//     <data_dir>/demo/;
//   * feeds synthetic partner data (tag "synthetic") into the inbox: a history of a couple of
//     weeks on first start, then a small batch every minute, and builds the history's reports;
//   * runs the scanner's probes on a schedule against the machine's own loopback services
//     (127.0.0.0/8 only) and ingests what they find;
//   * prints the dashboard URL, the API base URL, a demo key and secret and a ready-to-paste
//     ~/.shadowserver.api for Shadowserver's call-api.py.
// Ctrl-C stops everything cleanly; the next `vantage up` continues with the same data.

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "child_process.h"
#include "commands.h"
#include "common/strings.h"
#include "demo_attacks.h"
#include "integrations/demo_receivers.h"
#include "pipeline/generator.h"
#include "portal/portal_service.h"
#include "portal/portal_store.h"
#include "portal/totp.h"
#include "registry/secret_box.h"
#include "registry/sqlite/sqlite_registry.h"
#include "sensors/common/parent_watch.h"
#include "sensors/scanner/probes/probe.h"
#include "sensors/scanner/schedule.h"
#include "service/portal_setup.h"
#include "service/runtime.h"
#include "service/service.h"
#include "service/synthetic_feed.h"
#include "sinkhole_demo.h"
#include "store/store.h"

namespace vantage::cli {

using service::argon2_params;
using service::open_runtime;
using service::open_store;
using service::open_tracker;
using service::run_service;
using service::Runtime;
using service::RuntimeOptions;
using service::ServiceHooks;
using service::ServiceInfo;
using service::write_synthetic_jsonl;

namespace fs = std::filesystem;

namespace {

struct UpFlags {
  std::string listen;
  bool no_demo = false;
  std::string demo_country = "NL";
  int history_days = 14;
  int64_t history_events_per_day = 2000;
  int feed_interval_s = 60;
  int64_t feed_events = 300;
  bool no_scan = false;
  bool no_sensors = false;
};

// What `up` remembers about its demo between runs (<data_dir>/demo/credentials, mode 0600).
struct DemoCredentials {
  std::string org;     // short name of the organisation whose key is shown
  std::string key;     // its API key
  std::string secret;  // and secret
  std::string ingest_key, ingest_secret;
  // Demo accounts of the portal and console (added to older demo directories on upgrade).
  std::string operator_login, operator_password, org_login, org_password;
};

std::string demo_dir(const GlobalOptions& g) {
  return g.data_dir + "/demo";
}

// Writes `text` to `path` readable by the owner only (it holds secrets).
bool write_private(const std::string& path, const std::string& text) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd < 0) return false;
  ::fchmod(fd, 0600);
  bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  ok = ::fsync(fd) == 0 && ok;
  return ::close(fd) == 0 && ok;
}

std::optional<DemoCredentials> read_credentials(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  DemoCredentials c;
  std::string line;
  while (std::getline(in, line)) {
    auto eq = line.find('=');
    if (eq == std::string::npos) continue;
    std::string k(trim(std::string_view(line).substr(0, eq)));
    std::string v(trim(std::string_view(line).substr(eq + 1)));
    if (k == "org") c.org = v;
    if (k == "key") c.key = v;
    if (k == "secret") c.secret = v;
    if (k == "ingest_key") c.ingest_key = v;
    if (k == "ingest_secret") c.ingest_secret = v;
    if (k == "operator_login") c.operator_login = v;
    if (k == "operator_password") c.operator_password = v;
    if (k == "org_login") c.org_login = v;
    if (k == "org_password") c.org_password = v;
  }
  if (c.key.empty() || c.secret.empty()) return std::nullopt;
  return c;
}

std::string shadowserver_api_file(const DemoCredentials& c, const std::string& base_url) {
  return "[api]\nkey = " + c.key + "\nsecret = " + c.secret + "\nuri = " + base_url + "/api2/\n";
}

// The largest CIDR block (at most a /16) that starts at `first` and fits in [first, last].
std::string block_at(uint32_t first, uint32_t last) {
  for (int len = 16; len <= 32; ++len) {
    uint32_t size = len == 32 ? 1u : (1u << (32 - len));
    if ((first & (size - 1)) != 0) continue;
    if (static_cast<uint64_t>(first) + size - 1 > last) continue;
    return std::to_string(first >> 24) + "." + std::to_string((first >> 16) & 255) + "." +
           std::to_string((first >> 8) & 255) + "." + std::to_string(first & 255) + "/" +
           std::to_string(len);
  }
  return {};
}

struct DemoOrg {
  std::string name, short_name;
  registry::OrgKind kind = registry::OrgKind::kOrganisation;
  registry::ResourceKind resource_kind = registry::ResourceKind::kAsn;
  std::string resource;
};

// Picks the demo organisations from the routing and geolocation data: the largest networks
// (by IPv4 address space) that geolocate to `country` -- three claimed by ASN, the fourth by
// one of its prefixes -- plus the national CSIRT of `country`.
std::vector<DemoOrg> choose_demo_orgs(const Runtime& rt,
                                      const std::vector<pipeline::RoutedSegment>& segments,
                                      const std::string& country) {
  std::vector<DemoOrg> out;
  std::string cc = country;
  for (auto& c : cc) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  out.push_back({"Demo national CSIRT (" + country + ")", "demo_csirt_" + cc,
                 registry::OrgKind::kNationalCsirt, registry::ResourceKind::kCountry, country});
  if (!rt.enricher) return out;
  auto snap = rt.enricher->snapshot();
  if (!snap->asn()) return out;
  struct Size {
    uint64_t addresses = 0;
    pipeline::RoutedSegment largest;
    std::vector<pipeline::RoutedSegment> segments;
  };
  std::map<uint32_t, Size> by_asn;
  for (const auto& s : segments) {
    if (!s.first.is_v4()) continue;
    uint64_t n = static_cast<uint64_t>(s.last.v4() - s.first.v4()) + 1;
    auto& e = by_asn[s.asn];
    e.addresses += n;
    e.segments.push_back(s);
    if (e.largest.asn == 0 ||
        n > static_cast<uint64_t>(e.largest.last.v4() - e.largest.first.v4()) + 1) {
      e.largest = s;
    }
  }
  std::vector<std::pair<uint64_t, uint32_t>> ranked;
  for (const auto& [asn, size] : by_asn) ranked.emplace_back(size.addresses, asn);
  std::sort(ranked.rbegin(), ranked.rend());
  int by_asn_count = 0;
  for (size_t i = 0; i < ranked.size() && i < 2000 && out.size() < 5; ++i) {
    auto& size = by_asn[ranked[i].second];
    // Most of the network's address space (its 16 largest segments) must geolocate to the
    // country: a global network with one big local segment is not a local organisation.
    auto span = [](const pipeline::RoutedSegment& r) {
      return static_cast<uint64_t>(r.last.v4() - r.first.v4()) + 1;
    };
    std::sort(size.segments.begin(), size.segments.end(),
              [&](const auto& x, const auto& y) { return span(x) > span(y); });
    uint64_t total = 0, local = 0;
    enrich::Enrichment e;
    for (size_t k = 0; k < size.segments.size() && k < 16; ++k) {
      snap->enrich(size.segments[k].first, e);
      total += span(size.segments[k]);
      if (std::string(e.geo) == country) local += span(size.segments[k]);
    }
    if (total == 0 || local * 10 < total * 8) continue;
    snap->enrich(size.largest.first, e);
    std::string as_name(e.as_name.empty() ? "AS" + std::to_string(ranked[i].second) : e.as_name);
    if (by_asn_count < 3) {
      out.push_back({"Demo: " + as_name + " (AS" + std::to_string(ranked[i].second) + ")",
                     "demo_as" + std::to_string(ranked[i].second), registry::OrgKind::kOrganisation,
                     registry::ResourceKind::kAsn, std::to_string(ranked[i].second)});
      ++by_asn_count;
    } else {
      std::string block = block_at(size.largest.first.v4(), size.largest.last.v4());
      if (block.empty()) continue;
      out.push_back({"Demo: a customer network of " + as_name + " (" + block + ")",
                     "demo_net_" + std::to_string(ranked[i].second),
                     registry::OrgKind::kOrganisation, registry::ResourceKind::kCidr, block});
    }
  }
  return out;
}

// Creates the demo constituency when absent; returns its credentials and whether it was
// created now (the secrets are printed only then).
std::pair<std::optional<DemoCredentials>, bool> ensure_demo(
    const GlobalOptions& g, const UpFlags& f, Runtime* rt,
    const std::vector<pipeline::RoutedSegment>& segments) {
  std::string cred_path = demo_dir(g) + "/credentials";
  if (auto c = read_credentials(cred_path)) return {c, false};
  if (!rt->enricher) {
    std::cerr << "vantage up: routing/geolocation data missing (run scripts/install-deps.sh); "
                 "the demo constituency gets only its national CSIRT\n";
  }
  auto orgs = choose_demo_orgs(*rt, segments, f.demo_country);
  DemoCredentials creds;
  for (const auto& o : orgs) {
    auto existing = rt->registry->find_org(o.short_name);
    registry::OrgId id;
    if (existing) {
      id = existing->id;
    } else {
      registry::NewOrganisation no;
      no.name = o.name;
      no.short_name = o.short_name;
      no.kind = o.kind;
      auto added = rt->registry->add_org(no);
      if (!added) {
        std::cerr << "vantage up: demo organisation " << o.short_name << ": "
                  << added.error().message << "\n";
        continue;
      }
      id = added->id;
      auto res = rt->registry->add_resource(id, o.resource_kind, o.resource);
      if (res) {
        (void)rt->registry->set_approval(res->resource.id, registry::Approval::kApproved);
        (void)rt->registry->set_verification(res->resource.id, registry::Verification::kVerified,
                                             "demo constituency, taken from the routing data");
      } else {
        std::cerr << "vantage up: demo resource " << o.resource << ": " << res.error().message
                  << "\n";
      }
      (void)rt->registry->add_recipient(id, o.short_name + "@demo.invalid");
    }
    auto key = rt->registry->issue_key(id, registry::KeyKind::kApi, "demo (vantage up)");
    if (!key) continue;
    std::cout << "demo organisation " << o.short_name << " (" << o.name << ")\n    apikey "
              << key->key << "  secret " << key->secret << "\n";
    if (creds.key.empty()) {  // the national CSIRT's key is the one shown in the banner
      creds.org = o.short_name;
      creds.key = key->key;
      creds.secret = key->secret;
    }
  }
  auto ingest = rt->registry->issue_key(std::nullopt, registry::KeyKind::kIngest, "demo sensors");
  if (ingest) {
    creds.ingest_key = ingest->key;
    creds.ingest_secret = ingest->secret;
  }
  if (creds.key.empty()) return {std::nullopt, false};
  fs::create_directories(demo_dir(g));
  std::string text =
      "# Demo credentials created by `vantage up` -- demo data only.\norg = " + creds.org +
      "\nkey = " + creds.key + "\nsecret = " + creds.secret + "\ningest_key = " + creds.ingest_key +
      "\ningest_secret = " + creds.ingest_secret + "\n";
  if (!write_private(cred_path, text)) {
    std::cerr << "vantage up: cannot write " << cred_path << "\n";
  }
  return {creds, true};
}

// The demo's portal and console accounts: an operator, and a user of the organisation whose
// key the banner shows. Made once (also for a demo directory from before the portal), their
// generated passwords printed then and kept in <data_dir>/demo/credentials (0600). Returns
// whether they were made now.
bool ensure_demo_accounts(const GlobalOptions& g, Runtime* rt, DemoCredentials& creds) {
  if (!creds.operator_login.empty() || creds.org.empty()) return false;
  auto store = portal::PortalStore::open(g.data_dir + "/portal.sqlite");
  auto org = rt->registry->find_org(creds.org);
  if (!store || !org) {
    std::cerr << "vantage up: demo accounts not made: "
              << (store ? org.error().message : store.error().message) << "\n";
    return false;
  }
  auto password = [] {
    auto raw = registry::random_bytes(13);
    return raw ? portal::base32_encode(*raw).substr(0, 20) : std::string();
  };
  DemoCredentials made = creds;
  made.operator_login = "demo-operator";
  made.operator_password = password();
  made.org_login = "demo@" + to_lower(creds.org.substr(creds.org.rfind('_') + 1)) + ".demo.invalid";
  made.org_password = password();
  auto a =
      portal::add_account(**store, made.operator_login, "Demo operator", portal::Role::kOperator,
                          std::nullopt, made.operator_password, argon2_params(g.config));
  auto b =
      portal::add_account(**store, made.org_login, "Demo user of " + creds.org, portal::Role::kOrg,
                          org->id, made.org_password, argon2_params(g.config));
  if (!a || !b) {
    std::cerr << "vantage up: demo accounts: " << (a ? b.error().message : a.error().message)
              << "\n";
    return false;
  }
  creds = made;
  std::string text = "operator_login = " + made.operator_login +
                     "\noperator_password = " + made.operator_password +
                     "\norg_login = " + made.org_login + "\norg_password = " + made.org_password +
                     "\n";
  std::string path = demo_dir(g) + "/credentials";
  std::ifstream in(path);
  std::string old((std::istreambuf_iterator<char>(in)), {});
  if (!write_private(path, old + text)) std::cerr << "vantage up: cannot write " << path << "\n";
  return true;
}

// Waits until the inbox watcher has moved `name` to done/ or failed/.
bool wait_ingested(const ServiceInfo& info, const std::string& name, std::chrono::seconds limit) {
  auto until = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < until && !info.stop->load()) {
    if (fs::exists(info.inbox + "/done/" + name)) return true;
    if (fs::exists(info.inbox + "/failed/" + name)) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return false;
}

// Where the sensors that `up` runs listen, from their status files (for the banner).
std::string sensor_listeners(const std::string& data_dir) {
  std::string out;
  for (const char* sensor : {"honeypot", "sinkhole"}) {
    std::ifstream in(data_dir + "/sensors/" + sensor + "/status.json");
    if (!in) continue;
    auto j = nlohmann::json::parse(in, nullptr, false);
    if (j.is_discarded() || !j.contains("listeners")) continue;
    std::string line;
    for (const auto& l : j["listeners"]) {
      if (!l.contains("listen")) continue;
      line += (line.empty() ? "" : "  ") + l.value("service", std::string()) + " " +
              l.value("listen", std::string());
    }
    if (!line.empty()) {
      std::string label = sensor;
      label.resize(10, ' ');
      out += "  " + label + "  " + line + "\n";
    }
  }
  return out;
}

// Records one completed loopback scan of `module` in the remediation scan-cycle log.
void record_scan_cycle(const GlobalOptions& g, const std::string& module,
                       const std::vector<std::string>& targets) {
  const scanner::ProbeModule* m = scanner::find_module(module);
  if (!m) return;
  auto tracker = open_tracker(g);
  if (!tracker) return;
  remediation::ScanCycle c;
  c.type = m->report_type;
  c.at = now_seconds();
  c.source = "up:" + module;
  for (const auto& t : targets) {
    auto host = t.substr(0, t.rfind(':'));
    if (auto p = IpPrefix::parse(host)) c.scope.push_back(p->prefix);
  }
  (void)(*tracker)->cycle_log().append(c);
}

// Only single loopback addresses: `probe` wants HOST:PORT targets.
bool is_loopback_target(const std::string& t) {
  auto a = IpAddress::parse(t);
  return a && a->is_v4() && (a->v4() >> 24) == 127;
}

void run_up(const UpFlags& f, GlobalOptions& global) {
  // The sensors and demo jobs started below inherit this and stop with us, even when we are
  // killed with SIGKILL (sensors/common/parent_watch.h). Set before any thread starts.
  ::setenv(sensors::kParentPidVariable, std::to_string(::getpid()).c_str(), 1);
  std::error_code ec;
  fs::create_directories(global.data_dir, ec);
  if (ec) {
    std::cerr << "vantage up: cannot create the data directory " << global.data_dir << ": "
              << ec.message() << "\n";
    throw CommandFailed(1);
  }
  // Refuse a data directory this build cannot read before touching anything in it.
  if (auto store = open_store(global); !store) {
    std::cerr << "vantage up: " << global.data_dir << "/events.sqlite: " << store.error().message
              << "\n  (run the Vantage version that wrote it, or start with another --data-dir)\n";
    throw CommandFailed(1);
  }
  if (auto reg = registry::SqliteRegistry::open_in_data_dir(global.data_dir); !reg) {
    std::cerr << "vantage up: registry: " << reg.error().message
              << "\n  (run the Vantage version that wrote it, or start with another --data-dir)\n";
    throw CommandFailed(1);
  }
  std::optional<DemoCredentials> creds;
  bool created = false;
  bool accounts_created = false;
  // The demo's routing data, loaded once: the constituency is chosen from it and the synthetic
  // feed draws its addresses from it. Only the segments and the catalogue are kept; the
  // service loads its own enrichment.
  std::shared_ptr<const std::vector<pipeline::RoutedSegment>> segments;
  std::shared_ptr<const core::Catalogue> catalogue;
  std::string attacker;  // the demo attacker's source address (demo_attacks.h)
  if (!f.no_demo) {
    RuntimeOptions ro;
    ro.store = false;
    auto rt = open_runtime(global, ro, "up");
    const enrich::AsnTable* table = rt->enricher ? rt->enricher->snapshot()->asn() : nullptr;
    segments = std::make_shared<const std::vector<pipeline::RoutedSegment>>(
        pipeline::routed_segments(table));
    catalogue = rt->catalogue;
    std::tie(creds, created) = ensure_demo(global, f, rt.get(), *segments);
    attacker = demo_attacker_address(*rt->registry);
    if (creds) accounts_created = ensure_demo_accounts(global, rt.get(), *creds);
  }

  // The push integrations' demo: a webhook and a syslog receiver on loopback, and the demo
  // national CSIRT's subscriptions to them (its critical events, live).
  std::shared_ptr<integrations::DemoReceivers> receivers;
  if (creds) {
    auto reg = registry::SqliteRegistry::open_in_data_dir(global.data_dir);
    auto started = reg ? integrations::DemoReceivers::start(global.data_dir, **reg, creds->org)
                       : Result<std::unique_ptr<integrations::DemoReceivers>>(reg.error());
    if (started) {
      receivers = std::move(*started);
    } else {
      std::cerr << "vantage up: demo receivers: " << started.error().message << "\n";
    }
  }

  ServiceHooks hooks;
  hooks.command = "up";
  hooks.listen = f.listen;
  hooks.fall_back_to_free_port = true;
  std::string self = fs::read_symlink("/proc/self/exe", ec).string();
  std::string data_dir = global.data_dir;
  std::string history_name = "demo-history-synthetic.jsonl";
  bool history_needed = !f.no_demo && !fs::exists(demo_dir(global) + "/history.done");
  bool announce_demo = !f.no_demo;

  // The listening sensors run in the demo, and without it when configured.
  bool sensors_wanted = !f.no_sensors && (!f.no_demo || !global.config.honeypot_listen.empty());
  bool sinkhole_wanted = !f.no_sensors && (!f.no_demo || !global.config.sinkhole_listen.empty());

  // The banner, printed once the demo history (if any) is in and its reports are built.
  auto banner = [=](const ServiceInfo& info) {
    // The sensors say where they listen in their status files: give a starting child a moment.
    for (int i = 0; (sensors_wanted || sinkhole_wanted) && i < 100 && !info.stop->load(); ++i) {
      if ((!sensors_wanted || fs::exists(data_dir + "/sensors/honeypot/status.json")) &&
          (!sinkhole_wanted || fs::exists(data_dir + "/sensors/sinkhole/status.json"))) {
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    std::ostringstream o;
    o << "\nVantage is up" << (announce_demo ? " -- DEMO constituency, synthetic data" : "")
      << "\n  dashboard   " << info.base_url << "/\n  API base    " << info.base_url
      << "/api2/\n  downloads   " << info.base_url << "/dl/<id>\n  push        POST "
      << info.base_url << "/ingest (ingest key + HMAC2)\n  inbox       " << info.inbox
      << "\n  metrics     " << info.base_url << "/metrics\n  remediation " << info.base_url
      << "/remediation.html\n  register    " << info.base_url << "/register.html\n  portal      "
      << info.base_url << "/portal.html\n  console     " << info.base_url
      << "/console.html\n  data        " << data_dir << "\n"
      << sensor_listeners(data_dir);
    if (receivers) o << receivers->describe();
    if (creds) {
      std::string api_file = shadowserver_api_file(*creds, info.base_url);
      write_private(data_dir + "/demo/shadowserver.api", api_file);
      if (created) {
        o << "  demo key    " << creds->key << "  (organisation " << creds->org << ")\n"
          << "  demo secret " << creds->secret << "\n"
          << "  ~/.shadowserver.api for Shadowserver's call-api.py (also in " << data_dir
          << "/demo/shadowserver.api):\n";
        std::istringstream lines(api_file);
        for (std::string l; std::getline(lines, l);) o << "      " << l << "\n";
      } else {
        o << "  demo key    " << creds->key << "  (organisation " << creds->org
          << "; secret printed when it was created, kept in " << data_dir
          << "/demo/credentials and shadowserver.api)\n";
      }
    }
    if (creds && !creds->operator_login.empty()) {
      if (accounts_created) {
        o << "  demo operator  " << creds->operator_login << "  password "
          << creds->operator_password << "  (console)\n  demo org user  " << creds->org_login
          << "  password " << creds->org_password << "  (portal, organisation " << creds->org
          << ")\n";
      } else {
        o << "  demo operator  " << creds->operator_login << ", demo org user " << creds->org_login
          << "  (passwords printed when they were made, kept in " << data_dir
          << "/demo/credentials)\n";
      }
      if (global.config.smtp_url.empty())
        o << "  portal mail    no smtp.url: confirmation mails go to " << data_dir
          << "/portal/outbox/\n";
    }
    o << "Stop with Ctrl-C; `vantage up` again continues with the same data.\n";
    std::cout << o.str() << std::flush;
  };

  UpFlags flags = f;
  hooks.jobs.push_back([=](const ServiceInfo& info) {
    if (announce_demo) {
      if (history_needed) {
        pipeline::FeedOptions fo;
        fo.seed = 2026;
        fo.days = flags.history_days;
        fo.first_day = today() - flags.history_days;
        auto st = write_synthetic_jsonl(*catalogue, *segments, fo,
                                        flags.history_events_per_day * flags.history_days,
                                        info.inbox + "/" + history_name);
        if (!st.ok()) {
          std::cerr << "vantage up: demo history: " << st.message() << "\n";
        } else if (wait_ingested(info, history_name, std::chrono::seconds(1800))) {
          for (int d = flags.history_days; d >= 1 && !info.stop->load(); --d)
            info.build_reports(today() - d);
          std::ofstream(data_dir + "/demo/history.done") << "ingested\n";
        }
      }
      if (!info.stop->load()) banner(info);
      // The live synthetic partner feed: a small batch for today every interval.
      for (uint64_t tick = 1;
           sleep_unless_stopped(info, std::chrono::seconds(flags.feed_interval_s)); ++tick) {
        pipeline::FeedOptions fo;
        fo.seed = static_cast<uint64_t>(now_seconds()) * 1000 + tick;
        fo.first_day = today();
        fo.days = 1;
        std::string name = "demo-feed-" + std::to_string(now_seconds()) + "-synthetic.jsonl";
        auto st = write_synthetic_jsonl(*catalogue, *segments, fo, flags.feed_events,
                                        info.inbox + "/" + name);
        if (!st.ok()) std::cerr << "vantage up: demo feed: " << st.message() << "\n";
      }
    } else {
      banner(info);
    }
  });

  // The loopback scan belongs to the demo; without it, scan.enabled turns it on. A configured
  // scan.schedule replaces it (run_service runs that schedule).
  if (!f.no_scan && (!f.no_demo || global.config.scan_enabled) &&
      global.config.scan_schedule.empty()) {
    std::vector<std::string> targets = global.config.scan_targets;
    if (targets.empty()) targets = {"127.0.0.1"};
    std::vector<std::string> loopback;
    for (const auto& t : targets) {
      if (is_loopback_target(t)) {
        loopback.push_back(t);
      } else {
        std::cerr << "vantage up: scan target " << t
                  << " skipped: `vantage up` scans only 127.0.0.0/8 (its own loopback "
                     "services); scan real ranges deliberately with `vantage scan`\n";
      }
    }
    std::vector<std::string> ports = global.config.scan_ports;
    auto interval = std::chrono::minutes(std::max<int64_t>(1, global.config.scan_interval_minutes));
    GlobalOptions data_dir_options = global;
    hooks.jobs.push_back([=](const ServiceInfo& info) {
      if (loopback.empty()) return;
      std::string own_port = info.base_url.substr(info.base_url.rfind(':') + 1);
      // HOST:PORT targets per probe module: the module that speaks the port's protocol (the
      // service's own port is HTTP).
      std::map<std::string, std::vector<std::string>> by_module;
      for (const auto& host : loopback) {
        for (const auto& p : ports) {
          auto port = parse_uint(p);
          const scanner::ProbeModule* m =
              port && *port < 65536 ? scanner::module_for_port(static_cast<uint16_t>(*port))
                                    : nullptr;
          if (!m) {
            std::cerr << "vantage up: no probe module speaks port " << p << "; not scanned\n";
            continue;
          }
          by_module[m->name].push_back(host + ":" + p);
        }
        by_module["http"].push_back(host + ":" + own_port);
      }
      // First scan shortly after start, then on the schedule.
      for (auto wait = std::chrono::milliseconds(5000); sleep_unless_stopped(info, wait);
           wait = interval) {
        for (const auto& [module, targets_of_module] : by_module) {
          std::string name = "scan-" + module + "-" + std::to_string(now_seconds()) + ".jsonl";
          std::string part = info.inbox + "/" + name + ".part";
          std::vector<std::string> argv = {self,
                                           "--data-dir",
                                           data_dir,
                                           "probe",
                                           "--allow-reserved",
                                           "127.0.0.0/8",
                                           "--module",
                                           module,
                                           "--events",
                                           part,
                                           "--connect-timeout-ms",
                                           "2000",
                                           "--read-timeout-ms",
                                           "2000"};
          argv.insert(argv.end(), targets_of_module.begin(), targets_of_module.end());
          scanner::ScanRecord rec;
          rec.module = module;
          rec.started = now_seconds();
          rec.targets = loopback;
          rec.addresses = targets_of_module.size();
          int rc =
              run_bounded(argv, data_dir + "/demo/scan.log", std::chrono::seconds(120), *info.stop);
          rec.finished = now_seconds();
          rec.status = rc == 0 ? "ok" : "probe exit " + std::to_string(rc);
          if (const auto* m = scanner::find_module(module)) rec.report_types = {m->report_type};
          {
            std::ifstream lines(part);
            rec.events =
                static_cast<uint64_t>(std::count(std::istreambuf_iterator<char>(lines), {}, '\n'));
          }
          (void)scanner::record_scan(data_dir, rec);  // best effort: status shows it
          std::error_code e2;
          if (rc == 0) {
            // A completed scan is a scan cycle of the module's report type (remediation: a
            // problem no longer found by N cycles counts as fixed), found anything or not.
            record_scan_cycle(data_dir_options, module, targets_of_module);
          }
          if (rc == 0 && fs::file_size(part, e2) > 0) {
            fs::rename(part, info.inbox + "/" + name, e2);
          } else {
            fs::remove(part, e2);
            if (rc != 0 && !info.stop->load())
              std::cerr << "vantage up: loopback " << module << " probe failed (exit " << rc
                        << "); see " << data_dir << "/demo/scan.log\n";
          }
        }
      }
    });
  }
  // The listening sensors, each a child process of its own (it drops privileges when `up`
  // runs as root) shipping to the push endpoint: in the demo on loopback ports; otherwise
  // when configured (honeypot.listen) with the configured ingest key.
  if (sensors_wanted) {
    hooks.jobs.push_back([=](const ServiceInfo& info) {
      std::string key = global.config.sensor_ingest_key,
                  secret = global.config.sensor_ingest_secret;
      if (creds && !creds->ingest_key.empty()) {
        key = creds->ingest_key;
        secret = creds->ingest_secret;
      }
      if (key.empty() || secret.empty()) {
        std::cerr << "vantage up: honeypot not started: no ingest key (sensor.ingest_key and "
                     "sensor.ingest_secret)\n";
        return;
      }
      std::vector<std::string> argv = {self,
                                       "--data-dir",
                                       data_dir,
                                       "honeypot",
                                       "--push",
                                       info.base_url + "/ingest",
                                       "--any-port-if-busy"};
      run_supervised(argv,
                     {"VANTAGE_SENSOR_INGEST_KEY=" + key, "VANTAGE_SENSOR_INGEST_SECRET=" + secret},
                     data_dir + "/demo/honeypot.log", info);
    });
  }
  // The demo's attacker: hydra against the honeypots every few minutes (demo_attacks.h).
  if (sensors_wanted && !f.no_demo) {
    DemoAttackOptions ao;
    ao.vantage = self;
    ao.data_dir = data_dir;
    ao.source = attacker;
    ao.sensor_user = global.config.sensor_user;
    hooks.jobs.push_back([ao](const ServiceInfo& info) { run_demo_attacks(ao, info); });
  }
  // The sinkhole, like the honeypot (sinkhole.listen). The demo's aggregates DNS queries per 5
  // minutes instead of per day, so its rows show up while one watches, and synthetic bots on
  // loopback call it every feed interval.
  if (sinkhole_wanted) {
    hooks.jobs.push_back([=](const ServiceInfo& info) {
      std::string key = global.config.sensor_ingest_key,
                  secret = global.config.sensor_ingest_secret;
      if (creds && !creds->ingest_key.empty()) {
        key = creds->ingest_key;
        secret = creds->ingest_secret;
      }
      if (key.empty() || secret.empty()) {
        std::cerr << "vantage up: sinkhole not started: no ingest key (sensor.ingest_key and "
                     "sensor.ingest_secret)\n";
        return;
      }
      std::vector<std::string> env = {"VANTAGE_SENSOR_INGEST_KEY=" + key,
                                      "VANTAGE_SENSOR_INGEST_SECRET=" + secret};
      if (announce_demo) env.push_back("VANTAGE_SINKHOLE_DNS_PERIOD_S=300");
      run_supervised({self, "--data-dir", data_dir, "sinkhole", "--push", info.base_url + "/ingest",
                      "--any-port-if-busy"},
                     env, data_dir + "/demo/sinkhole.log", info);
    });
    if (announce_demo) {
      auto interval = std::chrono::seconds(flags.feed_interval_s);
      hooks.jobs.push_back([=](const ServiceInfo& info) {
        for (auto wait = std::chrono::seconds(5); sleep_unless_stopped(info, wait);
             wait = interval) {
          drive_sinkhole_demo(data_dir);
        }
      });
    }
  }
  fs::create_directories(demo_dir(global), ec);
  run_service(global, hooks);
}

}  // namespace

void add_up_command(CLI::App& app, GlobalOptions& global) {
  auto f = std::make_shared<UpFlags>();
  auto* cmd = app.add_subcommand(
      "up",
      "Bring the whole service up on the embedded default: pipeline, API, dashboard, loopback "
      "scanner and (unless --no-demo) a demo constituency with synthetic data");
  cmd->add_option("--listen", f->listen, "HOST:PORT (default: api.listen)");
  cmd->add_flag("--no-demo", f->no_demo,
                "Production: no demo constituency, no synthetic feed, no loopback scan unless "
                "scan.enabled");
  cmd->add_option("--demo-country", f->demo_country,
                  "Country of the demo national CSIRT and organisations")
      ->capture_default_str();
  cmd->add_option("--history-days", f->history_days, "Days of synthetic history on first start")
      ->capture_default_str()
      ->check(CLI::Range(1, 730));
  cmd->add_option("--history-events-per-day", f->history_events_per_day,
                  "Synthetic events per history day")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{1}, int64_t{10000000}));
  cmd->add_option("--feed-interval", f->feed_interval_s, "Seconds between synthetic feed batches")
      ->capture_default_str()
      ->check(CLI::Range(1, 86400));
  cmd->add_option("--feed-events", f->feed_events, "Events per synthetic feed batch")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{1}, int64_t{1000000}));
  cmd->add_flag("--no-scan", f->no_scan, "Do not run the loopback scan schedule");
  cmd->add_flag("--no-sensors", f->no_sensors, "Do not run the honeypot and sinkhole");
  cmd->callback([f, &global] {
    for (auto& c : f->demo_country)
      c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (f->demo_country.size() != 2) {
      std::cerr << "vantage up: --demo-country wants a two-letter country code\n";
      throw CommandFailed(2);
    }
    run_up(*f, global);
  });
}

}  // namespace vantage::cli

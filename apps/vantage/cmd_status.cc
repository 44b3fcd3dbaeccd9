// `vantage status` and `vantage quarantine`: what the pipeline has done, per source, and
// what it set aside, whether the service runs (and its inbox backlog), the last report build
// and the last delivery per organisation. Read-only; safe while `vantage serve` runs (WAL).

#include <signal.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>

#include "cluster_status.h"
#include "commands.h"
#include "delivery/delivery_log.h"
#include "registry/sqlite/sqlite_registry.h"
#include "report/manifest.h"
#include "sensors/scanner/schedule.h"
#include "service/runtime.h"
#include "service/sensor_status.h"
#include "store/store.h"

namespace vantage::cli {

using service::open_store;
using service::sensor_status_text;

namespace {

std::unique_ptr<store::EventStore> open_store_or_fail(const GlobalOptions& global) {
  std::filesystem::create_directories(global.data_dir);
  auto s = open_store(global);
  if (!s) {
    std::cerr << "vantage: " << s.error().message << "\n";
    // The cluster store cannot open while a shard is down: say which shards answer.
    if (global.config.store_engine == "clickhouse") {
      std::printf("store shards:\n%s", store_shards_text(global).c_str());
    }
    throw CommandFailed(1);
  }
  return std::move(*s);
}

// The running service (if any) describes itself in <data_dir>/service.json each second.
void print_service_state(const GlobalOptions& global) {
  std::ifstream in(global.data_dir + "/service.json");
  nlohmann::json j = in ? nlohmann::json::parse(in, nullptr, false) : nlohmann::json();
  if (!j.is_object() || !j.contains("pid") || ::kill(j["pid"].get<int>(), 0) != 0) {
    std::printf("\nservice: not running (start it with `vantage serve` or `vantage up`)\n");
    return;
  }
  std::printf("\nservice: %s running at %s (pid %d, since %s)\n",
              j.value("command", "serve").c_str(), j.value("base_url", "?").c_str(),
              j["pid"].get<int>(), j.value("started", "?").c_str());
  std::printf("  inbox backlog: %lld file(s) waiting in %s\n",
              static_cast<long long>(j.value("inbox_pending", 0)), j.value("inbox", "?").c_str());
  std::printf("  push requests: %lld accepted, %lld refused; retention runs: %lld\n",
              static_cast<long long>(j.value("pushes_accepted", 0)),
              static_cast<long long>(j.value("pushes_refused", 0)),
              static_cast<long long>(j.value("retention_runs", 0)));
}

void print_last_build(const GlobalOptions& global) {
  std::string path = global.data_dir + "/reports.sqlite";
  if (!std::filesystem::exists(path)) {
    std::printf("last report build: none yet\n");
    return;
  }
  auto manifest = report::Manifest::open(path);
  auto info = manifest ? (*manifest)->latest_build()
                       : Result<std::optional<report::Manifest::BuildInfo>>(manifest.error());
  if (!info || !*info) {
    std::printf("last report build: none yet\n");
    return;
  }
  std::printf("last report build: %s: %lld reports, %lld rows (written %s)\n",
              format_date((*info)->day).c_str(), static_cast<long long>((*info)->reports),
              static_cast<long long>((*info)->rows), format_timestamp((*info)->created).c_str());
}

void print_last_deliveries(const GlobalOptions& global) {
  std::string path = delivery::default_delivery_log_path(global.data_dir);
  if (!std::filesystem::exists(path)) {
    std::printf("deliveries: none yet (mail needs smtp.url)\n");
    return;
  }
  auto log = delivery::DeliveryLog::open(path);
  auto rows = log ? (*log)->query({}) : Result<std::vector<delivery::DeliveryRecord>>(log.error());
  if (!rows || rows->empty()) {
    std::printf("deliveries: none yet\n");
    return;
  }
  std::map<std::string, const delivery::DeliveryRecord*> last;  // org id -> newest attempt
  for (const auto& r : *rows) last[r.org] = &r;                 // rows come in insertion order
  auto reg = registry::SqliteRegistry::open_in_data_dir(global.data_dir);
  std::printf("last delivery per organisation (%zu):\n", last.size());
  size_t shown = 0;
  for (const auto& [org, r] : last) {
    if (++shown > 25) {
      std::printf("  ... %zu more (see `vantage deliveries`)\n", last.size() - 25);
      break;
    }
    std::string name = org;
    if (reg) {
      if (auto o = (*reg)->find_org(org)) name = o->short_name;
    }
    std::printf("  %-30s %s  report day %s  %s%s%s\n", name.c_str(),
                format_timestamp(r->at).c_str(), r->day.c_str(), r->status.c_str(),
                r->recipient.empty() ? "" : " to ", r->recipient.c_str());
  }
}

// When each probe module last scanned, over what, with what result (scan_state.json).
void print_last_scans(const GlobalOptions& global) {
  auto state = scanner::load_scan_state(global.data_dir);
  if (!state) {
    std::printf("last scans: %s\n", state.error().message.c_str());
    return;
  }
  if (state->empty()) {
    std::printf("last scans: none yet (scan.enabled with scan.schedule, or `vantage up`)\n");
    return;
  }
  std::printf("last scan per module (%zu):\n", state->size());
  for (const auto& r : *state) {
    std::string types, targets;
    for (const auto& t : r.report_types) types += (types.empty() ? "" : ",") + t;
    for (size_t i = 0; i < r.targets.size() && i < 3; ++i) targets += (i ? "," : "") + r.targets[i];
    if (r.targets.size() > 3) targets += ",... (" + std::to_string(r.targets.size()) + ")";
    std::printf("  %-14s %-24s %s  %llu addresses, %llu events  targets %s  %s\n", r.module.c_str(),
                types.c_str(), format_timestamp(r.finished).c_str(),
                static_cast<unsigned long long>(r.addresses),
                static_cast<unsigned long long>(r.events), targets.c_str(), r.status.c_str());
  }
}

}  // namespace

void add_status_command(CLI::App& app, GlobalOptions& global) {
  auto* status = app.add_subcommand("status", "Pipeline counters per source and stage");
  status->callback([&global] {
    auto store = open_store_or_fail(global);
    auto sources = store->checkpoints();
    if (!sources) {
      std::cerr << "vantage: " << sources.error().message << "\n";
      throw CommandFailed(1);
    }
    int64_t accepted = 0, rejected = 0, dedup = 0, routed = 0;
    std::printf("%-40s %10s %10s %10s %10s %10s  %s\n", "source", "lines", "accepted", "rejected",
                "dedup", "routed", "state");
    for (const auto& s : *sources) {
      std::string name = s.source_name.size() > 40
                             ? "..." + s.source_name.substr(s.source_name.size() - 37)
                             : s.source_name;
      std::printf("%-40s %10lld %10lld %10lld %10lld %10lld  %s\n", name.c_str(),
                  static_cast<long long>(s.line), static_cast<long long>(s.accepted),
                  static_cast<long long>(s.rejected), static_cast<long long>(s.deduplicated),
                  static_cast<long long>(s.routed), s.done ? "done" : "partial");
      accepted += s.accepted;
      rejected += s.rejected;
      dedup += s.deduplicated;
      routed += s.routed;
    }
    auto q = store->quarantine_count();
    std::printf(
        "\ntotal: %lld accepted, %lld rejected (%lld in quarantine), %lld deduplicated, "
        "%lld routed to organisations\n",
        static_cast<long long>(accepted), static_cast<long long>(rejected),
        static_cast<long long>(q ? *q : -1), static_cast<long long>(dedup),
        static_cast<long long>(routed));
    if (auto unsettled = store->unsettled_events(); unsettled && *unsettled > 0) {
      std::printf(
          "store: %lld event(s) not counted in the statistics yet (the pipeline folds them "
          "every %lld events, at the end of each input and every second in `vantage serve`)\n",
          static_cast<long long>(*unsettled),
          static_cast<long long>(global.config.spool_flush_events));
    }
    print_service_state(global);
    if (!global.config.cluster_nats_urls.empty()) {
      std::printf("%s", cluster_status_text(global).c_str());
    } else if (global.config.store_engine == "clickhouse") {
      std::printf("\nstore shards:\n%s", store_shards_text(global).c_str());
    }
    std::printf("%s", sensor_status_text(global.data_dir).c_str());
    print_last_build(global);
    print_last_deliveries(global);
    print_last_scans(global);
  });

  auto* quarantine = app.add_subcommand("quarantine", "Show rejected records and why");
  // The callback owns the option's storage, so it lives as long as the App.
  auto limit = std::make_shared<int64_t>(50);
  quarantine->add_option("-n,--limit", *limit, "How many of the newest records to show")
      ->capture_default_str();
  quarantine->callback([&global, limit] {
    auto store = open_store_or_fail(global);
    auto rows = store->quarantine(*limit);
    if (!rows) {
      std::cerr << "vantage: " << rows.error().message << "\n";
      throw CommandFailed(1);
    }
    for (const auto& r : *rows) {
      std::printf("%s:%lld: field '%s': %s\n", r.source.c_str(), static_cast<long long>(r.line),
                  r.field.c_str(), r.reason.c_str());
    }
  });
}

}  // namespace vantage::cli

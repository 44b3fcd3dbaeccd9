// `vantage status` and `vantage quarantine`: what the pipeline has done, per source, and
// what it set aside. Reads the event store only; safe while `vantage serve` runs (SQLite WAL).

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>

#include "commands.h"
#include "store/store.h"

namespace vantage::cli {

namespace {

std::unique_ptr<store::EventStore> open_store_or_fail(const GlobalOptions& global) {
  std::filesystem::create_directories(global.data_dir);
  auto s = store::open_sqlite_store(global.data_dir + "/events.sqlite");
  if (!s) {
    std::cerr << "vantage: " << s.error().message << "\n";
    throw CommandFailed(1);
  }
  return std::move(*s);
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

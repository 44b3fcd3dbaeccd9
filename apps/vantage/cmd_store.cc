// `vantage store migrate --to ENGINE`: copies the configured event store (or --from's) into an
// empty store of another engine, e.g. an embedded installation's SQLite file into the
// ClickHouse cluster (docs/cluster.md); `vantage store dump`: the canonical text of what a
// store answers, for comparing two stores (store/copy.h).

#include <chrono>
#include <filesystem>
#include <iostream>

#include "commands.h"
#include "integrations/delivery_state.h"
#include "registry/sqlite/sqlite_registry.h"
#include "service/runtime.h"
#include "service/store_lock.h"
#include "store/copy.h"
#include "store/open_store.h"

namespace vantage::cli {

namespace {

[[noreturn]] void fail(const char* command, const std::string& message, int code = 1) {
  std::cerr << "vantage store " << command << ": " << message << "\n";
  throw CommandFailed(code);
}

// The configured store's settings with another engine; open_event_store refuses a name it does
// not know, so an engine added there needs nothing here.
store::StoreSettings settings_for(const GlobalOptions& global, const std::string& engine) {
  auto s = service::store_settings(global);
  s.engine = engine;
  return s;
}

// Where the store lives, for messages.
std::string describe(const store::StoreSettings& s) {
  if (s.engine == "sqlite") return "sqlite " + s.sqlite_path;
  if (s.engine == "clickhouse") {
    return "clickhouse " + s.clickhouse.url + " database " + s.clickhouse.database;
  }
  return s.engine;
}

std::unique_ptr<store::EventStore> open_or_fail(const store::StoreSettings& s,
                                                const char* command) {
  auto opened = store::open_event_store(s);
  if (!opened) fail(command, describe(s) + ": " + opened.error().message);
  return std::move(*opened);
}

// The registry's organisations: a day whose events retention dropped names none itself.
std::vector<uint32_t> registry_org_ids(const GlobalOptions& global, const char* command) {
  auto registry = registry::SqliteRegistry::open_in_data_dir(global.data_dir);
  if (!registry) fail(command, "registry: " + registry.error().message);
  auto orgs = (*registry)->list_orgs();
  if (!orgs) fail(command, "registry: " + orgs.error().message);
  std::vector<uint32_t> ids;
  for (const auto& o : *orgs) ids.push_back(static_cast<uint32_t>(o.id));
  return ids;
}

// The integrations' cursors are event ids of the source; the target numbers its events anew.
struct IntegrationCursors {
  std::unique_ptr<integrations::DeliveryState> state;  // null: no integrations.sqlite
  std::vector<int64_t> subs, ids;
};

IntegrationCursors integration_cursors(const GlobalOptions& global, const char* command) {
  IntegrationCursors c;
  std::string path = global.data_dir + "/integrations.sqlite";
  if (!std::filesystem::exists(path)) return c;
  auto state = integrations::DeliveryState::open(path);
  if (!state) fail(command, path + ": " + state.error().message);
  auto subs = (*state)->summary();
  if (!subs) fail(command, path + ": " + subs.error().message);
  for (const auto& s : *subs) {
    auto cursor = (*state)->cursor(s.sub_id);
    if (!cursor) fail(command, path + ": " + cursor.error().message);
    if (!cursor->has_value()) continue;  // never started: it starts at the store's head
    c.subs.push_back(s.sub_id);
    c.ids.push_back((*cursor)->after_id);
  }
  c.state = std::move(*state);
  return c;
}

void print_progress(const store::CopyCounts& c) {
  std::cerr << "vantage store migrate: " << c.events << " events (" << c.occurrences
            << " occurrences), " << c.dropped_days << " days of statistics only, " << c.quarantined
            << " quarantined records, " << c.checkpoints << " checkpoints\n";
}

}  // namespace

void add_store_command(CLI::App& app, GlobalOptions& global) {
  auto* cmd = app.add_subcommand("store", "Event store maintenance: migrate between engines, dump");
  cmd->require_subcommand(1);

  struct MigrateFlags {
    std::string from;  // empty: store.engine
    std::string to;
  };
  auto flags = std::make_shared<MigrateFlags>();
  auto* migrate = cmd->add_subcommand(
      "migrate",
      "Copy the event store into an empty store of another engine (e.g. to the cluster)");
  migrate->footer(
      "Copies everything the store answers: every event with its routes (late ones too), count, "
      "first/last seen and representative row; the statistics, those of days whose events "
      "retention dropped included; the quarantine; the input checkpoints (an ingest resumed on "
      "the new store continues exactly where the old one stopped, each input once). Both stores "
      "come from this configuration: the SQLite file in the data directory, store.clickhouse.* "
      "for the cluster. The integrations' cursors in this data directory move to the new "
      "store's event ids. Refused while another vantage process uses this data directory's "
      "store and when the target holds anything; fails if the source changes during the copy "
      "(stop every writer first, cluster workers on other hosts too). Afterwards the target's "
      "statistics are checked equal to the source's; then set store.engine to the new engine. "
      "Progress goes to stderr. docs/cluster.md: moving an embedded installation to the "
      "cluster.\n\nExample: VANTAGE_STORE_CLICKHOUSE_URL=http://127.0.0.1:8123 vantage store "
      "migrate --to clickhouse");
  migrate->add_option("--from", flags->from,
                      "Engine of the existing store: sqlite or clickhouse (default: store.engine)");
  migrate->add_option("--to", flags->to, "Engine of the new, empty store: sqlite or clickhouse")
      ->required();
  migrate->callback([&global, flags] {
    const char* c = "migrate";
    std::string from_engine = flags->from.empty() ? global.config.store_engine : flags->from;
    auto from = settings_for(global, from_engine);
    auto to = settings_for(global, flags->to);
    if (from.engine == to.engine) {
      fail(c, "the store is " + from.engine + " already; --to names another engine", 2);
    }
    if (from.engine == "sqlite" && !std::filesystem::exists(from.sqlite_path)) {
      fail(c, "no SQLite store at " + from.sqlite_path);
    }
    std::filesystem::create_directories(global.data_dir);
    auto lock = service::StoreLock::exclusive(global.data_dir);
    if (!lock) fail(c, lock.error().message);
    auto source = open_or_fail(from, c);
    auto target = open_or_fail(to, c);
    store::CopyOptions options;
    options.org_ids = registry_org_ids(global, c);
    auto cursors = integration_cursors(global, c);
    options.translate_ids = cursors.ids;
    auto last = std::chrono::steady_clock::now();
    options.progress = [&last](const store::CopyCounts& counts) {
      auto now = std::chrono::steady_clock::now();
      if (now - last < std::chrono::seconds(1)) return;
      last = now;
      print_progress(counts);
    };
    std::cerr << "vantage store migrate: from " << describe(from) << " to " << describe(to) << "\n";
    auto copied = store::copy_store(*source, *target, options);
    if (!copied) fail(c, copied.error().message);
    print_progress(*copied);
    for (size_t i = 0; i < cursors.subs.size(); ++i) {
      auto st = cursors.state->reset_cursor(cursors.subs[i], copied->translated_ids[i]);
      if (!st)
        fail(c, "integrations: subscription " + std::to_string(cursors.subs[i]) +
                    ": cursor not moved to the new store's ids: " + st.error().message);
      std::cerr << "vantage store migrate: integrations subscription " << cursors.subs[i]
                << ": cursor " << cursors.ids[i] << " -> " << copied->translated_ids[i] << "\n";
    }
    std::cout << "store migrate: " << copied->events << " events (" << copied->occurrences
              << " occurrences), " << copied->dropped_days << " days of statistics only, "
              << copied->quarantined << " quarantined records and " << copied->checkpoints
              << " checkpoints copied from " << describe(from) << " to " << describe(to)
              << "; statistics checked equal. Set store.engine = \"" << to.engine
              << "\" to use it.\n";
  });

  auto engine = std::make_shared<std::string>();
  auto* dump = cmd->add_subcommand(
      "dump",
      "Print what the event store answers, canonically (independent of event ids and engine): "
      "events with routes, statistics, reports with their rows, quarantine, checkpoints. For "
      "comparing two stores, e.g. before and after `vantage store migrate`");
  dump->add_option("--engine", *engine,
                   "Engine of the store to dump: sqlite or clickhouse (default: store.engine)");
  dump->callback([&global, engine] {
    const char* c = "dump";
    auto s = settings_for(global, engine->empty() ? global.config.store_engine : *engine);
    if (s.engine == "sqlite" && !std::filesystem::exists(s.sqlite_path)) {
      fail(c, "no SQLite store at " + s.sqlite_path);
    }
    auto opened = open_or_fail(s, c);
    auto orgs = registry_org_ids(global, c);
    if (auto st = store::dump_store(*opened, std::cout, orgs); !st) fail(c, st.error().message);
  });
}

}  // namespace vantage::cli

#pragma once
// Opening the parts a long-running or pipeline command needs, from the configuration:
// catalogue, enrichment data, registry + subscription index, operator rules, event store.
// Missing enrichment data is not fatal: the command warns once and runs without it (a
// fresh machine without the npm data can still ingest; reports then lack asn/geo).

#include <cstdint>
#include <memory>
#include <string>
#include <utility>

#include "core/catalogue.h"
#include "enrich/enricher.h"
#include "match/subscription_index.h"
#include "pipeline/processor.h"
#include "pipeline/rules.h"
#include "registry/sqlite/sqlite_registry.h"
#include "service/options.h"
#include "service/store_lock.h"
#include "store/open_store.h"
#include "store/store.h"

namespace vantage::service {

// Relative data paths are tried from the working directory, then from each parent of the
// binary's directory (so a build-tree binary finds data/node_modules from anywhere).
std::string resolve_data_path(const std::string& path);
// "HOST:PORT", "[V6]:PORT" or ":PORT" (127.0.0.1) of a listener; port 0 lets the kernel pick.
// Prints "vantage <command>: bad listen address ..." and throws CommandFailed(2) otherwise.
std::pair<std::string, uint16_t> parse_listen_address(const std::string& text,
                                                      const std::string& command);
enrich::EnrichmentPaths enrichment_paths(const config::Config& c);
// The event store's settings from the configuration.
store::SqliteStoreOptions store_options(const GlobalOptions& global);
// Which store the configuration names, with its settings (store.*).
store::StoreSettings store_settings(const GlobalOptions& global);
// Opens the configured event store (store.engine: the data directory's SQLite file or the
// ClickHouse cluster); every command opens its store here.
Result<std::unique_ptr<store::EventStore>> open_store(const GlobalOptions& global);

struct RuntimeOptions {
  bool enrichment = true;
  bool reverse_dns = false;
  bool store = true;
  // The subscription index (routing events to organisations); a command that routes nothing
  // (report build) skips building it -- a tenth of a 100,000-organisation build's CPU.
  bool match_index = true;
};

struct Runtime {
  std::shared_ptr<const core::Catalogue> catalogue;
  std::unique_ptr<enrich::Enricher> enricher;  // null when the data are missing or disabled
  std::unique_ptr<registry::SqliteRegistry> registry;
  match::IndexHolder index;
  pipeline::OperatorRules rules;
  // Held while `store` is open, so that `vantage store migrate` refuses to run meanwhile.
  StoreLock store_lock;
  std::unique_ptr<store::EventStore> store;

  pipeline::ProcessorInputs inputs(bool re_enrich = false) const {
    return {enricher.get(), &index, &rules, re_enrich};
  }
  // Rebuilds the subscription index if the registry changed since the last build.
  void refresh_index();
};

// Throws CommandFailed with a clear message when a required part cannot be opened.
std::unique_ptr<Runtime> open_runtime(const GlobalOptions& global, const RuntimeOptions& options,
                                      const char* command);

}  // namespace vantage::service

#include "service/runtime.h"

#include <spdlog/spdlog.h>

#include <filesystem>
#include <iostream>

#include "common/strings.h"

namespace vantage::service {

namespace fs = std::filesystem;

std::string resolve_data_path(const std::string& p) {
  if (p.empty() || fs::path(p).is_absolute() || fs::exists(p)) return p;
  std::error_code ec;
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (ec) return p;
  for (fs::path dir = exe.parent_path(); !dir.empty() && dir != dir.root_path();
       dir = dir.parent_path()) {
    if (fs::exists(dir / p)) return (dir / p).string();
  }
  return p;
}

std::pair<std::string, uint16_t> parse_listen_address(const std::string& text,
                                                      const std::string& command) {
  auto colon = text.rfind(':');
  std::optional<uint64_t> port;
  if (colon != std::string::npos) port = parse_uint(text.substr(colon + 1));
  if (!port || *port > 65535) {
    std::cerr << "vantage " << command << ": bad listen address '" << text
              << "' (want HOST:PORT)\n";
    throw CommandFailed(2);
  }
  std::string host = text.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  if (host.empty()) host = "127.0.0.1";
  return {host, static_cast<uint16_t>(*port)};
}

store::SqliteStoreOptions store_options(const GlobalOptions& global) {
  store::SqliteStoreOptions o;
  o.spool_flush_events = global.config.spool_flush_events;
  return o;
}

store::StoreSettings store_settings(const GlobalOptions& global) {
  const auto& c = global.config;
  store::StoreSettings s;
  s.engine = c.store_engine;
  s.sqlite_path = global.data_dir + "/events.sqlite";
  s.sqlite = store_options(global);
  s.segment_path = global.data_dir + "/events.segment";
  s.segment.fold = s.sqlite;
  s.clickhouse.url = c.clickhouse_url;
  s.clickhouse.shard_urls = c.clickhouse_shard_urls;
  s.clickhouse.database = c.clickhouse_database;
  s.clickhouse.cluster = c.clickhouse_cluster;
  s.clickhouse.connect_timeout_ms = c.clickhouse_connect_timeout_ms;
  s.clickhouse.request_timeout_ms = c.clickhouse_request_timeout_ms;
  s.clickhouse.retries = static_cast<int>(c.clickhouse_retries);
  s.clickhouse.retry_backoff_ms = c.clickhouse_retry_backoff_ms;
  return s;
}

Result<std::unique_ptr<store::EventStore>> open_store(const GlobalOptions& global) {
  return store::open_event_store(store_settings(global));
}

enrich::EnrichmentPaths enrichment_paths(const config::Config& c) {
  enrich::EnrichmentPaths paths;
  paths.asn_v4 = resolve_data_path(c.asn_v4);
  paths.asn_v6 = resolve_data_path(c.asn_v6);
  paths.geo_v4 = resolve_data_path(c.geo_v4);
  paths.geo_v6 = resolve_data_path(c.geo_v6);
  paths.sector = resolve_data_path(c.sector_table);
  return paths;
}

void Runtime::refresh_index() {
  if (!registry) return;
  auto r = index.refresh(*registry);
  if (!r) spdlog::warn("subscription index not rebuilt: {}", r.error().message);
}

std::unique_ptr<Runtime> open_runtime(const GlobalOptions& global, const RuntimeOptions& options,
                                      const char* command) {
  auto fail = [&](const std::string& msg) {
    std::cerr << "vantage " << command << ": " << msg << "\n";
    throw CommandFailed(1);
  };
  auto rt = std::make_unique<Runtime>();
  auto cat = core::Catalogue::open(global.catalogue_path);
  if (!cat) fail(cat.error().message);
  rt->catalogue = std::move(*cat);

  std::error_code ec;
  fs::create_directories(global.data_dir, ec);
  if (ec) fail("cannot create " + global.data_dir + ": " + ec.message());

  if (options.enrichment) {
    enrich::EnrichmentPaths paths = enrichment_paths(global.config);
    bool present = fs::exists(paths.asn_v4) || fs::exists(paths.geo_v4);
    if (!present) {
      std::cerr << "vantage " << command << ": warning: enrichment data not found (" << paths.asn_v4
                << "); run scripts/install-deps.sh. Continuing without "
                << "ASN/geo enrichment.\n";
    } else {
      for (auto* p : {&paths.asn_v4, &paths.asn_v6, &paths.geo_v4, &paths.geo_v6, &paths.sector}) {
        if (!p->empty() && !fs::exists(*p)) {
          std::cerr << "vantage " << command << ": warning: " << *p << " not found; skipped\n";
          p->clear();
        }
      }
      enrich::EnricherOptions eo;
      eo.reverse_dns = options.reverse_dns || global.config.reverse_dns;
      eo.poll_interval = std::chrono::seconds(global.config.reload_interval_s);
      auto e = enrich::Enricher::create(paths, eo);
      if (!e) fail("enrichment data: " + e.error().message);
      rt->enricher = std::move(*e);
    }
  }

  auto reg = registry::SqliteRegistry::open_in_data_dir(global.data_dir);
  if (!reg) fail("registry: " + reg.error().message);
  rt->registry = std::move(*reg);
  if (options.match_index) {
    auto built = rt->index.refresh(*rt->registry);
    if (!built) fail("subscription index: " + built.error().message);
  }

  std::string rules_path = resolve_data_path(global.config.rules);
  if (!rules_path.empty() && fs::exists(rules_path)) {
    auto rules = pipeline::OperatorRules::load(rules_path);
    if (!rules) fail(rules.error().message);
    rt->rules = std::move(*rules);
  }

  if (options.store) {
    auto lock = StoreLock::shared(global.data_dir);
    if (!lock) fail(lock.error().message);
    rt->store_lock = std::move(*lock);
    auto s = open_store(global);
    if (!s) fail(s.error().message);
    rt->store = std::move(*s);
  }
  return rt;
}

}  // namespace vantage::service

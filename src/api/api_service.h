#pragma once
// The Shadowserver-compatible api2 (docs/shadowserver-api.md §1-§3): POST /api2/<module>/
// <method> with the key in the JSON body and HMAC2 = hex HMAC-SHA256 over the raw body, plus
// the credential-less report download GET <download root>/<id> (and GET /<id> at the root,
// Shadowserver's dl.shadowserver.org form).
//
// Methods: test/ping, key/info, reports/subscribed, reports/types, reports/list,
// reports/query, reports/stats, reports/schema, reports/device-info, reports/download
// (legacy JSON rows). honeypot/* answers 403 (no key is in that group).
//
// Errors (spec §1.3): 400 body not a JSON object / bad parameter, 401 missing or unknown key
// or bad HMAC2, 403 key without access to the module, 404 unknown method, 405 not POST,
// 429 per-key rate limit or daily query quota exceeded. reports/query without a field
// matching the org's filter kind answers 400 text/plain "No supported report filters found".
//
// Isolation: every method is scoped to the key's organisation (manifest list by org_id,
// store queries and stats with org_id set, download-by-JSON checks the entry's org_id).
// Download ids are bearer capabilities (spec §1.4) and are not org-checked on GET.
//
// Report files come from report::Manifest (src/report/manifest.h, <data_dir>/reports.sqlite,
// written by the report builder); events and statistics from store::EventStore.
//
// Thread-safety: handle_api()/handle_download() may be called concurrently. The manifest and
// store are single-threaded objects: with ApiOptions::manifest_path / store_path set, each
// concurrent request borrows its own connection from a small pool (connection_pool.h);
// without them, requests take turns on the objects passed in.

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>

#include "api/http/http_server.h"
#include "api/key_store.h"
#include "core/catalogue.h"
#include "report/manifest.h"
#include "store/store.h"

namespace vantage::api {

struct ApiOptions {
  int64_t max_query_limit = 10000;  // spec: "The maximum limit for a query is 10,000"
  // Token bucket per key; rate 0 disables (Shadowserver: "There is no rate limiting").
  double rate_per_second = 0;
  double burst = 20;
  int64_t daily_query_limit = 0;  // reports/query calls per key per UTC day; 0 = unlimited
  int default_list_days = 7;      // reports/list and types without `date`: today-6..today
  // Legacy reports/download (rows as JSON objects) stops after this many rows. The answer is
  // streamed, so the cap bounds transfer size and time, not server memory.
  int64_t download_json_row_cap = 100000;
  // Files of the report manifest and the event store. When set, each concurrent request
  // borrows its own connection (up to `max_db_connections` per file) instead of every request
  // taking turns on the single object passed to the constructor.
  std::string manifest_path;
  std::string store_path;
  // Opens one more event store connection; when set it is used instead of store_path (the
  // configured engine, e.g. the ClickHouse cluster store).
  std::function<Result<std::unique_ptr<store::EventStore>>()> open_store;
  size_t max_db_connections = 16;
};

class ApiService {
 public:
  // `manifest` and `store` may be null (then lists are empty / queries return nothing).
  ApiService(ApiOptions options, std::shared_ptr<KeyStore> keys,
             std::unique_ptr<report::Manifest> manifest, std::unique_ptr<store::EventStore> store,
             std::shared_ptr<const core::Catalogue> catalogue,
             std::function<UnixSeconds()> clock = nullptr);
  ~ApiService();

  // POST /api2/<module>/<method>. Never throws; every outcome is a response.
  http::Response handle_api(const http::Request& request);
  // GET <prefix><id>[?<rest of id>]; `prefix` is the route prefix ("/" or "/dl/").
  http::Response handle_download(const http::Request& request, std::string_view prefix);

  // Registers both on `server`: "/api2/" and the download prefix (pass "/" only when the
  // server is dedicated to downloads).
  void install(http::HttpServer& server, const std::string& download_prefix);
  // Also answers GET/HEAD /<id> for a 50-character report id at the root -- where
  // Shadowserver's clients (IntelMQ, call-api's report-manager, ...) fetch dl.shadowserver.org/<id>
  // -- and leaves every other root path to the routes registered after it (the dashboard).
  // Call before the dashboard installs its "/" route.
  void install_root_downloads(http::HttpServer& server);

  // A Vantage method beyond Shadowserver's ("remediation/stats"): called like the reports
  // methods -- after the key, the HMAC2, the rate limit and the reports-group access passed --
  // with the authenticated key and the parsed JSON body. Answers must be scoped to the key's
  // organisation. Add methods before the server starts; the existing methods cannot be
  // replaced.
  using ExtraMethod =
      std::function<http::Response(const KeyIdentity& key, const nlohmann::json& body)>;
  void add_method(const std::string& name, ExtraMethod method);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vantage::api

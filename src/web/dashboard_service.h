#pragma once
// The dashboard's HTTP surface: the built front-end assets at "/" and the JSON statistics API
// the pages read (docs/dashboard.md).
//
// Public, GET, aggregate only -- never an IP address, never a count below `min_count`:
//   /dash/api/meta   date extent, report types, tags and countries present, the threshold
//   /dash/api/stats  counts grouped by any of day, type, geo, region, severity, tag over a
//                    date range, filtered by type, tag, severity, geo, region
// Private, POST, authenticated exactly like api2 (JSON body with "apikey", header HMAC2 =
// hex HMAC-SHA256 of the raw body), every answer scoped to the key's organisation:
//   /dash/api/org/whoami, /dash/api/org/stats, /dash/api/org/reports, /dash/api/org/deliveries,
//   /dash/api/org/subscriptions
//
// Statistics come from the store's rollups (src/store/sqlite/rollups.h), never a scan of the
// events, so a call stays fast at a year of data; `meta` is cached for a few seconds.
//
// Thread-safety: handlers may run concurrently; the store, manifest and delivery log (each a
// single-threaded object with its own read connection) are guarded by one mutex each.

#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "api/http/http_server.h"
#include "api/key_store.h"
#include "core/catalogue.h"
#include "store/store.h"

namespace vantage::web {

struct DashboardOptions {
  int64_t min_count = 10;         // public rows below this are withheld
  int max_days = 731;             // longest date range one call may ask for (two years)
  std::string web_root;           // built assets; empty or missing: "/" explains how to build them
  std::string manifest_path;      // <data_dir>/reports.sqlite
  std::string delivery_log_path;  // <data_dir>/deliveries.sqlite
  std::string download_prefix = "/dl/";
  std::string site_name = "Vantage";
  // The organisation's push subscriptions with their delivery state, a JSON array (src/
  // integrations); null or nullopt: /dash/api/org/subscriptions answers an empty list.
  std::function<std::optional<std::string>(uint32_t org_id)> org_subscriptions;
};

class DashboardService {
 public:
  // `org_name` maps an organisation id to its display name (may be null).
  DashboardService(DashboardOptions options, std::unique_ptr<store::EventStore> store,
                   std::shared_ptr<api::KeyStore> keys,
                   std::shared_ptr<const core::Catalogue> catalogue,
                   std::function<std::optional<std::string>(uint32_t)> org_name = nullptr,
                   std::function<DayNumber()> today = nullptr);
  ~DashboardService();

  http::Response meta(const http::Request& request);
  http::Response stats(const http::Request& request);
  // POST /dash/api/org/<method>
  http::Response org(const http::Request& request);
  // The organisation view for an organisation already authenticated by the caller (the
  // portal's session): `method` is whoami, stats, reports or deliveries, `params` the JSON
  // object of parameters. Every answer is scoped to `org_id`.
  http::Response org_view(uint32_t org_id, const std::string& short_name, std::string_view method,
                          const nlohmann::json& params);

  // Registers the API routes and the static assets at "/".
  void install(http::HttpServer& server);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Parses an application/x-www-form-urlencoded query ("a=1&b=x+y") into name -> value; a
// repeated name keeps its values joined by ','. nullopt on a malformed percent escape.
std::optional<std::vector<std::pair<std::string, std::string>>> parse_form(std::string_view query);

}  // namespace vantage::web

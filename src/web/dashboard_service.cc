#include "web/dashboard_service.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>

#include "api/params.h"
#include "common/strings.h"
#include "delivery/delivery_log.h"
#include "report/manifest.h"

namespace vantage::web {

using nlohmann::json;

namespace {

// Client bytes (a bad date, an unknown type) and stored values may be invalid UTF-8: they are
// replaced (U+FFFD), never allowed to throw out of a handler.
std::string dump(const json& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

http::Response error(unsigned status, std::string_view message) {
  return http::Response::json(status, dump(json{{"error", message}}));
}

http::Response ok(const json& body, bool cacheable) {
  auto r = http::Response::json(200, dump(body));
  // Public aggregates may be cached briefly by browsers; private answers never.
  r.set_header("Cache-Control", cacheable ? "public, max-age=30" : "no-store");
  return r;
}

const std::set<std::string>& known_dimensions() {
  static const std::set<std::string> dims = {"day", "type", "geo", "region", "severity", "tag"};
  return dims;
}

// A parameter set from either a GET query or a POST JSON body, as strings.
using Params = std::map<std::string, std::string>;

std::optional<std::string> get(const Params& p, const char* name) {
  auto it = p.find(name);
  if (it == p.end() || trim(it->second).empty()) return std::nullopt;
  return std::string(trim(it->second));
}

std::vector<std::string> list_of(std::string_view s) {
  std::vector<std::string> out;
  for (auto part : split(s, ',')) {
    part = trim(part);
    if (!part.empty()) out.emplace_back(part);
  }
  return out;
}

}  // namespace

std::optional<std::vector<std::pair<std::string, std::string>>> parse_form(std::string_view query) {
  std::vector<std::pair<std::string, std::string>> out;
  for (auto part : split(query, '&')) {
    if (part.empty()) continue;
    auto eq = part.find('=');
    std::string name(part.substr(0, eq));
    std::string value(eq == std::string_view::npos ? std::string_view() : part.substr(eq + 1));
    std::replace(name.begin(), name.end(), '+', ' ');
    std::replace(value.begin(), value.end(), '+', ' ');  // forms encode spaces as '+'
    auto n = http::percent_decode(name);
    auto v = http::percent_decode(value);
    if (!n || !v) return std::nullopt;
    auto it = std::find_if(out.begin(), out.end(), [&](const auto& kv) { return kv.first == *n; });
    if (it == out.end()) {
      out.emplace_back(std::move(*n), std::move(*v));
    } else if (!v->empty()) {
      it->second += (it->second.empty() ? "" : ",") + *v;
    }
  }
  return out;
}

struct DashboardService::Impl {
  DashboardOptions options;
  std::unique_ptr<store::EventStore> store;
  std::shared_ptr<api::KeyStore> keys;
  std::shared_ptr<const core::Catalogue> catalogue;
  std::function<std::optional<std::string>(uint32_t)> org_name;
  std::function<DayNumber()> today;
  std::mutex store_mu;
  std::mutex manifest_mu;
  std::unique_ptr<report::Manifest> manifest;  // opened on first use
  std::mutex delivery_mu;
  std::unique_ptr<delivery::DeliveryLog> delivery_log;  // opened on first use

  // meta, recomputed at most every few seconds: it reads the whole extent of the rollups.
  std::mutex meta_mu;
  std::chrono::steady_clock::time_point meta_at{};
  json meta_cache;
  std::optional<DayNumber> last_day_cache;

  Result<std::vector<store::StatsRow>> run_stats(const store::StatsQuery& q) {
    std::lock_guard lock(store_mu);
    return store->stats(q);
  }

  Result<json> compute_meta() {
    store::StatsQuery q;
    q.first_day = 0;
    q.last_day = today() + 1;
    json m;
    m["site"] = options.site_name;
    m["min_count"] = options.min_count;
    m["max_days"] = options.max_days;
    m["severities"] = json::array();
    for (int s = 0; s < core::kSeverityCount; ++s)
      m["severities"].push_back(core::severity_name(static_cast<core::Severity>(s)));
    q.group_by = {"day"};
    auto days = run_stats(q);
    if (!days) return days.error();
    if (days->empty()) {
      m["first_day"] = nullptr;
      m["last_day"] = nullptr;
      last_day_cache.reset();
    } else {
      m["first_day"] = days->front().keys[0];
      m["last_day"] = days->back().keys[0];
      auto last = parse_date(days->back().keys[0]);
      if (last) last_day_cache = *last;
    }
    // Types, tags and countries present; a name's presence is not a count, so no threshold.
    q.group_by = {"type"};
    auto types = run_stats(q);
    if (!types) return types.error();
    m["types"] = json::array();
    for (const auto& r : *types) {
      const auto* t = catalogue->find(r.keys[0]);
      m["types"].push_back({{"name", r.keys[0]},
                            {"title", t ? t->subject : r.keys[0]},
                            {"severity", t ? core::severity_name(t->default_severity) : "info"}});
    }
    q.group_by = {"tag"};
    auto tags = run_stats(q);
    if (!tags) return tags.error();
    std::vector<std::pair<int64_t, std::string>> ranked;
    for (const auto& r : *tags)
      if (!r.keys[0].empty()) ranked.emplace_back(-r.events, r.keys[0]);
    std::sort(ranked.begin(), ranked.end());
    if (ranked.size() > 200) ranked.resize(200);  // the most frequent; enough for a picker
    std::vector<std::string> tag_names;
    for (auto& [n, t] : ranked) tag_names.push_back(t);
    std::sort(tag_names.begin(), tag_names.end());
    m["tags"] = tag_names;
    q.group_by = {"geo"};
    auto geos = run_stats(q);
    if (!geos) return geos.error();
    m["countries"] = json::array();
    for (const auto& r : *geos)
      if (!r.keys[0].empty()) m["countries"].push_back(r.keys[0]);
    return m;
  }

  Result<json> cached_meta() {
    std::lock_guard lock(meta_mu);
    auto now = std::chrono::steady_clock::now();
    if (meta_cache.is_null() || now - meta_at > std::chrono::seconds(5)) {
      auto m = compute_meta();
      if (!m) return m.error();
      meta_cache = std::move(*m);
      meta_at = now;
    }
    return meta_cache;
  }

  // Translates request parameters into a store query. `org` set: the organisation's view.
  Result<store::StatsQuery> stats_query(const Params& p, std::optional<uint32_t> org) {
    store::StatsQuery q;
    q.org_id = org;
    if (auto g = get(p, "group")) {
      for (auto& d : list_of(*g)) {
        if (!known_dimensions().count(d))
          return Error::invalid("unknown grouping '" + d +
                                "' (day, type, geo, region, severity, tag)");
        if (std::find(q.group_by.begin(), q.group_by.end(), d) == q.group_by.end())
          q.group_by.push_back(d);
      }
    }
    DayNumber last = today();
    if (!org) {
      std::lock_guard lock(meta_mu);
      if (last_day_cache) last = *last_day_cache;
    }
    if (auto to = get(p, "to")) {
      auto d = parse_date(*to);
      if (!d) return Error::invalid("bad 'to' date '" + *to + "' (want YYYY-MM-DD)");
      last = *d;
    }
    DayNumber first = last - 29;
    if (auto from = get(p, "from")) {
      auto d = parse_date(*from);
      if (!d) return Error::invalid("bad 'from' date '" + *from + "' (want YYYY-MM-DD)");
      first = *d;
    }
    if (first > last) return Error::invalid("'from' is after 'to'");
    if (last - first + 1 > options.max_days)
      return Error::invalid("date range longer than " + std::to_string(options.max_days) + " days");
    q.first_day = first;
    q.last_day = last;
    if (auto t = get(p, "type")) {
      for (auto& name : list_of(*t)) {
        if (!catalogue->find(name)) return Error::invalid("unknown report type '" + name + "'");
        q.types.push_back(name);
      }
    }
    if (auto t = get(p, "tag")) {
      if (t->size() > 200) return Error::invalid("tag too long");
      q.tag = to_lower(*t);
    }
    if (auto s = get(p, "severity")) {
      for (auto& name : list_of(*s)) {
        auto sev = core::parse_severity(to_lower(name));
        if (!sev) return Error::invalid("unknown severity '" + name + "'");
        q.severities.push_back(static_cast<uint8_t>(*sev));
      }
    }
    if (auto g = get(p, "geo")) {
      std::string up = *g;
      for (auto& c : up) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      if (up.size() != 2 || !std::isalpha(static_cast<unsigned char>(up[0])) ||
          !std::isalpha(static_cast<unsigned char>(up[1])))
        return Error::invalid("bad country code '" + *g + "' (want two letters)");
      q.geo = up;
    }
    if (auto r = get(p, "region")) {
      if (r->size() > 200) return Error::invalid("region too long");
      q.region = *r;
    }
    return q;
  }

  // Runs the query and shapes the answer; `min_count` 0 shows every row.
  http::Response stats_answer(const store::StatsQuery& q, int64_t min_count, bool cacheable) {
    auto rows = run_stats(q);
    if (!rows) {
      if (rows.error().code == ErrorCode::kInvalidArgument) return error(400, rows.error().message);
      return error(503, "statistics unavailable");
    }
    json out;
    out["group"] = q.group_by;
    out["from"] = format_date(q.first_day);
    out["to"] = format_date(q.last_day);
    out["min_count"] = min_count;
    json list = json::array();
    int64_t total = 0, suppressed = 0;
    size_t sev_index =
        std::find(q.group_by.begin(), q.group_by.end(), "severity") - q.group_by.begin();
    for (auto& r : *rows) {
      if (r.events < min_count) {
        ++suppressed;
        continue;
      }
      json row = json::array();
      for (size_t i = 0; i < r.keys.size(); ++i) {
        if (i == sev_index) {
          auto n = parse_uint(r.keys[i]);
          row.push_back(n && *n < core::kSeverityCount
                            ? core::severity_name(static_cast<core::Severity>(*n))
                            : r.keys[i]);
        } else {
          row.push_back(r.keys[i]);
        }
      }
      row.push_back(r.events);
      total += r.events;
      list.push_back(std::move(row));
    }
    out["rows"] = std::move(list);
    out["total"] = total;
    out["suppressed"] = suppressed;
    return ok(out, cacheable);
  }

  // api2-style authentication of an organisation request.
  Result<api::KeyIdentity> authenticate(const http::Request& req, const json& body) {
    auto kit = body.find("apikey");
    if (kit == body.end() || !kit->is_string() || kit->get_ref<const std::string&>().empty())
      return Error{ErrorCode::kUnauthenticated, "missing apikey"};
    auto mac = req.header("HMAC2");
    if (!mac) return Error{ErrorCode::kUnauthenticated, "missing HMAC2 header"};
    auto id = keys->lookup(kit->get_ref<const std::string&>());
    if (!id) {
      if (id.error().code == ErrorCode::kNotFound ||
          id.error().code == ErrorCode::kPermissionDenied)
        return Error{ErrorCode::kUnauthenticated, "invalid apikey"};
      return Error{ErrorCode::kUnavailable, "key store unavailable"};
    }
    bool good = false;
    for (const auto& s : id->secrets) good |= api::hmac_matches(s, req.body, *mac);
    if (!good) return Error{ErrorCode::kUnauthenticated, "HMAC2 mismatch"};
    if (!id->reports_access)
      return Error{ErrorCode::kPermissionDenied, "this key has no access to reports"};
    return id;
  }

  Result<std::pair<DayNumber, DayNumber>> range_of(const Params& p) {
    DayNumber last = today();
    if (auto to = get(p, "to")) {
      auto d = parse_date(*to);
      if (!d) return Error::invalid("bad 'to' date '" + *to + "'");
      last = *d;
    }
    DayNumber first = last - 29;
    if (auto from = get(p, "from")) {
      auto d = parse_date(*from);
      if (!d) return Error::invalid("bad 'from' date '" + *from + "'");
      first = *d;
    }
    if (first > last) return Error::invalid("'from' is after 'to'");
    if (last - first + 1 > options.max_days) return Error::invalid("date range too long");
    return std::pair{first, last};
  }

  http::Response org_reports(const api::KeyIdentity& id, const Params& p) {
    auto range = range_of(p);
    if (!range) return error(400, range.error().message);
    std::lock_guard lock(manifest_mu);
    if (!manifest) {
      auto m = report::Manifest::open(options.manifest_path);
      if (!m) return error(503, "report list unavailable");
      manifest = std::move(*m);
    }
    report::ListQuery lq;
    lq.org_id = id.org_id;
    lq.first_day = range->first;
    lq.last_day = range->second;
    auto entries = manifest->list(lq);
    if (!entries) return error(503, "report list unavailable");
    json list = json::array();
    for (const auto& e : *entries) {
      if (e.org_id != id.org_id) continue;  // defence in depth: the query is already scoped
      list.push_back({{"id", e.id},
                      {"date", format_date(e.day)},
                      {"type", e.type},
                      {"file", e.file_name},
                      {"rows", e.rows},
                      {"size", e.size},
                      {"url", options.download_prefix + e.id}});
    }
    return ok(json{{"reports", std::move(list)}}, false);
  }

  http::Response org_deliveries(const api::KeyIdentity& id, const Params& p) {
    auto range = range_of(p);
    if (!range) return error(400, range.error().message);
    std::lock_guard lock(delivery_mu);
    if (!delivery_log) {
      if (!std::filesystem::exists(options.delivery_log_path))
        return ok(json{{"deliveries", json::array()}}, false);  // nothing mailed yet
      auto log = delivery::DeliveryLog::open(options.delivery_log_path);
      if (!log) return error(503, "delivery log unavailable");
      delivery_log = std::move(*log);
    }
    delivery::DeliveryQuery dq;
    dq.org = std::to_string(id.org_id);
    auto rows = delivery_log->query(dq);
    if (!rows) return error(503, "delivery log unavailable");
    json list = json::array();
    for (auto it = rows->rbegin(); it != rows->rend(); ++it) {  // newest first
      const auto& r = *it;
      auto day = parse_date(r.day);
      if (r.org != dq.org || !day || *day < range->first || *day > range->second) continue;
      list.push_back({{"at", format_timestamp(r.at)},
                      {"day", r.day},
                      {"kind", r.kind},
                      {"recipient", r.recipient},
                      {"status", r.status},
                      {"smtp_code", r.smtp_code},
                      {"attempt", r.attempt},
                      {"encrypted", r.encrypted},
                      {"reason", r.reason}});
    }
    return ok(json{{"deliveries", std::move(list)}}, false);
  }
};

DashboardService::DashboardService(DashboardOptions options,
                                   std::unique_ptr<store::EventStore> store,
                                   std::shared_ptr<api::KeyStore> keys,
                                   std::shared_ptr<const core::Catalogue> catalogue,
                                   std::function<std::optional<std::string>(uint32_t)> org_name,
                                   std::function<DayNumber()> today)
    : impl_(std::make_unique<Impl>()) {
  impl_->options = std::move(options);
  impl_->store = std::move(store);
  impl_->keys = std::move(keys);
  impl_->catalogue = std::move(catalogue);
  impl_->org_name = std::move(org_name);
  impl_->today = today ? std::move(today) : [] { return vantage::today(); };
}

DashboardService::~DashboardService() = default;

http::Response DashboardService::meta(const http::Request&) {
  auto m = impl_->cached_meta();
  if (!m) return error(503, "statistics unavailable");
  return ok(*m, true);
}

http::Response DashboardService::stats(const http::Request& request) {
  auto form = parse_form(request.query);
  if (!form) return error(400, "malformed query string");
  Params p(form->begin(), form->end());
  (void)impl_->cached_meta();  // learns the last day with data, the default end of the range
  auto q = impl_->stats_query(p, std::nullopt);
  if (!q) return error(400, q.error().message);
  return impl_->stats_answer(*q, impl_->options.min_count, true);
}

http::Response DashboardService::org(const http::Request& request) {
  if (request.method != "POST") {
    auto r = error(405, "use POST with a JSON body and the HMAC2 header");
    r.set_header("Allow", "POST");
    return r;
  }
  std::string_view method = request.path;
  constexpr std::string_view kPrefix = "/dash/api/org/";
  if (method.substr(0, kPrefix.size()) != kPrefix) return error(404, "unknown method");
  method.remove_prefix(kPrefix.size());
  static const std::set<std::string_view> kMethods = {"whoami", "stats", "reports", "deliveries",
                                                      "subscriptions"};
  if (!kMethods.count(method)) return error(404, "unknown method");
  json body = json::parse(request.body, nullptr, false);
  if (body.is_discarded() || !body.is_object()) return error(400, "invalid JSON request");
  auto id = impl_->authenticate(request, body);
  if (!id) {
    switch (id.error().code) {
      case ErrorCode::kUnauthenticated: return error(401, id.error().message);
      case ErrorCode::kPermissionDenied: return error(403, id.error().message);
      default: return error(503, id.error().message);
    }
  }
  return org_view(id->org_id, id->org_short_name, method, body);
}

http::Response DashboardService::org_view(uint32_t org_id, const std::string& short_name,
                                          std::string_view method, const nlohmann::json& body) {
  Params p;
  if (body.is_object()) {
    for (auto& [k, v] : body.items()) {
      if (k == "apikey") continue;
      if (v.is_string()) {
        p[k] = v.get<std::string>();
      } else if (v.is_number_integer()) {
        p[k] = std::to_string(v.get<int64_t>());
      } else if (v.is_array()) {
        std::string joined;
        for (const auto& x : v)
          if (x.is_string()) joined += (joined.empty() ? "" : ",") + x.get<std::string>();
        p[k] = joined;
      }
    }
  }
  api::KeyIdentity id;
  id.org_id = org_id;
  id.org_short_name = short_name;
  if (method == "whoami") {
    std::optional<std::string> name;
    if (impl_->org_name) name = impl_->org_name(org_id);
    return ok(json{{"org_id", org_id}, {"org", short_name}, {"name", name ? *name : short_name}},
              false);
  }
  if (method == "reports") return impl_->org_reports(id, p);
  if (method == "deliveries") return impl_->org_deliveries(id, p);
  if (method == "subscriptions") {
    json subs = json::array();
    if (impl_->options.org_subscriptions) {
      auto text = impl_->options.org_subscriptions(org_id);
      if (!text) return error(503, "subscriptions unavailable");
      subs = json::parse(*text, nullptr, false);
      if (!subs.is_array()) return error(503, "subscriptions unavailable");
    }
    return ok(json{{"subscriptions", std::move(subs)}}, false);
  }
  if (method != "stats") return error(404, "unknown method");
  auto q = impl_->stats_query(p, org_id);
  if (!q) return error(400, q.error().message);
  return impl_->stats_answer(*q, 0, false);
}

void DashboardService::install(http::HttpServer& server) {
  server.route("GET", "/dash/api/meta", [this](const http::Request& r) { return meta(r); });
  server.route("GET", "/dash/api/stats", [this](const http::Request& r) { return stats(r); });
  server.route(
      "*", "/dash/api/org/", [this](const http::Request& r) { return org(r); },
      http::RouteMatch::kPrefix);
  const std::string root = impl_->options.web_root;
  std::error_code ec;
  if (!root.empty() && std::filesystem::exists(std::filesystem::path(root) / "index.html", ec)) {
    server.route("GET", "/", http::static_files(root, "/"), http::RouteMatch::kPrefix);
    server.route("HEAD", "/", http::static_files(root, "/"), http::RouteMatch::kPrefix);
  } else {
    // The API still works; the page says what is missing instead of a bare 404.
    std::string why = "The dashboard's assets are not built (looked for " +
                      (root.empty() ? std::string("dashboard.web_root") : root + "/index.html") +
                      "). Run scripts/install-deps.sh, which builds web/dist, or set "
                      "dashboard.web_root.\n";
    server.route(
        "GET", "/", [why](const http::Request&) { return http::Response::text(503, why); },
        http::RouteMatch::kPrefix);
  }
}

}  // namespace vantage::web

#include "portal/remediation_views.h"

#include <algorithm>
#include <cmath>

#include "api/params.h"
#include "common/status_macros.h"
#include "common/strings.h"

namespace vantage::portal {

using nlohmann::json;
using namespace remediation;

namespace {

std::string dump(const json& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

http::Response answer(unsigned status, const json& body, bool cacheable = false) {
  auto r = http::Response::json(status, dump(body));
  r.set_header("Cache-Control", cacheable ? "public, max-age=60" : "no-store");
  return r;
}

http::Response error(unsigned status, std::string_view message) {
  return answer(status, json{{"error", message}});
}

std::string string_of(const json& params, const char* name) {
  auto it = params.find(name);
  return it != params.end() && it->is_string() ? std::string(trim(it->get<std::string>()))
                                               : std::string();
}

std::string date_or_null(const std::optional<DayNumber>& d) {
  return d ? format_date(*d) : std::string();
}

}  // namespace

Result<DistributionQuery> distribution_query(const json& params, DayNumber today, int default_days,
                                             bool allow_org) {
  DistributionQuery q;
  q.last_day = today;
  q.first_day = today - default_days + 1;
  if (auto date = string_of(params, "date"); !date.empty()) {
    VANTAGE_ASSIGN_OR_RETURN(auto range, api::parse_date_range(date, today));
    q.first_day = range.first;
    q.last_day = range.last;
  } else {
    if (auto to = string_of(params, "to"); !to.empty()) {
      auto d = parse_date(to);
      if (!d) return Error::invalid("bad 'to' date '" + to + "' (want YYYY-MM-DD)");
      q.last_day = *d;
      q.first_day = *d - default_days + 1;
    }
    if (auto from = string_of(params, "from"); !from.empty()) {
      auto d = parse_date(from);
      if (!d) return Error::invalid("bad 'from' date '" + from + "' (want YYYY-MM-DD)");
      q.first_day = *d;
    }
  }
  if (q.first_day > q.last_day) return Error::invalid("'from' is after 'to'");
  if (q.last_day - q.first_day > 3660) return Error::invalid("date range longer than ten years");
  auto group = parse_dimension(string_of(params, "group"));
  if (!group || (*group == Dimension::kOrg && !allow_org))
    return Error::invalid("unknown grouping (none, type, geo, sector)");
  q.group = *group;
  VANTAGE_ASSIGN_OR_RETURN(q.types, api::string_list_param(params, "type"));
  for (const auto& t : q.types)
    if (t.size() > 64) return Error::invalid("report type name too long");
  if (auto g = string_of(params, "geo"); !g.empty()) {
    std::string up = g;
    for (auto& ch : up) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    if (up.size() != 2 || !std::isalpha(static_cast<unsigned char>(up[0])) ||
        !std::isalpha(static_cast<unsigned char>(up[1])))
      return Error::invalid("bad country code '" + g + "' (want two letters)");
    q.geo = up;
  }
  return q;
}

json distributions_json(const std::vector<GroupDistribution>& groups, const DistributionQuery& q,
                        std::optional<DayNumber> as_of, int64_t min_count) {
  json rows = json::array();
  int64_t suppressed = 0;
  for (const auto& g : groups) {
    const Distribution& d = g.distribution;
    if (min_count > 0 && d.fixed < min_count) {
      ++suppressed;
      continue;
    }
    json hist = json::object();
    for (size_t i = 0; i < d.histogram.size(); ++i) hist[bucket_label(i)] = d.histogram[i];
    json row = {{"key", g.key},
                {"fixed", d.fixed},
                {"mean_days", d.fixed ? std::round(d.mean_days * 10) / 10 : 0.0},
                {"min_days", d.min_days},
                {"p50_days", d.p50_days},
                {"p75_days", d.p75_days},
                {"p90_days", d.p90_days},
                {"max_days", d.max_days},
                {"histogram", hist}};
    if (min_count > 0 && d.open < min_count) {
      row["open"] = nullptr;
      row["open_median_age"] = nullptr;
    } else {
      row["open"] = d.open;
      row["open_median_age"] = d.open_median_age;
    }
    rows.push_back(std::move(row));
  }
  return json{{"as_of", date_or_null(as_of)},
              {"from", format_date(q.first_day)},
              {"to", format_date(q.last_day)},
              {"group", dimension_name(q.group)},
              {"min_count", min_count},
              {"suppressed", suppressed},
              {"rows", rows}};
}

json issue_json(const IssueRow& r) {
  json j = {{"type", r.type},
            {"subject", r.subject},
            {"ip", r.ip},
            {"port", r.port},
            {"domain", r.domain},
            {"geo", r.geo},
            {"first_seen", format_date(r.episode.first_day)},
            {"last_seen", format_date(r.episode.last_day)},
            {"fixed", date_or_null(r.episode.fixed_day)},
            {"confirmed", date_or_null(r.episode.confirmed_day)},
            {"days_open", r.days_open},
            {"status", r.episode.open() ? "open" : "fixed"}};
  return j;
}

Result<json> org_remediation_json(Tracker& tracker, uint32_t org_id, const json& params,
                                  DayNumber today) {
  VANTAGE_ASSIGN_OR_RETURN(auto q, distribution_query(params, today, 90, false));
  if (q.group == Dimension::kNone) q.group = Dimension::kType;
  q.org_id = org_id;
  VANTAGE_ASSIGN_OR_RETURN(auto as_of, tracker.as_of());
  VANTAGE_ASSIGN_OR_RETURN(auto groups, tracker.distributions(q));
  IssueQuery iq;
  iq.org_id = org_id;
  iq.types = q.types;
  iq.geo = q.geo;
  std::string status = string_of(params, "status");
  if (status == "open")
    iq.status = IssueStatus::kOpen;
  else if (status == "fixed")
    iq.status = IssueStatus::kFixed;
  else if (!status.empty() && status != "all")
    return Error::invalid("status is open, fixed or all");
  VANTAGE_ASSIGN_OR_RETURN(auto limit, api::int_param(params, "limit"));
  VANTAGE_ASSIGN_OR_RETURN(auto offset, api::int_param(params, "offset"));
  iq.limit = std::clamp<int64_t>(limit.value_or(500), 1, 10000);
  iq.offset = std::max<int64_t>(0, offset.value_or(0));
  VANTAGE_ASSIGN_OR_RETURN(auto rows, tracker.issues(iq));
  json issues = json::array();
  for (const auto& r : rows) {
    if (r.org_id != org_id) continue;  // defence in depth: the query is already scoped
    issues.push_back(issue_json(r));
  }
  json out = distributions_json(groups, q, as_of, 0);
  out["issues"] = std::move(issues);
  return out;
}

void add_remediation_methods(api::ApiService& api, std::shared_ptr<TrackerPool> trackers,
                             std::function<DayNumber()> today) {
  if (!today) today = [] { return vantage::today(); };
  api.add_method("remediation/stats",
                 [trackers, today](const api::KeyIdentity& key, const json& body) {
                   auto q = distribution_query(body, today(), 90, false);
                   if (!q) return error(400, q.error().message);
                   q->org_id = key.org_id;
                   auto lease = trackers->acquire();
                   if (!lease || !*lease) return error(503, "remediation data unavailable");
                   auto as_of = (*lease)->as_of();
                   auto groups = (*lease)->distributions(*q);
                   if (!as_of || !groups) return error(503, "remediation data unavailable");
                   return answer(200, distributions_json(*groups, *q, *as_of, 0));
                 });
  api.add_method("remediation/issues",
                 [trackers, today](const api::KeyIdentity& key, const json& body) {
                   auto lease = trackers->acquire();
                   if (!lease || !*lease) return error(503, "remediation data unavailable");
                   auto out = org_remediation_json(**lease, key.org_id, body, today());
                   if (!out) {
                     if (out.error().code == ErrorCode::kInvalidArgument)
                       return error(400, out.error().message);
                     return error(503, "remediation data unavailable");
                   }
                   return answer(200, *out);
                 });
}

void install_public_remediation(http::HttpServer& server, std::shared_ptr<TrackerPool> trackers,
                                int64_t min_count, std::function<DayNumber()> today) {
  if (!today) today = [] { return vantage::today(); };
  server.route("GET", "/dash/api/remediation", [=](const http::Request& req) {
    json params = json::object();
    for (auto part : split(req.query, '&')) {
      auto eq = part.find('=');
      if (eq == std::string_view::npos) continue;
      auto v = http::percent_decode(part.substr(eq + 1));
      auto k = http::percent_decode(part.substr(0, eq));
      if (!v || !k) return error(400, "malformed query string");
      params[*k] = *v;
    }
    auto q = distribution_query(params, today(), 90, false);
    if (!q) return error(400, q.error().message);
    if (q->group != Dimension::kGeo && q->group != Dimension::kType && q->group != Dimension::kNone)
      return error(400, "the public figures are grouped by geo or type");
    auto lease = trackers->acquire();
    if (!lease || !*lease) return error(503, "remediation data unavailable");
    auto as_of = (*lease)->as_of();
    auto groups = (*lease)->distributions(*q);
    if (!as_of || !groups) return error(503, "remediation data unavailable");
    return answer(200, distributions_json(*groups, *q, *as_of, min_count), true);
  });
}

}  // namespace vantage::portal

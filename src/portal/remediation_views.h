#pragma once
// Remediation figures as JSON, for the three places that show them (docs/remediation.md):
//   * api2 remediation/stats and remediation/issues -- one organisation, by its API key;
//   * GET /dash/api/remediation -- the public dashboard: per country or report type, aggregate
//     only, every count below dashboard.min_count withheld;
//   * the organisation portal (org/remediation) -- one organisation, by its session.
// They share the parameter grammar and the answer shapes below.
//
// Thread-safety: the handlers borrow a Tracker per call from a pool; concurrent calls are fine.

#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "api/api_service.h"
#include "api/connection_pool.h"
#include "api/http/http_server.h"
#include "common/result.h"
#include "remediation/tracker.h"

namespace vantage::portal {

using TrackerPool = api::ConnectionPool<remediation::Tracker>;

// Parameters: "date" ("A:B", api2's grammar, or one day), or "from"/"to" (YYYY-MM-DD; default
// the last `default_days` days to today); "group" (none, type, geo, sector, and org when
// `allow_org`); "type" (a name or a list); "geo" (two letters). Errors: kInvalidArgument.
Result<remediation::DistributionQuery> distribution_query(const nlohmann::json& params,
                                                          DayNumber today, int default_days,
                                                          bool allow_org);

// {"as_of", "from", "to", "group", "min_count", "suppressed", "rows": [{key, fixed,
// mean_days, min_days, p50_days, p75_days, p90_days, max_days, histogram: {"1": n, "2-3": n,
// ...}, open, open_median_age}]}. With min_count > 0, a row whose fixed count is below it is
// withheld (counted in "suppressed") and an open count below it is null.
nlohmann::json distributions_json(const std::vector<remediation::GroupDistribution>& groups,
                                  const remediation::DistributionQuery& q,
                                  std::optional<DayNumber> as_of, int64_t min_count);

// {"type", "subject", "ip", "port", "domain", "geo", "first_seen", "last_seen", "fixed",
//  "confirmed", "days_open", "status": "open"|"fixed"}
nlohmann::json issue_json(const remediation::IssueRow& row);

// The organisation's issues and distributions by type: what the portal and
// remediation/issues answer. `params`: status (open|fixed|all), type, geo, limit, offset.
Result<nlohmann::json> org_remediation_json(remediation::Tracker& tracker, uint32_t org_id,
                                            const nlohmann::json& params, DayNumber today);

// Registers remediation/stats and remediation/issues on the api2 service.
void add_remediation_methods(api::ApiService& api, std::shared_ptr<TrackerPool> trackers,
                             std::function<DayNumber()> today = nullptr);

// GET /dash/api/remediation: public, aggregate only (group geo or type), min_count applied.
void install_public_remediation(http::HttpServer& server, std::shared_ptr<TrackerPool> trackers,
                                int64_t min_count, std::function<DayNumber()> today = nullptr);

}  // namespace vantage::portal

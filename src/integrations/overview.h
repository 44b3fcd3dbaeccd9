#pragma once
// Subscriptions with their delivery state as people see them: the dashboard's organisation
// view (/dash/api/org/subscriptions), `vantage subscription list --json`. Never a secret; a
// URL's query string (where some receivers put tokens) is shown as "?...".
//
// Thread-safety: pure functions over the objects passed in.

#include <nlohmann/json.hpp>
#include <optional>

#include "common/result.h"
#include "integrations/delivery_state.h"
#include "registry/registry.h"

namespace vantage::integrations {

// The address without anything secret-looking after '?'.
std::string display_address(const std::string& address);

nlohmann::json subscription_json(const registry::Subscription& sub, const SubscriptionState* state);

// Every subscription of `org` (all organisations when empty) with its state; `state` may be
// null (nothing delivered yet: no integrations.sqlite).
Result<nlohmann::json> subscriptions_overview(registry::Registry& registry, DeliveryState* state,
                                              std::optional<registry::OrgId> org);

}  // namespace vantage::integrations

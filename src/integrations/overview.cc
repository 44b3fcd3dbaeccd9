#include "integrations/overview.h"

#include <map>

#include "integrations/event_render.h"

namespace vantage::integrations {

using json = nlohmann::json;

std::string display_address(const std::string& address) {
  size_t q = address.find('?');
  return q == std::string::npos ? address : address.substr(0, q) + "?...";
}

json subscription_json(const registry::Subscription& sub, const SubscriptionState* s) {
  json j = {{"id", sub.id},
            {"name", sub.name},
            {"kind", registry::subscription_kind_name(sub.kind)},
            {"address", display_address(sub.address)},
            {"report_types", sub.report_types},
            {"min_severity", registry::severity_name(sub.min_severity)},
            {"batch_window_s", sub.batch_window_s},
            {"max_batch", sub.max_batch},
            {"enabled", sub.enabled},
            {"has_secret", sub.has_secret},
            {"updated", rfc3339(sub.updated_at)}};
  json state = {{"delivered_batches", 0}, {"delivered_events", 0}, {"pending_events", 0},
                {"dead_batches", 0},      {"dead_events", 0},      {"rejected_items", 0}};
  if (s) {
    state = {{"cursor", s->cursor},
             {"delivered_batches", s->delivered_batches},
             {"delivered_events", s->delivered_events},
             {"last_delivered", s->last_delivered_ms ? rfc3339(s->last_delivered_ms / 1000) : ""},
             {"pending_events", s->pending_events},
             {"pending_attempts", s->pending_attempts},
             {"next_attempt", s->pending_events ? rfc3339(s->next_attempt) : ""},
             {"last_error", s->last_error},
             {"dead_batches", s->dead_batches},
             {"dead_events", s->dead_events},
             {"rejected_items", s->rejected_items}};
  }
  // One word for a table cell.
  std::string health = !sub.enabled                                    ? "disabled"
                       : sub.kind == registry::SubscriptionKind::kMisp ? "pulled"
                       : s && s->pending_attempts > 0                  ? "retrying"
                       : s && s->dead_batches > 0                      ? "ok (dead letters)"
                                                                       : "ok";
  state["health"] = health;
  j["state"] = std::move(state);
  return j;
}

Result<json> subscriptions_overview(registry::Registry& registry, DeliveryState* state,
                                    std::optional<registry::OrgId> org) {
  auto subs = registry.list_subscriptions(org, false);
  if (!subs) return subs.error();
  std::map<int64_t, SubscriptionState> states;
  if (state) {
    auto summary = state->summary();
    if (!summary) return summary.error();
    for (auto& s : *summary) states[s.sub_id] = std::move(s);
  }
  json out = json::array();
  for (const auto& sub : *subs) {
    auto it = states.find(sub.id);
    out.push_back(subscription_json(sub, it == states.end() ? nullptr : &it->second));
  }
  return out;
}

}  // namespace vantage::integrations

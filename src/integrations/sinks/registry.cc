#include "integrations/sinks/registry.h"

#include <cstdlib>

namespace vantage::integrations {

const std::vector<SinkKind>& sink_kinds() {
  // THE list of destination kinds.
  static const std::vector<SinkKind> kinds = {webhook_kind(), syslog_kind(), elastic_kind(),
                                              splunk_kind(), misp_kind()};
  return kinds;
}

const SinkKind& sink_kind(registry::SubscriptionKind kind) {
  for (const auto& k : sink_kinds())
    if (k.kind == kind) return k;
  std::abort();  // every SubscriptionKind has an entry (integrations_test checks it)
}

Status validate_subscription(const registry::Subscription& sub) {
  const SinkKind& k = sink_kind(sub.kind);
  if (k.needs_secret && !sub.has_secret && sub.secret.empty())
    return Error::invalid(std::string(registry::subscription_kind_name(sub.kind)) +
                          " subscriptions need a secret (--secret-file or --secret-env)");
  return k.validate ? k.validate(sub) : Status{};
}

}  // namespace vantage::integrations

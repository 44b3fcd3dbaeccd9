#pragma once
// The destination kinds, in one hand-kept list (registry.cc): a new kind is a file in this
// folder and one entry there -- no static self-registration.
//
// Thread-safety: the list is immutable; the factories are pure.

#include <memory>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "integrations/sink.h"
#include "registry/model.h"

namespace vantage::integrations {

struct SinkKind {
  registry::SubscriptionKind kind;
  std::string_view summary;   // one line for `vantage subscription kinds`
  std::string_view options;   // the options it takes, for the same
  bool needs_secret = false;  // true: a subscription without a secret is refused
  // Checks the options (and anything else kind-specific) of `sub`.
  Status (*validate)(const registry::Subscription& sub) = nullptr;
  // Null for a kind whose events are pulled (misp).
  std::unique_ptr<Formatter> (*formatter)(const registry::Subscription& sub,
                                          const SinkEnv& env) = nullptr;
  std::unique_ptr<Sender> (*sender)(const registry::Subscription& sub,
                                    const SinkEnv& env) = nullptr;
};

const std::vector<SinkKind>& sink_kinds();
const SinkKind& sink_kind(registry::SubscriptionKind kind);

// The kind's validate() plus the secret rule; what `vantage subscription add` checks.
Status validate_subscription(const registry::Subscription& sub);

// Defined by each kind's file, listed in registry.cc.
SinkKind webhook_kind();
SinkKind syslog_kind();
SinkKind elastic_kind();
SinkKind splunk_kind();
SinkKind misp_kind();

}  // namespace vantage::integrations

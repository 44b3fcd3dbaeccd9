// The misp destination kind: nothing is pushed. The organisation's MISP pulls a feed of its
// events (src/integrations/misp_feed.h) at /misp/<organisation>/ with the organisation's API
// key and secret; the subscription says which events the feed holds (types, minimum
// severity) and over how many days.

#include "integrations/sinks/options.h"
#include "integrations/sinks/registry.h"

namespace vantage::integrations {

SinkKind misp_kind() {
  SinkKind k;
  k.kind = registry::SubscriptionKind::kMisp;
  k.summary = "MISP feed (manifest.json, hashes.csv, <uuid>.json) pulled from /misp/<org>/";
  k.options = "days (7): how many days of events the feed holds";
  k.validate = [](const registry::Subscription& s) -> Status {
    auto o = SinkOptions::parse(s.options, {{"days", OptionSpec::Type::kInt, 1, 90}});
    return o ? Status{} : Status(o.error());
  };
  return k;
}

}  // namespace vantage::integrations

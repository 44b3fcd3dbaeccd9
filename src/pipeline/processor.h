#pragma once
// The per-event stages after decoding: validate -> enrich -> classify -> dedup key -> route,
// producing the store::EventRecord that the sink writes. One Processor per worker thread
// (it owns scratch buffers); the shared inputs are immutable snapshots.
//
//   validate  the timestamp is required (it decides the report day);
//   enrich    asn/geo/region/city/naics/sector (and hostname when reverse DNS is on) for
//             every side of the event with an address -- only where the event lacks them,
//             unless `re_enrich` (a Shadowserver file keeps Shadowserver's values);
//   classify  severity = the event's own, else the type's default; operator overrides win;
//             research scanners in attacker reports are allow-listed (dropped, counted);
//   dedup     event_key = stable hash of the type and every column except the timestamp;
//   route     the subscription index: every organisation that must receive it, with the
//             filter (cidr > asn > domain > geo) that names its report file.

#include <memory>
#include <string>

#include "core/event.h"
#include "enrich/enricher.h"
#include "match/subscription_index.h"
#include "pipeline/rules.h"
#include "store/store.h"

namespace vantage::pipeline {

struct ProcessorInputs {
  const enrich::Enricher* enricher = nullptr;  // null: no enrichment
  const match::IndexHolder* index = nullptr;   // null: no routing
  const OperatorRules* rules = nullptr;        // null: no operator rules
  bool re_enrich = false;
};

// The domain named by a domain/url/email constituent column (host part only), or "".
std::string_view constituent_domain(const core::Event& event);
// The name matched against domain claims: the constituent domain, else the hostname column.
std::string_view routing_domain(const core::Event& event);

enum class Outcome { kAccepted, kRejected, kAllowlisted };

class Processor {
 public:
  explicit Processor(ProcessorInputs inputs);

  // Call once per batch: pins the current enrichment and index snapshots for the batch.
  void begin_batch();

  // Runs the stages on `event` (which is modified: enrichment, severity) and fills `out`.
  // kRejected sets `field` and `reason`.
  Outcome process(core::Event& event, store::EventRecord& out, std::string& field,
                  std::string& reason);

  // The dedup key alone (also used by tests and the report builder).
  static uint64_t event_key(const core::Event& event, std::string& scratch);

 private:
  void enrich_side(core::Event& event, core::Side side, int ip_col_seen[3], int n);

  ProcessorInputs in_;
  std::optional<enrich::Enricher::View> view_;
  std::shared_ptr<const match::SubscriptionIndex> index_;
  match::MatchBuffer match_buffer_;
  enrich::Enrichment enrichment_;
  std::string scratch_;
};

}  // namespace vantage::pipeline

#pragma once
// Mailing a day's built reports to each organisation's recipients (optionally PGP
// encrypted), shared by `vantage report build --deliver` and the service's day close. Every
// attempt lands in the delivery log (<data_dir>/deliveries.sqlite).

#include <cstddef>

#include "common/result.h"
#include "common/time.h"
#include "registry/registry.h"
#include "report/builder.h"
#include "service/options.h"

namespace vantage::service {

struct MailOutcome {
  size_t delivered = 0;
  size_t not_delivered = 0;  // failed, not sent or no recipients: see the delivery log
};

// Needs smtp.url set. Errors: the mail set-up (SMTP options, delivery log) is unusable.
Result<MailOutcome> deliver_built_reports(registry::Registry& registry, const GlobalOptions& global,
                                          DayNumber day, const report::BuildSummary& summary);

}  // namespace vantage::service

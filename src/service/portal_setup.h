#pragma once
// The portal (registration, organisation portal, operator console) and remediation tracking as
// parts of the service (`vantage serve`, `vantage up`), built from the configuration, and the
// remediation update both the service and `vantage remediation update` run.

#include <functional>
#include <memory>
#include <string>

#include "common/result.h"
#include "core/catalogue.h"
#include "portal/portal_service.h"
#include "portal/remediation_views.h"
#include "registry/verification.h"
#include "remediation/tracker.h"
#include "service/options.h"
#include "store/store.h"
#include "web/dashboard_service.h"

namespace vantage::service {

remediation::TrackerOptions tracker_options(const config::Config& c);
std::string remediation_path(const GlobalOptions& g);
portal::Argon2Params argon2_params(const config::Config& c);

// Opens a tracker on <data_dir>/remediation.sqlite with the configured options.
Result<std::unique_ptr<remediation::Tracker>> open_tracker(const GlobalOptions& g);

// Imports <data_dir>/scan_state.json into the scan-cycle log, then brings the issues up to
// date through yesterday (the last closed day).
Result<remediation::UpdateSummary> update_remediation(const GlobalOptions& g,
                                                      const core::Catalogue& catalogue,
                                                      remediation::Tracker& tracker,
                                                      store::EventStore& store);

struct PortalParts {
  std::shared_ptr<portal::TrackerPool> trackers;  // remediation reads (api2, dashboard, portal)
  std::unique_ptr<portal::PortalService> portal;  // null when portal.enabled is false
  std::string mail_via;                           // where the portal's mails go
};

// `routing` gives the routing data claims are checked against (null when none is loaded).
Result<PortalParts> make_portal_parts(
    const GlobalOptions& g, web::DashboardService* dashboard,
    std::shared_ptr<const core::Catalogue> catalogue,
    std::function<std::shared_ptr<const registry::RoutingView>()> routing);

}  // namespace vantage::service

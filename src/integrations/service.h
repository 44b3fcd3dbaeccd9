#pragma once
// The integrations as `vantage serve` and `vantage up` run them: the real-time dispatcher
// (its own connections to the registry, the event store and integrations.sqlite in the data
// directory), the MISP feed routes, the dashboard's view of an organisation's subscriptions,
// and the Prometheus lines for /metrics. One object for the service to start and stop.
//
// Thread-safety: start/stop from the owning thread; poke(), metrics(), org_subscriptions()
// and the routes from any thread.

#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "api/http/http_server.h"
#include "api/key_store.h"
#include "core/catalogue.h"
#include "integrations/delivery_state.h"
#include "integrations/dispatcher.h"
#include "integrations/misp_feed.h"
#include "registry/registry.h"

namespace vantage::integrations {

struct ServiceOptions {
  std::string data_dir;
  // Opens an event store connection (the configured engine); unset: the data directory's
  // embedded store.
  std::function<Result<std::unique_ptr<store::EventStore>>()> open_store;
  bool dispatch = true;  // integrations.enabled
  DispatcherOptions dispatcher;
  MispFeedOptions misp;
};

class IntegrationsService {
 public:
  // Starts the dispatcher (when options.dispatch). Errors: the data directory's files.
  static Result<std::unique_ptr<IntegrationsService>> start(
      ServiceOptions options, std::shared_ptr<const core::Catalogue> catalogue,
      std::shared_ptr<api::KeyStore> keys);
  ~IntegrationsService();

  void install(http::HttpServer& server);  // the MISP feed at /misp/
  void poke();                             // new events were committed
  std::string metrics() const;             // Prometheus text
  // The JSON array the dashboard shows for one organisation; nullopt when unavailable.
  std::optional<std::string> org_subscriptions(uint32_t org_id);
  void stop();

 private:
  IntegrationsService() = default;
  ServiceOptions options_;
  std::unique_ptr<Dispatcher> dispatcher_;
  std::unique_ptr<MispFeed> misp_;
  std::mutex view_mu_;  // guards the two connections below
  std::unique_ptr<registry::Registry> view_registry_;
  std::unique_ptr<DeliveryState> view_state_;
};

}  // namespace vantage::integrations

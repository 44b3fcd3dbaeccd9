#include "integrations/service.h"

#include <filesystem>

#include "integrations/overview.h"
#include "registry/sqlite/sqlite_registry.h"
#include "store/open_store.h"

namespace vantage::integrations {

IntegrationsService::~IntegrationsService() {
  stop();
}

Result<std::unique_ptr<IntegrationsService>> IntegrationsService::start(
    ServiceOptions options, std::shared_ptr<const core::Catalogue> catalogue,
    std::shared_ptr<api::KeyStore> keys) {
  std::unique_ptr<IntegrationsService> s(new IntegrationsService());
  s->options_ = std::move(options);
  const std::string dir = s->options_.data_dir;
  auto open_registry = [dir]() -> Result<std::unique_ptr<registry::Registry>> {
    auto r = registry::SqliteRegistry::open_in_data_dir(dir);
    if (!r) return r.error();
    return std::unique_ptr<registry::Registry>(std::move(*r));
  };
  std::function<Result<std::unique_ptr<store::EventStore>>()> open_store = s->options_.open_store;
  if (!open_store) {
    open_store = [dir] {
      store::StoreSettings settings;  // without a configured opener: the embedded SQLite file
      settings.sqlite_path = dir + "/events.sqlite";
      return store::open_event_store(settings);
    };
  }
  auto open_state = [dir] { return DeliveryState::open(dir + "/integrations.sqlite"); };
  s->misp_ = std::make_unique<MispFeed>(
      s->options_.misp, MispFeedSources{open_registry, open_store, keys, catalogue});
  if (s->options_.dispatch) {
    s->dispatcher_ = std::make_unique<Dispatcher>(
        s->options_.dispatcher,
        DispatcherSources{open_registry, open_store, open_state, catalogue});
    if (auto st = s->dispatcher_->start(); !st) return st.error();
  }
  return s;
}

void IntegrationsService::install(http::HttpServer& server) {
  misp_->install(server);
}

void IntegrationsService::poke() {
  if (dispatcher_) dispatcher_->poke();
}

void IntegrationsService::stop() {
  if (dispatcher_) dispatcher_->stop();
}

std::string IntegrationsService::metrics() const {
  if (!dispatcher_) return {};
  DispatcherCounters c = dispatcher_->counters();
  std::string out;
  auto add = [&](const char* name, const char* type, const char* help, int64_t v) {
    out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n" +
           name + " " + std::to_string(v) + "\n";
  };
  add("vantage_integrations_events_delivered_total", "counter",
      "Events delivered to subscriptions (webhook, syslog, elastic, splunk).", c.events_delivered);
  add("vantage_integrations_batches_delivered_total", "counter", "Batches delivered.",
      c.batches_delivered);
  add("vantage_integrations_attempts_failed_total", "counter",
      "Delivery attempts that failed (retried or dead-lettered).", c.attempts_failed);
  add("vantage_integrations_batches_dead_total", "counter", "Batches dead-lettered.",
      c.batches_dead);
  add("vantage_integrations_items_rejected_total", "counter",
      "Items a receiver refused for good inside a delivered batch.", c.items_rejected);
  add("vantage_integrations_render_errors_total", "counter",
      "Events sent without their columns because their row did not decode.", c.render_errors);
  add("vantage_integrations_subscriptions", "gauge", "Subscriptions being delivered.",
      c.subscriptions);
  add("vantage_integrations_invalid_subscriptions", "gauge",
      "Subscriptions not delivered because their settings are refused (see the log).",
      c.invalid_subscriptions);
  return out;
}

std::optional<std::string> IntegrationsService::org_subscriptions(uint32_t org_id) {
  std::lock_guard lock(view_mu_);
  if (!view_registry_) {
    auto r = registry::SqliteRegistry::open_in_data_dir(options_.data_dir);
    if (!r) return std::nullopt;
    view_registry_ = std::move(*r);
  }
  const std::string state_path = options_.data_dir + "/integrations.sqlite";
  if (!view_state_ && std::filesystem::exists(state_path)) {
    auto st = DeliveryState::open(state_path);
    if (st) view_state_ = std::move(*st);
  }
  auto j = subscriptions_overview(*view_registry_, view_state_.get(),
                                  static_cast<registry::OrgId>(org_id));
  if (!j) return std::nullopt;
  auto org = view_registry_->find_org(std::to_string(org_id));
  for (auto& s : *j) {
    if (s["kind"] == "misp" && org)
      s["feed_path"] = "/misp/" + org->short_name + "/" + s["name"].get<std::string>();
  }
  return j->dump();
}

}  // namespace vantage::integrations

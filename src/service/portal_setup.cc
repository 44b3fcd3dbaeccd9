#include "service/portal_setup.h"

#include <filesystem>

#include "delivery/deliverer.h"
#include "delivery/delivery_log.h"
#include "delivery/pgp.h"
#include "portal/portal_store.h"
#include "registry/secret_box.h"
#include "registry/sqlite/sqlite_registry.h"
#include "remediation/scan_cycles.h"

namespace vantage::service {

remediation::TrackerOptions tracker_options(const config::Config& c) {
  remediation::TrackerOptions o;
  o.fixed_after = static_cast<int>(c.remediation_fixed_after_cycles);
  o.cycle_source = remediation::parse_cycle_source(c.remediation_cycle_source)
                       .value_or(remediation::CycleSource::kAuto);
  o.types = c.remediation_types;
  return o;
}

std::string remediation_path(const GlobalOptions& g) {
  return g.data_dir + "/remediation.sqlite";
}

portal::Argon2Params argon2_params(const config::Config& c) {
  portal::Argon2Params p;
  p.memory_kib = static_cast<uint32_t>(c.portal_argon2_memory_kib);
  p.iterations = static_cast<uint32_t>(c.portal_argon2_iterations);
  return p;
}

Result<std::unique_ptr<remediation::Tracker>> open_tracker(const GlobalOptions& g) {
  return remediation::Tracker::open(remediation_path(g), tracker_options(g.config));
}

Result<remediation::UpdateSummary> update_remediation(const GlobalOptions& g,
                                                      const core::Catalogue& catalogue,
                                                      remediation::Tracker& tracker,
                                                      store::EventStore& store) {
  auto imported =
      remediation::import_scan_state(g.data_dir + "/scan_state.json", tracker.cycle_log());
  if (!imported) return imported.error();
  return tracker.update(store, catalogue, today() - 1);
}

Result<PortalParts> make_portal_parts(
    const GlobalOptions& g, web::DashboardService* dashboard,
    std::shared_ptr<const core::Catalogue> catalogue,
    std::function<std::shared_ptr<const registry::RoutingView>()> routing) {
  PortalParts parts;
  GlobalOptions copy = g;
  parts.trackers = std::make_shared<portal::TrackerPool>(
      nullptr, [copy] { return open_tracker(copy); }, 4);
  if (!g.config.portal_enabled) return parts;
  auto box = registry::SecretBox::load_or_create(g.data_dir);
  if (!box) return box.error();
  const auto& c = g.config;
  portal::PortalOptions o;
  o.public_url = c.portal_public_url;
  while (!o.public_url.empty() && o.public_url.back() == '/') o.public_url.pop_back();
  o.registration_open = c.portal_registration;
  o.argon2 = argon2_params(c);
  o.session_idle_s = c.portal_session_idle_minutes * 60;
  o.session_max_s = c.portal_session_max_hours * 3600;
  o.login_window_s = c.portal_login_window_s;
  o.login_max_failures = c.portal_login_max_failures;
  o.login_max_failures_ip = c.portal_login_max_failures * 4;
  o.confirm_ttl_s = c.portal_confirm_hours * 3600;
  portal::PortalDeps d;
  std::string data_dir = g.data_dir;
  d.open_registry = [data_dir]() -> Result<std::unique_ptr<registry::Registry>> {
    auto r = registry::SqliteRegistry::open_in_data_dir(data_dir);
    if (!r) return r.error();
    return std::unique_ptr<registry::Registry>(std::move(*r));
  };
  d.open_store = [data_dir] { return portal::PortalStore::open(data_dir + "/portal.sqlite"); };
  d.box = *box;
  if (!c.smtp_url.empty()) {
    auto m = portal::make_smtp_mailer(delivery::smtp_options_from_config(c), c.smtp_from);
    if (!m) return m.error();
    d.mailer = std::move(*m);
  } else {
    d.mailer = portal::make_outbox_mailer(data_dir + "/portal/outbox", c.smtp_from);
  }
  parts.mail_via = d.mailer->describe();
  d.routing = std::move(routing);
  std::string resolver = c.portal_dns_resolver;
  d.lookup_txt = [resolver](const std::string& name) {
    return registry::lookup_txt(name, resolver);
  };
  d.check_pgp_key = [](std::string_view armored) -> Result<std::string> {
    // A private GNUPGHOME per check (delivery/pgp.h): GnuPG says whether the key can encrypt.
    auto session = delivery::PgpSession::open({});
    if (!session) return session.error();
    return (*session)->import_recipient(armored);
  };
  d.dashboard = dashboard;
  d.delivery_log_path = delivery::default_delivery_log_path(data_dir);
  d.open_remediation = [copy] { return open_tracker(copy); };
  d.catalogue = std::move(catalogue);
  parts.portal = std::make_unique<portal::PortalService>(o, std::move(d));
  return parts;
}

}  // namespace vantage::service

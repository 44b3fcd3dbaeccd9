// The long-running pipeline service behind `vantage serve`, `vantage up` and the cluster's
// reporter and api roles --
//   * the HTTP push endpoint for sensors and partners (POST /ingest, ingest key + HMAC2),
//   * the directory watch (files dropped into the inbox are ingested once, then moved to
//     inbox/done/ or, when the whole file is unusable, inbox/failed/ with a .error note),
//   * the Shadowserver-compatible API and report downloads (/api2/, /dl/),
//   * day close: at report.day_close_utc the previous day's reports are built (and mailed
//     when smtp.url is set),
//   * hot reload of enrichment data and of the subscription index,
//   * the dashboard (web/dist at /, its statistics API at /dash/api/),
//   * retention: raw events older than retention.days dropped daily (statistics stay),
//   * GET /healthz and a Prometheus GET /metrics,
//   * the push integrations (src/integrations): each organisation's events pushed to its
//     subscriptions as they arrive, MISP feeds at /misp/, report ids at the root (/<id>).
// One writer: the push endpoint and the watcher take turns on the one Ingestor.

#include "integrations/service.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "api/api_service.h"
#include "api/http/http_server.h"
#include "api/key_store.h"
#include "api/params.h"
#include "common/strings.h"
#include "delivery/delivery_log.h"
#include "pipeline/ingest.h"
#include "portal/asn_routing.h"
#include "report/builder.h"
#include "service/day_close_schedule.h"
#include "service/options.h"
#include "service/portal_setup.h"
#include "service/report_mail.h"
#include "service/runtime.h"
#include "service/scan_schedule.h"
#include "service/sensor_status.h"
#include "service/service.h"
#include "web/dashboard_service.h"

namespace vantage::service {

namespace fs = std::filesystem;

namespace {

std::atomic<bool> g_serve_stop{false};
void on_serve_signal(int) {
  g_serve_stop.store(true);
}

// Everything the service shares between its threads.
class Service {
 public:
  Service(const GlobalOptions& global, std::unique_ptr<Runtime> rt)
      : global_(global), rt_(std::move(rt)) {
    ingestor_ = std::make_unique<pipeline::Ingestor>(*rt_->catalogue, rt_->inputs(), *rt_->store);
    inbox_ = global.config.inbox_dir.empty() ? global.data_dir + "/inbox" : global.config.inbox_dir;
    fs::create_directories(inbox_ + "/done");
    fs::create_directories(inbox_ + "/failed");
  }

  http::Response push(const http::Request& req) {
    auto r = push_unlocked_count(req);
    (r.status == 200 ? pushes_accepted_ : pushes_refused_).fetch_add(1);
    return r;
  }

  // <data_dir>/service.json: what `vantage status` shows about the running service.
  void write_state(const std::string& command, const std::string& base_url,
                   const std::string& started) {
    size_t pending = 0;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(inbox_, ec)) {
      std::string n = e.path().filename().string();
      if (e.is_regular_file() && !n.empty() && n[0] != '.' && !n.ends_with(".tmp") &&
          !n.ends_with(".part"))
        ++pending;
    }
    nlohmann::json j = {{"command", command},
                        {"pid", static_cast<int>(::getpid())},
                        {"base_url", base_url},
                        {"started", started},
                        {"updated", format_timestamp(now_seconds())},
                        {"inbox", inbox_},
                        {"inbox_pending", pending},
                        {"pushes_accepted", pushes_accepted_.load()},
                        {"pushes_refused", pushes_refused_.load()},
                        {"retention_runs", retention_runs_.load()}};
    std::string path = global_.data_dir + "/service.json";
    {
      std::ofstream out(path + ".tmp");
      out << j.dump() << "\n";
    }
    fs::rename(path + ".tmp", path, ec);
  }

 private:
  http::Response push_unlocked_count(const http::Request& req) {
    auto key = req.header("x-vantage-key");
    auto mac = req.header("hmac2");
    if (!key || !mac) {
      return http::Response::json(401, R"({"error":"X-Vantage-Key and HMAC2 headers required"})");
    }
    pipeline::IngestOptions opts = ingest_options();
    for (auto part : split(req.query, '&')) {
      if (part.rfind("type=", 0) == 0) {
        opts.type = rt_->catalogue->find(part.substr(5));
        if (!opts.type) return http::Response::json(400, R"({"error":"unknown report type"})");
      } else if (part == "format=csv") {
        opts.format = pipeline::InputFormat::kCsv;
      }
    }
    if (opts.format == pipeline::InputFormat::kAuto) opts.format = pipeline::InputFormat::kJsonl;
    std::lock_guard lock(mu_);
    auto creds = rt_->registry->key_credentials(*key);
    if (!creds || creds->kind != registry::KeyKind::kIngest) {
      return http::Response::json(401, R"({"error":"unknown, revoked or non-ingest key"})");
    }
    bool ok = false;
    for (const auto& secret : creds->secrets) ok |= api::hmac_matches(secret, req.body, *mac);
    if (!ok) return http::Response::json(401, R"({"error":"bad HMAC2"})");
    std::string name = "push:" + std::string(*key);
    auto r = ingestor_->ingest_buffer(req.body, name, opts);
    if (!r) {
      return http::Response::json(400, "{\"error\":" + json_quote(r.error().message) + "}");
    }
    // Acknowledged only now: the batch and its checkpoint are committed.
    return http::Response::json(
        200, "{\"accepted\":" + std::to_string(r->accepted) +
                 ",\"rejected\":" + std::to_string(r->rejected) +
                 ",\"duplicate_body\":" + (r->already_done ? "true" : "false") + "}");
  }

 public:
  // One pass over the inbox; returns the number of files handled.
  int scan_inbox() {
    std::vector<fs::path> files;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(inbox_, ec)) {
      std::string n = e.path().filename().string();
      if (!e.is_regular_file() || n.empty() || n[0] == '.' || n.ends_with(".tmp") ||
          n.ends_with(".part")) {
        continue;
      }
      files.push_back(e.path());
    }
    std::sort(files.begin(), files.end());
    int handled = 0;
    for (const auto& f : files) {
      if (g_serve_stop) break;
      std::lock_guard lock(mu_);
      auto opts = ingest_options();
      opts.stop = &g_serve_stop;
      auto r = ingestor_->ingest_file(f.string(), opts);
      if (!r) {
        spdlog::error("inbox: {}: {}", f.string(), r.error().message);
        fs::rename(f, fs::path(inbox_) / "failed" / f.filename(), ec);
        std::ofstream(fs::path(inbox_) / "failed" / (f.filename().string() + ".error"))
            << r.error().message << "\n";
      } else if (r->complete) {
        spdlog::info("inbox: {}: {} accepted, {} rejected{}", f.filename().string(), r->accepted,
                     r->rejected, r->already_done ? " (already ingested)" : "");
        fs::rename(f, fs::path(inbox_) / "done" / f.filename(), ec);
      }
      ++handled;
    }
    return handled;
  }

  void refresh() {
    std::lock_guard lock(mu_);
    rt_->refresh_index();
  }

  // false when the reports could not be built (the schedule tries again); a mail that fails
  // after the build is in the delivery log and does not make the build run again.
  bool day_close(DayNumber day) {
    std::lock_guard lock(mu_);
    auto manifest = report::Manifest::open(global_.data_dir + "/reports.sqlite");
    if (!manifest) {
      spdlog::error("day close: {}", manifest.error().message);
      return false;
    }
    report::BuildOptions bo;
    bo.report_dir = global_.config.report_dir.empty() ? global_.data_dir + "/reports"
                                                      : global_.config.report_dir;
    bo.delta = global_.config.delta_mode;
    // Validated with the configuration (its choices); "pack" where unset.
    bo.layout = report::parse_report_layout(global_.config.report_layout)
                    .value_or(report::ReportLayout::kPack);
    auto names = [&](uint32_t id) -> std::optional<std::string> {
      auto org = rt_->registry->find_org(std::to_string(id));
      return org ? std::optional<std::string>(org->short_name) : std::nullopt;
    };
    auto s = report::build_reports(*rt_->store, *rt_->catalogue, **manifest, names, day, bo);
    if (!s) {
      spdlog::error("day close {}: {}", format_date(day), s.error().message);
      return false;
    }
    spdlog::info("day close {}: {} reports, {} rows", format_date(day), s->reports.size(), s->rows);
    last_build_ = format_date(day) + ": " + std::to_string(s->reports.size()) + " reports";
    if (global_.config.smtp_url.empty()) {
      spdlog::warn("day close: smtp.url not set; reports not mailed (available through the API)");
      return true;
    }
    auto mailed = deliver_built_reports(*rt_->registry, global_, day, *s);
    if (!mailed) {
      spdlog::error("day close {}: mail: {}", format_date(day), mailed.error().message);
      return true;
    }
    spdlog::info("day close {}: {} mails delivered, {} not delivered (see `vantage deliveries`)",
                 format_date(day), mailed->delivered, mailed->not_delivered);
    return true;
  }

  // Folds what the pipeline wrote into the spool's runs and the statistics. The store folds by
  // itself every pipeline.spool_flush_events and at the end of each input; this bounds how
  // long a trickle of pushes waits for the dashboard to count it: one watch interval.
  void settle() {
    std::lock_guard lock(mu_);
    if (auto st = rt_->store->settle(); !st) spdlog::warn("store: {}", st.error().message);
  }

  // Drops raw events and report files older than retention.days (statistics stay).
  void retention() {
    if (global_.config.retention_days <= 0) return;
    DayNumber keep_from = today() - static_cast<DayNumber>(global_.config.retention_days) + 1;
    std::lock_guard lock(mu_);
    auto dropped = rt_->store->drop_events_before(keep_from);
    if (!dropped) {
      spdlog::error("retention: {}", dropped.error().message);
      return;
    }
    int64_t reports = 0;
    if (auto manifest = report::Manifest::open(global_.data_dir + "/reports.sqlite")) {
      if (auto n = (*manifest)->drop_before(keep_from)) reports = *n;
    }
    if (*dropped > 0 || reports > 0) {
      spdlog::info("retention: dropped {} events and {} report entries before {}", *dropped,
                   reports, format_date(keep_from));
    }
    retention_runs_.fetch_add(1);
  }

  std::string metrics() {
    std::lock_guard lock(mu_);
    std::string out;
    auto cps = rt_->store->checkpoints();
    int64_t acc = 0, rej = 0, allow = 0, dedup = 0, routed = 0;
    if (cps) {
      for (const auto& c : *cps) {
        acc += c.accepted;
        rej += c.rejected;
        allow += c.allowlisted;
        dedup += c.deduplicated;
        routed += c.routed;
      }
    }
    auto add = [&](const char* name, const char* help, int64_t v) {
      out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " counter\n" + name +
             " " + std::to_string(v) + "\n";
    };
    add("vantage_events_accepted_total", "Records accepted by the pipeline.", acc);
    add("vantage_events_rejected_total", "Records rejected and quarantined.", rej);
    add("vantage_events_allowlisted_total", "Events dropped as research-scanner traffic.", allow);
    add("vantage_events_deduplicated_total", "Occurrences folded into an existing event.", dedup);
    add("vantage_events_routed_total", "Event-to-organisation deliveries spooled.", routed);
    add("vantage_sources_total", "Inputs seen (files, pushes, streams).",
        cps ? static_cast<int64_t>(cps->size()) : 0);
    if (auto unsettled = rt_->store->unsettled_events()) {
      out +=
          "# HELP vantage_store_unsettled_events Events stored but not yet counted in the "
          "statistics (folded every watch interval).\n# TYPE vantage_store_unsettled_events "
          "gauge\nvantage_store_unsettled_events " +
          std::to_string(*unsettled) + "\n";
    }
    if (rt_->enricher) {
      add("vantage_enrichment_reloads_total", "Enrichment snapshots published.",
          static_cast<int64_t>(rt_->enricher->generation()));
      add("vantage_enrichment_reload_failures_total", "Enrichment reloads refused.",
          static_cast<int64_t>(rt_->enricher->reload_failures()));
    }
    out += sensor_metrics(global_.data_dir);
    return out;
  }

  const std::string& inbox() const { return inbox_; }

 private:
  pipeline::IngestOptions ingest_options() const {
    pipeline::IngestOptions o;
    o.batch_size = static_cast<size_t>(global_.config.batch_size);
    o.queue_depth = static_cast<size_t>(global_.config.queue_depth);
    o.processing_threads = static_cast<size_t>(global_.config.processing_threads);
    return o;
  }
  static std::string json_quote(std::string_view s) {
    std::string out = "\"";
    for (char c : s) {
      if (c == '"' || c == '\\') out.push_back('\\');
      if (static_cast<unsigned char>(c) >= 0x20) out.push_back(c);
    }
    return out + "\"";
  }

  const GlobalOptions& global_;
  std::unique_ptr<Runtime> rt_;
  std::unique_ptr<pipeline::Ingestor> ingestor_;
  std::string inbox_;
  std::mutex mu_;
  std::string last_build_;
  std::atomic<int64_t> retention_runs_{0};
  std::atomic<int64_t> pushes_accepted_{0};
  std::atomic<int64_t> pushes_refused_{0};
};

// "HOST:PORT" of a bound server, for printing URLs (IPv6 hosts in brackets).
std::string url_host(const std::string& host, uint16_t port) {
  bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

}  // namespace

void run_service(const GlobalOptions& global, const ServiceHooks& hooks) {
  g_serve_stop.store(false);
  // A bad address is reported before the routing data are loaded.
  auto [host, port] = parse_listen_address(
      hooks.listen.empty() ? global.config.api_listen : hooks.listen, hooks.command);
  RuntimeOptions ro;
  auto rt = open_runtime(global, ro, hooks.command.c_str());
  if (rt->enricher) rt->enricher->start_watching();
  auto catalogue = rt->catalogue;
  // The routing data claims are checked against (portal registration): the enricher's current
  // snapshot, adapted once per snapshot. The Service keeps the runtime, and so the enricher.
  const enrich::Enricher* enricher = rt->enricher.get();
  Service service(global, std::move(rt));

  auto names_reg = registry::SqliteRegistry::open_in_data_dir(global.data_dir);
  auto manifest = report::Manifest::open(global.data_dir + "/reports.sqlite");
  auto store = open_store(global);
  auto dash_store = open_store(global);
  if (!names_reg || !manifest || !store || !dash_store) {
    std::cerr << "vantage " << hooks.command << ": cannot open the data directory for the API\n";
    throw CommandFailed(1);
  }
  api::ApiOptions ao;
  ao.rate_per_second = static_cast<double>(global.config.rate_limit_per_minute) / 60.0;
  // One read connection per concurrent request for the manifest, the store and the keys.
  ao.manifest_path = global.data_dir + "/reports.sqlite";
  ao.store_path = global.data_dir + "/events.sqlite";
  ao.open_store = [global] { return open_store(global); };
  auto opened_keys = api::open_registry_key_store(global.data_dir);
  if (!opened_keys) {
    std::cerr << "vantage " << hooks.command << ": registry: " << opened_keys.error().message
              << "\n";
    throw CommandFailed(1);
  }
  std::shared_ptr<api::KeyStore> keys = *opened_keys;
  api::ApiService api(ao, keys, std::move(*manifest), std::move(*store), catalogue);

  integrations::ServiceOptions io;
  io.data_dir = global.data_dir;
  io.open_store = [global] { return open_store(global); };
  io.dispatch = global.config.integrations_enabled;
  io.dispatcher.poll_interval =
      std::chrono::milliseconds(global.config.integrations_poll_interval_ms);
  io.dispatcher.max_attempts = global.config.integrations_max_attempts;
  io.dispatcher.retry_initial =
      std::chrono::milliseconds(global.config.integrations_retry_initial_ms);
  io.dispatcher.retry_max = std::chrono::seconds(global.config.integrations_retry_max_s);
  io.dispatcher.senders = static_cast<int>(global.config.integrations_senders);
  io.dispatcher.keep_history = std::chrono::hours(24 * global.config.integrations_history_days);
  char hostname[256] = {0};
  io.dispatcher.hostname = ::gethostname(hostname, sizeof hostname - 1) == 0 ? hostname : "-";
  io.misp.org_name = global.config.misp_org_name;
  auto pushes = integrations::IntegrationsService::start(io, catalogue, keys);
  if (!pushes) {
    std::cerr << "vantage " << hooks.command << ": integrations: " << pushes.error().message
              << "\n";
    throw CommandFailed(1);
  }

  web::DashboardOptions dopt;
  dopt.org_subscriptions = [svc = pushes->get()](uint32_t org) {
    return svc->org_subscriptions(org);
  };
  dopt.min_count = global.config.dashboard_min_count;
  dopt.web_root = resolve_data_path(global.config.web_root);
  dopt.manifest_path = global.data_dir + "/reports.sqlite";
  dopt.delivery_log_path = delivery::default_delivery_log_path(global.data_dir);
  auto name_mu = std::make_shared<std::mutex>();
  std::shared_ptr<registry::Registry> names(std::move(*names_reg));
  web::DashboardService dashboard(dopt, std::move(*dash_store), keys, catalogue,
                                  [names, name_mu](uint32_t id) -> std::optional<std::string> {
                                    std::lock_guard lock(*name_mu);
                                    auto org = names->find_org(std::to_string(id));
                                    return org ? std::optional<std::string>(org->name)
                                               : std::nullopt;
                                  });

  // Remediation tracking and the portal (registration, organisation portal, console).
  struct RoutingCache {
    std::mutex mu;
    const void* snapshot = nullptr;
    std::shared_ptr<const registry::RoutingView> view;
  };
  auto routing_cache = std::make_shared<RoutingCache>();
  auto routing = [enricher, routing_cache]() -> std::shared_ptr<const registry::RoutingView> {
    if (!enricher) return nullptr;
    auto snap = enricher->snapshot();
    std::lock_guard lock(routing_cache->mu);
    if (snap.get() != routing_cache->snapshot) {
      routing_cache->snapshot = snap.get();
      routing_cache->view =
          snap->asn() ? std::make_shared<portal::AsnTableRouting>(snap, snap->asn()) : nullptr;
    }
    return routing_cache->view;
  };
  auto parts = make_portal_parts(global, &dashboard, catalogue, routing);
  if (!parts) {
    std::cerr << "vantage " << hooks.command << ": portal: " << parts.error().message << "\n";
    throw CommandFailed(1);
  }
  portal::add_remediation_methods(api, parts->trackers);

  http::HttpOptions ho;
  ho.bind_address = host;
  ho.port = port;
  ho.threads = static_cast<int>(global.config.api_threads);
  ho.max_body_bytes = 64ull << 20;  // push batches
  ho.tls_cert_file = global.config.tls_cert;
  ho.tls_key_file = global.config.tls_key;
  auto make_server = [&](uint16_t p) {
    ho.port = p;
    auto server = std::make_unique<http::HttpServer>(ho);
    api.install(*server, "/dl/");
    api.install_root_downloads(*server);  // before the dashboard's "/"
    (*pushes)->install(*server);
    dashboard.install(*server);
    portal::install_public_remediation(*server, parts->trackers, dopt.min_count);
    if (parts->portal) parts->portal->install(*server);
    if (hooks.local_ingest) {
      server->route("POST", "/ingest", [&service, &pushes](const http::Request& r) {
        auto answer = service.push(r);
        if (answer.status == 200) (*pushes)->poke();  // alerts leave now, not at the next poll
        return answer;
      });
    }
    server->route("GET", "/healthz",
                  [](const http::Request&) { return http::Response::text(200, "ok\n"); });
    server->route("GET", "/metrics", [&service, &pushes, &hooks](const http::Request&) {
      return http::Response::text(200,
                                  service.metrics() + (*pushes)->metrics() +
                                      (hooks.extra_metrics ? hooks.extra_metrics() : std::string()),
                                  "text/plain; version=0.0.4");
    });
    return server;
  };
  auto server = make_server(port);
  if (auto st = server->start(); !st.ok()) {
    std::cerr << "vantage " << hooks.command << ": cannot listen on " << host << ":" << port << ": "
              << st.message()
              << " (another process may hold the port: change api.listen or --listen)\n";
    if (!hooks.fall_back_to_free_port || port == 0) throw CommandFailed(1);
    // `vantage up` brings up what it can: the same service on a port the kernel picks.
    server = make_server(0);
    if (auto st2 = server->start(); !st2.ok()) {
      std::cerr << "vantage " << hooks.command << ": cannot listen on " << host
                << " at all: " << st2.message() << "\n";
      throw CommandFailed(1);
    }
    std::cerr << "vantage " << hooks.command << ": using port " << server->port() << " instead\n";
  }
  std::string tls = global.config.tls_cert.empty() ? "http" : "https";
  std::string base = tls + "://" + url_host(host, server->port());
  std::cout << "listening " << base << " inbox=" << service.inbox() << std::endl;
  if (parts->portal) {
    if (global.config.portal_public_url.empty()) parts->portal->set_public_url(base);
    spdlog::info("portal: {}/portal.html, console {}/console.html, mail via {}", base, base,
                 parts->mail_via);
  }

  std::signal(SIGINT, on_serve_signal);
  std::signal(SIGTERM, on_serve_signal);
  ServiceInfo info{base, service.inbox(), &g_serve_stop,
                   [&service](DayNumber day) { service.day_close(day); }};
  std::vector<std::thread> jobs;
  for (const auto& job : hooks.jobs) jobs.emplace_back([&job, &info] { job(info); });
  const auto scan_schedule = scan_schedule_job(global);  // returns at once when not configured
  jobs.emplace_back([&scan_schedule, &info] { scan_schedule(info); });
  if (hooks.on_ready) hooks.on_ready(info);
  std::string started = format_timestamp(now_seconds());
  std::thread watcher([&] {
    auto interval = std::chrono::milliseconds(global.config.watch_interval_ms);
    int hh = 0, mm = 30;
    std::sscanf(global.config.day_close_utc.c_str(), "%d:%d", &hh, &mm);
    DayCloseSchedule close_schedule(int64_t{hh} * 3600 + mm * 60, now_seconds());
    int last_retention_day = -1;
    while (!g_serve_stop) {
      service.write_state(hooks.command, base, started);
      service.refresh();
      // The store's writers settle it: here, or in the cluster, the workers.
      if (hooks.local_ingest) service.scan_inbox();
      if (hooks.local_ingest) service.settle();
      if ((hooks.local_ingest || hooks.day_close) && today() != last_retention_day) {
        last_retention_day = today();
        service.retention();
      }
      if (hooks.day_close) {
        // Day close once per UTC day, after report.day_close_utc; a failed build (a store
        // shard down) is tried again with back-off.
        if (auto day = close_schedule.due(now_seconds())) {
          bool ok = service.day_close(*day);
          close_schedule.built(*day, ok, now_seconds());
          if (!ok) {
            spdlog::warn("day close {}: trying again in {} s", format_date(*day),
                         close_schedule.backoff_s());
          }
        }
      }
      for (auto waited = std::chrono::milliseconds(0); waited < interval && !g_serve_stop;
           waited += std::chrono::milliseconds(50)) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
    }
  });
  // Remediation: the issues brought up to date from the store's changed days, each minute.
  std::thread remediation_job([&] {
    auto tracker = open_tracker(global);
    auto events = open_store(global);
    if (!tracker || !events) {
      spdlog::error("remediation: cannot open {}: {}", remediation_path(global),
                    tracker ? events.error().message : tracker.error().message);
      return;
    }
    while (!g_serve_stop) {
      auto s = update_remediation(global, *catalogue, **tracker, **events);
      if (!s) {
        spdlog::warn("remediation: {}", s.error().message);
      } else if (s->days_read > 0 || s->sightings_added > 0) {
        spdlog::info("remediation: {} days read, {} sightings, {} issues re-derived (as of {})",
                     s->days_read, s->sightings_added, s->issues_rederived, format_date(s->as_of));
      }
      for (int i = 0; i < 600 && !g_serve_stop; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  });
  watcher.join();
  remediation_job.join();
  for (auto& j : jobs) j.join();
  (*pushes)->stop();
  server->stop();
  std::error_code rm_ec;
  fs::remove(global.data_dir + "/service.json", rm_ec);
  std::cerr << "vantage " << hooks.command << ": stopped cleanly\n";
}

}  // namespace vantage::service

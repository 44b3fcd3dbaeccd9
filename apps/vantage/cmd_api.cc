// vantage api serve: the Shadowserver-compatible api2 and report downloads over HTTP(S).

#include <spdlog/spdlog.h>

#include <csignal>
#include <iostream>
#include <thread>

#include "api/api_service.h"
#include "api/http/http_server.h"
#include "commands.h"
#include "report/manifest.h"
#include "service/runtime.h"
#include "store/store.h"

namespace vantage::cli {

using service::open_store;
using service::parse_listen_address;

namespace {

volatile std::sig_atomic_t g_stop = 0;
void on_stop_signal(int) {
  g_stop = 1;
}

struct ServeOptions {
  std::string listen = "127.0.0.1:8080";
  std::string download_root;    // public URL of downloads; its path is the download prefix
  std::string download_listen;  // optional second listener serving ids at "/"
  std::string tls_cert, tls_key;
  int threads = 2;
  double rate = 0;
  int64_t query_limit = 0;
  size_t max_connections = 512;
  std::string port_file;
};

// "host:port", "[v6]:port" or ":port".
// The path of the download root URL ("http://h:1/dl/" -> "/dl/"), always ending in '/'.
std::string download_prefix(const std::string& root) {
  if (root.empty()) return "/dl/";
  std::string path = "/";
  auto scheme = root.find("://");
  if (scheme != std::string::npos) {
    auto slash = root.find('/', scheme + 3);
    if (slash != std::string::npos) path = root.substr(slash);
  } else {
    path = root;
  }
  if (path.empty() || path[0] != '/') path = "/" + path;
  if (path.back() != '/') path += '/';
  return path;
}

void run_serve(const GlobalOptions& global, const ServeOptions& o) {
  auto fail = [](const std::string& what) {
    std::cerr << "vantage api serve: " << what << "\n";
    throw CommandFailed(2);
  };
  auto catalogue = core::Catalogue::open(global.catalogue_path);
  if (!catalogue) fail("catalogue: " + catalogue.error().message);
  auto keys = api::open_registry_key_store(global.data_dir);
  if (!keys) fail("registry: " + keys.error().message);
  auto manifest = report::Manifest::open(global.data_dir + "/reports.sqlite");
  if (!manifest) fail("report manifest: " + manifest.error().message);
  auto store = open_store(global);
  if (!store) fail("event store: " + store.error().message);

  api::ApiOptions ao;
  ao.rate_per_second = o.rate;
  ao.daily_query_limit = o.query_limit;
  // One connection per concurrent request for each database (a shared one serialised all
  // requests behind its mutex).
  ao.manifest_path = global.data_dir + "/reports.sqlite";
  ao.store_path = global.data_dir + "/events.sqlite";
  ao.open_store = [global] { return open_store(global); };
  api::ApiService service(ao, *keys, std::move(*manifest), std::move(*store), *catalogue);

  auto [host, port] = parse_listen_address(o.listen, "api serve");
  http::HttpOptions ho;
  ho.bind_address = host;
  ho.port = port;
  ho.threads = o.threads;
  ho.max_connections = o.max_connections;
  ho.tls_cert_file = o.tls_cert;
  ho.tls_key_file = o.tls_key;
  http::HttpServer server(ho);
  std::string prefix = download_prefix(o.download_root);
  if (prefix == "/") fail("--download-root must have a path other than / on the API listener");
  service.install(server, prefix);
  if (auto st = server.start(); !st.ok()) fail(st.message());

  std::unique_ptr<http::HttpServer> dl_server;
  if (!o.download_listen.empty()) {
    auto [dh, dp] = parse_listen_address(o.download_listen, "api serve");
    http::HttpOptions dopt = ho;
    dopt.bind_address = dh;
    dopt.port = dp;
    dl_server = std::make_unique<http::HttpServer>(dopt);
    dl_server->route(
        "*", "/", [&service](const http::Request& r) { return service.handle_download(r, "/"); },
        http::RouteMatch::kPrefix, http::RouteOptions{.redact_path = true});
    if (auto st = dl_server->start(); !st.ok()) fail("download listener: " + st.message());
  }
  // The bound ports on stdout (one line), so scripts using port 0 can find them.
  std::cout << "listening api=" << host << ":" << server.port() << " download_prefix=" << prefix;
  if (dl_server) std::cout << " download=" << dl_server->port();
  std::cout << std::endl;
  spdlog::info("vantage api serving on {}:{}{}", host, server.port(),
               ho.tls_cert_file.empty() ? "" : " (TLS)");

  std::signal(SIGINT, on_stop_signal);
  std::signal(SIGTERM, on_stop_signal);
  while (!g_stop) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  if (dl_server) dl_server->stop();
  server.stop();
}

}  // namespace

void add_api_command(CLI::App& app, GlobalOptions& global) {
  auto* api = app.add_subcommand("api", "Shadowserver-compatible reports API (api2) and downloads");
  api->require_subcommand(1);
  auto o = std::make_shared<ServeOptions>();
  auto* serve = api->add_subcommand(
      "serve", "Serve POST /api2/<module>/<method> and GET <download-root><id>");
  serve->add_option("--listen", o->listen, "Address:port for the API (port 0: pick one)")
      ->capture_default_str();
  serve->add_option(
      "--download-root", o->download_root,
      "Public URL of report downloads; its path (default /dl/) is served on --listen");
  serve->add_option(
      "--download-listen", o->download_listen,
      "Optional second address:port serving downloads at / (like dl.shadowserver.org)");
  serve->add_option("--tls-cert", o->tls_cert, "PEM certificate chain (enables HTTPS)");
  serve->add_option("--tls-key", o->tls_key, "PEM private key");
  serve->add_option("--threads", o->threads, "Worker threads")->capture_default_str();
  serve->add_option("--rate-limit", o->rate, "Requests per second per key (0: unlimited)")
      ->capture_default_str();
  serve
      ->add_option("--query-limit", o->query_limit,
                   "reports/query calls per key per UTC day (0: unlimited)")
      ->capture_default_str();
  serve->add_option("--max-connections", o->max_connections, "Concurrent connections")
      ->capture_default_str();
  serve->callback([&global, o] { run_serve(global, *o); });
}

}  // namespace vantage::cli

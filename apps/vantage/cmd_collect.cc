// `vantage collect`: takes reports from an upstream Shadowserver-compatible api2 (Shadowserver
// itself, or another Vantage) and feeds them into this Vantage's pipeline, where they are
// routed to this Vantage's organisations -- a national CSIRT redistributing Shadowserver's
// reports to its constituency. Idempotent: what was fetched is recorded
// (<data_dir>/collect.sqlite), so running it from cron or a timer fetches each report once.
//
// Credentials: a Shadowserver-style INI file (`[api] key = ... secret = ... uri = ...`, the
// ~/.shadowserver.api of call-api.py), or --key with the secret in an environment variable.

#include <signal.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "common/strings.h"
#include "core/csv_reader.h"
#include "integrations/collector.h"
#include "pipeline/ingest.h"
#include "service/runtime.h"

namespace vantage::cli {

using service::open_runtime;
using service::Runtime;
using service::RuntimeOptions;

namespace {

namespace fs = std::filesystem;

struct CollectFlags {
  std::string api, credentials, key, secret_env = "VANTAGE_COLLECT_SECRET", date = "-2:now",
                                     download_root, ca_file, mode = "auto";
  std::vector<std::string> reports, types;
  bool list_only = false;
};

// key / secret / uri from a call-api.py style INI file.
void read_credentials(const std::string& path, integrations::CollectOptions& o, std::string& uri) {
  std::ifstream in(path);
  if (!in) {
    std::cerr << "vantage collect: cannot read " << path << "\n";
    throw CommandFailed(2);
  }
  for (std::string line; std::getline(in, line);) {
    auto eq = line.find('=');
    if (eq == std::string::npos) continue;
    std::string k(trim(std::string_view(line).substr(0, eq)));
    std::string v(trim(std::string_view(line).substr(eq + 1)));
    if (k == "key") o.key = v;
    if (k == "secret") o.secret = v;
    if (k == "uri") uri = v;
  }
}

// True when `vantage serve`/`up` runs on this data directory (its service.json names a live
// process): then the store has its one writer, and collected files go to its inbox.
bool service_running(const GlobalOptions& g) {
  std::ifstream in(g.data_dir + "/service.json");
  if (!in) return false;
  auto j = nlohmann::json::parse(in, nullptr, false);
  if (j.is_discarded() || !j.contains("pid") || !j["pid"].is_number_integer()) return false;
  int pid = j["pid"].get<int>();
  return pid > 0 && ::kill(pid, 0) == 0;
}

void run_collect(const CollectFlags& f, const GlobalOptions& global) {
  integrations::CollectOptions o;
  std::string uri = f.api;
  if (!f.credentials.empty()) {
    std::string file_uri;
    read_credentials(f.credentials, o, file_uri);
    if (uri.empty()) uri = file_uri;
  }
  if (!f.key.empty()) o.key = f.key;
  if (o.secret.empty()) {
    const char* s = std::getenv(f.secret_env.c_str());
    if (s) o.secret = s;
  }
  if (uri.empty()) uri = "https://transform.shadowserver.org/api2/";
  if (o.key.empty() || o.secret.empty()) {
    std::cerr << "vantage collect: need a key and secret (--credentials FILE, or --key with the "
                 "secret in $"
              << f.secret_env << ")\n";
    throw CommandFailed(2);
  }
  o.api_url = uri;
  o.download_root = f.download_root;
  o.date = f.date;
  o.reports = f.reports;
  o.types = f.types;
  o.ca_file = f.ca_file;
  o.work_dir = global.data_dir + "/collect";
  std::error_code ec;
  fs::create_directories(global.data_dir, ec);
  auto collector = integrations::Collector::open(global.data_dir + "/collect.sqlite");
  if (!collector) {
    std::cerr << "vantage collect: " << collector.error().message << "\n";
    throw CommandFailed(1);
  }
  if (f.list_only) {
    auto listed = (*collector)->list(o);
    if (!listed) {
      std::cerr << "vantage collect: " << listed.error().message << "\n";
      throw CommandFailed(1);
    }
    for (const auto& r : *listed)
      std::cout << r.timestamp << '\t' << r.type << '\t' << r.report << '\t' << r.file << '\n';
    return;
  }
  bool via_inbox = f.mode == "inbox" || (f.mode == "auto" && service_running(global));
  std::unique_ptr<Runtime> rt;
  std::unique_ptr<pipeline::Ingestor> ingestor;
  std::string inbox =
      global.config.inbox_dir.empty() ? global.data_dir + "/inbox" : global.config.inbox_dir;
  if (!via_inbox) {
    rt = open_runtime(global, RuntimeOptions{}, "collect");
    ingestor = std::make_unique<pipeline::Ingestor>(*rt->catalogue, rt->inputs(), *rt->store);
  } else {
    fs::create_directories(inbox, ec);
  }
  auto catalogue = rt ? rt->catalogue : nullptr;
  auto deliver = [&](const integrations::CollectedReport& r) -> Status {
    if (via_inbox) {
      // The service ingests it (the type comes from the Shadowserver-style file name).
      fs::path to = fs::path(inbox) / fs::path(r.path).filename();
      fs::rename(r.path, to, ec);
      if (ec)
        return Error::io("cannot move " + r.path + " to " + to.string() + ": " + ec.message());
      return {};
    }
    pipeline::IngestOptions opts;
    opts.type = catalogue->find(r.listed.type);
    if (!opts.type) opts.type = core::detect_report_type(r.listed.file, *catalogue);
    if (!opts.type) return Error::invalid("unknown report type '" + r.listed.type + "'");
    opts.format = pipeline::InputFormat::kCsv;
    opts.batch_size = static_cast<size_t>(global.config.batch_size);
    opts.queue_depth = static_cast<size_t>(global.config.queue_depth);
    opts.processing_threads = static_cast<size_t>(global.config.processing_threads);
    auto s = ingestor->ingest_file(r.path, opts);
    if (!s) return s.error();
    if (!s->complete) return Error::io("ingest of " + r.path + " did not complete");
    std::cerr << r.listed.file << ": " << s->accepted << " accepted, " << s->rejected << " rejected"
              << (s->already_done ? " (already ingested)" : "") << "\n";
    fs::create_directories(o.work_dir + "/done", ec);
    fs::rename(r.path, fs::path(o.work_dir) / "done" / fs::path(r.path).filename(), ec);
    return {};
  };
  auto summary = (*collector)->run(o, deliver);
  if (!summary) {
    std::cerr << "vantage collect: " << summary.error().message << "\n";
    throw CommandFailed(1);
  }
  if (rt) (void)rt->store->settle();
  for (const auto& e : summary->errors) std::cerr << "vantage collect: " << e << "\n";
  std::cout << "collect: " << summary->listed << " listed, " << summary->fetched << " fetched"
            << (via_inbox ? " (into the inbox of the running service)" : " and ingested") << ", "
            << summary->already_fetched << " fetched before, " << summary->failed << " failed\n";
  if (summary->failed > 0) throw CommandFailed(1);
}

}  // namespace

void add_collect_command(CLI::App& app, GlobalOptions& global) {
  auto f = std::make_shared<CollectFlags>();
  auto* cmd = app.add_subcommand(
      "collect",
      "Fetch reports from an upstream Shadowserver-compatible api2 (Shadowserver, or another "
      "Vantage) and ingest them for this Vantage's organisations");
  cmd->add_option("--api", f->api,
                  "Upstream api2 base URL (default: the credentials file's uri, else "
                  "https://transform.shadowserver.org/api2/)");
  cmd->add_option("--credentials", f->credentials,
                  "INI file with key, secret, uri (call-api.py's ~/.shadowserver.api)");
  cmd->add_option("--key", f->key, "API key (the secret comes from --secret-env)");
  cmd->add_option("--secret-env", f->secret_env, "Environment variable holding the secret")
      ->capture_default_str();
  cmd->add_option("--date", f->date, "reports/list window, e.g. -2:now or 2026-01-01:2026-01-07")
      ->capture_default_str();
  cmd->add_option("--reports", f->reports, "Mailing-list names (default: all of the key)")
      ->delimiter(',');
  cmd->add_option("--types", f->types, "Report types (default: all)")->delimiter(',');
  cmd->add_option("--download-root", f->download_root,
                  "Where GET <root><id> downloads (default: dl.shadowserver.org for Shadowserver, "
                  "else the api's host)");
  cmd->add_option("--ca-file", f->ca_file, "CA bundle for an upstream with a private CA");
  cmd->add_option("--mode", f->mode,
                  "auto: the running service's inbox if one runs, else ingest here; inbox; direct")
      ->check(CLI::IsMember({"auto", "inbox", "direct"}))
      ->capture_default_str();
  cmd->add_flag("--list", f->list_only, "Only list what the upstream offers");
  cmd->callback([f, &global] { run_collect(*f, global); });
}

}  // namespace vantage::cli

// `vantage cluster`: the cluster mode's roles of this one binary (docs/cluster.md).
//
//   cluster run [--role R]   R from cluster.role when not given:
//     ingest    push endpoint (POST /ingest, same keys and HMAC2 as `vantage serve`) and the
//               inbox watch, publishing raw input batches to NATS JetStream instead of
//               writing the store; /healthz, /metrics
//     worker    the durable pull consumer -> the embedded pipeline (decode, validate, enrich,
//               classify, route, quarantine: pipeline::Ingestor) -> the event store; a message
//               is acknowledged only after the store committed it
//     reporter  day close (report build, mail) against the shared store, no ingest
//     api       api2, downloads, dashboard, /metrics against the shared store, no ingest
//   cluster publish FILE...  the ingest role's file path as a one-shot command
//   cluster status           the bus (lag, ack pending, redeliveries) and the workers
//
// `vantage serve`/`up` (the embedded default) do not use any of this.

#include <fcntl.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/file.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "api/http/http_server.h"
#include "api/params.h"
#include "bus/jetstream.h"
#include "bus/line_batcher.h"
#include "cluster_status.h"
#include "commands.h"
#include "common/hash.h"
#include "common/strings.h"
#include "common/time.h"
#include "core/csv_reader.h"
#include "pipeline/ingest.h"
#include "pipeline/source_identity.h"
#include "service/runtime.h"
#include "service/service.h"

namespace vantage::cli {

using service::open_runtime;
using service::parse_listen_address;
using service::run_service;
using service::RuntimeOptions;
using service::ServiceHooks;

namespace fs = std::filesystem;

namespace {

std::atomic<bool> g_cluster_stop{false};
void on_cluster_signal(int) {
  g_cluster_stop.store(true);
}

void sleep_unless_stopped(std::chrono::milliseconds total) {
  for (auto waited = std::chrono::milliseconds(0); waited < total && !g_cluster_stop;
       waited += std::chrono::milliseconds(50)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

std::unique_ptr<bus::Connection> connect_or_fail(const GlobalOptions& global, const char* role) {
  auto conn = bus::Connection::open(bus_options(global.config));
  if (!conn) {
    std::cerr << "vantage cluster " << role << ": " << conn.error().message << "\n";
    throw CommandFailed(1);
  }
  return std::move(*conn);
}

// ---- ingest role: inputs -> bus messages ------------------------------------------------

struct PublishSummary {
  int64_t messages = 0;
  int64_t records = 0;
  int64_t duplicates = 0;  // messages the stream already had (a retry of an earlier publish)
};

// Publishes messages in groups, each group again (same ids) until JetStream stored all of it.
class GroupPublisher {
 public:
  GroupPublisher(bus::Connection& conn, int attempts) : publisher_(conn), attempts_(attempts) {}

  void add(bus::BusMessage m, size_t records) {
    summary_.records += static_cast<int64_t>(records);
    group_.push_back(std::move(m));
    if (group_.size() >= kGroup) status_ = flush();
  }
  Status finish() {
    if (status_.ok()) status_ = flush();
    return status_;
  }
  const PublishSummary& summary() const { return summary_; }

 private:
  static constexpr size_t kGroup = 32;
  Status flush() {
    if (!status_.ok() || group_.empty()) return status_;
    Status st;
    for (int attempt = 1; attempt <= attempts_; ++attempt) {
      int64_t dup_before = publisher_.duplicates();
      st = publisher_.publish(group_);
      if (st.ok() || st.error().code == ErrorCode::kInvalidArgument) {
        if (!st.ok()) return st;  // a record larger than the servers' max_payload
        summary_.messages += static_cast<int64_t>(group_.size());
        summary_.duplicates += publisher_.duplicates() - dup_before;
        group_.clear();
        return st;
      }
      spdlog::warn("bus: {} (attempt {}/{}); publishing the batch again in 1 s", st.message(),
                   attempt, attempts_);
      if (g_cluster_stop) break;
      sleep_unless_stopped(std::chrono::seconds(1));
    }
    return st;
  }

  bus::Publisher publisher_;
  int attempts_;
  std::vector<bus::BusMessage> group_;
  PublishSummary summary_;
  Status status_;
};

struct InputSpec {
  std::string name;  // the source name the worker's pipeline sees (type detection, quarantine)
  std::string type;  // forced type or empty
  pipeline::InputFormat format = pipeline::InputFormat::kAuto;
};

// The resolved format and type of an input, as the worker will decode it.
Result<std::pair<bool, std::string>> csv_and_type(const core::Catalogue& catalogue,
                                                  const InputSpec& in) {
  auto format =
      in.format == pipeline::InputFormat::kAuto ? pipeline::format_for_name(in.name) : in.format;
  bool csv = format == pipeline::InputFormat::kCsv;
  std::string type = in.type;
  if (csv && type.empty()) {
    // A CSV body is decoded on its own: its type must travel with it.
    const core::ReportType* t = core::detect_report_type(in.name, catalogue);
    if (!t)
      return Error::invalid(in.name +
                            ": the report type cannot be told from the name; give --type");
    type = t->name;
  }
  return std::make_pair(csv, type);
}

// Splits `read` (called until it returns false) into messages with ids <id_base>:<n>.
Result<PublishSummary> publish_input(bus::Connection& conn, const core::Catalogue& catalogue,
                                     const InputSpec& in, const std::string& id_base,
                                     size_t lines_per_message, int attempts,
                                     const std::function<bool(std::string&)>& read) {
  auto ct = csv_and_type(catalogue, in);
  if (!ct) return ct.error();
  // Named copies, not a structured binding: the lambda below captures them, which clang 14
  // (the fuzz build) refuses for bindings.
  const bool csv = ct->first;
  const std::string type = ct->second;
  GroupPublisher out(conn, attempts);
  int64_t n = 0;
  // Headers (id, source name, type, format) need room beside the body.
  size_t max_bytes = static_cast<size_t>(std::max<int64_t>(conn.max_payload() - 8192, 4096));
  bus::LineBatcher batcher(csv, lines_per_message, max_bytes,
                           [&](std::string body, size_t records) {
                             bus::BusMessage m;
                             m.id = id_base + ":" + std::to_string(n++);
                             m.source = in.name;
                             m.type = type;
                             m.format = csv ? "csv" : "jsonl";
                             m.body = std::move(body);
                             out.add(std::move(m), records);
                           });
  std::string block;
  while (read(block)) batcher.feed(block);
  batcher.finish();
  if (auto st = out.finish(); !st.ok()) return st.error();
  return out.summary();
}

Result<PublishSummary> publish_file(bus::Connection& conn, const core::Catalogue& catalogue,
                                    const InputSpec& in, size_t lines, int attempts) {
  auto id = pipeline::identify_file(in.name);
  if (!id) return id.error();
  std::FILE* f = std::fopen(in.name.c_str(), "rb");
  if (!f) return Error::io(in.name + ": cannot open");
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> closer(f, &std::fclose);
  // The file's content identity: publishing the same file again gives the same message ids.
  std::string id_base = "file:" + id->key + (in.type.empty() ? "" : ":" + in.type);
  return publish_input(conn, catalogue, in, id_base, lines, attempts, [f](std::string& block) {
    block.resize(size_t{1} << 20);
    size_t got = std::fread(block.data(), 1, block.size(), f);
    block.resize(got);
    return got > 0;
  });
}

pipeline::InputFormat parse_format(const std::string& f) {
  return f == "csv"     ? pipeline::InputFormat::kCsv
         : f == "jsonl" ? pipeline::InputFormat::kJsonl
                        : pipeline::InputFormat::kAuto;
}

struct PublishFlags {
  std::vector<std::string> inputs;
  std::string type;
  std::string format = "auto";
};

void run_publish(const PublishFlags& f, const GlobalOptions& global) {
  RuntimeOptions ro;
  ro.enrichment = false;
  ro.store = false;
  auto rt = open_runtime(global, ro, "cluster publish");
  if (!f.type.empty() && !rt->catalogue->find(f.type)) {
    std::cerr << "vantage cluster publish: unknown report type '" << f.type << "'\n";
    throw CommandFailed(2);
  }
  std::signal(SIGINT, on_cluster_signal);
  std::signal(SIGTERM, on_cluster_signal);
  auto conn = connect_or_fail(global, "publish");
  int failures = 0;
  for (const auto& path : f.inputs) {
    InputSpec in{path, f.type, parse_format(f.format)};
    auto r = publish_file(*conn, *rt->catalogue, in,
                          static_cast<size_t>(global.config.cluster_publish_lines),
                          static_cast<int>(global.config.cluster_connect_attempts));
    if (!r) {
      std::cerr << "vantage cluster publish: " << r.error().message << "\n";
      ++failures;
      continue;
    }
    std::fprintf(stderr,
                 "%s: %lld records in %lld messages published (%lld already in the stream)\n",
                 path.c_str(), static_cast<long long>(r->records),
                 static_cast<long long>(r->messages), static_cast<long long>(r->duplicates));
  }
  if (failures) throw CommandFailed(1);
}

// The ingest role's service: push endpoint + inbox watch, both publishing.
void run_ingest_role(const GlobalOptions& global, const std::string& listen) {
  auto [host, port] =
      parse_listen_address(listen.empty() ? global.config.api_listen : listen, "cluster ingest");
  RuntimeOptions ro;
  ro.enrichment = false;
  ro.store = false;
  auto rt = open_runtime(global, ro, "cluster ingest");
  auto conn = connect_or_fail(global, "ingest");
  std::mutex mu;  // one publisher, one registry connection
  std::atomic<int64_t> accepted{0}, refused{0}, published{0};
  const size_t lines = static_cast<size_t>(global.config.cluster_publish_lines);
  const int attempts = static_cast<int>(global.config.cluster_connect_attempts);
  std::string inbox =
      global.config.inbox_dir.empty() ? global.data_dir + "/inbox" : global.config.inbox_dir;
  fs::create_directories(inbox + "/done");
  fs::create_directories(inbox + "/failed");

  auto push = [&](const http::Request& req) -> http::Response {
    auto key = req.header("x-vantage-key");
    auto mac = req.header("hmac2");
    if (!key || !mac) {
      return http::Response::json(401, R"({"error":"X-Vantage-Key and HMAC2 headers required"})");
    }
    InputSpec in;
    in.name = "push:" + std::string(*key);
    in.format = pipeline::InputFormat::kJsonl;
    for (auto part : split(req.query, '&')) {
      if (part.rfind("type=", 0) == 0) {
        in.type = std::string(part.substr(5));
        if (!rt->catalogue->find(in.type)) {
          return http::Response::json(400, R"({"error":"unknown report type"})");
        }
      } else if (part == "format=csv") {
        in.format = pipeline::InputFormat::kCsv;
      }
    }
    std::lock_guard lock(mu);
    auto creds = rt->registry->key_credentials(*key);
    if (!creds || creds->kind != registry::KeyKind::kIngest) {
      return http::Response::json(401, R"({"error":"unknown, revoked or non-ingest key"})");
    }
    bool ok = false;
    for (const auto& secret : creds->secrets) ok |= api::hmac_matches(secret, req.body, *mac);
    if (!ok) return http::Response::json(401, R"({"error":"bad HMAC2"})");
    // The body's content identity, as the embedded push endpoint uses: a client retry of the
    // same body gives the same message ids (dropped by the stream, or skipped by the store).
    Hash64 h1;
    h1.add(req.body);
    Hash64 h2(0x51ed270b27ab1e5dull);
    h2.add(req.body);
    char id[80];
    std::snprintf(id, sizeof id, "buf:%016llx%016llx", static_cast<unsigned long long>(h1.finish()),
                  static_cast<unsigned long long>(h2.finish()));
    bool sent = false;
    auto r = publish_input(*conn, *rt->catalogue, in, id + (in.type.empty() ? "" : ":" + in.type),
                           lines, attempts, [&](std::string& block) {
                             if (sent) return false;
                             block = req.body;
                             sent = true;
                             return true;
                           });
    if (!r) {
      int status = r.error().code == ErrorCode::kInvalidArgument ? 400 : 503;
      return http::Response::json(status, nlohmann::json({{"error", r.error().message}}).dump());
    }
    published += r->messages;
    // Acknowledged only now: JetStream stored every message of the body.
    return http::Response::json(200, nlohmann::json({{"queued_records", r->records},
                                                     {"messages", r->messages},
                                                     {"duplicate_messages", r->duplicates}})
                                         .dump());
  };

  http::HttpOptions ho;
  ho.bind_address = host;
  ho.port = port;
  ho.threads = static_cast<int>(global.config.api_threads);
  ho.max_body_bytes = 64ull << 20;
  ho.tls_cert_file = global.config.tls_cert;
  ho.tls_key_file = global.config.tls_key;
  http::HttpServer server(ho);
  server.route("POST", "/ingest", [&](const http::Request& r) {
    auto answer = push(r);
    (answer.status == 200 ? accepted : refused).fetch_add(1);
    return answer;
  });
  server.route("GET", "/healthz",
               [](const http::Request&) { return http::Response::text(200, "ok\n"); });
  server.route("GET", "/metrics", [&](const http::Request&) {
    std::string m = cluster_metrics(global);
    m += "# TYPE vantage_ingest_pushes_accepted_total "
         "counter\nvantage_ingest_pushes_accepted_total " +
         std::to_string(accepted.load()) +
         "\n# TYPE vantage_ingest_pushes_refused_total "
         "counter\nvantage_ingest_pushes_refused_total " +
         std::to_string(refused.load()) +
         "\n# TYPE vantage_ingest_messages_published_total counter\n"
         "vantage_ingest_messages_published_total " +
         std::to_string(published.load()) + "\n";
    return http::Response::text(200, m, "text/plain; version=0.0.4");
  });
  if (auto st = server.start(); !st.ok()) {
    std::cerr << "vantage cluster ingest: cannot listen on " << host << ":" << port << ": "
              << st.message() << "\n";
    throw CommandFailed(1);
  }
  std::cout << "listening http://" << host << ":" << server.port() << " inbox=" << inbox
            << " bus=" << conn->connected_url() << std::endl;
  std::signal(SIGINT, on_cluster_signal);
  std::signal(SIGTERM, on_cluster_signal);
  auto interval = std::chrono::milliseconds(global.config.watch_interval_ms);
  while (!g_cluster_stop) {
    std::vector<fs::path> files;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(inbox, ec)) {
      std::string n = e.path().filename().string();
      if (e.is_regular_file() && !n.empty() && n[0] != '.' && !n.ends_with(".tmp") &&
          !n.ends_with(".part")) {
        files.push_back(e.path());
      }
    }
    std::sort(files.begin(), files.end());
    for (const auto& file : files) {
      if (g_cluster_stop) break;
      std::lock_guard lock(mu);
      auto r =
          publish_file(*conn, *rt->catalogue, InputSpec{file.string(), "", {}}, lines, attempts);
      if (!r && r.error().code != ErrorCode::kInvalidArgument && r.error().code != ErrorCode::kIo) {
        spdlog::error("inbox: {}: {} (left in the inbox, tried again)", file.string(),
                      r.error().message);
        continue;
      }
      if (!r) {
        spdlog::error("inbox: {}: {}", file.string(), r.error().message);
        fs::rename(file, fs::path(inbox) / "failed" / file.filename(), ec);
        std::ofstream(fs::path(inbox) / "failed" / (file.filename().string() + ".error"))
            << r.error().message << "\n";
        continue;
      }
      published += r->messages;
      spdlog::info("inbox: {}: {} records in {} messages published", file.filename().string(),
                   r->records, r->messages);
      fs::rename(file, fs::path(inbox) / "done" / file.filename(), ec);
    }
    sleep_unless_stopped(interval);
  }
  server.stop();
  std::cerr << "vantage cluster ingest: stopped cleanly\n";
}

// ---- worker role: bus messages -> pipeline -> store -------------------------------------

struct WorkerCounters {
  int64_t messages = 0, records = 0, accepted = 0, rejected = 0, redeliveries = 0;
  int64_t already_done = 0, set_aside = 0, errors = 0;
  double events_per_s = 0;
};

void write_worker_state(const std::string& path, const WorkerCounters& c,
                        const std::string& started) {
  nlohmann::json j = {{"pid", static_cast<int>(::getpid())},
                      {"started", started},
                      {"updated", format_timestamp(now_seconds())},
                      {"messages", c.messages},
                      {"records", c.records},
                      {"accepted", c.accepted},
                      {"rejected", c.rejected},
                      {"redeliveries", c.redeliveries},
                      {"already_done", c.already_done},
                      {"set_aside", c.set_aside},
                      {"errors", c.errors},
                      {"events_per_s", c.events_per_s}};
  {
    std::ofstream out(path + ".tmp");
    out << j.dump() << "\n";
  }
  std::error_code ec;
  fs::rename(path + ".tmp", path, ec);
}

// A message the pipeline refuses as a whole (an unknown type, say): kept with its headers,
// then acknowledged so that it does not come back forever.
void set_aside(const std::string& dir, const bus::BusMessage& m, const std::string& why) {
  fs::create_directories(dir);
  std::string name = m.id;
  for (char& ch : name) {
    if (!std::isalnum(static_cast<unsigned char>(ch)) && ch != '-' && ch != '.') ch = '_';
  }
  std::string base = dir + "/" + name;
  std::ofstream(base + ".msg", std::ios::binary) << m.body;
  std::ofstream(base + ".error") << "id: " << m.id << "\nsource: " << m.source
                                 << "\ntype: " << m.type << "\nformat: " << m.format
                                 << "\nerror: " << why << "\n";
}

// The worker's event store. A store server that cannot be reached yet (ClickHouse started
// after the workers, or restarting) is waited for: the worker says so with the store's own
// error (it names the URL) and tries again every second, without touching the bus, so nothing
// is fetched or acknowledged meanwhile. A configuration error fails at once. Null when a
// signal stopped the wait.
std::unique_ptr<store::EventStore> open_store_when_reachable(const GlobalOptions& global) {
  int64_t attempts = 0;
  for (;;) {
    auto s = open_store(global);
    if (s) {
      if (attempts > 0) {
        std::cerr << "vantage cluster worker: the event store is reachable after " << attempts
                  << " failed attempts" << std::endl;
      }
      return std::move(*s);
    }
    const bool retryable =
        global.config.store_engine != "sqlite" &&
        (s.error().code == ErrorCode::kUnavailable || s.error().code == ErrorCode::kIo);
    if (!retryable) {
      std::cerr << "vantage cluster worker: " << s.error().message << "\n";
      throw CommandFailed(1);
    }
    ++attempts;
    // Every attempt for the first ten seconds, then every tenth: clear, not a flood.
    if (attempts <= 10 || attempts % 10 == 0) {
      std::cerr << "vantage cluster worker: cannot open the event store (attempt " << attempts
                << "): " << s.error().message << "; retrying in 1 s" << std::endl;
    }
    sleep_unless_stopped(std::chrono::seconds(1));
    if (g_cluster_stop) return nullptr;
  }
}

struct WorkerFlags {
  bool drain = false;  // exit once the consumer has nothing pending or unacknowledged
  bool no_enrich = false;
};

void run_worker_role(const GlobalOptions& global, const WorkerFlags& flags) {
  std::signal(SIGINT, on_cluster_signal);
  std::signal(SIGTERM, on_cluster_signal);
  // The SQLite store has one writer (its caches and spool folding assume it): a second
  // worker on the same data directory waits here as a standby until the first exits or dies
  // (the kernel drops a killed process's lock). ClickHouse takes any number of workers: rows
  // are numbered from their place on the bus (IngestBatch::bus_sequence).
  const std::string state_dir = worker_state_dir(global.data_dir);
  fs::create_directories(state_dir);
  const bool single_writer = global.config.store_engine != "clickhouse";
  int lock_fd = single_writer ? ::open((state_dir + "/worker.lock").c_str(),
                                       O_RDWR | O_CREAT | O_CLOEXEC, 0644)
                              : 0;
  if (single_writer && (lock_fd < 0 || ::flock(lock_fd, LOCK_EX | LOCK_NB) != 0)) {
    std::cerr << "vantage cluster worker: another worker writes the store in " << global.data_dir
              << "; standing by until it stops\n";
    while (lock_fd >= 0 && ::flock(lock_fd, LOCK_EX | LOCK_NB) != 0 && !g_cluster_stop) {
      sleep_unless_stopped(std::chrono::milliseconds(500));
    }
    if (g_cluster_stop || lock_fd < 0) return;
  }
  // lock_fd stays open (the lock held) until the process exits.
  auto store_lock = service::StoreLock::shared(global.data_dir);  // refuses `store migrate`
  if (!store_lock) {
    std::cerr << "vantage cluster worker: " << store_lock.error().message << "\n";
    throw CommandFailed(1);
  }
  RuntimeOptions ro;
  ro.enrichment = !flags.no_enrich;
  ro.store = false;  // opened below, with retries
  auto rt = open_runtime(global, ro, "cluster worker");
  rt->store = open_store_when_reachable(global);
  if (!rt->store) return;  // stopped while the store was unreachable
  if (rt->enricher) rt->enricher->start_watching();
  auto conn = connect_or_fail(global, "worker");
  auto consumer = bus::Consumer::open(*conn);
  if (!consumer) {
    std::cerr << "vantage cluster worker: " << consumer.error().message << "\n";
    throw CommandFailed(1);
  }
  pipeline::Ingestor ingestor(*rt->catalogue, rt->inputs(), *rt->store);
  const std::string state = state_dir + "/worker-" + std::to_string(::getpid()) + ".json";
  const std::string started = format_timestamp(now_seconds());
  std::cout << "worker: consuming " << global.config.cluster_stream << "/"
            << global.config.cluster_consumer << " from " << conn->connected_url() << std::endl;

  WorkerCounters c;
  // After acknowledging, the worker tells the store how far the consumer's acknowledgement
  // floor is (every message up to it stored): read_after hands out rows only up to there.
  // Whichever worker acknowledges last sees the final floor (acks are synchronous).
  auto report_floor = [&] {
    auto stats = bus::bus_stats(*conn);
    Status st = stats ? rt->store->bus_committed(stats->ack_floor) : Status(stats.error());
    if (st.ok()) return true;
    ++c.errors;
    spdlog::warn("worker: acknowledgement floor: {}", st.message());
    return false;
  };
  // Only a store numbered from the bus needs it (SQLite numbers its events itself).
  bool floor_stale = !single_writer;  // acknowledged since the floor was last reported
  auto last_state = std::chrono::steady_clock::now();
  int64_t accepted_at_last_state = 0;
  bool dirty = false;  // ingested since the last settle
  while (!g_cluster_stop) {
    auto now = std::chrono::steady_clock::now();
    if (now - last_state >= std::chrono::seconds(1)) {
      double secs = std::chrono::duration<double>(now - last_state).count();
      c.events_per_s = static_cast<double>(c.accepted - accepted_at_last_state) / secs;
      accepted_at_last_state = c.accepted;
      last_state = now;
      write_worker_state(state, c, started);
      rt->refresh_index();
    }
    auto batch = (*consumer)->fetch(1000);
    if (!batch) {
      ++c.errors;
      spdlog::warn("worker: {}; fetching again in 1 s", batch.error().message);
      sleep_unless_stopped(std::chrono::seconds(1));
      continue;
    }
    if (batch->empty()) {
      if (floor_stale) floor_stale = !report_floor();
      if (dirty) {
        if (auto st = rt->store->settle(); !st.ok()) spdlog::warn("store: {}", st.message());
        dirty = false;
      }
      if (flags.drain) {
        auto stats = bus::bus_stats(*conn);
        if (stats && stats->num_pending == 0 && stats->num_ack_pending == 0) break;
      }
      continue;
    }
    for (auto& d : *batch) {
      if (g_cluster_stop) break;  // not acknowledged: redelivered to a worker after ack_wait
      const bus::BusMessage& m = d.message();
      if (d.num_delivered() > 1) ++c.redeliveries;
      pipeline::IngestOptions opts;
      opts.batch_size = static_cast<size_t>(global.config.batch_size);
      opts.queue_depth = static_cast<size_t>(global.config.queue_depth);
      opts.processing_threads = static_cast<size_t>(global.config.processing_threads);
      opts.stop = &g_cluster_stop;
      // The message id, stable across redelivery: the store's checkpoint and the occurrence
      // ids are those of the first delivery, so a second one adds nothing.
      opts.source_key = "bus:" + m.id;
      opts.bus_sequence = d.stream_sequence();
      opts.format = m.format == "csv" ? pipeline::InputFormat::kCsv : pipeline::InputFormat::kJsonl;
      Result<pipeline::IngestSummary> r = Error::invalid("unknown report type '" + m.type + "'");
      if (m.type.empty() || (opts.type = rt->catalogue->find(m.type))) {
        r = ingestor.ingest_buffer(m.body, m.source.empty() ? m.id : m.source, opts);
      }
      if (!r && r.error().code == ErrorCode::kInvalidArgument) {
        ++c.set_aside;
        spdlog::error("worker: message {} set aside: {}", m.id, r.error().message);
        set_aside(state_dir + "/rejected", m, r.error().message);
      } else if (!r) {
        // The store failed: not acknowledged, so the message comes back (after ack_wait).
        ++c.errors;
        spdlog::error("worker: message {}: {}; not acknowledged", m.id, r.error().message);
        sleep_unless_stopped(std::chrono::seconds(1));
        break;
      } else if (!r->complete) {
        break;  // stopping: the committed part is checkpointed, the rest comes back
      } else {
        dirty = true;
        if (r->already_done) ++c.already_done;
        c.records += r->records;
        c.accepted += r->accepted;
        c.rejected += r->rejected;
      }
      if (auto st = d.ack(); !st.ok()) {
        ++c.errors;  // redelivered later, then skipped as already stored
        spdlog::warn("worker: {}", st.message());
        continue;
      }
      ++c.messages;
      floor_stale = !single_writer;
    }
    if (floor_stale && !g_cluster_stop) floor_stale = !report_floor();
  }
  if (dirty) {
    if (auto st = rt->store->settle(); !st.ok()) spdlog::warn("store: {}", st.message());
  }
  std::error_code ec;
  fs::remove(state, ec);
  std::fprintf(stderr,
               "vantage cluster worker: %lld messages, %lld records (%lld accepted, %lld "
               "rejected), %lld redeliveries (%lld already stored), %lld set aside, %lld errors\n",
               static_cast<long long>(c.messages), static_cast<long long>(c.records),
               static_cast<long long>(c.accepted), static_cast<long long>(c.rejected),
               static_cast<long long>(c.redeliveries), static_cast<long long>(c.already_done),
               static_cast<long long>(c.set_aside), static_cast<long long>(c.errors));
}

// ---- reporter and api roles: the embedded service without its own ingest ---------------

void run_shared_store_role(const GlobalOptions& global, const std::string& role,
                           const std::string& listen) {
  ServiceHooks hooks;
  hooks.command = "cluster " + role;
  hooks.listen = listen;
  hooks.local_ingest = false;  // the workers write the store
  hooks.day_close = role == "reporter";
  hooks.extra_metrics = [&global] { return cluster_metrics(global); };
  run_service(global, hooks);
}

struct RunFlags {
  std::string role;
  std::string listen;
  WorkerFlags worker;
};

void run_role(const RunFlags& f, const GlobalOptions& global) {
  std::string role = f.role.empty() ? global.config.cluster_role : f.role;
  g_cluster_stop.store(false);
  if (role == "ingest") {
    run_ingest_role(global, f.listen);
  } else if (role == "worker") {
    run_worker_role(global, f.worker);
  } else if (role == "reporter" || role == "api") {
    run_shared_store_role(global, role, f.listen);
  } else {
    std::cerr << "vantage cluster run: "
              << (role.empty() ? "no role: give --role or set cluster.role"
                               : "unknown role '" + role + "'")
              << " (ingest, worker, reporter or api)\n";
    throw CommandFailed(2);
  }
}

}  // namespace

void add_cluster_command(CLI::App& app, GlobalOptions& global) {
  auto* cluster = app.add_subcommand(
      "cluster", "Cluster mode: roles over NATS JetStream and a shared store (docs/cluster.md)");
  cluster->require_subcommand(1);

  auto run = std::make_shared<RunFlags>();
  auto* r = cluster->add_subcommand("run", "Run one role: ingest, worker, reporter or api");
  r->add_option("--role", run->role, "ingest|worker|reporter|api (default: cluster.role)");
  r->add_option("--listen", run->listen,
                "HOST:PORT of the role's HTTP server (default: api.listen)");
  r->add_flag("--drain", run->worker.drain,
              "worker: exit once the consumer has nothing pending or unacknowledged");
  r->add_flag("--no-enrich", run->worker.no_enrich,
              "worker: do not enrich (keep the input's values), as `vantage ingest --no-enrich`");
  r->callback([run, &global] { run_role(*run, global); });

  auto pub = std::make_shared<PublishFlags>();
  auto* p = cluster->add_subcommand("publish",
                                    "Publish input files to the bus (the ingest role's "
                                    "inbox path, once)");
  p->add_option("inputs", pub->inputs, "Files (Shadowserver CSV or JSON Lines)")->required();
  p->add_option("--type", pub->type, "Report type of every input (default: from the file name)");
  p->add_option("--format", pub->format, "auto (by file name), csv or jsonl")
      ->check(CLI::IsMember({"auto", "csv", "jsonl"}));
  p->callback([pub, &global] { run_publish(*pub, global); });

  auto* s =
      cluster->add_subcommand("status", "The bus (lag, ack pending, redeliveries) and workers");
  s->callback([&global] { std::cout << cluster_status_text(global); });
}

}  // namespace vantage::cli

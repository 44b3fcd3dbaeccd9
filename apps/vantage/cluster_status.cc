#include "cluster_status.h"

#include <signal.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "service/runtime.h"
#include "store/clickhouse/shard_status.h"

namespace vantage::cli {

namespace fs = std::filesystem;

bus::BusOptions bus_options(const config::Config& c) {
  bus::BusOptions o;
  o.urls = c.cluster_nats_urls;
  o.stream = c.cluster_stream;
  o.subject_prefix = c.cluster_subject_prefix;
  o.consumer = c.cluster_consumer;
  o.replicas = static_cast<int>(c.cluster_replicas);
  o.duplicate_window_s = c.cluster_duplicate_window_s;
  o.ack_wait_s = c.cluster_ack_wait_s;
  o.ordered = c.cluster_ordered;
  o.fetch_batch = static_cast<int>(c.cluster_fetch_batch);
  o.connect_attempts = static_cast<int>(c.cluster_connect_attempts);
  return o;
}

std::string worker_state_dir(const std::string& data_dir) {
  return data_dir + "/cluster";
}

WorkerTotals worker_totals(const std::string& data_dir) {
  WorkerTotals t;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(worker_state_dir(data_dir), ec)) {
    std::string n = e.path().filename().string();
    if (!n.starts_with("worker-") || !n.ends_with(".json")) continue;
    std::ifstream in(e.path());
    auto j = nlohmann::json::parse(in, nullptr, false);
    if (!j.is_object() || !j.contains("pid")) continue;
    if (::kill(j["pid"].get<int>(), 0) != 0) continue;  // a worker killed without cleaning up
    ++t.workers;
    t.messages += j.value("messages", int64_t{0});
    t.records += j.value("records", int64_t{0});
    t.accepted += j.value("accepted", int64_t{0});
    t.rejected += j.value("rejected", int64_t{0});
    t.redeliveries += j.value("redeliveries", int64_t{0});
    t.already_done += j.value("already_done", int64_t{0});
    t.set_aside += j.value("set_aside", int64_t{0});
    t.errors += j.value("errors", int64_t{0});
    t.events_per_s += j.value("events_per_s", 0.0);
  }
  return t;
}

namespace {

// One short connection attempt: status and metrics must answer quickly when NATS is down.
Result<bus::BusStats> read_bus(const GlobalOptions& global) {
  auto o = bus_options(global.config);
  o.connect_attempts = 1;
  o.request_timeout_ms = 2000;
  auto conn = bus::Connection::open(o);
  if (!conn) return conn.error();
  return bus::bus_stats(**conn);
}

// The ClickHouse shards' row counts, when the store is the cluster store (empty otherwise).
std::vector<store::ShardRows> shard_rows(const GlobalOptions& global) {
  auto settings = service::store_settings(global);
  if (settings.engine != "clickhouse") return {};
  return store::clickhouse_shard_rows(settings.clickhouse);
}

}  // namespace

std::string cluster_metrics(const GlobalOptions& global) {
  std::string out;
  auto gauge = [&](const char* name, const char* help, const std::string& v,
                   const char* type = "gauge") {
    out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n" +
           name + " " + v + "\n";
  };
  auto bus = read_bus(global);
  gauge("vantage_bus_up", "1 when the NATS JetStream bus answered this scrape.", bus ? "1" : "0");
  if (bus) {
    gauge("vantage_bus_stream_messages", "Messages stored in the stream.",
          std::to_string(bus->stream_messages));
    gauge("vantage_bus_consumer_pending", "Consumer lag: messages not yet delivered to a worker.",
          std::to_string(bus->num_pending));
    gauge("vantage_bus_consumer_ack_pending", "Messages delivered, not yet acknowledged.",
          std::to_string(bus->num_ack_pending));
    gauge("vantage_bus_consumer_redelivered", "Messages redelivered and not yet acknowledged.",
          std::to_string(bus->num_redelivered));
  }
  auto w = worker_totals(global.data_dir);
  gauge("vantage_cluster_workers", "Live workers of this data directory.",
        std::to_string(w.workers));
  gauge("vantage_cluster_worker_messages_total", "Bus messages ingested and acknowledged.",
        std::to_string(w.messages), "counter");
  gauge("vantage_cluster_worker_redeliveries_total", "Messages a worker received more than once.",
        std::to_string(w.redeliveries), "counter");
  gauge("vantage_cluster_worker_errors_total",
        "Store or bus errors in workers (the message is delivered again).",
        std::to_string(w.errors), "counter");
  gauge("vantage_cluster_worker_set_aside_total",
        "Messages that could not be ingested, kept in <data_dir>/cluster/rejected/.",
        std::to_string(w.set_aside), "counter");
  char rate[64];
  std::snprintf(rate, sizeof rate, "%.1f", w.events_per_s);
  gauge("vantage_cluster_inserts_per_second", "Events accepted per second by all workers.", rate);
  auto shards = shard_rows(global);
  if (!shards.empty()) {
    auto labelled = [&](const char* name, const char* help, auto value) {
      out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " gauge\n";
      for (const auto& s : shards) {
        out += std::string(name) + "{shard=\"" + s.url + "\"} " + std::to_string(value(s)) + "\n";
      }
    };
    labelled("vantage_store_shard_up", "1 when the ClickHouse shard answered this scrape.",
             [](const store::ShardRows& s) { return s.up ? 1 : 0; });
    labelled("vantage_store_shard_occurrence_rows",
             "Occurrence rows in the shard's active parts (repeats not yet merged included).",
             [](const store::ShardRows& s) { return s.occurrence_rows; });
    labelled("vantage_store_shard_route_rows", "Report spool rows in the shard's active parts.",
             [](const store::ShardRows& s) { return s.route_rows; });
    labelled("vantage_store_shard_bytes_on_disk", "Bytes on disk of the shard's sharded tables.",
             [](const store::ShardRows& s) { return s.bytes_on_disk; });
  }
  return out;
}

std::string store_shards_text(const GlobalOptions& global) {
  std::string out;
  char line[512];
  for (const auto& s : shard_rows(global)) {
    if (!s.up) {
      out += "  shard " + s.url + ": DOWN: " + s.error + "\n";
      continue;
    }
    std::snprintf(line, sizeof line, "  shard %s: %lld occurrence rows, %lld route rows, %.1f MB\n",
                  s.url.c_str(), static_cast<long long>(s.occurrence_rows),
                  static_cast<long long>(s.route_rows), s.bytes_on_disk / 1e6);
    out += line;
  }
  return out;
}

std::string cluster_status_text(const GlobalOptions& global) {
  std::string out = "\ncluster (NATS " + global.config.cluster_nats_urls + ", stream " +
                    global.config.cluster_stream + ", consumer " + global.config.cluster_consumer +
                    "):\n";
  auto bus = read_bus(global);
  if (!bus) {
    out += "  bus: " + bus.error().message + "\n";
  } else {
    out += "  stream: " + std::to_string(bus->stream_messages) + " messages, " +
           std::to_string(bus->stream_bytes) + " bytes, R" + std::to_string(bus->stream_replicas) +
           (bus->stream_leader.empty() ? "" : ", leader " + bus->stream_leader) + "\n";
    out += "  consumer: lag " + std::to_string(bus->num_pending) + " messages, ack pending " +
           std::to_string(bus->num_ack_pending) + ", redelivered " +
           std::to_string(bus->num_redelivered) + ", acknowledged up to stream sequence " +
           std::to_string(bus->ack_floor) + "\n";
  }
  auto w = worker_totals(global.data_dir);
  char line[512];
  std::snprintf(line, sizeof line,
                "  workers here: %d live; %lld messages, %lld records (%lld accepted, %lld "
                "rejected), %lld redeliveries (%lld already stored), %lld set aside, %lld "
                "errors, %.0f events/s\n",
                w.workers, static_cast<long long>(w.messages), static_cast<long long>(w.records),
                static_cast<long long>(w.accepted), static_cast<long long>(w.rejected),
                static_cast<long long>(w.redeliveries), static_cast<long long>(w.already_done),
                static_cast<long long>(w.set_aside), static_cast<long long>(w.errors),
                w.events_per_s);
  out += line;
  out += store_shards_text(global);
  return out;
}

}  // namespace vantage::cli

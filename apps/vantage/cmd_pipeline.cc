// `vantage ingest` (files and stdin into the store) and `vantage generate` (synthetic events
// and organisations for benchmarks and demos).

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <filesystem>
#include <iostream>

#include "commands.h"
#include "common/strings.h"
#include "core/csv_writer.h"
#include "pipeline/generator.h"
#include "pipeline/ingest.h"
#include "service/runtime.h"
#include "service/synthetic_feed.h"

namespace vantage::cli {

using service::append_jsonl;
using service::open_runtime;
using service::RuntimeOptions;

namespace {

std::atomic<bool> g_stop{false};
void on_signal(int) {
  g_stop.store(true);
}

struct IngestFlags {
  std::vector<std::string> inputs;
  std::string type;
  std::string format = "auto";
  bool quiet = false;
  bool re_enrich = false;
  bool no_enrich = false;
  bool parse_only = false;
};

void run_ingest(const IngestFlags& f, const GlobalOptions& global) {
  RuntimeOptions ro;
  ro.enrichment = !f.no_enrich;
  auto rt = open_runtime(global, ro, "ingest");
  pipeline::IngestOptions opts;
  if (!f.type.empty()) {
    opts.type = rt->catalogue->find(f.type);
    if (!opts.type) {
      std::cerr << "vantage ingest: unknown report type '" << f.type
                << "' (see `vantage schema list`)\n";
      throw CommandFailed(2);
    }
  }
  opts.format = f.format == "csv"     ? pipeline::InputFormat::kCsv
                : f.format == "jsonl" ? pipeline::InputFormat::kJsonl
                                      : pipeline::InputFormat::kAuto;
  opts.batch_size = static_cast<size_t>(global.config.batch_size);
  opts.queue_depth = static_cast<size_t>(global.config.queue_depth);
  opts.processing_threads = static_cast<size_t>(global.config.processing_threads);
  opts.progress = !f.quiet;
  opts.parse_only = f.parse_only;
  opts.stop = &g_stop;
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);

  pipeline::Ingestor ingestor(*rt->catalogue, rt->inputs(f.re_enrich), *rt->store);
  int failures = 0;
  for (const auto& input : f.inputs) {
    Result<pipeline::IngestSummary> r = input == "-" ? ingestor.ingest_stream(stdin, "stdin", opts)
                                                     : ingestor.ingest_file(input, opts);
    if (!r) {
      std::cerr << "vantage ingest: " << r.error().message << "\n";
      ++failures;
      continue;
    }
    const auto& s = *r;
    if (s.already_done) {
      std::cerr << input << ": already ingested (same content); nothing to do\n";
      continue;
    }
    if (!f.quiet || !s.complete) {
      std::fprintf(stderr,
                   "%s: %s%lld records, %lld accepted, %lld rejected (quarantined), %lld "
                   "allow-listed, %lld new, %lld duplicates, %lld routed, %.2fs (%.0f ev/s)\n",
                   input.c_str(), s.resumed_from ? "resumed; " : "",
                   static_cast<long long>(s.records), static_cast<long long>(s.accepted),
                   static_cast<long long>(s.rejected), static_cast<long long>(s.allowlisted),
                   static_cast<long long>(s.inserted), static_cast<long long>(s.deduplicated),
                   static_cast<long long>(s.routed), s.seconds,
                   s.seconds > 0 ? static_cast<double>(s.accepted) / s.seconds : 0.0);
    }
    if (!s.complete) {
      std::cerr << input << ": interrupted; run the same command again to resume\n";
      throw CommandFailed(130);
    }
  }
  if (failures) throw CommandFailed(1);
}

struct GenerateFlags {
  int64_t events = 100000;
  uint64_t seed = 1;
  int days = 1;
  std::string date;
  std::string type;
  std::string output = "-";
  int64_t bad_every = 0;
  int64_t orgs = 0;
  bool registry_only = false;
  bool one_holder_per_asn = false;
};

void run_generate(const GenerateFlags& f, const GlobalOptions& global) {
  RuntimeOptions ro;
  ro.store = false;
  auto rt = open_runtime(global, ro, "generate");
  const enrich::AsnTable* table = rt->enricher ? rt->enricher->snapshot()->asn() : nullptr;
  auto segments = pipeline::routed_segments(table);

  if (f.orgs > 0) {
    auto snap = pipeline::synthetic_registry(segments, static_cast<size_t>(f.orgs), f.seed,
                                             f.one_holder_per_asn);
    auto report = rt->registry->import(snap, {});
    if (!report) {
      std::cerr << "vantage generate: registry import: " << report.error().message << "\n";
      throw CommandFailed(1);
    }
    std::cerr << "generate: " << report->orgs_added << " synthetic organisations added, "
              << report->orgs_updated << " updated\n";
  }
  if (f.registry_only) return;

  pipeline::FeedOptions fo;
  fo.seed = f.seed;
  fo.days = f.days;
  fo.first_day = today() - f.days;
  if (!f.date.empty()) {
    auto d = parse_date(f.date);
    if (!d) {
      std::cerr << "vantage generate: --date: " << d.error().message << "\n";
      throw CommandFailed(2);
    }
    fo.first_day = *d;
  }
  if (!f.type.empty()) {
    fo.only_type = rt->catalogue->find(f.type);
    if (!fo.only_type) {
      std::cerr << "vantage generate: unknown report type '" << f.type << "'\n";
      throw CommandFailed(2);
    }
  }
  bool jsonl =
      f.output == "-" || pipeline::format_for_name(f.output) == pipeline::InputFormat::kJsonl;
  if (!jsonl && !fo.only_type) {
    std::cerr
        << "vantage generate: CSV output holds one report type; give --type or write .jsonl\n";
    throw CommandFailed(2);
  }
  std::FILE* out = f.output == "-" ? stdout : std::fopen((f.output + ".tmp").c_str(), "wb");
  if (!out) {
    std::cerr << "vantage generate: cannot write " << f.output << "\n";
    throw CommandFailed(1);
  }
  pipeline::SyntheticFeed feed(*rt->catalogue, segments, fo);
  core::Event event;
  std::string buf, scratch;
  if (!jsonl) core::append_csv_header(*fo.only_type, buf);
  for (int64_t i = 1; i <= f.events; ++i) {
    if (f.bad_every > 0 && i % f.bad_every == 0) {
      // Deliberately malformed records, to exercise quarantine.
      buf += jsonl ? "{\"type\":\"scan_http\",\"ip\":\"not-an-address\"}\n"
                   : "\"2024-01-01 00:00:00\",\"broken row\n\"\n";
      continue;
    }
    feed.next(event);
    if (jsonl) {
      append_jsonl(event, buf, scratch);
    } else {
      core::append_csv_record(event, buf);
    }
    if (buf.size() > (1 << 20)) {
      std::fwrite(buf.data(), 1, buf.size(), out);
      buf.clear();
    }
  }
  std::fwrite(buf.data(), 1, buf.size(), out);
  if (out != stdout) {
    bool ok = std::fflush(out) == 0 && fsync(fileno(out)) == 0;
    ok &= std::fclose(out) == 0;
    std::error_code ec;
    if (ok) std::filesystem::rename(f.output + ".tmp", f.output, ec);
    if (!ok || ec) {
      std::cerr << "vantage generate: cannot write " << f.output << "\n";
      throw CommandFailed(1);
    }
    std::cerr << "generate: " << f.events << " synthetic events written to " << f.output << "\n";
  }
}

}  // namespace

void add_pipeline_commands(CLI::App& app, GlobalOptions& global) {
  auto in = std::make_shared<IngestFlags>();
  auto* ingest = app.add_subcommand(
      "ingest", "Ingest report files (Shadowserver CSV of any type, or JSON Lines); - is stdin");
  ingest->add_option("inputs", in->inputs, "Files to ingest ('-' for standard input)")->required();
  ingest->add_option("--type", in->type,
                     "Report type (default: from the file name, or each JSON record's \"type\")");
  ingest->add_option("--format", in->format, "auto (by file name), csv or jsonl")
      ->check(CLI::IsMember({"auto", "csv", "jsonl"}));
  ingest->add_flag("-q,--quiet", in->quiet, "No progress bar or summary");
  ingest->add_flag("--re-enrich", in->re_enrich,
                   "Replace asn/geo/sector values already present in the input");
  ingest->add_flag("--no-enrich", in->no_enrich, "Do not enrich (keep the input's values)");
  ingest->add_flag("--parse-only", in->parse_only,
                   "Benchmark: decode and validate only; store nothing");
  ingest->callback([in, &global] { run_ingest(*in, global); });

  auto g = std::make_shared<GenerateFlags>();
  auto* gen = app.add_subcommand(
      "generate", "Write SYNTHETIC events (and organisations) for benchmarks and demos");
  gen->add_option("-n,--events", g->events, "Number of events")->capture_default_str();
  gen->add_option("--seed", g->seed, "Random seed (output is deterministic per seed)")
      ->capture_default_str();
  gen->add_option("--days", g->days, "Spread events over this many days")->capture_default_str();
  gen->add_option("--date", g->date, "First day (YYYY-MM-DD; default: --days ago)");
  gen->add_option("--type", g->type, "Only this report type (required for CSV output)");
  gen->add_option("-o,--output", g->output, "Output file (.csv or .jsonl); - for stdout (JSONL)")
      ->capture_default_str();
  gen->add_option("--bad-every", g->bad_every, "Make every Nth record malformed (0: none)");
  gen->add_option("--orgs", g->orgs, "Also add N synthetic organisations to the registry");
  gen->add_flag("--registry-only", g->registry_only, "Only add the organisations");
  gen->add_flag("--one-holder-per-asn", g->one_holder_per_asn,
                "Each ASN is claimed by one synthetic organisation at most (default: drawn per "
                "routed segment, so large ASes are claimed many times)");
  gen->callback([g, &global] { run_generate(*g, global); });
}

}  // namespace vantage::cli

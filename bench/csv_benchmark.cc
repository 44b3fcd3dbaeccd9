// Report CSV throughput: rows/s and bytes/s for writing (Event -> CSV) and reading
// (CSV -> Event) from memory and from a file in chunks, on three report shapes: a narrow
// one (blocklist, 13 columns), the common scan shape (scan_http, 26) and a wide event
// type (event4_sinkhole, 33). Rows come from the golden-file generator, so the values are
// realistic: quoted strings with commas and doubled quotes, UTF-8, IPv4/IPv6, nulls.

#include <benchmark/benchmark.h>

#include <cstdio>
#include <string>
#include <vector>

#include "core/catalogue.h"
#include "core/csv_reader.h"
#include "core/csv_writer.h"
#include "core/event.h"
#include "core/golden_generator.h"

namespace vantage::core {
namespace {

constexpr int kRows = 20000;
const char* const kTypes[] = {"blocklist", "scan_http", "event4_sinkhole"};

const ReportType& bench_type(const benchmark::State& state) {
  return *Catalogue::builtin().find(kTypes[state.range(0)]);
}

std::vector<Event> make_events(const ReportType& type) {
  std::vector<Event> base = testing::golden_events(type);
  std::vector<Event> rows;
  rows.reserve(kRows);
  for (int i = 0; i < kRows; ++i) {
    Event e = base[static_cast<size_t>(i) % base.size()];
    e.set_timestamp(1772323200 + i);
    rows.push_back(std::move(e));
  }
  return rows;
}

std::string make_csv(const ReportType& type) {
  std::string out;
  CsvWriter w(type, string_sink(&out));
  for (const Event& e : make_events(type)) (void)w.write(e);
  (void)w.finish();
  return out;
}

void BM_CsvWrite(benchmark::State& state) {
  const ReportType& type = bench_type(state);
  const std::vector<Event> rows = make_events(type);
  std::string out;
  int64_t bytes = 0;
  for (auto _ : state) {
    out.clear();
    CsvWriter w(type, string_sink(&out));
    for (const Event& e : rows) {
      if (!w.write(e).ok()) state.SkipWithError("write failed");
    }
    (void)w.finish();
    bytes += static_cast<int64_t>(out.size());
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations() * kRows);
  state.SetBytesProcessed(bytes);
  state.SetLabel(type.name);
}

void BM_CsvReadBuffer(benchmark::State& state) {
  const ReportType& type = bench_type(state);
  const std::string text = make_csv(type);
  Event e;
  for (auto _ : state) {
    CsvReader reader = CsvReader::from_buffer(text, type);
    int64_t rows = 0;
    for (;;) {
      auto r = reader.next(e);
      if (r == CsvReader::Next::kEnd) break;
      if (r == CsvReader::Next::kError) state.SkipWithError("unexpected error");
      ++rows;
    }
    if (rows != kRows) state.SkipWithError("wrong row count");
    benchmark::DoNotOptimize(e);
  }
  state.SetItemsProcessed(state.iterations() * kRows);
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(text.size()));
  state.SetLabel(type.name);
}

void BM_CsvReadFile(benchmark::State& state) {
  const ReportType& type = bench_type(state);
  const std::string text = make_csv(type);
  std::FILE* f = std::tmpfile();
  if (!f || std::fwrite(text.data(), 1, text.size(), f) != text.size()) {
    state.SkipWithError("tmpfile failed");
    return;
  }
  Event e;
  for (auto _ : state) {
    std::rewind(f);
    CsvReader reader = CsvReader::from_file(f, type);
    int64_t rows = 0;
    while (reader.next(e) == CsvReader::Next::kRow) ++rows;
    if (rows != kRows) state.SkipWithError("wrong row count");
  }
  std::fclose(f);
  state.SetItemsProcessed(state.iterations() * kRows);
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(text.size()));
  state.SetLabel(type.name);
}

// The enrichment path: set the common fields of a reused Event (no allocation once warm).
void BM_EventEnrichSetters(benchmark::State& state) {
  const ReportType& type = bench_type(state);
  Event e(&type);
  uint32_t i = 0;
  for (auto _ : state) {
    e.set_asn(64496 + (i & 15));
    e.set_geo(i & 1 ? "NL" : "DE");
    e.set_region(i & 1 ? "NOORD-HOLLAND" : "BERLIN");
    e.set_city(i & 1 ? "AMSTERDAM" : "BERLIN");
    e.set_naics(517311);
    e.set_sector("Communications, Service Provider, and Hosting Service");
    benchmark::DoNotOptimize(e.asn());
    ++i;
  }
  state.SetItemsProcessed(state.iterations());
  state.SetLabel(type.name);
}

BENCHMARK(BM_CsvWrite)->DenseRange(0, 2)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_CsvReadBuffer)->DenseRange(0, 2)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_CsvReadFile)->DenseRange(0, 2)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_EventEnrichSetters)->DenseRange(0, 2);

}  // namespace
}  // namespace vantage::core

BENCHMARK_MAIN();

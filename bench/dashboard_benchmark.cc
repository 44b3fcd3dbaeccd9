// Dashboard statistics API latency at a year of data (issue #8: < 50 ms per call).
//
// Builds (once, cached in $VANTAGE_DASH_BENCH_DIR, default /tmp/vantage-dash-bench) an event
// store holding 365 days of events with a realistic spread: 40 report types, 60 countries
// with 5 regions each, 30 tags, 8,000 distinct events a day (2.9 million in all), written
// through the store's normal batch path so every rollup is maintained as in production.
// Then times the calls the dashboard's pages make, end to end through DashboardService
// (parameter parsing, rollup query, threshold, JSON) -- everything but the socket.
//
//   build/release/bench/dashboard_benchmark            (the figure: real_time per call, ms)
//
// VANTAGE_DASH_BENCH_ENGINE=segment measures the segment store instead of SQLite (its data
// goes to a directory of its own beside the SQLite one: the two are compared on equal data).

#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>

#include "web/dashboard_service.h"

namespace vantage::web {
namespace {

constexpr DayNumber kDays = 365;
constexpr int kEventsPerDay = 8000;
constexpr DayNumber kLastDay = 20600;  // 2026-05-26
constexpr DayNumber kFirstDay = kLastDay - kDays + 1;

bool segment_engine() {
  const char* env = std::getenv("VANTAGE_DASH_BENCH_ENGINE");
  if (!env || !*env || std::string(env) == "sqlite") return false;
  if (std::string(env) == "segment") return true;
  std::fprintf(stderr, "VANTAGE_DASH_BENCH_ENGINE: expected sqlite or segment, got %s\n", env);
  std::exit(2);
}

std::string bench_dir() {
  const char* env = std::getenv("VANTAGE_DASH_BENCH_DIR");
  std::string dir = env && *env ? env : "/tmp/vantage-dash-bench";
  return segment_engine() ? dir + "-segment" : dir;
}

Result<std::unique_ptr<store::EventStore>> open_store() {
  if (segment_engine()) return store::open_segment_store(bench_dir() + "/events.segment");
  return store::open_sqlite_store(bench_dir() + "/events.sqlite");
}

void build_store_once() {
  std::string dir = bench_dir();
  if (std::filesystem::exists(dir + "/complete")) return;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  auto store = open_store();
  if (!store) std::abort();
  const auto& types = core::Catalogue::builtin().types();
  std::mt19937_64 rng(42);
  uint64_t key = 0;
  for (DayNumber day = kFirstDay; day <= kLastDay; ++day) {
    store::IngestBatch batch;
    for (int i = 0; i < kEventsPerDay; ++i) {
      store::EventRecord e;
      e.day = day;
      // Skewed like real feeds: a few types and countries carry most events.
      size_t t = std::min<size_t>(rng() % 40, rng() % 40);
      e.type = types[t * 3 % types.size()]->name;
      e.event_key = ++key;
      e.timestamp = static_cast<UnixSeconds>(day) * 86400 + static_cast<int64_t>(i);
      e.ip = "192.0.2.1";
      e.asn = 64500 + static_cast<uint32_t>(rng() % 500);
      int g = static_cast<int>(std::min(rng() % 60, rng() % 60));
      e.geo = std::string{static_cast<char>('A' + g / 26), static_cast<char>('A' + g % 26)};
      e.region = "Region " + std::to_string(rng() % 5);
      e.severity = static_cast<uint8_t>(t % 5);
      e.tag = rng() % 3 == 0 ? "" : "tag" + std::to_string(rng() % 30);
      e.row = "x";
      batch.events.push_back(std::move(e));
    }
    if (!(*store)->write(batch)) std::abort();
  }
  // Fold what the writes left (what a pipeline's end of input does): the calls below time
  // the readers, not a first reader's fold.
  if (!(*store)->settle()) std::abort();
  std::FILE* f = std::fopen((dir + "/complete").c_str(), "w");
  if (f) std::fclose(f);
}

DashboardService& service() {
  static DashboardService* s = [] {
    build_store_once();
    auto store = open_store();
    if (!store) std::abort();
    DashboardOptions o;
    o.min_count = 10;
    return new DashboardService(
        o, std::move(*store), std::make_shared<api::MemoryKeyStore>(),
        std::shared_ptr<const core::Catalogue>(&core::Catalogue::builtin(), [](const auto*) {}),
        nullptr, [] { return kLastDay; });
  }();
  return *s;
}

void call(benchmark::State& state, const std::string& query) {
  auto& s = service();
  http::Request r;
  r.method = "GET";
  r.path = "/dash/api/stats";
  r.query = query + "&from=" + format_date(kFirstDay) + "&to=" + format_date(kLastDay);
  size_t rows = 0;
  for (auto _ : state) {
    auto resp = s.stats(r);
    if (resp.status != 200) state.SkipWithError(resp.body.c_str());
    rows = resp.body.size();
    benchmark::DoNotOptimize(resp);
  }
  state.counters["response_bytes"] = static_cast<double>(rows);
}

#define DASH_BENCH(name, query)        \
  void name(benchmark::State& state) { \
    call(state, query);                \
  }                                    \
  BENCHMARK(name)->Unit(benchmark::kMillisecond)->UseRealTime()

DASH_BENCH(BM_Year_TotalsPerDay, "group=day");
DASH_BENCH(BM_Year_PerDayPerType, "group=day,type");
DASH_BENCH(BM_Year_TopTypes, "group=type");
DASH_BENCH(BM_Year_SeveritySplit, "group=severity");
DASH_BENCH(BM_Year_Map, "group=geo");
DASH_BENCH(BM_Year_MapOneType, "group=geo&type=" + core::Catalogue::builtin().types()[3]->name);
DASH_BENCH(BM_Year_MapOneTag, "group=geo&tag=tag7");
DASH_BENCH(BM_Year_CountrySeries, "group=day&geo=AA");
DASH_BENCH(BM_Year_CountryRegions, "group=region&geo=AA");
DASH_BENCH(BM_Year_TopTags, "group=tag");
DASH_BENCH(BM_Year_PerDayPerTag, "group=day,tag");

void BM_Meta_Uncached(benchmark::State& state) {
  // meta is cached for 5 s; a fresh service per iteration measures the computation.
  service();
  for (auto _ : state) {
    auto store = open_store();
    if (!store) std::abort();
    DashboardService s(
        {}, std::move(*store), std::make_shared<api::MemoryKeyStore>(),
        std::shared_ptr<const core::Catalogue>(&core::Catalogue::builtin(), [](const auto*) {}),
        nullptr, [] { return kLastDay; });
    auto resp = s.meta(http::Request{});
    benchmark::DoNotOptimize(resp);
  }
}
BENCHMARK(BM_Meta_Uncached)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace vantage::web
BENCHMARK_MAIN();

// The embedded store's writer, alone: what one event costs the pipeline's single writer thread
// (issue #5), without parsing, enrichment or routing in front of it. Two phases, as the writer
// runs them:
//
//   BM_StoreWrite/R   batch transactions (event upserts with their routes, the checkpoint):
//                     262,144 occurrences in batches of 32,768, 16% of them repeats
//   BM_StoreFold/R    the fold of those events: spool runs, stats, stats_tags, org_stats and
//                     the dashboard rollups (SqliteStore's settle)
//
//   BM_SegmentWrite/R, BM_SegmentFold/R   the same two phases on the segment store
//                     (store.engine = "segment", docs/store.md)
//
// R is the number of organisations each event reaches (0, 3 or 11; the pipeline bench's
// registry gives 11.4, or 3.5 with --one-holder-per-asn): the same R of 100,000 for every event
// of an ASN. The events mimic `vantage generate`'s: 3 days, the catalogue's types, 20,000 ASNs
// (skewed), 60 countries with 5 regions, 30 tags, a 150-byte row. Each iteration writes into a
// fresh store in a temporary directory (on the same disk as $TMPDIR: fsyncs count).
//
//   build/release/bench/store_benchmark     (the figure: items_per_second, events/s)

#include <benchmark/benchmark.h>

#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <unordered_set>
#include <vector>

#include "core/catalogue.h"
#include "store/sqlite/spool.h"
#include "store/sqlite/sqlite_db.h"
#include "store/store.h"

namespace vantage::store {
namespace {

constexpr size_t kOccurrences = 262144;
constexpr size_t kBatch = 32768;  // what the pipeline's group commit writes at once, or less
constexpr DayNumber kFirstDay = 20600;

std::vector<IngestBatch> make_batches(int routes_per_event) {
  const auto& types = core::Catalogue::builtin().types();
  std::mt19937_64 rng(5);
  std::vector<IngestBatch> batches;
  std::vector<uint64_t> keys;
  for (size_t i = 0; i < kOccurrences; ++i) {
    if (i % kBatch == 0) batches.emplace_back();
    EventRecord e;
    // One in six occurrences repeats an earlier event (the pipeline bench's input has 16%).
    bool repeat = !keys.empty() && rng() % 6 == 0;
    uint64_t key = repeat ? keys[rng() % keys.size()] : rng();
    if (!repeat) keys.push_back(key);
    std::mt19937_64 event_rng(key);  // a repeat has the same fields as its first occurrence
    e.day = kFirstDay + static_cast<DayNumber>(event_rng() % 3);
    size_t t = std::min<size_t>(event_rng() % 40, event_rng() % 40);
    e.type = types[t * 3 % types.size()]->name;
    e.event_key = key;
    e.timestamp = static_cast<UnixSeconds>(e.day) * 86400 + static_cast<int64_t>(i % 86400);
    e.ip = "198.51.100." + std::to_string(event_rng() % 256);
    // Skewed like real feeds: large networks carry most events.
    e.asn = 1 + static_cast<uint32_t>(std::min(event_rng() % 20000, event_rng() % 20000));
    int g = static_cast<int>(std::min(event_rng() % 60, event_rng() % 60));
    e.geo = std::string{static_cast<char>('A' + g / 26), static_cast<char>('A' + g % 26)};
    e.region = "Region " + std::to_string(event_rng() % 5);
    e.severity = static_cast<uint8_t>(t % 5);  // mostly the type's default severity
    e.tag = event_rng() % 3 == 0 ? "" : "tag" + std::to_string(event_rng() % 30);
    e.row.resize(150);
    for (auto& c : e.row) c = static_cast<char>(event_rng());
    // Routes follow the ASN, as a registry's ASN and CIDR claims make them: the same
    // organisations for every event of an AS.
    std::mt19937_64 asn_rng(e.asn);
    for (int r = 0; r < routes_per_event; ++r) {
      e.routes.push_back(
          {1 + static_cast<uint32_t>(asn_rng() % 100000), static_cast<MatchFilter>(asn_rng() % 4)});
    }
    batches.back().events.push_back(std::move(e));
  }
  for (size_t b = 0; b < batches.size(); ++b) {
    SourceCheckpoint cp;
    cp.source_key = "store_benchmark";
    cp.source_name = "store_benchmark";
    cp.line = static_cast<int64_t>((b + 1) * kBatch);
    cp.accepted = cp.line;
    batches[b].checkpoint = cp;  // never `done`: that would fold inside the write phase
  }
  return batches;
}

class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "store-bench-XXXXXX").string();
    if (!mkdtemp(pattern.data())) std::abort();
    path_ = pattern;
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string file() const { return path_ + "/events.sqlite"; }
  std::string segment_dir() const { return path_ + "/events.segment"; }

 private:
  std::string path_;
};

SqliteStoreOptions no_folds_while_writing() {
  SqliteStoreOptions options;
  options.spool_flush_events = int64_t{1} << 40;
  options.spool_flush_interval = std::chrono::hours(24);
  return options;
}

void write_all(EventStore& store, const std::vector<IngestBatch>& batches) {
  for (const auto& b : batches) {
    if (!store.write(b)) std::abort();
  }
}

// Times one phase of the writer over a fresh store per iteration: the batch transactions,
// or (after writing them untimed) the fold.
enum class Phase { kWrite, kFold };
enum class Engine { kSqlite, kSegment };
Result<std::unique_ptr<EventStore>> open_engine(Engine engine, const TempDir& dir) {
  if (engine == Engine::kSqlite) return open_sqlite_store(dir.file(), no_folds_while_writing());
  SegmentStoreOptions options;
  options.fold = no_folds_while_writing();
  return open_segment_store(dir.segment_dir(), options);
}

void time_phase(benchmark::State& state, Phase phase, Engine engine = Engine::kSqlite) {
  auto batches = make_batches(static_cast<int>(state.range(0)));
  for (auto _ : state) {
    state.PauseTiming();
    auto dir = std::make_unique<TempDir>();
    auto store = open_engine(engine, *dir);
    if (!store) std::abort();
    if (phase == Phase::kFold) write_all(**store, batches);
    state.ResumeTiming();
    if (phase == Phase::kWrite) {
      write_all(**store, batches);
    } else if (!(*store)->settle()) {
      std::abort();
    }
    state.PauseTiming();
    store->reset();
    dir.reset();
    state.ResumeTiming();
  }
  // Per occurrence written, so the two phases add up: 1/write + 1/fold = 1/writer.
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kOccurrences));
}

void BM_StoreWrite(benchmark::State& state) {
  time_phase(state, Phase::kWrite);
}

void BM_StoreFold(benchmark::State& state) {
  time_phase(state, Phase::kFold);
}

void BM_SegmentWrite(benchmark::State& state) {
  time_phase(state, Phase::kWrite, Engine::kSegment);
}

void BM_SegmentFold(benchmark::State& state) {
  time_phase(state, Phase::kFold, Engine::kSegment);
}

// The floor under BM_StoreWrite: SQLite's own cost for the same rows in the same table (the
// store's schema, made by opening a store), one plain prepared INSERT per new event in
// transactions of 32,768 -- no repeats, no dedup logic, no fold, nothing else. Arg 1 keeps the
// dedup index (day, event_key), Arg 0 drops it. Whatever the store does above this is its own.
void BM_SqliteInsertFloor(benchmark::State& state) {
  auto batches = make_batches(11);
  std::vector<const EventRecord*> firsts;
  std::unordered_set<uint64_t> seen;
  for (const auto& b : batches) {
    for (const auto& e : b.events) {
      if (seen.insert(e.event_key).second) firsts.push_back(&e);  // not a repeat
    }
  }
  for (auto _ : state) {
    state.PauseTiming();
    auto dir = std::make_unique<TempDir>();
    if (!open_sqlite_store(dir->file())) std::abort();  // the schema, then closed
    auto db = Db::open(dir->file());
    if (!db) std::abort();
    for (const char* sql :
         {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL", "PRAGMA cache_size=-131072"}) {
      if (!(*db)->exec(sql)) std::abort();
    }
    if (state.range(0) == 0 && !(*db)->exec("DROP INDEX events_day_key")) std::abort();
    auto insert = (*db)->prepare(
        "INSERT INTO events(day, type_id, event_key, first_seen, last_seen, count, ip, asn, geo, "
        "region, severity, tag, row, routes) VALUES(?,1,?,?,?,1,?,?,?,?,?,?,?,?)");
    if (!insert) std::abort();
    std::vector<OrgRoute> sorted;  // reused, as the store reuses its scratch
    std::string routes;
    state.ResumeTiming();
    for (size_t i = 0; i < firsts.size(); ++i) {
      if (i % 32768 == 0 && !(*db)->exec(i ? "COMMIT; BEGIN" : "BEGIN")) std::abort();
      const EventRecord& e = *firsts[i];
      sorted.assign(e.routes.begin(), e.routes.end());
      sort_routes(sorted);
      encode_routes(sorted, routes);
      insert->bind(1, e.day)
          .bind(2, static_cast<int64_t>(e.event_key))
          .bind(3, e.timestamp)
          .bind(4, e.timestamp)
          .bind(5, e.ip)
          .bind(6, static_cast<int64_t>(e.asn))
          .bind(7, e.geo)
          .bind(8, e.region)
          .bind(9, static_cast<int64_t>(e.severity))
          .bind(10, e.tag)
          .bind_blob(11, e.row)
          .bind(12, std::string_view(routes));
      if (!insert->run()) std::abort();
    }
    if (!(*db)->exec("COMMIT")) std::abort();
    state.PauseTiming();
    *insert = {};
    db->reset();
    dir.reset();
    state.ResumeTiming();
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * firsts.size()));
}

BENCHMARK(BM_StoreWrite)->Arg(0)->Arg(3)->Arg(11)->Iterations(3)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_StoreFold)->Arg(0)->Arg(3)->Arg(11)->Iterations(3)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_SegmentWrite)->Arg(0)->Arg(3)->Arg(11)->Iterations(3)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_SegmentFold)->Arg(0)->Arg(3)->Arg(11)->Iterations(3)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_SqliteInsertFloor)->Arg(0)->Arg(1)->Iterations(3)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace vantage::store

BENCHMARK_MAIN();

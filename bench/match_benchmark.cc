// Subscription index speed: 100,000 organisations holding 1,000,000 prefixes (80% IPv4,
// 20% IPv6). IPv4 prefixes are drawn from the routed ranges of
// data/node_modules/@ip-location-db/asn/asn-ipv4.csv when it exists (each range split into
// CIDR blocks, then often narrowed to a more specific customer prefix), otherwise
// synthetic; IPv6 prefixes are synthetic inside 2000::/3. Lengths follow a routing-table
// like distribution (most IPv4 claims /19../24, IPv6 /29../48).
//
// Counters: lookups/s (items_per_second), build time, index memory, interval counts.

#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <string>
#include <unordered_map>

#include "match/subscription_index.h"

namespace vantage::match {
namespace {

constexpr size_t kOrgs = 100'000;
constexpr size_t kPrefixes = 1'000'000;
constexpr size_t kLookups = 1 << 20;

struct RoutedRange {
  uint32_t first, last, asn;
};

std::vector<RoutedRange> load_routes() {
  std::vector<RoutedRange> out;
  const char* env = std::getenv("VANTAGE_ROUTING_CSV");  // for runs away from the tree
  std::ifstream in(env && *env ? std::string(env)
                               : std::string(VANTAGE_SOURCE_DIR) +
                                     "/data/node_modules/@ip-location-db/asn/asn-ipv4.csv");
  std::string line;
  while (std::getline(in, line)) {
    auto c1 = line.find(',');
    auto c2 = line.find(',', c1 + 1);
    auto c3 = line.find(',', c2 + 1);
    if (c1 == std::string::npos || c2 == std::string::npos || c3 == std::string::npos) continue;
    auto a = IpAddress::parse(line.substr(0, c1));
    auto b = IpAddress::parse(line.substr(c1 + 1, c2 - c1 - 1));
    if (!a || !b || !a->is_v4() || !b->is_v4()) continue;
    out.push_back(
        {a->v4(), b->v4(), static_cast<uint32_t>(std::stoul(line.substr(c2 + 1, c3 - c2 - 1)))});
  }
  return out;
}

// A range as CIDR blocks (largest aligned block at each step).
void range_to_cidrs(uint32_t first, uint32_t last, std::vector<IpPrefix>& out) {
  uint64_t f = first;
  while (f <= last) {
    int len = 32;
    while (len > 0) {
      uint64_t size = uint64_t{1} << (32 - (len - 1));
      if ((f & (size - 1)) != 0 || f + size - 1 > last) break;
      --len;
    }
    out.push_back(IpPrefix::make(IpAddress::from_v4(static_cast<uint32_t>(f)), len));
    f += uint64_t{1} << (32 - len);
  }
}

struct World {
  std::vector<OrgSpec> orgs;
  std::vector<IpAddress> v4_lookups, v6_lookups, mixed_lookups;
  std::vector<uint32_t> asns;
  bool from_csv = false;
  double build_seconds = 0;
  std::shared_ptr<const SubscriptionIndex> index;
};

World make_world() {
  World w;
  std::mt19937_64 rng(42);
  auto r = [&](uint64_t n) { return std::uniform_int_distribution<uint64_t>(0, n - 1)(rng); };
  auto chance = [&](double p) { return std::bernoulli_distribution(p)(rng); };

  std::vector<RoutedRange> routes = load_routes();
  std::vector<IpPrefix> routed;
  std::vector<uint32_t> routed_asn;
  for (const auto& rr : routes) {
    size_t before = routed.size();
    range_to_cidrs(rr.first, rr.last, routed);
    routed_asn.resize(routed.size(), rr.asn);
    (void)before;
  }
  w.from_csv = !routed.empty();
  // Routing-table-like length distribution for the synthetic case and for narrowing.
  static const int v4_lens[] = {16, 17, 18, 19, 20, 20, 21, 22, 22, 22, 23, 23, 24, 24,
                                24, 24, 24, 24, 24, 24, 25, 26, 27, 28, 29, 30, 32};
  static const int v6_lens[] = {29, 32, 32, 32, 36, 40, 44, 48, 48, 48, 48, 56, 64};
  auto v4_prefix = [&](uint32_t& asn) {
    if (w.from_csv) {
      size_t i = r(routed.size());
      asn = routed_asn[i];
      const IpPrefix& base = routed[i];
      int len = base.length();
      if (chance(0.5)) len = std::max(len, v4_lens[r(std::size(v4_lens))]);
      uint32_t span = base.length() == 0 ? ~0u : (~0u >> base.length());
      return IpPrefix::make(
          IpAddress::from_v4(base.first().v4() + static_cast<uint32_t>(r(uint64_t{span} + 1))),
          len);
    }
    asn = static_cast<uint32_t>(1 + r(400000));
    uint32_t a = static_cast<uint32_t>(r(223) + 1) << 24 | static_cast<uint32_t>(r(1u << 24));
    return IpPrefix::make(IpAddress::from_v4(a), v4_lens[r(std::size(v4_lens))]);
  };
  auto v6_prefix = [&] {
    uint64_t hi = (uint64_t{0x2} << 60) | (r(uint64_t{1} << 44) << 16) | r(1u << 16);
    return IpPrefix::make(IpAddress::from_v6(hi, rng()), v6_lens[r(std::size(v6_lens))]);
  };

  static const char* types[] = {"scan_ssh", "scan_rdp", "sinkhole_http", "blocklist"};
  static const char* ccs[] = {"NL", "DE", "FR", "BE", "US", "BR", "JP"};
  w.orgs.resize(kOrgs);
  for (size_t i = 0; i < kOrgs; ++i) {
    OrgSpec& o = w.orgs[i];
    o.org_id = static_cast<uint32_t>(i + 1);
    o.short_name = "ORG_" + std::to_string(i);
    if (chance(0.05)) o.opt_outs.push_back(types[r(4)]);
    if (chance(0.1)) o.domains.push_back("d" + std::to_string(i) + ".example");
    if (i < std::size(ccs)) o.countries.push_back(ccs[i]);  // one national CSIRT per country
  }
  std::unordered_map<uint32_t, int> asn_claims;
  for (size_t p = 0; p < kPrefixes; ++p) {
    OrgSpec& o = w.orgs[r(kOrgs)];
    if (p % 5 == 4) {
      o.cidrs.push_back(v6_prefix());
    } else {
      uint32_t asn = 0;
      o.cidrs.push_back(v4_prefix(asn));
      // An ASN is claimed by one organisation, rarely two (as in a real registry).
      if (o.asns.size() < 2 && chance(0.2) && asn_claims[asn]++ < 2) o.asns.push_back(asn);
    }
  }
  for (auto& o : w.orgs) {
    if (!o.cidrs.empty() && chance(0.05)) {
      const IpPrefix& c = o.cidrs[r(o.cidrs.size())];
      o.ignores.push_back(
          IpPrefix::make(c.first(), std::min(c.is_v4() ? 32 : 128, c.length() + 2)));
    }
    for (auto a : o.asns) w.asns.push_back(a);
  }
  // Lookups: half inside a claimed prefix, half anywhere in the family's used space.
  auto inside = [&](bool v4) {
    while (true) {
      const OrgSpec& o = w.orgs[r(kOrgs)];
      if (o.cidrs.empty()) continue;
      const IpPrefix& c = o.cidrs[r(o.cidrs.size())];
      if (c.is_v4() != v4) continue;
      uint128 span = c.last().u128() - c.first().u128();
      uint128 off = span == 0 ? 0 : ((uint128{rng()} << 64) | rng()) % (span + 1);
      return IpAddress::from_u128(c.first().u128() + off);
    }
  };
  for (size_t i = 0; i < kLookups; ++i) {
    w.v4_lookups.push_back(chance(0.5) ? inside(true)
                                       : IpAddress::from_v4(static_cast<uint32_t>(rng())));
    w.v6_lookups.push_back(chance(0.5)
                               ? inside(false)
                               : IpAddress::from_v6((uint64_t{0x2} << 60) | (rng() >> 4), rng()));
    w.mixed_lookups.push_back(chance(0.8) ? w.v4_lookups.back() : w.v6_lookups.back());
  }
  std::shuffle(w.mixed_lookups.begin(), w.mixed_lookups.end(), rng);

  auto t0 = std::chrono::steady_clock::now();
  w.index = SubscriptionIndex::build(w.orgs);
  w.build_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return w;
}

World& world() {
  static World w = make_world();
  return w;
}

void add_index_counters(benchmark::State& state) {
  const World& w = world();
  const IndexStats& st = w.index->stats();
  state.counters["orgs"] = static_cast<double>(st.organisations);
  state.counters["prefixes"] = static_cast<double>(st.prefixes_v4 + st.prefixes_v6);
  state.counters["build_s"] = w.build_seconds;
  state.counters["index_MiB"] = static_cast<double>(st.memory_bytes) / (1024.0 * 1024.0);
  state.counters["intervals"] = static_cast<double>(st.intervals_v4 + st.intervals_v6);
  state.counters["sets"] = static_cast<double>(st.distinct_sets);
  state.counters["routing_csv"] = w.from_csv ? 1 : 0;
}

void lookup_loop(benchmark::State& state, const std::vector<IpAddress>& addrs) {
  const SubscriptionIndex& ix = *world().index;
  size_t i = 0;
  uint64_t hits = 0;
  for (auto _ : state) {
    auto orgs = ix.orgs_for_ip(addrs[i]);
    hits += orgs.size();
    benchmark::DoNotOptimize(orgs.data());
    i = (i + 1) & (kLookups - 1);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
  state.counters["orgs_per_lookup"] =
      static_cast<double>(hits) / static_cast<double>(std::max<int64_t>(1, state.iterations()));
  add_index_counters(state);
}

void BM_IpLookupV4(benchmark::State& state) {
  lookup_loop(state, world().v4_lookups);
}
void BM_IpLookupV6(benchmark::State& state) {
  lookup_loop(state, world().v6_lookups);
}
void BM_IpLookupMixed(benchmark::State& state) {
  lookup_loop(state, world().mixed_lookups);
}

// The batch API the pipeline uses: 256 addresses per call, searches interleaved.
void batch_loop(benchmark::State& state, const std::vector<IpAddress>& addrs) {
  const SubscriptionIndex& ix = *world().index;
  constexpr size_t kBatch = 256;
  std::vector<std::span<const uint32_t>> out(kBatch);
  size_t i = 0;
  uint64_t hits = 0;
  for (auto _ : state) {
    ix.orgs_for_ips(std::span(addrs).subspan(i, kBatch), out);
    for (const auto& s : out) hits += s.size();
    benchmark::DoNotOptimize(out.data());
    i = (i + kBatch) & (kLookups - 1);
  }
  const auto lookups = static_cast<int64_t>(state.iterations() * kBatch);
  state.SetItemsProcessed(lookups);
  state.counters["orgs_per_lookup"] =
      static_cast<double>(hits) / static_cast<double>(std::max<int64_t>(1, lookups));
  add_index_counters(state);
}
void BM_IpBatchV4(benchmark::State& state) {
  batch_loop(state, world().v4_lookups);
}
void BM_IpBatchV6(benchmark::State& state) {
  batch_loop(state, world().v6_lookups);
}
void BM_IpBatchMixed(benchmark::State& state) {
  batch_loop(state, world().mixed_lookups);
}

// A whole event: IP + ASN + country + report type + severity, filters applied.
void BM_MatchEvent(benchmark::State& state) {
  const World& w = world();
  const SubscriptionIndex& ix = *w.index;
  MatchBuffer buf(ix);
  static const char* types[] = {"scan_ssh", "scan_rdp", "sinkhole_http", "blocklist"};
  size_t i = 0;
  uint64_t hits = 0;
  EventKeys k;
  k.country = "NL";
  k.severity = Severity::kMedium;
  for (auto _ : state) {
    k.ip = w.mixed_lookups[i];
    k.asn = w.asns[i % w.asns.size()];
    k.report_type = types[i & 3];
    auto m = ix.match(k, buf);
    hits += m.size();
    benchmark::DoNotOptimize(m.data());
    i = (i + 1) & (kLookups - 1);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
  state.counters["orgs_per_event"] =
      static_cast<double>(hits) / static_cast<double>(std::max<int64_t>(1, state.iterations()));
  add_index_counters(state);
}

void BM_Build(benchmark::State& state) {
  const World& w = world();
  size_t bytes = 0;
  for (auto _ : state) {
    auto ix = SubscriptionIndex::build(w.orgs);
    bytes = ix->stats().memory_bytes;
    benchmark::DoNotOptimize(ix.get());
  }
  state.counters["index_MiB"] = static_cast<double>(bytes) / (1024.0 * 1024.0);
  state.counters["prefixes"] = static_cast<double>(kPrefixes);
}

BENCHMARK(BM_IpLookupV4);
BENCHMARK(BM_IpLookupV6);
BENCHMARK(BM_IpLookupMixed);
BENCHMARK(BM_IpBatchV4);
BENCHMARK(BM_IpBatchV6);
BENCHMARK(BM_IpBatchMixed);
BENCHMARK(BM_MatchEvent);
BENCHMARK(BM_Build)->Iterations(2)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace vantage::match

BENCHMARK_MAIN();

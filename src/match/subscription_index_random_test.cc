// Randomised comparison of the subscription index with two independent reference matchers
// over thousands of random organisations:
//  - an exhaustive-prefix matcher (for every possible prefix length of the address, look the
//    exact prefix up in a map of claims) run on >= 1,000,000 lookups, and
//  - a plain linear scan over every organisation and every claim, run on a subset.
// Any difference fails the test and prints the first offending lookup.

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <map>
#include <random>
#include <set>
#include <unordered_map>

#include "match/subscription_index.h"

namespace vantage::match {
namespace {

struct PrefixKey {
  uint128 addr;
  int len128;
  bool operator==(const PrefixKey&) const = default;
};
struct PrefixKeyHash {
  static uint64_t mix(uint64_t x) {  // splitmix64 finaliser
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
  }
  size_t operator()(const PrefixKey& k) const {
    return mix(static_cast<uint64_t>(k.addr) ^
               mix(static_cast<uint64_t>(k.addr >> 64) + uint64_t(k.len128)));
  }
};

const char* kTypes[] = {"scan_ssh", "scan_rdp", "sinkhole_http", "blocklist", "honeypot_ddos"};

std::string lower_host(std::string_view h) {
  std::string s(h);
  if (!s.empty() && s.back() == '.') s.pop_back();
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

using Result_ = std::vector<std::pair<uint32_t, ReasonMask>>;

// Exhaustive-prefix reference: independent of the interval sweep.
class PrefixReference {
 public:
  explicit PrefixReference(const std::vector<OrgSpec>& orgs) : orgs_(orgs) {
    for (uint32_t i = 0; i < orgs.size(); ++i) {
      for (const auto& p : orgs[i].cidrs) {
        prefixes_[{p.address().u128(), p.length128()}].claims.push_back(i);
        lengths_[p.is_v4()].insert(p.length());
      }
      for (const auto& p : orgs[i].ignores) {
        prefixes_[{p.address().u128(), p.length128()}].ignores.push_back(i);
        lengths_[p.is_v4()].insert(p.length());
      }
      for (auto a : orgs[i].asns) asns_[a].push_back(i);
      for (const auto& d : orgs[i].domains) domains_[d].push_back(i);
      for (const auto& c : orgs[i].countries) countries_[c].push_back(i);
    }
  }

  Result_ match(const EventKeys& k, CidrMode mode) const {
    std::map<uint32_t, ReasonMask> hits;
    std::vector<bool> ignoring(orgs_.size(), false);
    if (k.ip) {
      const bool v4 = k.ip->is_v4();
      std::vector<std::pair<int, uint32_t>> covering;  // (length, org)
      // Every prefix length that occurs at all, each looked up exactly.
      for (int len : lengths_[v4]) {
        IpPrefix p = IpPrefix::make(*k.ip, len);
        PrefixKey key{p.address().u128(), p.length128()};
        auto it = prefixes_.find(key);
        if (it == prefixes_.end()) continue;
        for (auto o : it->second.ignores) ignoring[o] = true;
        for (auto o : it->second.claims) covering.emplace_back(len, o);
      }
      int best = -1;
      for (auto [len, o] : covering) {
        if (!ignoring[o]) best = std::max(best, len);
      }
      for (auto [len, o] : covering) {
        if (ignoring[o]) continue;
        if (mode == CidrMode::kMostSpecific && len != best) continue;
        hits[o] |= kReasonCidr;
      }
    }
    if (auto it = asns_.find(k.asn); k.asn && it != asns_.end()) {
      for (auto o : it->second) hits[o] |= kReasonAsn;
    }
    if (!k.country.empty()) {
      std::string cc(k.country);
      for (auto& c : cc) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      if (auto it = countries_.find(cc); it != countries_.end()) {
        for (auto o : it->second) hits[o] |= kReasonGeo;
      }
    }
    if (!k.hostname.empty()) {
      std::string h = lower_host(k.hostname);
      std::string_view rest = h;
      while (!rest.empty()) {
        if (auto it = domains_.find(std::string(rest)); it != domains_.end()) {
          for (auto o : it->second) hits[o] |= kReasonDomain;
        }
        auto dot = rest.find('.');
        if (dot == std::string_view::npos) break;
        rest.remove_prefix(dot + 1);
      }
    }
    return filter(hits, ignoring, k);
  }

 protected:
  Result_ filter(const std::map<uint32_t, ReasonMask>& hits, const std::vector<bool>& ignoring,
                 const EventKeys& k) const {
    Result_ out;
    for (auto [o, why] : hits) {
      if (ignoring[o] || k.severity < orgs_[o].min_severity) continue;
      const auto& opt = orgs_[o].opt_outs;
      if (!k.report_type.empty() && std::find(opt.begin(), opt.end(), k.report_type) != opt.end()) {
        continue;
      }
      out.emplace_back(o, why);
    }
    return out;
  }

  const std::vector<OrgSpec>& orgs_;
  std::set<int> lengths_[2];  // [is_v4]
  struct Holders {
    std::vector<uint32_t> claims, ignores;
  };
  std::unordered_map<PrefixKey, Holders, PrefixKeyHash> prefixes_;
  std::unordered_map<uint32_t, std::vector<uint32_t>> asns_;
  std::unordered_map<std::string, std::vector<uint32_t>> domains_, countries_;
};

// Linear scan: the most literal reading of the matching rules.
Result_ linear_match(const std::vector<OrgSpec>& orgs, const EventKeys& k, CidrMode mode) {
  auto covers = [&](const IpPrefix& p) { return p.is_v4() == k.ip->is_v4() && p.contains(*k.ip); };
  std::vector<bool> ignoring(orgs.size(), false);
  int best = -1;
  if (k.ip) {
    for (size_t i = 0; i < orgs.size(); ++i) {
      for (const auto& p : orgs[i].ignores) ignoring[i] = ignoring[i] || covers(p);
    }
    for (size_t i = 0; i < orgs.size(); ++i) {
      if (ignoring[i]) continue;
      for (const auto& p : orgs[i].cidrs) {
        if (covers(p)) best = std::max(best, p.length());
      }
    }
  }
  std::string host = lower_host(k.hostname);
  Result_ out;
  for (uint32_t i = 0; i < orgs.size(); ++i) {
    const OrgSpec& o = orgs[i];
    ReasonMask why = 0;
    if (k.ip) {
      for (const auto& p : o.cidrs) {
        if (covers(p) && (mode == CidrMode::kAllCovering || p.length() == best)) why |= kReasonCidr;
      }
    }
    for (auto a : o.asns) {
      if (k.asn != 0 && a == k.asn) why |= kReasonAsn;
    }
    for (const auto& c : o.countries) {
      if (k.country.size() == 2 && std::toupper(static_cast<unsigned char>(k.country[0])) == c[0] &&
          std::toupper(static_cast<unsigned char>(k.country[1])) == c[1]) {
        why |= kReasonGeo;
      }
    }
    for (const auto& d : o.domains) {
      if (!host.empty() && (host == d || (host.size() > d.size() &&
                                          host.compare(host.size() - d.size(), d.size(), d) == 0 &&
                                          host[host.size() - d.size() - 1] == '.'))) {
        why |= kReasonDomain;
      }
    }
    if (!why || ignoring[i] || k.severity < o.min_severity) continue;
    if (!k.report_type.empty() &&
        std::find(o.opt_outs.begin(), o.opt_outs.end(), k.report_type) != o.opt_outs.end()) {
      continue;
    }
    out.emplace_back(i, why);
  }
  return out;
}

class World {
 public:
  explicit World(uint64_t seed) : rng_(seed) {}

  uint64_t r(uint64_t n) { return std::uniform_int_distribution<uint64_t>(0, n - 1)(rng_); }
  bool chance(double p) { return std::bernoulli_distribution(p)(rng_); }

  // Addresses crowd into a few regions so that prefixes nest and overlap a lot.
  IpAddress v4_addr() {
    // 32 regions of a /12 each.
    uint32_t base =
        static_cast<uint32_t>((r(32) * 7 + 3) % 224) << 24 | static_cast<uint32_t>(r(16)) << 20;
    return IpAddress::from_v4(base | static_cast<uint32_t>(r(1u << 20)));
  }
  IpAddress v6_addr() {
    static const uint64_t regions[] = {0x20010db800000000ull, 0x2a01000000000000ull,
                                       0x2600000000000000ull};
    uint64_t hi = regions[r(3)] | (r(1u << 12) << 20) | (r(4) << 16) | r(4);
    return IpAddress::from_v6(hi, chance(0.5) ? r(4) : rng_());
  }
  IpPrefix v4_prefix() {
    static const int lens[] = {16, 18, 19, 20, 21, 22, 22, 23, 24, 24,
                               24, 24, 24, 24, 25, 26, 28, 29, 30, 32};
    if (chance(0.005)) return IpPrefix::make(v4_addr(), chance(0.5) ? 8 : 12);
    return IpPrefix::make(v4_addr(), lens[r(std::size(lens))]);
  }
  IpPrefix v6_prefix() {
    static const int lens[] = {32, 36, 40, 44, 48, 48, 48, 56, 64, 64, 96, 127, 128};
    if (chance(0.005)) return IpPrefix::make(v6_addr(), chance(0.5) ? 16 : 29);
    return IpPrefix::make(v6_addr(), lens[r(std::size(lens))]);
  }
  std::string domain() {
    static const char* tlds[] = {"org", "nl", "de", "com", "xn--p1ai"};
    std::string d = "d" + std::to_string(r(400)) + "." + tlds[r(5)];
    if (chance(0.3)) d = "s" + std::to_string(r(5)) + "." + d;
    if (chance(0.01)) d = tlds[r(5)];
    return d;
  }

  std::vector<OrgSpec> orgs(size_t n) {
    static const char* ccs[] = {"NL", "DE", "FR", "BE", "LU"};
    std::vector<OrgSpec> out;
    std::vector<IpPrefix> all;
    for (size_t i = 0; i < n; ++i) {
      OrgSpec o;
      o.org_id = static_cast<uint32_t>(1000 + i);
      o.short_name = "ORG_" + std::to_string(i);
      o.min_severity = chance(0.8) ? Severity::kInfo : static_cast<Severity>(r(5));
      for (uint64_t j = r(8); j > 0; --j) {
        IpPrefix p = (chance(0.15) && !all.empty()) ? all[r(all.size())] : v4_prefix();
        o.cidrs.push_back(p);
        all.push_back(p);
      }
      for (uint64_t j = r(4); j > 0; --j) {
        IpPrefix p = (chance(0.15) && !all.empty()) ? all[r(all.size())] : v6_prefix();
        o.cidrs.push_back(p);
        all.push_back(p);
      }
      for (uint64_t j = r(3); j > 0; --j) o.asns.push_back(static_cast<uint32_t>(64000 + r(1500)));
      for (uint64_t j = r(3); j > 0; --j) o.domains.push_back(domain());
      if (chance(0.005)) o.countries.push_back(ccs[r(5)]);
      for (uint64_t j = chance(0.3) ? r(3) + 1 : 0; j > 0; --j) {
        // Mostly inside the org's own claims (the realistic case), sometimes anywhere.
        if (!o.cidrs.empty() && chance(0.7)) {
          const IpPrefix& c = o.cidrs[r(o.cidrs.size())];
          int extra = static_cast<int>(r(3) * 4);
          int max = c.is_v4() ? 32 : 128;
          IpAddress inside = IpAddress::from_u128(
              c.first().u128() + (c.last().u128() - c.first().u128() > 0
                                      ? rng_() % (c.last().u128() - c.first().u128() + 1)
                                      : 0));
          o.ignores.push_back(IpPrefix::make(inside, std::min(max, c.length() + extra)));
        } else {
          o.ignores.push_back(chance(0.7) ? v4_prefix() : v6_prefix());
        }
      }
      for (auto t : kTypes) {
        if (chance(0.1)) o.opt_outs.push_back(t);
      }
      out.push_back(std::move(o));
    }
    all_ = std::move(all);
    return out;
  }

  IpAddress lookup_addr() {
    uint64_t kind = r(10);
    if (kind < 5 && !all_.empty()) {  // inside a claim
      const IpPrefix& p = all_[r(all_.size())];
      uint128 span = p.last().u128() - p.first().u128();
      uint128 off = span == 0 ? 0 : (uint128{rng_()} << 64 | rng_()) % (span + 1);
      return IpAddress::from_u128(p.first().u128() + off);
    }
    if (kind < 8 && !all_.empty()) {  // on or just beside a boundary
      const IpPrefix& p = all_[r(all_.size())];
      uint128 v;
      switch (r(4)) {
        case 0: v = p.first().u128(); break;
        case 1: v = p.last().u128(); break;
        case 2: v = p.first().u128() - 1; break;
        default: v = p.last().u128() + 1; break;
      }
      IpAddress a = IpAddress::from_u128(v);
      // Stay within the family of the prefix (IPv4 arithmetic can step out of ::ffff:0:0/96).
      if (a.is_v4() != p.is_v4()) return p.first();
      return a;
    }
    return chance(0.7) ? v4_addr() : v6_addr();
  }

  EventKeys keys(std::string& host_storage) {
    static const char* ccs[] = {"NL", "de", "FR", "XX", ""};
    EventKeys k;
    if (chance(0.9)) k.ip = lookup_addr();
    if (chance(0.5)) k.asn = static_cast<uint32_t>(64000 + r(1600));
    if (chance(0.5)) {
      host_storage = domain();
      if (chance(0.5)) host_storage = "www." + host_storage;
      if (chance(0.1)) host_storage[0] = static_cast<char>(std::toupper(host_storage[0]));
      if (chance(0.05)) host_storage += ".";
      k.hostname = host_storage;
    }
    k.country = ccs[r(5)];
    if (chance(0.7)) k.report_type = kTypes[r(5)];
    k.severity = static_cast<Severity>(r(5));
    return k;
  }

 private:
  std::mt19937_64 rng_;
  std::vector<IpPrefix> all_;
};

Result_ to_result(std::span<const Match> ms) {
  Result_ out;
  for (const auto& m : ms) out.emplace_back(m.org, m.why);
  return out;
}

std::string describe(const EventKeys& k) {
  return "ip=" + (k.ip ? k.ip->to_string() : "-") + " asn=" + std::to_string(k.asn) +
         " host=" + std::string(k.hostname) + " cc=" + std::string(k.country) +
         " type=" + std::string(k.report_type) + " sev=" + registry::severity_name(k.severity);
}

TEST(SubscriptionIndexRandom, MatchesReferenceOnAMillionLookups) {
  uint64_t seed = 20261123;
  if (const char* s = std::getenv("VANTAGE_TEST_SEED")) seed = std::strtoull(s, nullptr, 10);
  World world(seed);
  auto orgs = world.orgs(3000);
  auto t0 = std::chrono::steady_clock::now();
  auto index = SubscriptionIndex::build(orgs);
  auto t1 = std::chrono::steady_clock::now();
  PrefixReference reference(orgs);
  MatchBuffer buf(*index);

  constexpr int kLookups = 1'000'000;
  constexpr int kLinearEvery = 200;  // 5,000 lookups also go through the linear scan
  int differences = 0, linear_checked = 0;
  size_t matched = 0;
  std::string host;
  for (int i = 0; i < kLookups; ++i) {
    EventKeys k = world.keys(host);
    CidrMode mode = (i % 3 == 0) ? CidrMode::kMostSpecific : CidrMode::kAllCovering;
    Result_ got = to_result(index->match(k, buf, mode));
    Result_ want = reference.match(k, mode);
    matched += got.size();
    if (got != want) {
      if (++differences <= 3)
        ADD_FAILURE() << "seed " << seed << " lookup " << i << ": " << describe(k);
    }
    if (i % kLinearEvery == 0) {
      ++linear_checked;
      if (linear_match(orgs, k, mode) != want) {
        if (++differences <= 3) ADD_FAILURE() << "reference vs linear differ: " << describe(k);
      }
    }
  }
  // The batch path must agree with the single lookups, for both families and any tail.
  std::vector<IpAddress> batch;
  for (int i = 0; i < 100'003; ++i) {
    EventKeys k = world.keys(host);
    batch.push_back(k.ip ? *k.ip : IpAddress::from_v4(static_cast<uint32_t>(i) * 2654435761u));
  }
  std::vector<std::span<const uint32_t>> spans(batch.size());
  for (CidrMode mode : {CidrMode::kAllCovering, CidrMode::kMostSpecific}) {
    index->orgs_for_ips(batch, spans, mode);
    for (size_t i = 0; i < batch.size(); ++i) {
      auto single = index->orgs_for_ip(batch[i], mode);
      if (!std::equal(single.begin(), single.end(), spans[i].begin(), spans[i].end())) {
        if (++differences <= 3) ADD_FAILURE() << "batch differs at " << batch[i].to_string();
      }
    }
  }
  EXPECT_EQ(differences, 0);
  // The test must exercise real matches, not a sea of empty results.
  EXPECT_GT(matched, static_cast<size_t>(kLookups));
  const auto& st = index->stats();
  std::printf(
      "seed %llu: %zu orgs, %zu+%zu prefixes, %zu+%zu intervals, %zu sets, build %.1f ms; "
      "%d lookups (%d also linear-scanned), %zu matches, %d differences\n",
      static_cast<unsigned long long>(seed), st.organisations, st.prefixes_v4, st.prefixes_v6,
      st.intervals_v4, st.intervals_v6, st.distinct_sets,
      std::chrono::duration<double, std::milli>(t1 - t0).count(), kLookups, linear_checked, matched,
      differences);
}

}  // namespace
}  // namespace vantage::match

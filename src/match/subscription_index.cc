#include "match/subscription_index.h"

#include <sys/mman.h>

#include <algorithm>
#include <cstring>
#include <new>
#include <unordered_map>

#include "registry/registry.h"
#include "registry/validate.h"

namespace vantage::match {
namespace {

constexpr int kV4BucketBits = 18;
constexpr int kV6BucketBits = 20;

inline char lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
}

// FNV-1a over the lower-cased bytes, so that lookups need no lower-cased copy.
inline uint64_t hash_lower(std::string_view s) {
  uint64_t h = 1469598103934665603ull;
  for (char c : s) {
    h ^= static_cast<unsigned char>(lower(c));
    h *= 1099511628211ull;
  }
  return h ^ (h >> 29);
}

inline bool equal_lower(std::string_view stored, std::string_view probe) {
  if (stored.size() != probe.size()) return false;
  for (size_t i = 0; i < stored.size(); ++i) {
    if (stored[i] != lower(probe[i])) return false;
  }
  return true;
}

struct VecHash {
  size_t operator()(const std::vector<uint32_t>& v) const {
    uint64_t h = 0x9e3779b97f4a7c15ull ^ v.size();
    for (uint32_t x : v) h = (h ^ x) * 0xff51afd7ed558ccdull;
    return h ^ (h >> 32);
  }
};

struct CellKey {
  uint32_t all, specific, ignore;
  bool operator==(const CellKey&) const = default;
};
struct CellHash {
  size_t operator()(const CellKey& k) const {
    uint64_t h = (uint64_t{k.all} * 0x9e3779b97f4a7c15ull) ^ (uint64_t{k.specific} << 21) ^
                 (uint64_t{k.ignore} * 0xc2b2ae3d27d4eb4full);
    return h ^ (h >> 31);
  }
};

template <typename K>
struct Span {
  K first;
  K last;
  uint32_t org;
  uint8_t length;  // in the family's own terms
  bool ignore;
};

// Fibonacci hashing of an ASN into a power-of-two table.
inline size_t asn_slot(uint32_t asn, size_t table_size) {
  return static_cast<size_t>((uint64_t{asn} * 0x9E3779B97F4A7C15ull) >> 20) & (table_size - 1);
}

size_t table_size_for(size_t n) {
  size_t size = 16;
  while (size < n * 2) size <<= 1;
  return size;
}

}  // namespace

std::string reason_names(ReasonMask mask) {
  std::string out;
  for (auto [bit, name] : {std::pair{kReasonAsn, "asn"}, std::pair{kReasonCidr, "cidr"},
                           std::pair{kReasonGeo, "geo"}, std::pair{kReasonDomain, "domain"}}) {
    if (mask & bit) {
      if (!out.empty()) out.push_back(',');
      out += name;
    }
  }
  return out;
}

std::vector<OrgSpec> specs_from_snapshot(const registry::RegistrySnapshot& snapshot,
                                         const BuildOptions& options) {
  std::vector<OrgSpec> out;
  out.reserve(snapshot.orgs.size());
  for (const auto& rec : snapshot.orgs) {
    OrgSpec spec;
    spec.org_id = static_cast<uint32_t>(rec.org.id);
    spec.short_name = rec.org.short_name;
    spec.min_severity = rec.org.min_severity;
    spec.opt_outs = rec.opt_outs;
    for (const auto& r : rec.resources) {
      if (r.approval == registry::Approval::kRejected) continue;
      if (options.require_approval && r.approval != registry::Approval::kApproved) continue;
      switch (r.kind) {
        case registry::ResourceKind::kCidr:
          if (auto p = registry::parse_cidr(r.value)) spec.cidrs.push_back(p->prefix);
          break;
        case registry::ResourceKind::kAsn:
          if (auto a = registry::parse_asn(r.value)) spec.asns.push_back(*a);
          break;
        case registry::ResourceKind::kDomain: spec.domains.push_back(r.value); break;
        case registry::ResourceKind::kCountry: spec.countries.push_back(r.value); break;
      }
    }
    for (const auto& c : rec.ignores) {
      if (auto p = registry::parse_cidr(c)) spec.ignores.push_back(p->prefix);
    }
    out.push_back(std::move(spec));
  }
  return out;
}

MatchBuffer::MatchBuffer(const SubscriptionIndex& index) {
  entries_.reserve(index.max_candidates());
}

// Builds the flattened arrays. Lives in a class so it can reach the index's private parts.
class IndexBuilder {
 public:
  explicit IndexBuilder(SubscriptionIndex& ix) : ix_(ix) {
    ix_.set_members_ = {0};  // set 0: the empty set
    set_ids_.emplace(std::vector<uint32_t>{}, 0);
    ix_.cells_.push_back({});
    cell_ids_.emplace(CellKey{0, 0, 0}, 0);
  }

  uint32_t intern_set(std::vector<uint32_t>& v) {
    std::sort(v.begin(), v.end());
    v.erase(std::unique(v.begin(), v.end()), v.end());
    auto it = set_ids_.find(v);
    if (it != set_ids_.end()) return it->second;
    auto id = static_cast<uint32_t>(ix_.set_members_.size());
    ix_.set_members_.push_back(static_cast<uint32_t>(v.size()));
    ix_.set_members_.insert(ix_.set_members_.end(), v.begin(), v.end());
    ++distinct_sets_;
    max_set_ = std::max(max_set_, v.size());
    set_ids_.emplace(v, id);
    return id;
  }

  uint32_t intern_cell(CellKey key) {
    auto [it, inserted] = cell_ids_.emplace(key, static_cast<uint32_t>(ix_.cells_.size()));
    if (inserted) {
      ix_.cells_.push_back({key.all, key.specific, key.ignore});
      max_ip_set_ = std::max({max_ip_set_, ix_.set(key.all).size(), ix_.set(key.specific).size()});
    }
    return it->second;
  }

  // The sweep over one family's boundaries (see the header). CIDR blocks are laminar --
  // two prefixes are either disjoint or nested -- so the prefixes covering the current
  // point form a stack ordered from outermost to innermost, and a prefix can only end
  // after everything nested inside it has ended.
  template <typename K>
  void sweep(std::vector<Span<K>>& spans,
             SubscriptionIndex::BigVector<SubscriptionIndex::Interval<K>>& out) {
    std::sort(spans.begin(), spans.end(), [](const Span<K>& a, const Span<K>& b) {
      return a.first != b.first ? a.first < b.first : a.length < b.length;
    });
    std::vector<K> bounds;
    bounds.reserve(spans.size() * 2 + 1);
    bounds.push_back(0);
    for (const auto& s : spans) {
      bounds.push_back(s.first);
      if (s.last != static_cast<K>(~K{0})) bounds.push_back(static_cast<K>(s.last + 1));
    }
    std::sort(bounds.begin(), bounds.end());
    bounds.erase(std::unique(bounds.begin(), bounds.end()), bounds.end());

    std::vector<const Span<K>*> stack;
    std::vector<uint32_t> all, specific, ignoring;
    size_t next = 0;
    for (K b : bounds) {
      while (!stack.empty() && stack.back()->last < b) stack.pop_back();
      while (next < spans.size() && spans[next].first == b) stack.push_back(&spans[next++]);
      ignoring.clear();
      for (const auto* s : stack) {
        if (s->ignore) ignoring.push_back(s->org);
      }
      std::sort(ignoring.begin(), ignoring.end());
      auto is_ignoring = [&](uint32_t org) {
        return std::binary_search(ignoring.begin(), ignoring.end(), org);
      };
      all.clear();
      specific.clear();
      int best = -1;
      // Innermost first: the first claim not ignored fixes the most specific length.
      for (auto it = stack.rbegin(); it != stack.rend(); ++it) {
        const auto* s = *it;
        if (s->ignore || is_ignoring(s->org)) continue;
        all.push_back(s->org);
        if (best < 0) best = s->length;
        if (s->length == best) specific.push_back(s->org);
      }
      CellKey key{intern_set(all), intern_set(specific), intern_set(ignoring)};
      uint32_t cell = intern_cell(key);
      if (!out.empty() && out.back().cell == cell) continue;  // merge equal neighbours
      const auto count = static_cast<uint32_t>(all.size());
      out.push_back({b, cell, count, count == 1 ? all.front() : key.all});
    }
    out.shrink_to_fit();
  }

  template <typename V>
  static std::vector<uint32_t> make_buckets(const V& starts, int key_bits, int bucket_bits) {
    using K = decltype(starts[0].start);
    // bucket[b] = index of the interval containing the first address of bucket b, so an
    // address in bucket b lies in intervals bucket[b] .. bucket[b + 1].
    const size_t n = size_t{1} << bucket_bits;
    std::vector<uint32_t> bucket(n + 1);
    size_t i = 0;
    for (size_t b = 0; b < n; ++b) {
      const K first = static_cast<K>(static_cast<K>(b) << (key_bits - bucket_bits));
      while (i + 1 < starts.size() && starts[i + 1].start <= first) ++i;
      bucket[b] = static_cast<uint32_t>(i);
    }
    bucket[n] = static_cast<uint32_t>(starts.size() - 1);
    return bucket;
  }

  void build_strings(const std::vector<std::pair<std::string, uint32_t>>& names,
                     std::vector<SubscriptionIndex::DomainSlot>& table, std::string& pool) {
    table.assign(table_size_for(names.size()), {});
    const size_t mask = table.size() - 1;
    for (const auto& [name, set] : names) {
      uint64_t h = hash_lower(name);
      size_t pos = h & mask;
      while (table[pos].name_length != 0) pos = (pos + 1) & mask;
      table[pos] = {h, static_cast<uint32_t>(pool.size()), static_cast<uint32_t>(name.size()), set};
      pool += name;
    }
  }

  size_t max_set() const { return max_set_; }
  size_t distinct_sets() const { return distinct_sets_; }
  size_t max_ip_set() const { return max_ip_set_; }

 private:
  SubscriptionIndex& ix_;
  std::unordered_map<std::vector<uint32_t>, uint32_t, VecHash> set_ids_;
  std::unordered_map<CellKey, uint32_t, CellHash> cell_ids_;
  size_t max_set_ = 0;
  size_t max_ip_set_ = 0;
  size_t distinct_sets_ = 1;
};

std::shared_ptr<const SubscriptionIndex> SubscriptionIndex::build(const std::vector<OrgSpec>& orgs,
                                                                  uint64_t generation) {
  std::shared_ptr<SubscriptionIndex> ix(new SubscriptionIndex());
  ix->generation_ = generation;
  IndexBuilder builder(*ix);
  IndexStats& st = ix->stats_;
  st.organisations = orgs.size();

  std::vector<Span<uint32_t>> v4;
  std::vector<Span<uint128>> v6;
  std::vector<std::pair<uint32_t, uint32_t>> asn_pairs;
  std::unordered_map<std::string, std::vector<uint32_t>> domains;
  std::vector<std::vector<uint32_t>> countries(26 * 26);
  std::unordered_map<std::string, uint32_t> type_ids;
  std::vector<std::pair<std::string, uint32_t>> type_names;

  ix->orgs_.reserve(orgs.size());
  ix->opt_out_offsets_.push_back(0);
  for (size_t i = 0; i < orgs.size(); ++i) {
    const OrgSpec& o = orgs[i];
    const auto dense = static_cast<uint32_t>(i);
    ix->orgs_.push_back({o.org_id, o.short_name, o.min_severity});
    ix->min_severity_.push_back(o.min_severity);
    for (bool ignore : {false, true}) {
      for (const IpPrefix& p : ignore ? o.ignores : o.cidrs) {
        if (p.is_v4()) {
          v4.push_back(
              {p.first().v4(), p.last().v4(), dense, static_cast<uint8_t>(p.length()), ignore});
          if (!ignore) ++st.prefixes_v4;
        } else {
          v6.push_back(
              {p.first().u128(), p.last().u128(), dense, static_cast<uint8_t>(p.length()), ignore});
          if (!ignore) ++st.prefixes_v6;
        }
      }
    }
    for (uint32_t asn : o.asns) asn_pairs.emplace_back(asn, dense);
    for (const auto& d : o.domains) {
      std::string name = d;
      for (auto& c : name) c = lower(c);
      domains[name].push_back(dense);
    }
    for (const auto& cc : o.countries) {
      if (cc.size() != 2) continue;
      int a = lower(cc[0]) - 'a';
      int b = lower(cc[1]) - 'a';
      if (a < 0 || a >= 26 || b < 0 || b >= 26) continue;
      countries[static_cast<size_t>(a * 26 + b)].push_back(dense);
    }
    std::vector<uint32_t> opted;
    for (const auto& t : o.opt_outs) {
      auto [it, inserted] = type_ids.emplace(t, static_cast<uint32_t>(type_ids.size()));
      if (inserted) type_names.emplace_back(t, it->second + 1);
      opted.push_back(it->second);
    }
    std::sort(opted.begin(), opted.end());
    opted.erase(std::unique(opted.begin(), opted.end()), opted.end());
    ix->opt_out_types_.insert(ix->opt_out_types_.end(), opted.begin(), opted.end());
    ix->opt_out_offsets_.push_back(static_cast<uint32_t>(ix->opt_out_types_.size()));
  }

  builder.sweep(v4, ix->v4_);
  ix->v4_bucket_ = IndexBuilder::make_buckets(ix->v4_, 32, kV4BucketBits);
  if (!v6.empty()) {
    builder.sweep(v6, ix->v6_);
    ix->v6_bucket_ = IndexBuilder::make_buckets(ix->v6_, 128, kV6BucketBits);
  }
  st.intervals_v4 = ix->v4_.size();
  st.intervals_v6 = ix->v6_.size();
  const size_t max_ip = builder.max_ip_set();

  // ASNs.
  std::sort(asn_pairs.begin(), asn_pairs.end());
  size_t max_asn = 0;
  std::vector<uint32_t> members;
  std::vector<SubscriptionIndex::AsnSlot> asn_entries;
  for (size_t i = 0; i < asn_pairs.size();) {
    size_t j = i;
    members.clear();
    while (j < asn_pairs.size() && asn_pairs[j].first == asn_pairs[i].first) {
      members.push_back(asn_pairs[j++].second);
    }
    asn_entries.push_back({asn_pairs[i].first, builder.intern_set(members)});
    max_asn = std::max(max_asn, members.size());
    i = j;
  }
  st.asns = asn_entries.size();
  ix->asns_.assign(table_size_for(asn_entries.size()), {0, 0});
  for (const auto& e : asn_entries) {
    size_t pos = asn_slot(e.asn, ix->asns_.size());
    while (ix->asns_[pos].asn != 0) pos = (pos + 1) & (ix->asns_.size() - 1);
    ix->asns_[pos] = e;
  }

  // Countries.
  size_t max_geo = 0;
  ix->country_sets_.resize(26 * 26);
  for (size_t i = 0; i < countries.size(); ++i) {
    ix->country_sets_[i] = builder.intern_set(countries[i]);
    max_geo = std::max(max_geo, ix->set(ix->country_sets_[i]).size());
  }

  // Domains.
  std::vector<std::pair<std::string, uint32_t>> domain_names;
  for (auto& [name, orgs_of] : domains)
    domain_names.emplace_back(name, builder.intern_set(orgs_of));
  builder.build_strings(domain_names, ix->domains_, ix->domain_pool_);
  st.domains = domain_names.size();
  // The most domain candidates one hostname can collect: the sum over the claimed suffixes
  // of the longest claimed name.
  size_t max_domain = 0;
  for (const auto& [name, set_id] : domain_names) {
    size_t sum = 0;
    std::string_view rest = name;
    while (true) {
      sum += ix->set(ix->probe(ix->domains_, ix->domain_pool_, rest)).size();
      auto dot = rest.find('.');
      if (dot == std::string_view::npos) break;
      rest.remove_prefix(dot + 1);
    }
    max_domain = std::max(max_domain, sum);
  }
  builder.build_strings(type_names, ix->types_, ix->type_pool_);

  ix->max_candidates_ = max_ip + max_asn + max_geo + max_domain;
  st.distinct_sets = builder.distinct_sets();

  auto bytes = [](const auto& v) { return v.capacity() * sizeof(v[0]); };
  st.memory_bytes = sizeof(SubscriptionIndex) + bytes(ix->set_members_) + bytes(ix->cells_) +
                    bytes(ix->v4_) + bytes(ix->v4_bucket_) + bytes(ix->v6_) +
                    bytes(ix->v6_bucket_) + bytes(ix->asns_) + bytes(ix->country_sets_) +
                    bytes(ix->domains_) + ix->domain_pool_.capacity() + bytes(ix->types_) +
                    ix->type_pool_.capacity() + bytes(ix->opt_out_offsets_) +
                    bytes(ix->opt_out_types_) + bytes(ix->orgs_) + bytes(ix->min_severity_);
  for (const auto& o : ix->orgs_) st.memory_bytes += o.short_name.capacity();
  return ix;
}

template <typename T>
T* SubscriptionIndex::HugePageAllocator<T>::allocate(size_t n) {
  // Lookups land anywhere in tens of MiB: with 4 KiB pages nearly each one is also a TLB
  // miss. Large arrays are 2 MiB aligned and advised for transparent huge pages.
  constexpr size_t kHuge = size_t{2} << 20;
  const size_t bytes = n * sizeof(T);
  void* p = nullptr;
  if (bytes >= kHuge) {
    p = std::aligned_alloc(kHuge, (bytes + kHuge - 1) / kHuge * kHuge);
    if (p) madvise(p, bytes, MADV_HUGEPAGE);
  } else {
    p = std::malloc(bytes ? bytes : 1);
  }
  if (!p) throw std::bad_alloc();
  return static_cast<T*>(p);
}

size_t SubscriptionIndex::locate_v4(uint32_t a) const {
  const uint32_t b = a >> (32 - kV4BucketBits);
  const Interval<uint32_t>* base = v4_.data() + v4_bucket_[b];
  size_t n = v4_bucket_[b + 1] - v4_bucket_[b] + 1;
  // Branchless binary search for the last start <= a (base[0] <= a holds by construction).
  while (n > 1) {
    const size_t half = n / 2;
    base = (base[half].start <= a) ? base + half : base;
    n -= half;
  }
  return static_cast<size_t>(base - v4_.data());
}

size_t SubscriptionIndex::locate_v6(uint128 a) const {
  const auto b = static_cast<size_t>(static_cast<uint64_t>(a >> 64) >> (64 - kV6BucketBits));
  const Interval<uint128>* base = v6_.data() + v6_bucket_[b];
  size_t n = v6_bucket_[b + 1] - v6_bucket_[b] + 1;
  while (n > 1) {
    const size_t half = n / 2;
    base = (base[half].start <= a) ? base + half : base;
    n -= half;
  }
  return static_cast<size_t>(base - v6_.data());
}

const SubscriptionIndex::Cell& SubscriptionIndex::cell_for(const IpAddress& ip) const {
  if (ip.is_v4()) return cells_[v4_[locate_v4(ip.v4())].cell];
  if (v6_.empty()) return cells_[0];
  return cells_[v6_[locate_v6(ip.u128())].cell];
}

std::span<const uint32_t> SubscriptionIndex::orgs_for_ip(const IpAddress& ip, CidrMode mode) const {
  if (mode == CidrMode::kMostSpecific) return set(cell_for(ip).specific);
  if (ip.is_v4()) return all_of(v4_[locate_v4(ip.v4())]);
  if (v6_.empty()) return {};
  return all_of(v6_[locate_v6(ip.u128())]);
}

namespace {

// Advances `lanes` branchless binary searches in lock step (each base[k][0].start <= key[k]
// on entry), so that their cache misses overlap instead of queueing one after another.
template <typename Iv, typename K>
void interleaved_search(const Iv** base, const K* key, size_t* n, size_t lanes) {
  size_t steps = 0;
  for (size_t k = 0; k < lanes; ++k) {
    __builtin_prefetch(base[k] + n[k] / 2);
    steps = std::max(steps, n[k]);
  }
  while (steps > 1) {
    for (size_t k = 0; k < lanes; ++k) {
      const size_t half = n[k] / 2;  // 0 once this lane is done: a no-op step
      base[k] = (base[k][half].start <= key[k]) ? base[k] + half : base[k];
      n[k] -= half;
      __builtin_prefetch(base[k] + n[k] / 2);
    }
    steps -= steps / 2;
  }
}

}  // namespace

void SubscriptionIndex::orgs_for_ips(std::span<const IpAddress> ips,
                                     std::span<std::span<const uint32_t>> out,
                                     CidrMode mode) const {
  if (mode == CidrMode::kMostSpecific) {
    for (size_t i = 0; i < ips.size(); ++i) out[i] = orgs_for_ip(ips[i], mode);
    return;
  }
  constexpr size_t kGroup = 16;
  for (size_t i = 0; i < ips.size(); i += kGroup) {
    const size_t group = std::min(kGroup, ips.size() - i);
    const Interval<uint32_t>* base4[kGroup];
    uint32_t key4[kGroup];
    size_t n4[kGroup], pos4[kGroup], c4 = 0;
    const Interval<uint128>* base6[kGroup];
    uint128 key6[kGroup];
    size_t n6[kGroup], pos6[kGroup], c6 = 0;
    for (size_t k = 0; k < group; ++k) {
      const IpAddress& ip = ips[i + k];
      if (ip.is_v4()) {
        const uint32_t a = ip.v4();
        const uint32_t b = a >> (32 - kV4BucketBits);
        base4[c4] = v4_.data() + v4_bucket_[b];
        n4[c4] = v4_bucket_[b + 1] - v4_bucket_[b] + 1;
        key4[c4] = a;
        pos4[c4++] = i + k;
      } else if (v6_.empty()) {
        out[i + k] = {};
      } else {
        const uint128 a = ip.u128();
        const auto b = static_cast<size_t>(ip.hi() >> (64 - kV6BucketBits));
        base6[c6] = v6_.data() + v6_bucket_[b];
        n6[c6] = v6_bucket_[b + 1] - v6_bucket_[b] + 1;
        key6[c6] = a;
        pos6[c6++] = i + k;
      }
    }
    interleaved_search(base4, key4, n4, c4);
    interleaved_search(base6, key6, n6, c6);
    for (size_t k = 0; k < c4; ++k) out[pos4[k]] = all_of(*base4[k]);
    for (size_t k = 0; k < c6; ++k) out[pos6[k]] = all_of(*base6[k]);
  }
}

std::span<const uint32_t> SubscriptionIndex::orgs_ignoring(const IpAddress& ip) const {
  return set(cell_for(ip).ignore);
}

std::span<const uint32_t> SubscriptionIndex::orgs_for_asn(uint32_t asn) const {
  if (asn == 0 || asns_.empty()) return {};
  const size_t mask = asns_.size() - 1;
  for (size_t pos = asn_slot(asn, asns_.size());; pos = (pos + 1) & mask) {
    if (asns_[pos].asn == asn) return set(asns_[pos].set);
    if (asns_[pos].asn == 0) return {};
  }
}

std::span<const uint32_t> SubscriptionIndex::orgs_for_country(std::string_view cc) const {
  if (cc.size() != 2) return {};
  int a = lower(cc[0]) - 'a';
  int b = lower(cc[1]) - 'a';
  if (a < 0 || a >= 26 || b < 0 || b >= 26) return {};
  return set(country_sets_[static_cast<size_t>(a * 26 + b)]);
}

uint32_t SubscriptionIndex::probe(const std::vector<DomainSlot>& table, const std::string& pool,
                                  std::string_view name) const {
  if (table.empty() || name.empty()) return 0;
  const uint64_t h = hash_lower(name);
  const size_t mask = table.size() - 1;
  for (size_t pos = h & mask;; pos = (pos + 1) & mask) {
    const DomainSlot& s = table[pos];
    if (s.name_length == 0) return 0;
    if (s.hash == h &&
        equal_lower(std::string_view(pool).substr(s.name_offset, s.name_length), name)) {
      return s.set;
    }
  }
}

std::span<const uint32_t> SubscriptionIndex::orgs_for_domain(std::string_view name) const {
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);
  return set(probe(domains_, domain_pool_, name));
}

std::optional<uint32_t> SubscriptionIndex::dense_index(uint32_t org_id) const {
  for (size_t i = 0; i < orgs_.size(); ++i) {
    if (orgs_[i].org_id == org_id) return static_cast<uint32_t>(i);
  }
  return std::nullopt;
}

bool SubscriptionIndex::opted_out(uint32_t org, uint32_t type_id) const {
  const uint32_t* b = opt_out_types_.data() + opt_out_offsets_[org];
  const uint32_t* e = opt_out_types_.data() + opt_out_offsets_[org + 1];
  return std::binary_search(b, e, type_id);
}

std::span<const Match> SubscriptionIndex::match(const EventKeys& keys, MatchBuffer& buffer,
                                                CidrMode mode) const {
  auto& out = buffer.entries_;
  out.clear();
  if (out.capacity() < max_candidates_) out.reserve(max_candidates_);
  auto add = [&](std::span<const uint32_t> orgs, ReasonMask why) {
    for (uint32_t o : orgs) out.push_back({o, why});
  };
  std::span<const uint32_t> ignoring;
  if (keys.ip) {
    const Cell& c = cell_for(*keys.ip);
    add(set(mode == CidrMode::kMostSpecific ? c.specific : c.all), kReasonCidr);
    ignoring = set(c.ignore);
  }
  if (keys.asn != 0) add(orgs_for_asn(keys.asn), kReasonAsn);
  if (!keys.country.empty()) add(orgs_for_country(keys.country), kReasonGeo);
  if (!keys.hostname.empty() && !domains_.empty()) {
    std::string_view rest = keys.hostname;
    if (rest.back() == '.') rest.remove_suffix(1);
    while (!rest.empty()) {
      add(set(probe(domains_, domain_pool_, rest)), kReasonDomain);
      auto dot = rest.find('.');
      if (dot == std::string_view::npos) break;
      rest.remove_prefix(dot + 1);
    }
  }
  if (out.empty()) return {};

  // Merge duplicates (one org matched for several reasons). Candidate lists are usually
  // short, where insertion sort beats std::sort; neither allocates.
  if (out.size() > 24) {
    std::sort(out.begin(), out.end(), [](const Match& a, const Match& b) { return a.org < b.org; });
  }
  for (size_t i = 1; i < out.size(); ++i) {
    Match m = out[i];
    size_t j = i;
    while (j > 0 && out[j - 1].org > m.org) {
      out[j] = out[j - 1];
      --j;
    }
    out[j] = m;
  }
  uint32_t type_id = 0;
  if (!keys.report_type.empty()) type_id = probe(types_, type_pool_, keys.report_type);
  size_t w = 0;
  for (size_t r = 0; r < out.size(); ++r) {
    if (w > 0 && out[w - 1].org == out[r].org) {
      out[w - 1].why |= out[r].why;
      continue;
    }
    const uint32_t org = out[r].org;
    if (!ignoring.empty() && std::binary_search(ignoring.begin(), ignoring.end(), org)) continue;
    if (keys.severity < min_severity_[org]) continue;
    if (type_id != 0 && opted_out(org, type_id - 1)) continue;
    out[w++] = out[r];
  }
  // Filters depend only on the org, so every duplicate of a dropped org is dropped too.
  return {out.data(), w};
}

Result<bool> IndexHolder::refresh(registry::Registry& registry, const BuildOptions& options) {
  auto gen = registry.generation();
  if (!gen) return gen.error();
  auto cur = current();
  if (cur && cur->generation() == *gen) return false;
  auto snap = registry.snapshot(false);
  if (!snap) return snap.error();
  publish(SubscriptionIndex::build(specs_from_snapshot(*snap, options), snap->generation));
  return true;
}

}  // namespace vantage::match

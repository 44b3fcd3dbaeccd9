#pragma once
// The subscription index: which organisations must receive an event, and why.
//
// Built once from a registry snapshot into an immutable object, published as
// shared_ptr<const SubscriptionIndex> and swapped atomically when the registry changes
// (IndexHolder below), so pipeline workers read it without locks.
//
// Address matching follows n6's flattened interval approach: the start of every claimed and
// ignored prefix and the address just past its end are collected into one sorted boundary
// array per family; each elementary interval between two boundaries points to a precomputed
// cell of deduplicated organisation sets (every covering org, the most-specific covering
// orgs, the orgs that ignore the interval). A lookup is then one search in a sorted array,
// independent of how many organisations there are. IPv4 boundaries are a uint32 array; a
// 2^18-entry table indexed by the top 18 address bits narrows the branchless binary search
// to one bucket (IPv6: top 20 bits). Equal neighbouring intervals are merged.
//
// ASNs: an open-addressing hash table; countries: a 26x26 table; domains: a hash table of
// claimed names probed with every label-wise suffix of the event's hostname
// ("a.b.example.org" matches claims on "a.b.example.org", "b.example.org", "example.org",
// "org").
//
// Thread-safety: a built index is immutable; any number of threads may call its const
// methods concurrently. Each thread uses its own MatchBuffer.
// Allocation: lookups never allocate. match() writes into a caller-owned MatchBuffer whose
// capacity is reserved once for the index (see MatchBuffer), and returns a span into it.

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/ip.h"
#include "common/result.h"
#include "common/snapshot_holder.h"
#include "registry/model.h"

namespace vantage::registry {
class Registry;
}

namespace vantage::match {

using registry::Severity;

// Why an organisation receives an event. The names are those of the report file-name
// filter: <date>-<org>-<type>-<filter>.csv (asn, cidr, geo, domain). A bitmask because one
// org can match an event for several reasons. Bit i is store::MatchFilter value i
// (kAsn = 0, kCidr = 1, kGeo = 2, kDomain = 3), so `why & (1 << filter)` converts.
enum Reason : uint8_t { kReasonAsn = 1, kReasonCidr = 2, kReasonGeo = 4, kReasonDomain = 8 };
using ReasonMask = uint8_t;
// "asn", "cidr", "geo", "domain" joined by ',' in that order.
std::string reason_names(ReasonMask mask);

// How CIDR claims match: every org whose prefix covers the address (default, n6's
// behaviour), or only the org(s) holding the longest covering prefix.
enum class CidrMode : uint8_t { kAllCovering, kMostSpecific };

// Build input: one entry per organisation. Prefixes, ASNs, domains and countries are
// expected in canonical form (registry/validate.h); duplicates are harmless.
struct OrgSpec {
  uint32_t org_id = 0;  // the registry's id, carried through to results
  std::string short_name;
  Severity min_severity = Severity::kInfo;
  std::vector<std::string> opt_outs;  // report type names
  std::vector<IpPrefix> cidrs;
  std::vector<uint32_t> asns;
  std::vector<std::string> domains;    // lower-case, punycode
  std::vector<std::string> countries;  // ISO 3166 alpha-2, upper-case
  std::vector<IpPrefix> ignores;       // events from these addresses are not delivered
};

struct BuildOptions {
  // Only operator-approved claims match. Default: pending claims match too; rejected never.
  bool require_approval = false;
};

// Snapshot -> build input. Organisation order is the snapshot's (sorted by short name).
std::vector<OrgSpec> specs_from_snapshot(const registry::RegistrySnapshot& snapshot,
                                         const BuildOptions& options = {});

// The keys of one event. Absent keys: ip empty, asn 0, empty strings.
struct EventKeys {
  std::optional<IpAddress> ip;
  uint32_t asn = 0;
  std::string_view hostname;     // any case; one trailing dot ignored
  std::string_view country;      // two letters, any case
  std::string_view report_type;  // catalogue name; empty: no opt-out applies
  Severity severity = Severity::kInfo;
};

struct Match {
  uint32_t org = 0;  // dense index: SubscriptionIndex::org(org)
  ReasonMask why = 0;
};

struct OrgEntry {
  uint32_t org_id = 0;  // registry id
  std::string short_name;
  Severity min_severity = Severity::kInfo;
};

struct IndexStats {
  size_t organisations = 0;
  size_t prefixes_v4 = 0;
  size_t prefixes_v6 = 0;
  size_t intervals_v4 = 0;  // boundaries left after merging equal neighbours
  size_t intervals_v6 = 0;
  size_t distinct_sets = 0;
  size_t asns = 0;
  size_t domains = 0;
  size_t memory_bytes = 0;  // heap bytes held by the index
};

class SubscriptionIndex;

// Per-thread scratch space for match(). Constructed for an index it reserves the most
// candidates any event can produce there, so match() never allocates; used with a larger
// index later it grows once.
class MatchBuffer {
 public:
  MatchBuffer() = default;
  explicit MatchBuffer(const SubscriptionIndex& index);

 private:
  friend class SubscriptionIndex;
  std::vector<Match> entries_;
};

class SubscriptionIndex {
 public:
  static std::shared_ptr<const SubscriptionIndex> build(const std::vector<OrgSpec>& orgs,
                                                        uint64_t generation = 0);

  // Organisations that must receive the event, sorted by dense index, each with its
  // reasons, after ignore lists, report-type opt-outs and minimum severities. The span
  // stays valid until the next match() with the same buffer.
  std::span<const Match> match(const EventKeys& keys, MatchBuffer& buffer,
                               CidrMode mode = CidrMode::kAllCovering) const;

  // Single-key lookups, spans into the index (valid while the index lives), sorted dense
  // org indices. orgs_for_ip applies ignore lists; the others apply no filter.
  std::span<const uint32_t> orgs_for_ip(const IpAddress& ip,
                                        CidrMode mode = CidrMode::kAllCovering) const;
  std::span<const uint32_t> orgs_ignoring(const IpAddress& ip) const;
  // orgs_for_ip for many addresses at once (out.size() >= ips.size()). The searches of a
  // group of addresses advance in lock step so their cache misses overlap -- the pipeline
  // matches whole batches, and this is its fast path.
  void orgs_for_ips(std::span<const IpAddress> ips, std::span<std::span<const uint32_t>> out,
                    CidrMode mode = CidrMode::kAllCovering) const;
  std::span<const uint32_t> orgs_for_asn(uint32_t asn) const;
  std::span<const uint32_t> orgs_for_country(std::string_view cc) const;
  // Orgs claiming exactly this (canonical) name; suffix walking is match()'s job.
  std::span<const uint32_t> orgs_for_domain(std::string_view name) const;

  size_t org_count() const { return orgs_.size(); }
  const OrgEntry& org(uint32_t dense) const { return orgs_[dense]; }
  // The dense index of a registry id, if present.
  std::optional<uint32_t> dense_index(uint32_t org_id) const;
  uint64_t generation() const { return generation_; }
  const IndexStats& stats() const { return stats_; }
  // Upper bound on the entries match() can produce; MatchBuffer reserves this.
  size_t max_candidates() const { return max_candidates_; }

 private:
  friend class IndexBuilder;
  SubscriptionIndex() = default;

  // One elementary interval: where it starts, its cell, and the `all` set inline -- when
  // the set has one member (the common case) that member itself -- so that orgs_for_ip
  // finds its answer on the cache line where the search ended. 16 bytes for IPv4.
  template <typename K>
  struct Interval {
    K start;
    uint32_t cell;
    uint32_t count;  // members of the `all` set
    uint32_t value;  // count == 1: the org; otherwise the set id
  };
  template <typename T>
  struct HugePageAllocator {
    using value_type = T;
    HugePageAllocator() = default;
    template <typename U>
    HugePageAllocator(const HugePageAllocator<U>&) {}  // NOLINT
    T* allocate(size_t n);
    void deallocate(T* p, size_t) { std::free(p); }
    bool operator==(const HugePageAllocator&) const { return true; }
  };
  template <typename T>
  using BigVector = std::vector<T, HugePageAllocator<T>>;

  struct Cell {
    uint32_t all = 0;       // set id: covering claims, minus orgs ignoring the interval
    uint32_t specific = 0;  // set id: the longest covering claims among those
    uint32_t ignore = 0;    // set id: orgs ignoring the interval
  };
  struct DomainSlot {
    uint64_t hash = 0;
    uint32_t name_offset = 0;
    uint32_t name_length = 0;  // 0: empty slot
    uint32_t set = 0;
  };

  // A set id is the offset of the set's length word in set_members_; the members follow
  // it, so the length and the first members share a cache line.
  std::span<const uint32_t> set(uint32_t id) const {
    return {set_members_.data() + id + 1, set_members_[id]};
  }
  // Index of the interval holding `a` in v4_ / v6_.
  size_t locate_v4(uint32_t a) const;
  size_t locate_v6(uint128 a) const;
  const Cell& cell_for(const IpAddress& ip) const;
  // Set id for a name in one of the string tables, 0 if absent. `name` may be any case.
  uint32_t probe(const std::vector<DomainSlot>& table, const std::string& pool,
                 std::string_view name) const;
  bool opted_out(uint32_t org, uint32_t type_id) const;

  std::vector<OrgEntry> orgs_;
  // Hot per-org filter data apart from the names: 1 byte per org stays in cache.
  std::vector<Severity> min_severity_;
  // Flattened deduplicated org sets, each [length, members...]; set 0 is the empty set.
  BigVector<uint32_t> set_members_;
  std::vector<Cell> cells_;  // cell 0: nothing

  std::span<const uint32_t> all_of(const auto& iv) const {
    return iv.count == 1 ? std::span<const uint32_t>(&iv.value, 1) : set(iv.value);
  }

  // IPv4 intervals sorted by start (the first starts at 0), and per top-18-bit bucket the
  // index of the interval containing the bucket's first address.
  BigVector<Interval<uint32_t>> v4_;
  std::vector<uint32_t> v4_bucket_;
  // IPv6 (never consulted for IPv4 addresses), bucketed by the top 20 bits.
  BigVector<Interval<uint128>> v6_;
  std::vector<uint32_t> v6_bucket_;
  // ASN -> set id, open addressing with linear probing (one cache miss per lookup instead
  // of a binary search's ~17); key 0 marks an empty slot (AS0 is never claimed).
  struct AsnSlot {
    uint32_t asn;
    uint32_t set;
  };
  std::vector<AsnSlot> asns_;
  std::vector<uint32_t> country_sets_;  // 26*26
  std::vector<DomainSlot> domains_;     // open addressing, power-of-two size
  std::string domain_pool_;
  std::vector<DomainSlot> types_;  // report type name -> type id + 1 (in `set`)
  std::string type_pool_;
  std::vector<uint32_t> opt_out_offsets_;  // per org, into opt_out_types_ (sorted ids)
  std::vector<uint32_t> opt_out_types_;
  uint64_t generation_ = 0;
  size_t max_candidates_ = 0;
  IndexStats stats_;
};

// Publishes the current index to readers. current() takes a short lock (common/
// snapshot_holder.h); publish() swaps the whole index at once, so a reader sees the old or
// the new one, never a mix. Thread-safe.
class IndexHolder {
 public:
  std::shared_ptr<const SubscriptionIndex> current() const { return current_.load(); }
  void publish(std::shared_ptr<const SubscriptionIndex> index) { current_.store(std::move(index)); }
  // Rebuilds from `registry` when its generation differs from the published index's (or
  // nothing is published yet). Returns true if a new index was published.
  Result<bool> refresh(registry::Registry& registry, const BuildOptions& options = {});

 private:
  SnapshotHolder<SubscriptionIndex> current_;
};

}  // namespace vantage::match

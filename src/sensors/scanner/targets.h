#pragma once
// Address sets for the scanner: the built-in blocklist (conf/blocklist.conf, the IANA IPv4 and
// IPv6 special-purpose registries, compiled into the binary), the operator's opt-out file,
// `--allow-reserved` holes, and the resulting target space.
//
// Sets are sorted arrays of disjoint closed intervals over 128-bit addresses (IPv4 mapped into
// ::ffff:0:0/96 like common/ip.h), so membership is a binary search and set difference is a
// linear merge: a million-line opt-out list costs one sort, and no per-address work. The target
// space maps an index in [0, size) to an address by binary search over prefix sums (the
// masscan `pick()` idea), which is what the cyclic permutation needs.

#include <string>
#include <string_view>
#include <vector>

#include "common/ip.h"
#include "common/result.h"

namespace vantage::scanner {

using u128 = vantage::uint128;

class IntervalSet {
 public:
  struct Interval {
    u128 lo, hi;  // closed
  };
  void add(const IpPrefix& p);
  void add(u128 lo, u128 hi);
  // Sorts and merges; call after the last add and before any query.
  void normalise();
  bool contains(const IpAddress& a) const;
  IntervalSet minus(const IntervalSet& other) const;  // both normalised
  const std::vector<Interval>& intervals() const { return v_; }
  bool empty() const { return v_.empty(); }

 private:
  std::vector<Interval> v_;
};

// Parses a blocklist: one CIDR (or bare address) a line, `#` comments, blank lines ignored.
// `origin` names the source in error messages.
Result<IntervalSet> parse_blocklist(std::string_view text, std::string_view origin);

// The blocklist compiled from conf/blocklist.conf.
std::string_view builtin_blocklist_text();

// Targets after exclusion, addressable by index. Addresses (not ports) only.
class TargetSpace {
 public:
  // targets minus (builtin minus allow_reserved) minus optout.
  static TargetSpace make(const IntervalSet& targets, const IntervalSet& blocked);
  uint64_t size() const { return total_; }
  IpAddress at(uint64_t index) const;  // index < size()

 private:
  std::vector<IntervalSet::Interval> v_;
  std::vector<uint64_t> starts_;  // prefix sums
  uint64_t total_ = 0;
};

}  // namespace vantage::scanner

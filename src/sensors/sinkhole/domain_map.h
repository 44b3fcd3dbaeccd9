#pragma once
// The zones the sinkhole's DNS server is authoritative for, from the operator's domain file
// (conf/sinkhole/domains.txt; docs/sinkholes.md). One directive per line, '#' comments:
//
//   zone    sinkhole.example.net                      our own zone: the name servers live here
//   domain  c2-seized.example family=necurs [from=2026-01-01] [until=2027-01-01]
//                                          [expires=2026-11-30]
//   dga     necurs family=necurs seed=9 [count=2048] [tlds=com,net] [from=...] [until=...]
//                                          [expires=...]
//
//   * a `domain` is a sinkholed zone: every name at or under it is answered with the sinkhole
//     addresses, for `from`..`until` (the days it is delegated to us, inclusive; outside
//     them the server is not authoritative and refuses);
//   * a `dga` line names an algorithm of dga.h: the domains it generates for each date from
//     `from` to `until` are sinkholed zones on that date, give or take `slack_days` (bots'
//     clocks are wrong); undated algorithms give one list valid from..until;
//   * `expires` is the registration's expiry date, watched by the lifecycle watch;
//   * a `zone` is the sinkhole's own: its apex has NS and SOA, the name-server names under it
//     resolve to the sinkhole addresses, other names do not exist.
//
// A DomainMap is immutable and built for a window of days around `today`; the reloader builds
// a new one when the file changes or the day does, and swaps it in.

#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/result.h"
#include "common/time.h"
#include "sensors/sinkhole/dga.h"
#include "sensors/sinkhole/families.h"

namespace vantage::sinkhole {

struct ZoneEntry {
  enum class Kind : uint8_t { kOwn, kSinkholed };
  std::string apex;  // lower case, no trailing dot
  Kind kind = Kind::kSinkholed;
  uint16_t family = Families::kUnknown;
  int labels = 0;  // of the apex
  DayNumber from = std::numeric_limits<DayNumber>::min();
  DayNumber until = std::numeric_limits<DayNumber>::max();
  DayNumber expires = 0;   // 0: not given
  int line = 0;            // in the domain file
  bool generated = false;  // from a dga line

  bool active(DayNumber day) const { return day >= from && day <= until; }
};

struct DomainMapOptions {
  DayNumber today = 0;
  int slack_days = 2;
  size_t max_domains = 5'000'000;  // a typo in a count must not eat the machine
};

// A DGA line as written (for the watch and for `vantage sinkhole --list-domains`).
struct DgaLine {
  const DgaAlgorithm* algorithm = nullptr;
  DgaParams params;
  uint16_t family = Families::kUnknown;
  DayNumber from = std::numeric_limits<DayNumber>::min();
  DayNumber until = std::numeric_limits<DayNumber>::max();
  DayNumber expires = 0;
  int line = 0;
};

class DomainMap {
 public:
  static Result<std::shared_ptr<const DomainMap>> load_file(const std::string& path,
                                                            const Families& families,
                                                            const DomainMapOptions& options);
  static Result<std::shared_ptr<const DomainMap>> parse(std::string_view text,
                                                        const Families& families,
                                                        const DomainMapOptions& options);

  // The most specific zone containing `name` (lower-case presentation form, no trailing dot),
  // or null.
  const ZoneEntry* find(std::string_view name) const;

  const std::vector<ZoneEntry>& entries() const { return entries_; }
  const std::vector<DgaLine>& dga_lines() const { return dga_; }
  DayNumber built_for() const { return today_; }

 private:
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  Status add(ZoneEntry e, bool replace_generated);
  std::vector<ZoneEntry> entries_;
  std::unordered_map<std::string, uint32_t, Hash, std::equal_to<>> by_apex_;
  std::vector<DgaLine> dga_;
  DayNumber today_ = 0;
};

// Whether `name` is a host name the map can hold: labels of [a-z0-9-_], 1..63 bytes each,
// at most 253 in all, at least two labels.
bool valid_domain(std::string_view name);

}  // namespace vantage::sinkhole

#pragma once
// The remediation rule, as pure functions over days (docs/remediation.md).
//
// An issue is one (organisation, report type, subject) where the subject is "ip:port", "ip" or
// a domain. It is *seen* on the days the store holds an event for it. It counts as *fixed* once
// `fixed_after` scan cycles of its type have covered it without seeing it: the fix is dated at
// the first of those cycles (the first scan that no longer found it) and confirmed at the N-th.
// A type that was not scanned cannot make anything fixed: without cycles, an issue stays open
// however long it goes unseen. An issue seen again after it was declared fixed opens a new
// episode (a regression), so one issue can have several episodes.
//
// Days are UTC day numbers (common/time.h). Thread-safety: pure functions.

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/time.h"

namespace vantage::remediation {

struct Episode {
  DayNumber first_day = 0;  // first day seen in this episode
  DayNumber last_day = 0;   // last day seen in this episode
  // The first covering scan cycle after last_day (the first scan that no longer saw it);
  // set only once the fix is confirmed.
  std::optional<DayNumber> fixed_day;
  // The fixed_after-th covering cycle after last_day: when the fix was confirmed.
  std::optional<DayNumber> confirmed_day;

  bool open() const { return !fixed_day.has_value(); }
  // Days from first sighting to the fix; for an open episode, to `as_of`.
  int64_t days_open(DayNumber as_of) const {
    return static_cast<int64_t>(fixed_day ? *fixed_day : as_of) - first_day;
  }
  bool operator==(const Episode&) const = default;
};

// `sightings`: the days the issue was seen, ascending, no duplicates. `cycles`: the days on
// which a scan of the type covered the issue, ascending, no duplicates. Only cycles on
// or before `as_of` count. `fixed_after` >= 1.
std::vector<Episode> derive_episodes(std::span<const DayNumber> sightings,
                                     std::span<const DayNumber> cycles, int fixed_after,
                                     DayNumber as_of);

// Time-to-fix histogram buckets, in days (upper bounds inclusive; the last is open-ended).
inline constexpr std::array<int64_t, 7> kBucketUpper = {1, 3, 7, 14, 30, 90, INT64_MAX};
const char* bucket_label(size_t i);  // "1", "2-3", "4-7", "8-14", "15-30", "31-90", "91+"

// A distribution summary. Percentiles are nearest-rank (the smallest value with at least p%
// of the values at or below it), so every figure is a real time-to-fix that occurred.
struct Distribution {
  int64_t fixed = 0;  // episodes fixed
  double mean_days = 0;
  int64_t min_days = 0, p50_days = 0, p75_days = 0, p90_days = 0, max_days = 0;
  std::array<int64_t, kBucketUpper.size()> histogram{};
  int64_t open = 0;             // episodes still open
  int64_t open_median_age = 0;  // nearest-rank median of their days open
};

// `ttf`: time to fix in days -> number of fixed episodes; `open_age`: days open -> number of
// open episodes.
Distribution summarise(const std::map<int64_t, int64_t>& ttf,
                       const std::map<int64_t, int64_t>& open_age);

}  // namespace vantage::remediation

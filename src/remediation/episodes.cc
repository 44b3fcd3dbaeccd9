#include "remediation/episodes.h"

#include <algorithm>

namespace vantage::remediation {

std::vector<Episode> derive_episodes(std::span<const DayNumber> sightings,
                                     std::span<const DayNumber> cycles, int fixed_after,
                                     DayNumber as_of) {
  std::vector<Episode> out;
  if (sightings.empty()) return out;
  if (fixed_after < 1) fixed_after = 1;
  auto counted_end = std::upper_bound(cycles.begin(), cycles.end(), as_of);
  // The covering cycles strictly after `day` (and not after as_of), up to `limit`.
  auto after = [&](DayNumber day) {
    return std::span<const DayNumber>(std::upper_bound(cycles.begin(), counted_end, day),
                                      counted_end);
  };
  Episode cur{sightings.front(), sightings.front(), std::nullopt, std::nullopt};
  for (size_t i = 0; i < sightings.size(); ++i) {
    const DayNumber seen = sightings[i];
    cur.last_day = seen;
    auto later = after(seen);
    // Absent cycles between this sighting and the next one (or as_of for the last).
    size_t absent = later.size();
    if (i + 1 < sightings.size()) {
      const DayNumber next = sightings[i + 1];
      absent =
          static_cast<size_t>(std::lower_bound(later.begin(), later.end(), next) - later.begin());
    }
    if (absent >= static_cast<size_t>(fixed_after)) {
      cur.fixed_day = later[0];
      cur.confirmed_day = later[static_cast<size_t>(fixed_after) - 1];
      out.push_back(cur);
      if (i + 1 < sightings.size()) {
        cur = Episode{sightings[i + 1], sightings[i + 1], std::nullopt, std::nullopt};
      } else {
        return out;
      }
    }
  }
  out.push_back(cur);
  return out;
}

const char* bucket_label(size_t i) {
  static const char* const kLabels[] = {"1", "2-3", "4-7", "8-14", "15-30", "31-90", "91+"};
  return i < std::size(kLabels) ? kLabels[i] : "";
}

namespace {

// Nearest-rank percentile over a value -> count map holding `n` values in all.
int64_t percentile(const std::map<int64_t, int64_t>& counts, int64_t n, int pct) {
  if (n == 0) return 0;
  // rank = ceil(pct/100 * n), at least 1.
  int64_t rank = std::max<int64_t>(1, (static_cast<int64_t>(pct) * n + 99) / 100);
  int64_t seen = 0;
  for (const auto& [value, c] : counts) {
    seen += c;
    if (seen >= rank) return value;
  }
  return counts.rbegin()->first;
}

}  // namespace

Distribution summarise(const std::map<int64_t, int64_t>& ttf,
                       const std::map<int64_t, int64_t>& open_age) {
  Distribution d;
  double sum = 0;
  for (const auto& [days, c] : ttf) {
    if (c <= 0) continue;
    d.fixed += c;
    sum += static_cast<double>(days) * static_cast<double>(c);
    size_t b = 0;
    while (b + 1 < kBucketUpper.size() && days > kBucketUpper[b]) ++b;
    d.histogram[b] += c;
  }
  if (d.fixed > 0) {
    d.mean_days = sum / static_cast<double>(d.fixed);
    d.min_days = ttf.begin()->first;
    d.max_days = ttf.rbegin()->first;
    d.p50_days = percentile(ttf, d.fixed, 50);
    d.p75_days = percentile(ttf, d.fixed, 75);
    d.p90_days = percentile(ttf, d.fixed, 90);
  }
  for (const auto& [days, c] : open_age) d.open += c;
  d.open_median_age = percentile(open_age, d.open, 50);
  return d;
}

}  // namespace vantage::remediation

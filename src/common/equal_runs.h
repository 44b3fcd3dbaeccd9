#pragma once
// Sums of sorted deltas: the store counts one entry per event (or per group, with its count)
// and writes one row per distinct key with the sum, after sorting. This walks those runs of
// equal keys.

#include <cstddef>
#include <cstdint>

#include "common/result.h"

namespace vantage {

// For a sorted sequence of n elements whose keys are read through key_at(i) and whose counts
// through count_at(i), calls group(key, sum of the counts) once per run of equal keys, in
// order; stops at and returns the first error.
template <class KeyAt, class CountAt, class Group>
Status for_each_equal_run_sum(size_t n, KeyAt key_at, CountAt count_at, Group group) {
  for (size_t i = 0; i < n;) {
    const auto first = key_at(i);
    int64_t sum = 0;
    size_t j = i;
    for (; j < n && key_at(j) == first; ++j) sum += count_at(j);
    if (Status st = group(first, sum); !st) return st;
    i = j;
  }
  return {};
}

// The same where each element counts once: group(element, run length).
template <class At, class Group>
Status for_each_equal_run(size_t n, At at, Group group) {
  return for_each_equal_run_sum(
      n, at, [](size_t) { return int64_t{1}; }, group);
}

}  // namespace vantage

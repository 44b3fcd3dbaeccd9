#pragma once
// Sums of sorted deltas: the store counts one entry per event and writes one row per distinct
// key with its count, after sorting. This walks those runs of equal keys.

#include <cstddef>
#include <cstdint>

#include "common/result.h"

namespace vantage {

// For a sorted sequence of n elements read through at(i), calls group(element, count) once
// per run of equal elements, in order; stops at and returns the first error.
template <class At, class Group>
Status for_each_equal_run(size_t n, At at, Group group) {
  for (size_t i = 0; i < n;) {
    const auto first = at(i);
    size_t j = i + 1;
    while (j < n && at(j) == first) ++j;
    if (Status st = group(first, static_cast<int64_t>(j - i)); !st) return st;
    i = j;
  }
  return {};
}

}  // namespace vantage

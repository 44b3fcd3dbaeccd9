#pragma once
// A stable LSD radix sort by a 64-bit key, for the store's large in-memory sorts (millions of
// spool entries per flush): several times faster than std::sort with a multi-field
// comparator, which was a fifth of the writer's time.

#include <algorithm>
#include <cstdint>
#include <vector>

namespace vantage {

struct KeyValue {
  uint64_t key = 0;
  uint64_t value = 0;
};

// Sorts `v` by key(element); elements with equal keys keep their order. `scratch` is reused
// memory (it ends up holding garbage of v's size).
template <class T, class KeyOf>
void radix_sort(std::vector<T>& v, std::vector<T>& scratch, KeyOf key) {
  if (v.size() < 2048) {
    std::stable_sort(v.begin(), v.end(), [&](const T& a, const T& b) { return key(a) < key(b); });
    return;
  }
  constexpr int kDigitBits = 16;
  constexpr uint64_t kMask = (uint64_t{1} << kDigitBits) - 1;
  std::vector<size_t> count(size_t{1} << kDigitBits);
  scratch.resize(v.size());
  for (int shift = 0; shift < 64; shift += kDigitBits) {
    std::fill(count.begin(), count.end(), 0);
    for (const auto& e : v) ++count[(key(e) >> shift) & kMask];
    // A digit every key shares does not reorder anything: skip the pass.
    if (count[(key(v.front()) >> shift) & kMask] == v.size()) continue;
    size_t sum = 0;
    for (auto& c : count) {
      size_t n = c;
      c = sum;
      sum += n;
    }
    for (const auto& e : v) scratch[count[(key(e) >> shift) & kMask]++] = e;
    v.swap(scratch);
  }
}

inline void radix_sort_by_key(std::vector<KeyValue>& v, std::vector<KeyValue>& scratch) {
  radix_sort(v, scratch, [](const KeyValue& kv) { return kv.key; });
}

inline void radix_sort(std::vector<uint64_t>& v, std::vector<uint64_t>& scratch) {
  radix_sort(v, scratch, [](uint64_t k) { return k; });
}

}  // namespace vantage

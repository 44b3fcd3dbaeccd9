#include "common/radix_sort.h"

#include <gtest/gtest.h>

#include <random>

namespace vantage {
namespace {

// Above and below the size where it switches to std::stable_sort; keys with few distinct
// values (so ties are many and stability shows) and keys spread over all 64 bits.
TEST(RadixSortTest, SortsByKeyAndKeepsTheOrderOfTies) {
  std::mt19937_64 rng(3);
  for (size_t n : {0, 1, 100, 2047, 2048, 50000}) {
    for (uint64_t spread : {uint64_t{7}, ~uint64_t{0}}) {
      std::vector<KeyValue> v(n);
      for (size_t i = 0; i < n; ++i) v[i] = {rng() & spread, i};
      auto expected = v;
      std::stable_sort(expected.begin(), expected.end(),
                       [](const KeyValue& a, const KeyValue& b) { return a.key < b.key; });
      std::vector<KeyValue> scratch;
      radix_sort_by_key(v, scratch);
      ASSERT_EQ(v.size(), expected.size());
      for (size_t i = 0; i < n; ++i) {
        ASSERT_EQ(v[i].key, expected[i].key) << "n=" << n << " i=" << i;
        ASSERT_EQ(v[i].value, expected[i].value) << "n=" << n << " i=" << i;
      }
    }
  }
}

}  // namespace
}  // namespace vantage

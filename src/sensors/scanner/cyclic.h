#pragma once
// Target order: ZMap's cyclic-group permutation (Durumeric, Wustrow, Halderman, "ZMap: Fast
// Internet-wide Scanning and its Security Applications", USENIX Security 2013, section 2.1).
// For N targets take the smallest prime p > N; the multiplicative group (Z/pZ)* is cyclic of
// order p-1, so for a generator g the sequence g^s, g^(s+1), ... visits every value 1..p-1
// exactly once. Value v maps to target index v-1 and values above N are skipped. State is
// one 64-bit element, and shard i of n takes the exponents congruent to i mod n, i.e. starts
// at g^(s+i) and multiplies by g^n: the shards are disjoint and together complete without
// coordination, as long as every shard uses the same seed.

#include <cstdint>
#include <optional>

#include "common/result.h"

namespace vantage::scanner {

// Smallest prime strictly greater than n (n < 2^40).
uint64_t next_prime(uint64_t n);

// A random generator of (Z/pZ)* drawn from `seed` (p prime).
uint64_t find_generator(uint64_t p, uint64_t seed);

class CyclicPermutation {
 public:
  // Permutation of [0, n) for shard `shard` of `shards` (0 <= shard < shards), order fixed
  // by `seed`. n must be in [1, 2^40).
  static Result<CyclicPermutation> make(uint64_t n, uint64_t seed, uint32_t shard = 0,
                                        uint32_t shards = 1);

  // The next target index of this shard, or nullopt when the shard is exhausted.
  std::optional<uint64_t> next();

  uint64_t prime() const { return p_; }
  uint64_t generator() const { return g_; }

 private:
  uint64_t n_ = 0, p_ = 0, g_ = 0, step_ = 0, current_ = 0, remaining_ = 0;
};

uint64_t mulmod(uint64_t a, uint64_t b, uint64_t m);
uint64_t powmod(uint64_t b, uint64_t e, uint64_t m);

}  // namespace vantage::scanner

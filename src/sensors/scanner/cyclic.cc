#include "sensors/scanner/cyclic.h"

#include <random>
#include <vector>

#include "common/ip.h"

namespace vantage::scanner {

uint64_t mulmod(uint64_t a, uint64_t b, uint64_t m) {
  return static_cast<uint64_t>(static_cast<vantage::uint128>(a) * b % m);
}

uint64_t powmod(uint64_t b, uint64_t e, uint64_t m) {
  uint64_t r = 1 % m;
  b %= m;
  while (e) {
    if (e & 1) r = mulmod(r, b, m);
    b = mulmod(b, b, m);
    e >>= 1;
  }
  return r;
}

namespace {

// Trial division is enough: p < 2^41, so sqrt(p) < 2^21.
bool is_prime(uint64_t n) {
  if (n < 2) return false;
  if (n % 2 == 0) return n == 2;
  for (uint64_t d = 3; d * d <= n; d += 2)
    if (n % d == 0) return false;
  return true;
}

std::vector<uint64_t> prime_factors(uint64_t n) {
  std::vector<uint64_t> out;
  for (uint64_t d = 2; d * d <= n; ++d) {
    if (n % d == 0) {
      out.push_back(d);
      while (n % d == 0) n /= d;
    }
  }
  if (n > 1) out.push_back(n);
  return out;
}

}  // namespace

uint64_t next_prime(uint64_t n) {
  uint64_t p = n + 1;
  while (!is_prime(p)) ++p;
  return p;
}

uint64_t find_generator(uint64_t p, uint64_t seed) {
  if (p == 2) return 1;
  const auto factors = prime_factors(p - 1);
  std::mt19937_64 rng(seed);
  for (;;) {
    // g is a generator iff g^((p-1)/q) != 1 for every prime q dividing p-1.
    const uint64_t g = 2 + rng() % (p - 2 > 0 ? p - 2 : 1);
    if (g >= p) continue;
    bool ok = true;
    for (uint64_t q : factors)
      if (powmod(g, (p - 1) / q, p) == 1) {
        ok = false;
        break;
      }
    if (ok) return g;
  }
}

Result<CyclicPermutation> CyclicPermutation::make(uint64_t n, uint64_t seed, uint32_t shard,
                                                  uint32_t shards) {
  if (n == 0 || n >= (uint64_t{1} << 40)) return Error::invalid("target count out of range");
  if (shards == 0 || shard >= shards) return Error::invalid("shard must be i/n with 0 <= i < n");
  CyclicPermutation c;
  c.n_ = n;
  c.p_ = next_prime(n);
  c.g_ = find_generator(c.p_, seed);
  const uint64_t order = c.p_ - 1;
  std::mt19937_64 rng(seed ^ 0x5bd1e995ull);
  const uint64_t start = rng() % order;
  c.current_ = powmod(c.g_, start + shard, c.p_);
  c.step_ = powmod(c.g_, shards, c.p_);
  // Exponents k in [0, order) with k = shard mod shards.
  c.remaining_ = shard < order ? (order - shard + shards - 1) / shards : 0;
  return c;
}

std::optional<uint64_t> CyclicPermutation::next() {
  while (remaining_ > 0) {
    const uint64_t v = current_;
    current_ = mulmod(current_, step_, p_);
    --remaining_;
    if (v - 1 < n_) return v - 1;
  }
  return std::nullopt;
}

}  // namespace vantage::scanner

#pragma once
// A stable 64-bit non-cryptographic hash for deterministic ids (the event dedup key must be
// the same on every machine and in every release, so std::hash is unusable). MurmurHash64A
// (Austin Appleby, public domain), fed incrementally.

#include <cstdint>
#include <cstring>
#include <string_view>

namespace vantage {

class Hash64 {
 public:
  explicit Hash64(uint64_t seed = 0x9E3779B97F4A7C15ull) : h_(seed) {}

  // Mixes `bytes` and then its length, so ("ab","c") and ("a","bc") differ.
  void add(std::string_view bytes) {
    const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
    size_t n = bytes.size();
    while (n >= 8) {
      uint64_t k;
      std::memcpy(&k, p, 8);
      mix(k);
      p += 8;
      n -= 8;
    }
    uint64_t tail = 0;
    for (size_t i = 0; i < n; ++i) tail |= uint64_t{p[i]} << (8 * i);
    mix(tail ^ (uint64_t{n} << 56));
  }
  void add_u64(uint64_t v) { mix(v); }

  uint64_t finish() const {
    uint64_t h = h_;
    h ^= h >> 47;
    h *= kM;
    h ^= h >> 47;
    return h;
  }

 private:
  static constexpr uint64_t kM = 0xc6a4a7935bd1e995ull;
  void mix(uint64_t k) {
    k *= kM;
    k ^= k >> 47;
    k *= kM;
    h_ ^= k;
    h_ *= kM;
  }
  uint64_t h_;
};

}  // namespace vantage

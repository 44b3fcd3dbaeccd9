#include "sensors/sinkhole/dga.h"

namespace vantage::sinkhole {

namespace {

__extension__ typedef unsigned __int128 u128;

// Necurs (2014-): J. Bader, "The DGAs of Necurs" (johannesbader.ch, 2015-02). A 64-bit mixing
// function applied to year, month, day/4, the sequence number and a per-build magic number;
// 2048 domains per 4-day block of the month, 7-21 letters from a-y, one of 43 TLDs. The
// mixer's input may exceed 64 bits by a carry (the reference does unbounded arithmetic), and
// the right shift sees that carry, so inputs are 128-bit here.
uint64_t necurs_mix(u128 value) {
  uint64_t loops = static_cast<uint64_t>(value & 0x7F) + 21;
  uint64_t lo = static_cast<uint64_t>(value);
  uint64_t shifted = static_cast<uint64_t>(value >> 5);
  for (uint64_t i = 0; i < loops; ++i) {
    lo = lo + ((lo * 7) ^ (lo << 15)) + 8 * i - shifted;
    shifted = lo >> 5;
  }
  return lo;
}

const std::vector<std::string>& necurs_tlds() {
  static const std::vector<std::string> t{
      "tj", "in", "jp", "tw",  "ac",  "cm",  "la",  "mn",  "so",  "sh", "sc",
      "nu", "nf", "mu", "ms",  "mx",  "ki",  "im",  "cx",  "cc",  "tv", "bz",
      "me", "eu", "de", "ru",  "co",  "su",  "pw",  "kz",  "sx",  "us", "ug",
      "ir", "to", "ga", "com", "net", "org", "biz", "xxx", "pro", "bit"};
  return t;
}

void necurs(const DgaParams& p, DayNumber day, std::vector<std::string>& out) {
  int year = 0;
  unsigned month = 0, dom = 0;
  civil_from_days(day, year, month, dom);
  const auto& tlds = p.tlds.empty() ? necurs_tlds() : p.tlds;
  int count = p.count > 0 ? p.count : 2048;
  for (int seq = 0; seq < count; ++seq) {
    uint64_t n = necurs_mix(static_cast<u128>(year));
    n = necurs_mix(u128{n} + month + 43690);
    n = necurs_mix(u128{n} + (dom >> 2));
    n = necurs_mix(u128{n} + static_cast<uint64_t>(seq));
    n = necurs_mix(u128{n} + p.seed);
    uint64_t length = n % 15 + 7;
    std::string name;
    for (uint64_t i = 0; i < length; ++i) {
      n = necurs_mix(u128{n} + i);
      name.push_back(static_cast<char>('a' + n % 25));
      n = necurs_mix(u128{n} + 0xABBEDF);
    }
    name += "." + tlds[n % (p.tlds.empty() ? 43 : tlds.size())];
    out.push_back(std::move(name));
  }
}

// Ramnit: J. Bader, "The DGA of Ramnit" (johannesbader.ch, 2014-12). A Park-Miller style
// generator (16807, Schrage's decomposition) seeded per campaign; not date based: a seed gives
// one fixed list, rotating through the campaign's TLDs.
void ramnit(const DgaParams& p, DayNumber, std::vector<std::string>& out) {
  uint32_t value = static_cast<uint32_t>(p.seed);
  auto next = [&](uint32_t modulus) {
    int64_t ix = value;
    ix = 16807 * (ix % 127773) - 2836 * (ix / 127773);
    value = static_cast<uint32_t>(static_cast<uint64_t>(ix) & 0xFFFFFFFFu);
    return value % modulus;
  };
  static const std::vector<std::string> kCom{"com"};
  const auto& tlds = p.tlds.empty() ? kCom : p.tlds;
  int count = p.count > 0 ? p.count : 1000;
  for (int i = 0; i < count; ++i) {
    uint64_t seed_a = value;
    uint32_t length = next(12) + 8;
    uint64_t seed_b = value;
    std::string name;
    for (uint32_t j = 0; j < length; ++j) name.push_back(static_cast<char>('a' + next(25)));
    name += "." + tlds[static_cast<size_t>(i) % tlds.size()];
    uint64_t m = seed_a * seed_b;
    value = static_cast<uint32_t>(m + (m >> 32));
    out.push_back(std::move(name));
  }
}

}  // namespace

const std::vector<DgaAlgorithm>& dga_algorithms() {
  static const std::vector<DgaAlgorithm> algorithms{
      {"necurs", true, 2048, "https://johannesbader.ch/blog/the-dgas-of-necurs/", necurs},
      {"ramnit", false, 1000, "https://johannesbader.ch/blog/the-dga-of-ramnit/", ramnit},
  };
  return algorithms;
}

const DgaAlgorithm* find_dga(std::string_view name) {
  for (const auto& a : dga_algorithms())
    if (a.name == name) return &a;
  return nullptr;
}

}  // namespace vantage::sinkhole

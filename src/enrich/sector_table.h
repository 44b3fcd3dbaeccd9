#pragma once
// Operator-maintained sector/NAICS table: which industry an address belongs to, keyed by
// origin ASN or by CIDR. File format (CSV, UTF-8; `#` comments and blank lines ignored; an
// optional header row starting with `asn_or_cidr`):
//
//   asn_or_cidr,naics,sector
//   AS64500,517311,Communications       # every address originated by AS64500
//   64501,611310,Education              # "AS" is optional
//   192.0.2.0/24,622110,Healthcare       # a CIDR beats an ASN; the longest CIDR wins
//   2001:db8::/32,,Government            # naics may be empty (0 = unknown)
//
// Lookup order: the most specific CIDR containing the address, else the address's ASN.
// Duplicate keys are an error (the operator must say which one they meant), as are bad
// CIDRs, NAICS codes that are not 2-6 digits, and rows without exactly three fields; errors
// carry path:line.
//
// Thread-safety: immutable after load(); concurrent lookups are safe.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/ip.h"
#include "common/result.h"

namespace vantage::enrich {

struct SectorInfo {
  uint32_t naics = 0;       // 0 = unknown (written as empty, like asn 0)
  std::string_view sector;  // into the table: valid while the table lives
};

class SectorTable {
 public:
  static Result<std::shared_ptr<const SectorTable>> load(const std::string& path);
  static Result<std::shared_ptr<const SectorTable>> parse(std::string_view text,
                                                          const std::string& source_name);

  // `asn` is the address's origin ASN (0 if unknown). Returns nullptr if nothing matches.
  const SectorInfo* lookup(const IpAddress& a, uint32_t asn) const;

  size_t asn_entries() const { return by_asn_.size(); }
  size_t cidr_entries() const { return cidr_count_; }

 private:
  SectorTable() = default;
  struct PrefixKey {
    uint64_t hi, lo;
    bool operator==(const PrefixKey&) const = default;
  };
  struct PrefixHash {
    size_t operator()(const PrefixKey& k) const {
      return std::hash<uint64_t>()(k.hi * 0x9E3779B97F4A7C15ULL ^ k.lo);
    }
  };
  std::vector<std::string> sectors_;  // stable storage: entries point into these strings
  std::unordered_map<uint32_t, SectorInfo> by_asn_;
  // One map per prefix length (in 128-bit terms), longest first, probed in order.
  std::vector<std::pair<int, std::unordered_map<PrefixKey, SectorInfo, PrefixHash>>> by_len_;
  size_t cidr_count_ = 0;
};

}  // namespace vantage::enrich

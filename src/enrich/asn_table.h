#pragma once
// IP-to-ASN table: the routing data (@ip-location-db/asn: RouteViews + RIR + DB-IP) held in
// memory as flattened, sorted, non-overlapping ranges in struct-of-arrays form, IPv4 as
// uint32 arrays and IPv6 as 128-bit arrays; a 65,536-bucket index on the top 16 bits of
// each family narrows every binary search to a few hundred bytes.
//
// Input: CSV rows `first_ip,last_ip,asn,"AS name"` (quoted names may contain commas and "").
// Rows may be in any order and may overlap (the upstream data has known overlaps). Overlaps
// are resolved deterministically, address by address:
//   the covering row with the FEWEST addresses wins (the more specific announcement),
//   ties go to the LOWER ASN, then to the row that appears first.
// The winner's rows are then cut into the disjoint segments where they win, so a lookup
// answers with the segment [first,last] over which that answer holds. Rows with ASN 0
// (RFC 7607: "not routed") are skipped and counted.
//
// Errors: unreadable files and malformed rows fail the load with "path:line: reason"; a
// file with no rows at all is treated as truncated and fails too.
//
// Thread-safety: immutable after load(); share it as shared_ptr<const AsnTable> and call
// lookups from any number of threads.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/ip.h"
#include "common/result.h"

namespace vantage::enrich {

struct AsnRecord {
  uint32_t asn = 0;
  std::string_view name;  // into the table's name pool: valid while the table lives
  IpAddress first;        // the segment over which this answer holds (inclusive)
  IpAddress last;
};

struct AsnLoadStats {
  size_t rows = 0;                            // data rows read, all files
  size_t skipped_asn0 = 0;                    // rows with ASN 0
  size_t overlapping_rows = 0;                // rows that overlap an earlier-sorted row
  std::vector<std::string> overlap_examples;  // up to 5, "file:line a-b ASx vs file:line ..."
  size_t v4_segments = 0;
  size_t v6_segments = 0;
  size_t distinct_names = 0;
};

class AsnTable {
 public:
  static constexpr uint32_t kNone = UINT32_MAX;

  // Loads the IPv4 and IPv6 files (either path may be empty to skip that family; rows are
  // routed by the family of their addresses, whichever file they are in). Logs a warning
  // with the count and a few examples when rows overlap.
  static Result<std::shared_ptr<const AsnTable>> load(const std::string& v4_path,
                                                      const std::string& v6_path);
  // Same, from CSV text already in memory; `source_name` is used in error messages.
  static Result<std::shared_ptr<const AsnTable>> parse(
      const std::vector<std::pair<std::string, std::string_view>>& named_texts);

  // Hot path: the index of the segment covering `a`, or kNone. Use the accessors below.
  uint32_t find(const IpAddress& a) const {
    return a.is_v4() ? find_v4(a.v4()) : find_v6(a.u128());
  }
  uint32_t find_v4(uint32_t a) const;
  uint32_t find_v6(uint128 a) const;
  uint32_t asn_at(uint32_t idx) const;
  std::string_view name_at(uint32_t idx) const;
  AsnRecord record_at(uint32_t idx) const;

  // Convenience: {asn, name, segment} for `a`, or nullopt if no row covers it.
  std::optional<AsnRecord> lookup(const IpAddress& a) const;

  // Every segment that overlaps `prefix`, in address order, clipped to nothing: the
  // segments are returned whole so the caller sees where each announcement starts and
  // ends. The registry uses this to check that a claimed CIDR is originated by a claimed
  // ASN (all of it, part of it, or by someone else).
  std::vector<AsnRecord> overlapping(const IpPrefix& prefix) const;

  const AsnLoadStats& stats() const { return stats_; }
  size_t v4_size() const { return v4_first_.size(); }
  size_t v6_size() const { return v6_first_.size(); }
  // Heap bytes held by the lookup arrays and the name pool.
  size_t memory_bytes() const;

 private:
  AsnTable() = default;
  std::string_view name_of(uint32_t name_id) const {
    return std::string_view(names_).substr(name_off_[name_id], name_len_[name_id]);
  }

  // IPv4: segment i covers [v4_first_[i], v4_last_[i]]; sorted, disjoint.
  std::vector<uint32_t> v4_first_, v4_last_, v4_asn_, v4_name_;
  // v4_bucket_[b] = index of the first segment with first >= b << 16 (b in 0..65536).
  std::vector<uint32_t> v4_bucket_;
  std::vector<uint128> v6_first_, v6_last_;
  // v6_bucket_[b] = index of the first segment whose first address has top-16 bits >= b.
  std::vector<uint32_t> v6_bucket_;
  std::vector<uint32_t> v6_asn_, v6_name_;
  std::string names_;  // the deduplicated name pool
  std::vector<uint32_t> name_off_, name_len_;
  AsnLoadStats stats_;
};

}  // namespace vantage::enrich

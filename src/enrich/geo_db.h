#pragma once
// Geolocation through libmaxminddb: country code, region (subdivision) and city for an
// address, from either record layout found in the wild:
//   kFlat    DB-IP Lite as repackaged by @ip-location-db: top-level `country_code`,
//            `state1` (region), `city`.
//   kMaxMind GeoLite2/GeoIP2 (and DB-IP's own MMDBs): `country.iso_code`,
//            `subdivisions.0.names.en`, `city.names.en`.
// kAuto picks from metadata.database_type ("GeoIP2-*", "GeoLite2-*", "DBIP-*" are MaxMind
// layout; anything else, e.g. "city ipv4", is flat).
//
// The file is mmap'ed (MMDB_MODE_MMAP) and never modified in place by a well-behaved
// updater (they rename a new file over the old one), so the string_views a lookup returns
// point into the mapping and stay valid while this GeoDb lives.
//
// Thread-safety: immutable after open(); concurrent lookups are safe (libmaxminddb lookups
// only read the MMDB_s).

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/ip.h"
#include "common/result.h"

struct MMDB_s;

namespace vantage::enrich {

enum class GeoLayout { kAuto, kFlat, kMaxMind };
const char* geo_layout_name(GeoLayout layout);
// "auto", "flat" (or "dbip-flat"), "maxmind" (or "geolite2").
Result<GeoLayout> parse_geo_layout(std::string_view text);

struct GeoRecord {
  char country[3] = {0, 0, 0};  // ISO 3166-1 alpha-2, NUL-terminated; empty if unknown
  std::string_view region;      // into the mapped file
  std::string_view city;
};

// How lookups are answered.
//   kMmdb       libmaxminddb per lookup: tree walk plus three path lookups in the data
//               section (~1 µs). Opening is instant and costs no memory beyond the mapping.
//   kFlattened  at open, the whole search tree is walked once and turned into sorted,
//               disjoint ranges (adjacent networks with the same country/region/city merged)
//               pointing at deduplicated records; a lookup is then one bucketed binary
//               search (~100-300 ns on the real data, mostly cache misses). Opening takes
//               a few seconds per real database and 40-85 MiB of heap; every record is decoded at
//               open, so a corrupt data section fails the open instead of individual lookups.
enum class GeoIndex { kMmdb, kFlattened };

class GeoDb {
 public:
  // Opens and validates the metadata. Errors name the path and libmaxminddb's reason
  // (a truncated or corrupt file fails here: the metadata sits at the end of the file).
  static Result<std::unique_ptr<GeoDb>> open(const std::string& path,
                                             GeoLayout layout = GeoLayout::kAuto,
                                             GeoIndex index = GeoIndex::kMmdb);
  ~GeoDb();
  GeoDb(const GeoDb&) = delete;
  GeoDb& operator=(const GeoDb&) = delete;

  // Fills `out` and returns true if the database has a record for `a`. Returns false for
  // "not found", for an IPv6 address in an IPv4-only database, and for a record that fails
  // to decode (counted in decode_errors(): a corrupt data section is data, not a crash).
  bool lookup(const IpAddress& a, GeoRecord& out) const;

  int ip_version() const { return ip_version_; }  // 4 or 6
  GeoLayout layout() const { return layout_; }
  const std::string& database_type() const { return database_type_; }
  const std::string& path() const { return path_; }
  uint64_t build_epoch() const { return build_epoch_; }
  uint64_t decode_errors() const { return decode_errors_.load(std::memory_order_relaxed); }
  GeoIndex index() const { return flat_ ? GeoIndex::kFlattened : GeoIndex::kMmdb; }
  // Flattened index only: number of ranges and distinct records, heap bytes.
  size_t flat_ranges() const;
  size_t flat_records() const;
  size_t flat_memory_bytes() const;

 private:
  struct Flat;
  GeoDb() = default;
  bool lookup_mmdb(const IpAddress& a, GeoRecord& out) const;
  Status flatten();
  std::unique_ptr<Flat> flat_;
  std::unique_ptr<MMDB_s> db_;
  std::string path_;
  std::string database_type_;
  GeoLayout layout_ = GeoLayout::kFlat;
  int ip_version_ = 6;
  uint64_t build_epoch_ = 0;
  mutable std::atomic<uint64_t> decode_errors_{0};
};

}  // namespace vantage::enrich

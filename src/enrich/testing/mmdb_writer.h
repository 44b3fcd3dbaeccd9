#pragma once
// A minimal MaxMind DB (MMDB) writer for tests and benchmarks, written from the MaxMind DB
// File Format Specification 2.0: binary search tree (24, 28 or 32-bit records), 16-byte
// separator, data section, "\xAB\xCD\xEFMaxMind.com" marker and metadata map. It lets unit
// tests build tiny databases in both record layouts the enricher reads (DB-IP flat and
// MaxMind GeoLite2) instead of downloading real ones.
//
// Not for production: no pointer compression or value deduplication, the whole tree is
// held in memory, and a prefix inserted after a more specific one overwrites it (insert()
// sorts nothing; serialize() applies prefixes shortest first).
// Thread-safety: none; one writer per thread.

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "common/ip.h"
#include "common/result.h"

namespace vantage::enrich::testing {

class MmdbValue {
 public:
  enum class Kind { kString, kDouble, kUint16, kUint32, kUint64, kBool, kMap, kArray };
  static MmdbValue str(std::string s);
  static MmdbValue dbl(double d);
  static MmdbValue u16(uint16_t v);
  static MmdbValue u32(uint32_t v);
  static MmdbValue u64(uint64_t v);
  static MmdbValue boolean(bool b);
  static MmdbValue map(std::vector<std::pair<std::string, MmdbValue>> entries);
  static MmdbValue array(std::vector<MmdbValue> items);

  // Appends the encoded value (control byte(s), size, payload) to `out`.
  void encode(std::string& out) const;

 private:
  Kind kind_ = Kind::kString;
  std::string s_;
  double d_ = 0;
  uint64_t u_ = 0;
  std::vector<std::pair<std::string, MmdbValue>> map_;
  std::vector<MmdbValue> array_;
};

// Record values as the two geolocation layouts carry them.
MmdbValue dbip_flat_record(const std::string& country, const std::string& region,
                           const std::string& city);
MmdbValue geolite2_record(const std::string& country, const std::string& region,
                          const std::string& city);

struct MmdbWriterOptions {
  int ip_version = 6;    // 4: a 32-bit tree (IPv6 prefixes rejected); 6: 128-bit tree
  int record_size = 28;  // 24, 28 or 32
  std::string database_type = "city ipv4";
  std::vector<std::string> languages;
  std::string description = "Vantage test database";
  uint64_t build_epoch = 1700000000;
};

class MmdbWriter {
 public:
  explicit MmdbWriter(MmdbWriterOptions options) : options_(std::move(options)) {}
  // In an IPv6 tree an IPv4 prefix goes under ::/96, as in MaxMind's own databases.
  Status insert(const IpPrefix& prefix, MmdbValue value);
  Result<std::string> serialize() const;
  Status write(const std::string& path) const;

 private:
  MmdbWriterOptions options_;
  std::vector<std::pair<IpPrefix, MmdbValue>> entries_;
};

}  // namespace vantage::enrich::testing

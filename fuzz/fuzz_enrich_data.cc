// Fuzzes the enrichment data loaders, which read files fetched from the network:
//   byte 0 % 3 == 0: ASN range CSV (AsnTable::parse). Property: the segments are sorted and
//                    disjoint, and looking up each segment's first and last address returns
//                    that segment.
//   byte 0 % 3 == 1: sector table CSV (SectorTable::parse): no crash, lookups on a few
//                    addresses.
//   byte 0 % 3 == 2: an MMDB file (GeoDb::open, both indexes). Property: the flattened walk
//                    terminates, and when both indexes open, they answer alike.

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "enrich/asn_table.h"
#include "enrich/geo_db.h"
#include "enrich/sector_table.h"

using namespace vantage;
using namespace vantage::enrich;

namespace {

void check_asn(std::string_view text) {
  auto t = AsnTable::parse({{"fuzz.csv", text}});
  if (!t) return;
  const AsnTable& table = **t;
  const uint32_t n = static_cast<uint32_t>(table.v4_size() + table.v6_size());
  for (uint32_t i = 0; i < n; ++i) {
    AsnRecord r = table.record_at(i);
    if (r.last < r.first) abort();
    if (i > 0 && i != table.v4_size() && !(table.record_at(i - 1).last < r.first)) abort();
    if (table.find(r.first) != i || table.find(r.last) != i) abort();
  }
}

void check_sector(std::string_view text) {
  auto t = SectorTable::parse(text, "fuzz.csv");
  if (!t) return;
  for (const char* a : {"192.0.2.1", "10.0.0.1", "2001:db8::1"}) {
    (*t)->lookup(*IpAddress::parse(a), 64500);
  }
}

void check_mmdb(std::string_view bytes) {
  char path[] = "/tmp/fuzz-enrich-XXXXXX";
  int fd = mkstemp(path);
  if (fd < 0) abort();
  if (write(fd, bytes.data(), bytes.size()) != static_cast<ssize_t>(bytes.size())) abort();
  close(fd);
  auto slow = GeoDb::open(path, GeoLayout::kFlat, GeoIndex::kMmdb);
  auto fast = GeoDb::open(path, GeoLayout::kFlat, GeoIndex::kFlattened);
  unlink(path);
  if (!slow || !fast) return;
  for (const char* a :
       {"0.0.0.0", "1.2.3.4", "8.8.8.8", "255.255.255.255", "::1", "2001:200::1", "ffff::"}) {
    IpAddress ip = *IpAddress::parse(a);
    GeoRecord x, y;
    bool fx = (*slow)->lookup(ip, x);
    bool fy = (*fast)->lookup(ip, y);
    // A record libmaxminddb cannot decode is a miss there; flattening decoded every
    // record at open, so a disagreement is a bug in one of them.
    if (fx != fy || std::string_view(x.country) != std::string_view(y.country) ||
        x.region != y.region || x.city != y.city) {
      abort();
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 3) {
    case 0: check_asn(rest); break;
    case 1: check_sector(rest); break;
    default: check_mmdb(rest); break;
  }
  return 0;
}

#include "enrich/geo_db.h"

#include <gtest/gtest.h>

#include <random>
#include <tuple>

#include "enrich/testing/mmdb_writer.h"
#include "enrich/testing/temp_dir.h"

namespace vantage::enrich {
namespace {

using testing::dbip_flat_record;
using testing::geolite2_record;
using testing::MmdbWriter;
using testing::MmdbWriterOptions;
using testing::TempDir;

IpAddress ip(std::string_view s) {
  return *IpAddress::parse(s);
}
IpPrefix pfx(std::string_view s) {
  return IpPrefix::parse(s)->prefix;
}

std::string write_flat_v4(const TempDir& dir, int record_size) {
  MmdbWriterOptions o;
  o.ip_version = 4;
  o.record_size = record_size;
  o.database_type = "city ipv4";
  MmdbWriter w(o);
  EXPECT_TRUE(w.insert(pfx("8.8.8.0/24"), dbip_flat_record("US", "California", "Mountain View")));
  EXPECT_TRUE(w.insert(pfx("1.0.0.0/8"), dbip_flat_record("AU", "Queensland", "Brisbane")));
  // More specific inside the /8.
  EXPECT_TRUE(w.insert(pfx("1.1.1.0/24"), dbip_flat_record("AU", "New South Wales", "Sydney")));
  EXPECT_TRUE(w.insert(pfx("200.0.0.0/16"), dbip_flat_record("BR", "São Paulo", "São Paulo")));
  EXPECT_TRUE(w.insert(pfx("5.5.5.5/32"), dbip_flat_record("ZZZ", "", "")));
  std::string path = dir.file("flat-v4-" + std::to_string(record_size) + ".mmdb");
  EXPECT_TRUE(w.write(path));
  return path;
}

std::string write_geolite2_v6(const TempDir& dir) {
  MmdbWriterOptions o;
  o.ip_version = 6;
  o.record_size = 24;
  o.database_type = "GeoLite2-City";
  o.languages = {"de", "en"};
  MmdbWriter w(o);
  EXPECT_TRUE(w.insert(pfx("8.8.8.0/24"), geolite2_record("US", "California", "Mountain View")));
  EXPECT_TRUE(w.insert(pfx("2001:200::/32"), geolite2_record("JP", "Tokyo", "Tokyo")));
  EXPECT_TRUE(w.insert(pfx("2a00::/16"), geolite2_record("DE", "", "")));
  std::string path = dir.file("geolite2.mmdb");
  EXPECT_TRUE(w.write(path));
  return path;
}

class GeoDbRecordSize : public ::testing::TestWithParam<std::tuple<int, GeoIndex>> {};

TEST_P(GeoDbRecordSize, FlatLayoutIPv4) {
  TempDir dir;
  auto db = GeoDb::open(write_flat_v4(dir, std::get<0>(GetParam())), GeoLayout::kAuto,
                        std::get<1>(GetParam()));
  ASSERT_TRUE(db.ok()) << db.error().message;
  const GeoDb& g = **db;
  EXPECT_EQ(g.layout(), GeoLayout::kFlat);
  EXPECT_EQ(g.ip_version(), 4);
  EXPECT_EQ(g.database_type(), "city ipv4");

  GeoRecord r;
  ASSERT_TRUE(g.lookup(ip("8.8.8.8"), r));
  EXPECT_STREQ(r.country, "US");
  EXPECT_EQ(r.region, "California");
  EXPECT_EQ(r.city, "Mountain View");

  ASSERT_TRUE(g.lookup(ip("1.2.3.4"), r));
  EXPECT_EQ(r.city, "Brisbane");
  ASSERT_TRUE(g.lookup(ip("1.1.1.1"), r));
  EXPECT_EQ(r.city, "Sydney");
  EXPECT_EQ(r.region, "New South Wales");

  // Multi-byte UTF-8, and the string is not NUL-terminated in the file.
  ASSERT_TRUE(g.lookup(ip("200.0.1.1"), r));
  EXPECT_STREQ(r.country, "BR");
  EXPECT_EQ(r.region, "São Paulo");
  EXPECT_EQ(r.city, "São Paulo");

  // Not a two-letter code: no country.
  ASSERT_TRUE(g.lookup(ip("5.5.5.5"), r));
  EXPECT_STREQ(r.country, "");

  EXPECT_FALSE(g.lookup(ip("9.9.9.9"), r));
  EXPECT_STREQ(r.country, "");
  EXPECT_TRUE(r.city.empty());
  // An IPv6 address in an IPv4 database is simply not found.
  EXPECT_FALSE(g.lookup(ip("2001:200::1"), r));
  EXPECT_EQ(g.decode_errors(), 0u);
}

INSTANTIATE_TEST_SUITE_P(AllRecordSizes, GeoDbRecordSize,
                         ::testing::Combine(::testing::Values(24, 28, 32),
                                            ::testing::Values(GeoIndex::kMmdb,
                                                              GeoIndex::kFlattened)));

class GeoDbIndex : public ::testing::TestWithParam<GeoIndex> {};

TEST_P(GeoDbIndex, GeoLite2LayoutDetectedAndIPv4InsideIPv6Tree) {
  TempDir dir;
  auto db = GeoDb::open(write_geolite2_v6(dir), GeoLayout::kAuto, GetParam());
  ASSERT_TRUE(db.ok()) << db.error().message;
  const GeoDb& g = **db;
  EXPECT_EQ(g.layout(), GeoLayout::kMaxMind);
  EXPECT_EQ(g.ip_version(), 6);
  GeoRecord r;
  ASSERT_TRUE(g.lookup(ip("8.8.8.8"), r));
  EXPECT_STREQ(r.country, "US");
  EXPECT_EQ(r.region, "California");
  EXPECT_EQ(r.city, "Mountain View");
  ASSERT_TRUE(g.lookup(ip("2001:200::1"), r));
  EXPECT_STREQ(r.country, "JP");
  EXPECT_EQ(r.city, "Tokyo");
  // Country-only record: no subdivisions, no city.
  ASSERT_TRUE(g.lookup(ip("2a00:1::1"), r));
  EXPECT_STREQ(r.country, "DE");
  EXPECT_TRUE(r.region.empty());
  EXPECT_TRUE(r.city.empty());
  EXPECT_FALSE(g.lookup(ip("2600::1"), r));
}

INSTANTIATE_TEST_SUITE_P(BothIndexes, GeoDbIndex,
                         ::testing::Values(GeoIndex::kMmdb, GeoIndex::kFlattened));

// Random nested prefixes in both tree kinds: the flattened index must answer exactly what
// libmaxminddb answers, at random addresses and at every prefix boundary.
TEST(GeoDb, FlattenedAgreesWithLibmaxminddb) {
  TempDir dir;
  std::mt19937_64 rng(7);
  for (int ip_version : {4, 6}) {
    MmdbWriterOptions o;
    o.ip_version = ip_version;
    o.record_size = 28;
    MmdbWriter w(o);
    std::vector<IpPrefix> prefixes;
    const char* countries[] = {"US", "DE", "JP", "BR", "AU"};
    for (int i = 0; i < 300; ++i) {
      IpPrefix p;
      if (ip_version == 4 || i % 3 == 0) {
        // IPv4 clustered in 16.0.0.0/6 so that prefixes nest.
        uint32_t a = 0x10000000 | static_cast<uint32_t>(rng() & 0x03FFFFFF);
        p = IpPrefix::make(IpAddress::from_v4(a), 6 + static_cast<int>(rng() % 27));
      } else {
        uint64_t hi = 0x2001000000000000ULL | (rng() & 0x0000FFFFFFFFFFFFULL);
        p = IpPrefix::make(IpAddress::from_v6(hi, rng()), 16 + static_cast<int>(rng() % 100));
      }
      prefixes.push_back(p);
      std::string n = std::to_string(i % 17);
      ASSERT_TRUE(w.insert(p, dbip_flat_record(countries[i % 5], "R" + n, "C" + n)));
    }
    std::string path = dir.file("random-" + std::to_string(ip_version) + ".mmdb");
    ASSERT_TRUE(w.write(path));
    auto slow = GeoDb::open(path, GeoLayout::kFlat, GeoIndex::kMmdb);
    auto fast = GeoDb::open(path, GeoLayout::kFlat, GeoIndex::kFlattened);
    ASSERT_TRUE(slow.ok() && fast.ok());
    EXPECT_GT((*fast)->flat_ranges(), 100u);
    std::vector<IpAddress> probes;
    for (const IpPrefix& p : prefixes) {
      probes.push_back(p.first());
      probes.push_back(p.last());
      probes.push_back(IpAddress::from_u128(p.last().u128() + 1));
      probes.push_back(IpAddress::from_u128(p.first().u128() - 1));
    }
    for (int i = 0; i < 20000; ++i) {
      probes.push_back(IpAddress::from_v4(0x10000000 | static_cast<uint32_t>(rng() & 0x03FFFFFF)));
      probes.push_back(
          IpAddress::from_v6(0x2001000000000000ULL | (rng() & 0xFFFFFFFFFFFFULL), rng()));
    }
    int found = 0;
    for (const IpAddress& a : probes) {
      GeoRecord x, y;
      bool fx = (*slow)->lookup(a, x);
      bool fy = (*fast)->lookup(a, y);
      ASSERT_EQ(fx, fy) << a.to_string() << " ip_version " << ip_version;
      found += fx;
      EXPECT_STREQ(x.country, y.country) << a.to_string();
      EXPECT_EQ(x.region, y.region) << a.to_string();
      EXPECT_EQ(x.city, y.city) << a.to_string();
    }
    EXPECT_GT(found, 1000);
  }
}

// A tree whose nodes point both children at the same next node is a valid MMDB for
// libmaxminddb (each lookup walks one path) but has 2^128 paths: the flattened walk must
// refuse it rather than run forever.
TEST(GeoDb, FlattenedWalkRejectsExponentialSharedSubtrees) {
  TempDir dir;
  MmdbWriterOptions o;
  o.ip_version = 6;
  o.record_size = 32;
  MmdbWriter w(o);
  ASSERT_TRUE(w.insert(pfx("::1/128"), dbip_flat_record("US", "", "")));
  auto bytes = w.serialize();
  ASSERT_TRUE(bytes.ok());
  // The chain for ::1/128 is nodes 0..127; node i (i < 127) has left = i + 1 and right =
  // empty. Point right at i + 1 as well.
  std::string b = *bytes;
  for (size_t i = 0; i < 127; ++i) {
    for (int k = 0; k < 4; ++k) b[i * 8 + 4 + k] = b[i * 8 + k];
  }
  std::string path = dir.write("shared.mmdb", b);
  auto slow = GeoDb::open(path, GeoLayout::kFlat, GeoIndex::kMmdb);
  ASSERT_TRUE(slow.ok()) << slow.error().message;
  GeoRecord r;
  EXPECT_TRUE((*slow)->lookup(ip("::1"), r));
  EXPECT_STREQ(r.country, "US");
  auto fast = GeoDb::open(path, GeoLayout::kFlat, GeoIndex::kFlattened);
  ASSERT_FALSE(fast.ok());
  // Stopped by the range bound or the node-visit bound, whichever trips first.
  EXPECT_NE(fast.error().message.find("search tree"), std::string::npos) << fast.error().message;
}

TEST(GeoDb, ForcedLayoutOverridesDetection) {
  TempDir dir;
  // Reading a GeoLite2 database with the flat paths finds the record but none of the keys
  // (`city` exists but is a map, which must not be taken for a name).
  auto db = GeoDb::open(write_geolite2_v6(dir), GeoLayout::kFlat);
  ASSERT_TRUE(db.ok());
  GeoRecord r;
  EXPECT_FALSE((*db)->lookup(ip("8.8.8.8"), r));
  EXPECT_EQ((*db)->decode_errors(), 1u);

  auto flat = GeoDb::open(write_flat_v4(dir, 28), GeoLayout::kMaxMind);
  ASSERT_TRUE(flat.ok());
  ASSERT_TRUE((*flat)->lookup(ip("8.8.8.8"), r));  // found, but no MaxMind keys in it
  EXPECT_STREQ(r.country, "");
  EXPECT_TRUE(r.city.empty());

  EXPECT_EQ(*parse_geo_layout("geolite2"), GeoLayout::kMaxMind);
  EXPECT_EQ(*parse_geo_layout("flat"), GeoLayout::kFlat);
  EXPECT_FALSE(parse_geo_layout("nested").ok());
}

TEST(GeoDb, CorruptAndMissingFilesFailWithPath) {
  TempDir dir;
  auto missing = GeoDb::open(dir.file("none.mmdb"));
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("none.mmdb"), std::string::npos);

  auto garbage = GeoDb::open(dir.write("garbage.mmdb", std::string(4096, 'x')));
  ASSERT_FALSE(garbage.ok());
  EXPECT_NE(garbage.error().message.find("garbage.mmdb"), std::string::npos);

  std::string good_path = write_flat_v4(dir, 28);
  std::string bytes;
  {
    std::ifstream in(good_path, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  // Cut off the metadata, as a truncated download does.
  auto cut = GeoDb::open(dir.write("cut.mmdb", bytes.substr(0, bytes.size() - 120)));
  ASSERT_FALSE(cut.ok());
  EXPECT_NE(cut.error().message.find("cut.mmdb"), std::string::npos);

  auto empty = GeoDb::open(dir.write("empty.mmdb", ""));
  EXPECT_FALSE(empty.ok());
}

TEST(GeoDb, CorruptDataSectionIsCountedNotFatal) {
  TempDir dir;
  std::string good_path = write_flat_v4(dir, 24);
  std::string bytes;
  {
    std::ifstream in(good_path, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  // Overwrite the start of the data section (just after the 16-byte separator that follows
  // the tree) with a control byte claiming a huge map.
  size_t sep = bytes.find(std::string(16, '\0'));
  ASSERT_NE(sep, std::string::npos);
  size_t data = sep + 16;
  for (size_t i = data; i < data + 200 && i < bytes.size(); ++i) bytes[i] = '\xFF';
  auto db = GeoDb::open(dir.write("bad-data.mmdb", bytes));
  ASSERT_TRUE(db.ok()) << db.error().message;  // the metadata is intact
  GeoRecord r;
  int found = 0;
  for (const char* a : {"8.8.8.8", "1.2.3.4", "1.1.1.1", "200.0.0.1"}) {
    found += (*db)->lookup(ip(a), r);
  }
  EXPECT_LT(found, 4);
  EXPECT_GT((*db)->decode_errors(), 0u);

  // The flattened index decodes every record up front, so the same file fails to open.
  auto flat = GeoDb::open(dir.file("bad-data.mmdb"), GeoLayout::kAuto, GeoIndex::kFlattened);
  ASSERT_FALSE(flat.ok());
  EXPECT_NE(flat.error().message.find("bad-data.mmdb"), std::string::npos);
}

}  // namespace
}  // namespace vantage::enrich

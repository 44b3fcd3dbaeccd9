#include "enrich/geo_db.h"

#include <gtest/gtest.h>

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

class GeoDbRecordSize : public ::testing::TestWithParam<int> {};

TEST_P(GeoDbRecordSize, FlatLayoutIPv4) {
  TempDir dir;
  auto db = GeoDb::open(write_flat_v4(dir, GetParam()));
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

INSTANTIATE_TEST_SUITE_P(AllRecordSizes, GeoDbRecordSize, ::testing::Values(24, 28, 32));

TEST(GeoDb, GeoLite2LayoutDetectedAndIPv4InsideIPv6Tree) {
  TempDir dir;
  auto db = GeoDb::open(write_geolite2_v6(dir));
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
}

}  // namespace
}  // namespace vantage::enrich

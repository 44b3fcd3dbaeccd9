#include "delivery/zip_writer.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>

#include "delivery/test_util.h"

namespace vantage::delivery {
namespace {

TEST(Crc32, KnownCheckValue) {
  EXPECT_EQ(crc32_of("123456789"), 0xCBF43926u);  // the CRC-32/ISO-HDLC check value
  EXPECT_EQ(crc32_of(""), 0u);
}

TEST(ZipWriter, SingleEntryRoundTrips) {
  const std::string csv = "\"timestamp\",\"ip\"\n\"2026-11-22 00:00:01\",\"192.0.2.1\"\n";
  auto zip = make_zip({{"2026-11-22-scan_smb-example_org-asn.csv", csv, 1795305600}});
  ASSERT_TRUE(zip.ok()) << zip.error().message;
  auto files = testing::read_zip(*zip);
  ASSERT_EQ(files.size(), 1u);
  EXPECT_EQ(files.begin()->first, "2026-11-22-scan_smb-example_org-asn.csv");
  EXPECT_EQ(files.begin()->second, csv);
}

TEST(ZipWriter, MultipleEntriesIncludingEmptyAndIncompressible) {
  std::string noise(70000, '\0');
  std::mt19937 rng(7);
  for (char& c : noise) c = static_cast<char>(rng());
  const std::string big(1 << 20, 'x');
  auto zip = make_zip({{"a.csv", "", 0}, {"b.bin", noise, 0}, {"dir/c.csv", big, 4102444800}});
  ASSERT_TRUE(zip.ok());
  auto files = testing::read_zip(*zip);
  ASSERT_EQ(files.size(), 3u);
  EXPECT_EQ(files["a.csv"], "");
  EXPECT_EQ(files["b.bin"], noise);
  EXPECT_EQ(files["dir/c.csv"], big);
  EXPECT_LT(zip->size(), noise.size() + 20000);  // 1 MiB of 'x' deflates to almost nothing
}

TEST(ZipWriter, RejectsEmptyName) {
  EXPECT_FALSE(make_zip({{"", "data", 0}}).ok());
}

TEST(ZipWriter, DosTimestampIsWhatUnzipShows) {
  // 2026-11-22 13:45:30 UTC -> DOS time 13:45:30, date 2026-11-22.
  auto zip = make_zip({{"t.csv", "x", 1795355130}});
  ASSERT_TRUE(zip.ok());
  const uint16_t t = testing::le16(*zip, 10);
  const uint16_t d = testing::le16(*zip, 12);
  EXPECT_EQ(t >> 11, 13);
  EXPECT_EQ((t >> 5) & 63, 45);
  EXPECT_EQ((t & 31) * 2, 30);
  EXPECT_EQ((d >> 9) + 1980, 2026);
  EXPECT_EQ((d >> 5) & 15, 11);
  EXPECT_EQ(d & 31, 22);
}

TEST(ZipWriter, InfoZipUnzipAcceptsIt) {
  if (std::system("command -v unzip >/dev/null 2>&1") != 0) GTEST_SKIP() << "unzip not installed";
  const auto dir =
      std::filesystem::temp_directory_path() / ("vantage-zip-test-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  auto zip =
      make_zip({{"one.csv", "a,b\n1,2\n", 1795355130}, {"two.csv", std::string(5000, 'q'), 0}});
  ASSERT_TRUE(zip.ok());
  const auto path = dir / "t.zip";
  std::ofstream(path, std::ios::binary) << *zip;
  const std::string cmd = "unzip -tq " + path.string() + " >/dev/null 2>&1";
  EXPECT_EQ(std::system(cmd.c_str()), 0);
  const std::string extract = "unzip -p " + path.string() + " one.csv > " + (dir / "out").string();
  EXPECT_EQ(std::system(extract.c_str()), 0);
  std::ifstream in(dir / "out", std::ios::binary);
  std::string back((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(back, "a,b\n1,2\n");
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace vantage::delivery

// Golden report files: tests/golden/csv/<type>.csv for every catalogue type. Each file must
// (1) be what the generator makes today, and (2) survive read -> write byte for byte.
// Regenerate after a deliberate format or catalogue change with
//   VANTAGE_REGENERATE_GOLDEN=1 build/<preset>/src/core/core_test --gtest_filter='Golden*'
// and review the diff.

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "core/csv_reader.h"
#include "core/csv_writer.h"
#include "core/golden_generator.h"

namespace vantage::core {
namespace {

namespace fs = std::filesystem;

fs::path golden_dir() {
  return fs::path(VANTAGE_SOURCE_DIR) / "tests" / "golden" / "csv";
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

bool regenerate() {
  const char* env = std::getenv("VANTAGE_REGENERATE_GOLDEN");
  return env && *env && std::string(env) != "0";
}

TEST(GoldenCsvTest, EveryTypeRoundTripsByteForByte) {
  const Catalogue& cat = Catalogue::builtin();
  ASSERT_EQ(cat.size(), 170u);
  if (regenerate()) fs::create_directories(golden_dir());
  for (const ReportType* type : cat.types()) {
    SCOPED_TRACE(type->name);
    const fs::path path = golden_dir() / (type->name + ".csv");
    const std::string generated = testing::golden_csv(*type);
    if (regenerate()) {
      std::ofstream(path, std::ios::binary | std::ios::trunc) << generated;
    }
    ASSERT_TRUE(fs::exists(path)) << path << " is missing; see the top of golden_test.cc";
    const std::string golden = slurp(path);
    EXPECT_EQ(golden, generated) << path << " is stale";

    CsvReaderOptions opt;
    opt.source_name = path.string();
    CsvReader reader = CsvReader::from_buffer(golden, *type, opt);
    std::string rewritten;
    CsvWriter writer(*type, string_sink(&rewritten));
    Event e;
    int rows = 0;
    for (;;) {
      auto r = reader.next(e);
      if (r == CsvReader::Next::kEnd) break;
      ASSERT_EQ(r, CsvReader::Next::kRow) << reader.error().message();
      ASSERT_TRUE(writer.write(e).ok());
      ++rows;
    }
    ASSERT_TRUE(writer.finish().ok());
    EXPECT_EQ(rows, 4);
    EXPECT_TRUE(reader.extra_columns().empty());
    EXPECT_TRUE(reader.missing_columns().empty());
    EXPECT_EQ(rewritten, golden);
    // Conventions visible in the bytes: LF after the last record, no CR anywhere.
    EXPECT_EQ(golden.back(), '\n');
    EXPECT_EQ(golden.find('\r'), std::string::npos);
  }
}

TEST(GoldenCsvTest, NoStaleFiles) {
  std::set<std::string> expected;
  for (const ReportType* t : Catalogue::builtin().types()) expected.insert(t->name + ".csv");
  std::set<std::string> present;
  for (const auto& entry : fs::directory_iterator(golden_dir())) {
    present.insert(entry.path().filename().string());
  }
  EXPECT_EQ(present, expected);
}

TEST(GoldenCsvTest, GeneratorCoversNullsEmptiesQuotesAndUtf8) {
  std::string all;
  for (const ReportType* t : Catalogue::builtin().types()) all += testing::golden_csv(*t);
  EXPECT_NE(all.find(",,"), std::string::npos);
  EXPECT_NE(all.find(",\"\","), std::string::npos);
  EXPECT_NE(all.find("\"\""), std::string::npos);
  EXPECT_NE(all.find("\xC3\x9C"), std::string::npos);
  EXPECT_NE(all.find("\"Y\""), std::string::npos);
  EXPECT_NE(all.find("2001:db8:"), std::string::npos);
}

}  // namespace
}  // namespace vantage::core

#include "pipeline/line_reader.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <vector>

namespace vantage::pipeline {
namespace {

std::vector<std::string> read_all(LineReader& r, int* oversized) {
  std::vector<std::string> out;
  std::string_view line;
  while (true) {
    auto n = r.next(line);
    if (n == LineReader::Next::kEnd) break;
    if (n == LineReader::Next::kOversized) {
      ++*oversized;
      out.push_back("<oversized>");
      continue;
    }
    EXPECT_NE(n, LineReader::Next::kIoError);
    out.emplace_back(line);
  }
  return out;
}

TEST(LineReader, SplitsFilesAcrossChunkBoundaries) {
  std::string text;
  for (int i = 0; i < 1000; ++i) text += "line number " + std::to_string(i) + "\r\n";
  text += "last without newline";
  std::FILE* f = fmemopen(text.data(), text.size(), "rb");
  LineReader r(f, 1 << 20, 7);  // tiny chunks: every line crosses a boundary
  int oversized = 0;
  auto lines = read_all(r, &oversized);
  std::fclose(f);
  ASSERT_EQ(lines.size(), 1001u);
  EXPECT_EQ(lines[0], "line number 0");
  EXPECT_EQ(lines[999], "line number 999");
  EXPECT_EQ(lines[1000], "last without newline");
  EXPECT_EQ(oversized, 0);
  EXPECT_EQ(r.bytes_consumed(), static_cast<int64_t>(text.size()));
}

TEST(LineReader, SkipsOversizedLinesInBoundedMemory) {
  std::string text = "ok1\n" + std::string(5000, 'x') + "\nok2\n" + std::string(300, 'y');
  std::FILE* f = fmemopen(text.data(), text.size(), "rb");
  LineReader r(f, 100, 64);
  int oversized = 0;
  auto lines = read_all(r, &oversized);
  std::fclose(f);
  EXPECT_EQ(lines, (std::vector<std::string>{"ok1", "<oversized>", "ok2", "<oversized>"}));
  EXPECT_EQ(r.line_number(), 4);

  LineReader b(text, 100);
  oversized = 0;
  EXPECT_EQ(read_all(b, &oversized),
            (std::vector<std::string>{"ok1", "<oversized>", "ok2", "<oversized>"}));
}

}  // namespace
}  // namespace vantage::pipeline

#include "bus/line_batcher.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace vantage::bus {
namespace {

std::vector<std::string> split(bool csv, size_t per, const std::vector<std::string>& chunks) {
  std::vector<std::string> out;
  LineBatcher b(csv, per, size_t{1} << 20,
                [&](std::string body, size_t) { out.push_back(std::move(body)); });
  for (const auto& c : chunks) b.feed(c);
  b.finish();
  return out;
}

TEST(LineBatcher, JsonlBodiesHoldAtMostNRecords) {
  auto out = split(false, 2, {"{\"a\":1}\n{\"a\":2}\n{\"a\":3}\n"});
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0], "{\"a\":1}\n{\"a\":2}\n");
  EXPECT_EQ(out[1], "{\"a\":3}\n");
}

TEST(LineBatcher, CsvRepeatsTheHeaderAndKeepsQuotedNewlines) {
  // Fed in pieces that cut records (and the quoted newline) apart.
  auto out =
      split(true, 1, {"ip,note\n1.2.3.4,\"x\n", "y\"\n5.6.7.8,\"a \"\"q\"\" b\"\n9.9", ".9.9,z"});
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0], "ip,note\n1.2.3.4,\"x\ny\"\n");
  EXPECT_EQ(out[1], "ip,note\n5.6.7.8,\"a \"\"q\"\" b\"\n");
  EXPECT_EQ(out[2], "ip,note\n9.9.9.9,z\n");  // the last record got its newline
}

TEST(LineBatcher, BodiesStayUnderTheByteLimit) {
  std::vector<std::string> out;
  LineBatcher b(true, 100, 20, [&](std::string body, size_t) { out.push_back(std::move(body)); });
  b.feed("h\naaaaaaa\nbbbbbbb\nccccccccccccccccccccccccc\nd\n");
  b.finish();
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0], "h\naaaaaaa\nbbbbbbb\n");           // 18 bytes: a third record would pass 20
  EXPECT_EQ(out[1], "h\nccccccccccccccccccccccccc\n");  // one record over the limit goes alone
  EXPECT_EQ(out[2], "h\nd\n");
}

TEST(LineBatcher, HeaderOnlyCsvGivesNoBody) {
  EXPECT_TRUE(split(true, 10, {"ip,port\n"}).empty());
  EXPECT_TRUE(split(false, 10, {""}).empty());
}

TEST(LineBatcher, ConcatenatedBodiesEqualTheInput) {
  std::string in;
  for (int i = 0; i < 1000; ++i) in += "{\"i\":" + std::to_string(i) + "}\n";
  std::string joined;
  for (const auto& b : split(false, 77, {in.substr(0, 333), in.substr(333)})) joined += b;
  EXPECT_EQ(joined, in);
}

}  // namespace
}  // namespace vantage::bus

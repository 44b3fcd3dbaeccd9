#include "common/strings.h"

#include <gtest/gtest.h>

namespace vantage {
namespace {

TEST(Strings, SplitKeepsEmptyParts) {
  auto parts = split("a,,b,", ',');
  ASSERT_EQ(parts.size(), 4u);
  EXPECT_EQ(parts[1], "");
  EXPECT_EQ(parts[3], "");
}

TEST(Strings, ParsesIntegersStrictly) {
  EXPECT_EQ(parse_int("-42"), -42);
  EXPECT_FALSE(parse_int("42x").has_value());
  EXPECT_FALSE(parse_int("").has_value());
  EXPECT_FALSE(parse_uint("99999999999999999999999").has_value());
}

TEST(Strings, Utf8Validation) {
  EXPECT_TRUE(is_valid_utf8("plain"));
  EXPECT_TRUE(is_valid_utf8("M\xC3\xBCnchen"));
  EXPECT_FALSE(is_valid_utf8("\xC3"));
  EXPECT_FALSE(is_valid_utf8("\xC0\xAF"));          // overlong '/'
  EXPECT_FALSE(is_valid_utf8("\xED\xA0\x80"));      // surrogate
  EXPECT_FALSE(is_valid_utf8("\xF4\x90\x80\x80"));  // > U+10FFFF
}

TEST(Strings, StripsControlCharacters) {
  EXPECT_EQ(strip_control("GET /\r\nHost:\tx\x01"), "GET /Host: x");
  EXPECT_TRUE(has_control("a\nb"));
  EXPECT_FALSE(has_control("a b"));
}

TEST(Strings, SanitizesIdentifiers) {
  EXPECT_EQ(sanitize_identifier("example.com-1"), "example_com_1");
  EXPECT_TRUE(is_identifier("cert_xx"));
  EXPECT_FALSE(is_identifier("cert-xx"));
  EXPECT_FALSE(is_identifier(""));
}

}  // namespace
}  // namespace vantage

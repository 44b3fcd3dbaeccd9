#include "common/time.h"

#include <gtest/gtest.h>

namespace vantage {
namespace {

TEST(Time, RoundTripsReportTimestamps) {
  auto t = parse_timestamp("2022-01-10 00:01:42");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(*t, 1641772902);
  EXPECT_EQ(format_timestamp(*t), "2022-01-10 00:01:42");
}

TEST(Time, TimestampsRoundTripAcrossTheRange) {
  // Every hour of a few centuries (the hand-written formatter), and years outside 0..9999
  // (the general one).
  for (UnixSeconds t = -2208988800; t < 4102444800; t += 3600 * 97 + 61) {
    EXPECT_EQ(*parse_timestamp(format_timestamp(t)), t) << t;
  }
  EXPECT_EQ(format_timestamp(0), "1970-01-01 00:00:00");
  EXPECT_EQ(format_timestamp(253402300799), "9999-12-31 23:59:59");
  EXPECT_EQ(format_timestamp(253402300800), "10000-01-01 00:00:00");
  EXPECT_EQ(format_timestamp(-62167219200), "0000-01-01 00:00:00");
}

TEST(Time, AcceptsIsoVariantsAsUtc) {
  EXPECT_EQ(*parse_timestamp("2022-01-10T00:01:42Z"), 1641772902);
  EXPECT_EQ(*parse_timestamp("2022-01-10T00:01:42.123456Z"), 1641772902);
  EXPECT_EQ(*parse_timestamp("2022-01-10 00:01:42 UTC"), 1641772902);
  EXPECT_EQ(*parse_timestamp("2022-01-10T01:01:42+01:00"), 1641772902);
  EXPECT_EQ(*parse_timestamp("2022-01-10"), 1641772800);
}

TEST(Time, RejectsBadTimestamps) {
  for (const char* bad :
       {"", "2022-13-01 00:00:00", "2022-02-30 00:00:00", "2022-01-10 24:00:00", "2022-01-10 00:0",
        "yesterday", "2022-01-10 00:01:42 CET", "2022-01-10X00:01:42"}) {
    EXPECT_FALSE(parse_timestamp(bad).ok()) << bad;
  }
}

TEST(Time, DatesRoundTrip) {
  for (DayNumber d = -1000; d < 30000; d += 7) {
    EXPECT_EQ(*parse_date(format_date(d)), d);
  }
  EXPECT_EQ(format_date(day_of(-1)), "1969-12-31");
  EXPECT_FALSE(parse_date("2024-02-30").ok());
  EXPECT_TRUE(parse_date("2024-02-29").ok());
}

}  // namespace
}  // namespace vantage

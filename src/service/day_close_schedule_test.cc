#include "service/day_close_schedule.h"

#include <gtest/gtest.h>

namespace vantage::service {
namespace {

constexpr UnixSeconds kDay = 86400;
constexpr UnixSeconds kMonday = 20000 * kDay;  // 00:00 UTC of day 20000
constexpr int64_t kHalfPastMidnight = 30 * 60;

TEST(DayCloseSchedule, ClosesThePreviousDayOnceAfterTheConfiguredTime) {
  DayCloseSchedule s(kHalfPastMidnight, kMonday + 3600);
  EXPECT_EQ(s.due(kMonday + 7200), std::nullopt);       // the start day is not closed
  EXPECT_EQ(s.due(kMonday + kDay + 60), std::nullopt);  // before 00:30
  auto d = s.due(kMonday + kDay + kHalfPastMidnight);
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(*d, 20000);
  s.built(*d, true, kMonday + kDay + kHalfPastMidnight);
  EXPECT_EQ(s.due(kMonday + kDay + 7200), std::nullopt);  // once
}

TEST(DayCloseSchedule, AFailedBuildIsRetriedWithDoublingBackOffUntilItSucceeds) {
  DayCloseSchedule s(kHalfPastMidnight, kMonday);
  UnixSeconds t = kMonday + kDay + kHalfPastMidnight;
  ASSERT_EQ(s.due(t), 20000);
  s.built(20000, false, t);  // a shard is down
  EXPECT_EQ(s.backoff_s(), DayCloseSchedule::kFirstRetryS);
  EXPECT_EQ(s.due(t + 29), std::nullopt);
  ASSERT_EQ(s.due(t + 30), 20000);
  s.built(20000, false, t + 30);
  EXPECT_EQ(s.backoff_s(), 2 * DayCloseSchedule::kFirstRetryS);
  EXPECT_EQ(s.due(t + 89), std::nullopt);
  ASSERT_EQ(s.due(t + 90), 20000);
  for (int i = 0; i < 10; ++i) s.built(20000, false, t + 90);
  EXPECT_EQ(s.backoff_s(), DayCloseSchedule::kMaxRetryS);  // capped
  ASSERT_EQ(s.due(t + 90 + DayCloseSchedule::kMaxRetryS), 20000);
  s.built(20000, true, t + 90 + DayCloseSchedule::kMaxRetryS);  // the shard is back
  EXPECT_TRUE(s.pending().empty());
  EXPECT_EQ(s.backoff_s(), 0);
  EXPECT_EQ(s.due(t + 7200), std::nullopt);
}

TEST(DayCloseSchedule, ADayStillFailingAtTheNextCloseIsBuiltFirst) {
  DayCloseSchedule s(kHalfPastMidnight, kMonday);
  UnixSeconds t = kMonday + kDay + kHalfPastMidnight;
  ASSERT_EQ(s.due(t), 20000);
  s.built(20000, false, t);
  UnixSeconds next = t + kDay;  // the next close: both days wait, the older first
  ASSERT_EQ(s.due(next), 20000);
  s.built(20000, true, next);
  ASSERT_EQ(s.due(next), 20001);
  s.built(20001, true, next);
  EXPECT_TRUE(s.pending().empty());
}

}  // namespace
}  // namespace vantage::service

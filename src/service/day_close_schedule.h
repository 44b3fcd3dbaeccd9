#pragma once
// When the service closes a day: once per UTC day, after report.day_close_utc, the previous
// day's reports are built. A build that fails (a ClickHouse shard down, a full disk) is tried
// again with doubling back-off (30 s up to 15 min) until it succeeds; a day still failing when
// the next day closes stays queued, and the oldest day is built first. Pure logic over the
// clock the caller passes, so the retry rule is tested without waiting for midnight.

#include <optional>
#include <set>

#include "common/time.h"

namespace vantage::service {

class DayCloseSchedule {
 public:
  // `close_after_s`: seconds after 00:00 UTC (report.day_close_utc). The day the service
  // starts on is not closed by it (it was not running when that day began).
  DayCloseSchedule(int64_t close_after_s, UnixSeconds started);

  // The day to build now, if any.
  std::optional<DayNumber> due(UnixSeconds now);
  // How the build of `day` went: done, or tried again after the back-off.
  void built(DayNumber day, bool ok, UnixSeconds now);

  // Seconds until the next try of a failed build (0 when nothing failed).
  int64_t backoff_s() const { return backoff_s_; }
  const std::set<DayNumber>& pending() const { return pending_; }

  static constexpr int64_t kFirstRetryS = 30;
  static constexpr int64_t kMaxRetryS = 900;

 private:
  int64_t close_after_s_;
  DayNumber last_scheduled_;  // the UTC day whose close was last queued
  std::set<DayNumber> pending_;
  UnixSeconds next_try_ = 0;
  int64_t backoff_s_ = 0;
};

}  // namespace vantage::service

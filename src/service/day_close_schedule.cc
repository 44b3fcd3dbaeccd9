#include "service/day_close_schedule.h"

#include <algorithm>

namespace vantage::service {

DayCloseSchedule::DayCloseSchedule(int64_t close_after_s, UnixSeconds started)
    : close_after_s_(close_after_s), last_scheduled_(day_of(started)) {}

std::optional<DayNumber> DayCloseSchedule::due(UnixSeconds now) {
  DayNumber today = day_of(now);
  if (today != last_scheduled_ && now - UnixSeconds{today} * 86400 >= close_after_s_) {
    last_scheduled_ = today;
    pending_.insert(today - 1);
  }
  if (pending_.empty() || now < next_try_) return std::nullopt;
  return *pending_.begin();
}

void DayCloseSchedule::built(DayNumber day, bool ok, UnixSeconds now) {
  if (ok) {
    pending_.erase(day);
    backoff_s_ = 0;
    next_try_ = 0;
    return;
  }
  backoff_s_ = backoff_s_ == 0 ? kFirstRetryS : std::min(backoff_s_ * 2, kMaxRetryS);
  next_try_ = now + backoff_s_;
}

}  // namespace vantage::service

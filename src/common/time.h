#pragma once
// UTC timestamps and calendar dates as plain integers. Reports are always UTC+0
// (Shadowserver convention), so there is no time-zone handling anywhere in Vantage.

#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"

namespace vantage {

using UnixSeconds = int64_t;  // seconds since 1970-01-01 00:00:00 UTC
using DayNumber = int32_t;    // days since 1970-01-01

DayNumber days_from_civil(int year, unsigned month, unsigned day);
void civil_from_days(DayNumber days, int& year, unsigned& month, unsigned& day);

inline DayNumber day_of(UnixSeconds t) {
  return static_cast<DayNumber>(t >= 0 ? t / 86400 : (t - 86399) / 86400);
}

// Parses "YYYY-MM-DD HH:MM:SS" and the ISO-8601 variants seen in feeds: a 'T' separator,
// fractional seconds, and a trailing 'Z' or "+00:00" / "+0000" / " UTC". Other offsets are
// converted to UTC. A bare "YYYY-MM-DD" means midnight.
Result<UnixSeconds> parse_timestamp(std::string_view text);
// "YYYY-MM-DD"
Result<DayNumber> parse_date(std::string_view text);

// "YYYY-MM-DD HH:MM:SS" -- the only form Vantage writes into reports.
std::string format_timestamp(UnixSeconds t);
// Appends the same 19 characters to `out` without allocating a temporary.
void append_timestamp(std::string& out, UnixSeconds t);
std::string format_date(DayNumber d);

UnixSeconds now_seconds();
inline DayNumber today() {
  return day_of(now_seconds());
}

}  // namespace vantage

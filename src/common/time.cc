#include "common/time.h"

#include <chrono>
#include <cstdio>

namespace vantage {

// Howard Hinnant's days_from_civil / civil_from_days (public-domain algorithms,
// http://howardhinnant.github.io/date_algorithms.html), proleptic Gregorian calendar.
DayNumber days_from_civil(int y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int>(doe) - 719468;
}

void civil_from_days(DayNumber z, int& y, unsigned& m, unsigned& d) {
  z += 719468;
  const int era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  y = static_cast<int>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y += (m <= 2);
}

namespace {

bool digits(std::string_view s, size_t pos, size_t n, int& out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  out = v;
  return true;
}

unsigned days_in_month(int y, unsigned m) {
  static const unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return m == 2 && leap ? 29 : kDays[m - 1];
}

bool parse_ymd(std::string_view s, int& y, int& mo, int& d) {
  if (!digits(s, 0, 4, y) || s.size() < 10 || s[4] != '-' || !digits(s, 5, 2, mo) || s[7] != '-' ||
      !digits(s, 8, 2, d)) {
    return false;
  }
  return mo >= 1 && mo <= 12 && d >= 1 &&
         static_cast<unsigned>(d) <= days_in_month(y, static_cast<unsigned>(mo));
}

}  // namespace

Result<DayNumber> parse_date(std::string_view s) {
  int y, mo, d;
  if (s.size() != 10 || !parse_ymd(s, y, mo, d)) {
    return Error::invalid("bad date '" + std::string(s.substr(0, 40)) + "' (want YYYY-MM-DD)");
  }
  return days_from_civil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d));
}

Result<UnixSeconds> parse_timestamp(std::string_view s) {
  auto bad = [&] {
    return Error::invalid("bad timestamp '" + std::string(s.substr(0, 40)) +
                          "' (want YYYY-MM-DD HH:MM:SS)");
  };
  int y, mo, d, h = 0, mi = 0, sec = 0;
  if (!parse_ymd(s, y, mo, d)) return bad();
  size_t pos = 10;
  if (pos < s.size()) {
    if (s[pos] != ' ' && s[pos] != 'T') return bad();
    if (!digits(s, pos + 1, 2, h) || pos + 3 >= s.size() || s[pos + 3] != ':' ||
        !digits(s, pos + 4, 2, mi)) {
      return bad();
    }
    pos += 6;
    if (pos < s.size() && s[pos] == ':') {
      if (!digits(s, pos + 1, 2, sec)) return bad();
      pos += 3;
    }
    if (h > 23 || mi > 59 || sec > 60) return bad();
    if (pos < s.size() && (s[pos] == '.' || s[pos] == ',')) {
      ++pos;
      size_t start = pos;
      while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') ++pos;
      if (pos == start) return bad();
    }
  }
  int offset_minutes = 0;
  std::string_view rest = s.substr(pos);
  if (rest == "Z" || rest == " UTC" || rest == "UTC" || rest == " GMT" || rest.empty()) {
    // UTC
  } else if ((rest[0] == '+' || rest[0] == '-') && (rest.size() == 6 || rest.size() == 5)) {
    int oh, om;
    size_t mpos = rest.size() == 6 ? 4 : 3;
    if (!digits(rest, 1, 2, oh) || !digits(rest, mpos, 2, om) ||
        (rest.size() == 6 && rest[3] != ':') || oh > 23 || om > 59) {
      return bad();
    }
    offset_minutes = (oh * 60 + om) * (rest[0] == '-' ? -1 : 1);
  } else {
    return bad();
  }
  if (sec == 60) sec = 59;  // leap second: clamp rather than reject
  UnixSeconds t = static_cast<UnixSeconds>(
                      days_from_civil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d))) *
                      86400 +
                  h * 3600 + mi * 60 + sec;
  return t - offset_minutes * 60;
}

void append_timestamp(std::string& out, UnixSeconds t) {
  DayNumber days = day_of(t);
  int64_t secs = t - static_cast<int64_t>(days) * 86400;
  int y;
  unsigned m, d;
  civil_from_days(days, y, m, d);
  if (y >= 0 && y <= 9999) {
    // By hand: sensors write one timestamp per event, and snprintf is a visible share of
    // their CPU at tens of thousands of events a second.
    char buf[19];
    auto two = [&](int at, unsigned v) {
      buf[at] = static_cast<char>('0' + v / 10);
      buf[at + 1] = static_cast<char>('0' + v % 10);
    };
    two(0, static_cast<unsigned>(y) / 100);
    two(2, static_cast<unsigned>(y) % 100);
    buf[4] = '-';
    two(5, m);
    buf[7] = '-';
    two(8, d);
    buf[10] = ' ';
    two(11, static_cast<unsigned>(secs / 3600));
    buf[13] = ':';
    two(14, static_cast<unsigned>(secs / 60 % 60));
    buf[16] = ':';
    two(17, static_cast<unsigned>(secs % 60));
    out.append(buf, sizeof buf);
    return;
  }
  char buf[32];
  int n = std::snprintf(buf, sizeof buf, "%04d-%02u-%02u %02d:%02d:%02d", y, m, d,
                        static_cast<int>(secs / 3600), static_cast<int>(secs / 60 % 60),
                        static_cast<int>(secs % 60));
  out.append(buf, static_cast<size_t>(n));
}

std::string format_timestamp(UnixSeconds t) {
  std::string s;
  append_timestamp(s, t);
  return s;
}

std::string format_date(DayNumber days) {
  int y;
  unsigned m, d;
  civil_from_days(days, y, m, d);
  char buf[32];  // room for any int year: -O3 checks the worst case
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", y, m, d);
  return buf;
}

UnixSeconds now_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace vantage

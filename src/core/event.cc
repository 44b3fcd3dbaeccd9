#include "core/event.h"

#include <charconv>
#include <cmath>
#include <cstring>

namespace vantage::core {

namespace {

constexpr const char* kValueErrorNames[] = {"ok",        "bad timestamp", "bad integer",
                                            "bad float", "bad boolean",   "bad IP address"};

bool is_control(unsigned char c) {
  return c < 0x20 || c == 0x7F;
}

// Eight bytes at a time (haszero/hasless from "Bit Twiddling Hacks"): every string value
// read from a report passes through here.
bool has_control_char(std::string_view s) {
  constexpr uint64_t kOnes = 0x0101010101010101ULL, kHighs = 0x8080808080808080ULL;
  size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    uint64_t w;
    std::memcpy(&w, s.data() + i, 8);
    uint64_t x = w ^ (kOnes * 0x7F);
    if ((((w - kOnes * 0x20) & ~w) | ((x - kOnes) & ~x)) & kHighs) break;  // maybe; look closer
  }
  for (; i < s.size(); ++i) {
    if (is_control(static_cast<unsigned char>(s[i]))) return true;
  }
  return false;
}

// Same rule as common/strings.h strip_control(): drop C0 controls and DEL, TAB -> space.
std::string strip(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (c == '\t') {
      out.push_back(' ');
    } else if (!is_control(u)) {
      out.push_back(c);
    }
  }
  return out;
}

int digit2(const char* p) {
  unsigned a = static_cast<unsigned char>(p[0]) - '0', b = static_cast<unsigned char>(p[1]) - '0';
  return a < 10 && b < 10 ? static_cast<int>(a * 10 + b) : -1;
}

// Fast path for the report form "YYYY-MM-DD HH:MM:SS"; anything else goes to
// parse_timestamp(), which knows the ISO-8601 variants.
std::optional<UnixSeconds> parse_report_timestamp(std::string_view s) {
  if (s.size() == 19 && s[4] == '-' && s[7] == '-' && s[10] == ' ' && s[13] == ':' &&
      s[16] == ':') {
    int yh = digit2(s.data()), yl = digit2(s.data() + 2), mo = digit2(s.data() + 5),
        d = digit2(s.data() + 8), h = digit2(s.data() + 11), mi = digit2(s.data() + 14),
        sec = digit2(s.data() + 17);
    if (yh >= 0 && yl >= 0 && mo >= 1 && mo <= 12 && d >= 1 && h >= 0 && h <= 23 && mi >= 0 &&
        mi <= 59 && sec >= 0 && sec <= 60) {
      int y = yh * 100 + yl;
      static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
      bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
      int dim = kDays[mo - 1] + (mo == 2 && leap ? 1 : 0);
      if (d > dim) return std::nullopt;
      return int64_t{days_from_civil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d))} *
                 86400 +
             h * 3600 + mi * 60 + sec;
    }
  }
  auto r = parse_timestamp(s);
  if (!r) return std::nullopt;
  return *r;
}

std::optional<bool> parse_bool(std::string_view s) {
  if (s.size() > 5) return std::nullopt;
  char buf[5];
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    buf[i] = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  }
  std::string_view l(buf, s.size());
  if (l == "y" || l == "yes" || l == "true" || l == "t" || l == "1") return true;
  if (l == "n" || l == "no" || l == "false" || l == "f" || l == "0") return false;
  return std::nullopt;
}

// "YYYY-MM-DD HH:MM:SS" without snprintf (report writers format one per row); years
// outside 0..9999 take the general path.
void append_report_timestamp(std::string& out, UnixSeconds t) {
  DayNumber days = day_of(t);
  int64_t secs = t - int64_t{days} * 86400;
  int y;
  unsigned m, d;
  civil_from_days(days, y, m, d);
  if (y < 0 || y > 9999) {
    append_timestamp(out, t);
    return;
  }
  auto h = static_cast<unsigned>(secs / 3600), mi = static_cast<unsigned>(secs / 60 % 60),
       sec = static_cast<unsigned>(secs % 60);
  auto uy = static_cast<unsigned>(y);
  char b[19] = {static_cast<char>('0' + uy / 1000),
                static_cast<char>('0' + uy / 100 % 10),
                static_cast<char>('0' + uy / 10 % 10),
                static_cast<char>('0' + uy % 10),
                '-',
                static_cast<char>('0' + m / 10),
                static_cast<char>('0' + m % 10),
                '-',
                static_cast<char>('0' + d / 10),
                static_cast<char>('0' + d % 10),
                ' ',
                static_cast<char>('0' + h / 10),
                static_cast<char>('0' + h % 10),
                ':',
                static_cast<char>('0' + mi / 10),
                static_cast<char>('0' + mi % 10),
                ':',
                static_cast<char>('0' + sec / 10),
                static_cast<char>('0' + sec % 10)};
  out.append(b, sizeof b);
}

void put_u64(std::string& out, uint64_t v) {
  char b[8];
  for (int i = 0; i < 8; ++i) b[i] = static_cast<char>(v >> (8 * i));
  out.append(b, 8);
}

uint64_t get_u64(const char* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= uint64_t{static_cast<unsigned char>(p[i])} << (8 * i);
  return v;
}

}  // namespace

const CommonColumns Event::kNoColumns{};

const char* value_error_name(ValueError e) {
  return kValueErrorNames[static_cast<int>(e)];
}

void Event::reset(const ReportType* type) {
  type_ = type;
  cells_.resize(type ? type->columns.size() : 0);
  clear();
}

void Event::clear() {
  for (Cell& c : cells_) c.present = c.slot = false;
  text_.clear();
}

void Event::set_int(int col, int64_t v) {
  Cell& c = cell(col);
  assert(kind(col) == ColumnKind::kInteger);
  c.i = v;
  c.present = true;
}

void Event::set_float(int col, double v) {
  Cell& c = cell(col);
  assert(kind(col) == ColumnKind::kFloat);
  if (!std::isfinite(v)) {
    c.present = false;
    return;
  }
  c.f = v;
  c.present = true;
}

void Event::set_bool(int col, bool v) {
  Cell& c = cell(col);
  assert(kind(col) == ColumnKind::kBoolean);
  c.i = v ? 1 : 0;
  c.present = true;
}

void Event::set_time(int col, UnixSeconds v) {
  Cell& c = cell(col);
  assert(kind(col) == ColumnKind::kTimestamp);
  c.i = v;
  c.present = true;
}

void Event::set_ip(int col, const IpAddress& v) {
  Cell& c = cell(col);
  assert(kind(col) == ColumnKind::kIp);
  c.hi = v.hi();
  c.lo = v.lo();
  c.present = true;
}

void Event::store_text(int col, std::string_view v) {
  Cell& c = cell(col);
  assert(kind(col) == ColumnKind::kString);
  // Overwrite in place when the old value had room, so repeated enrichment of the same
  // event does not grow the buffer; otherwise append.
  // (The slot survives set_null(), which only clears `present`; clear() drops all slots.)
  if (v.size() > UINT32_MAX) v = v.substr(0, UINT32_MAX);  // lengths are 32-bit
  size_t cap = v.size();
  if (c.slot && scap(c) >= v.size()) {
    cap = scap(c);
    if (!v.empty()) std::memcpy(text_.data() + c.lo, v.data(), v.size());
  } else {
    c.lo = text_.size();
    text_.append(v);
  }
  c.hi = (uint64_t{cap} << 32) | v.size();
  c.slot = true;
  c.present = true;
}

void Event::set_string(int col, std::string_view v) {
  if (has_control_char(v)) {
    store_text(col, strip(v));
  } else {
    store_text(col, v);
  }
}

ValueError Event::set_text(int col, std::string_view text) {
  Cell& c = cell(col);
  c.present = false;
  const ColumnKind k = kind(col);
  if (k == ColumnKind::kString) {
    set_string(col, text);
    return ValueError::kNone;
  }
  if (text.empty()) return ValueError::kNone;
  switch (k) {
    case ColumnKind::kTimestamp: {
      auto t = parse_report_timestamp(text);
      if (!t) return ValueError::kBadTimestamp;
      c.i = *t;
      break;
    }
    case ColumnKind::kInteger: {
      int64_t v = 0;
      const char* b = text.data();
      const char* e = b + text.size();
      if (*b == '+') ++b;  // from_chars rejects '+'; some feeds write "+0"
      auto [p, ec] = std::from_chars(b, e, v);
      if (b == e || ec != std::errc() || p != e) return ValueError::kBadInteger;
      c.i = v;
      break;
    }
    case ColumnKind::kFloat: {
      double v = 0;
      const char* b = text.data();
      const char* e = b + text.size();
      if (*b == '+') ++b;
      auto [p, ec] = std::from_chars(b, e, v);
      if (b == e || ec != std::errc() || p != e || !std::isfinite(v)) return ValueError::kBadFloat;
      c.f = v;
      break;
    }
    case ColumnKind::kBoolean: {
      auto v = parse_bool(text);
      if (!v) return ValueError::kBadBoolean;
      c.i = *v ? 1 : 0;
      break;
    }
    case ColumnKind::kIp: {
      auto a = IpAddress::parse(text);
      if (!a) return ValueError::kBadIp;
      c.hi = a->hi();
      c.lo = a->lo();
      break;
    }
    case ColumnKind::kString: break;
  }
  c.present = true;
  return ValueError::kNone;
}

void Event::append_text(int col, std::string& out) const {
  const Cell& c = cell(col);
  if (!c.present) return;
  switch (kind(col)) {
    case ColumnKind::kString: out.append(text_.data() + c.lo, slen(c)); break;
    case ColumnKind::kTimestamp: append_report_timestamp(out, c.i); break;
    case ColumnKind::kInteger: {
      char buf[24];
      auto r = std::to_chars(buf, buf + sizeof buf, c.i);
      out.append(buf, r.ptr);
      break;
    }
    case ColumnKind::kFloat: {
      char buf[32];
      auto r = std::to_chars(buf, buf + sizeof buf, c.f);
      out.append(buf, r.ptr);
      break;
    }
    case ColumnKind::kBoolean: out.push_back(c.i ? 'Y' : 'N'); break;
    case ColumnKind::kIp: {
      const IpAddress a = IpAddress::from_v6(c.hi, c.lo);
      if (!a.is_v4()) {
        out += a.to_string();
        break;
      }
      // Dotted quad without a temporary string: writers call this for every row.
      char buf[32];  // 15 needed; -O3 reasons about to_chars failing
      char* p = buf;
      for (int shift = 24; shift >= 0; shift -= 8) {
        p = std::to_chars(p, buf + sizeof buf, (a.v4() >> shift) & 0xFF).ptr;
        if (shift && p != buf + sizeof buf) *p++ = '.';  // always true; tells -O3 so
      }
      out.append(buf, p);
      break;
    }
  }
}

std::optional<UnixSeconds> Event::time_opt(int col) const {
  if (col < 0 || !cells_[static_cast<size_t>(col)].present) return std::nullopt;
  if (kind(col) != ColumnKind::kTimestamp) return std::nullopt;
  return cells_[static_cast<size_t>(col)].i;
}

std::optional<IpAddress> Event::ip_opt(int col) const {
  if (col < 0 || !cells_[static_cast<size_t>(col)].present) return std::nullopt;
  if (kind(col) != ColumnKind::kIp) return std::nullopt;
  const Cell& c = cells_[static_cast<size_t>(col)];
  return IpAddress::from_v6(c.hi, c.lo);
}

std::optional<uint32_t> Event::u32_opt(int col) const {
  if (col < 0 || !cells_[static_cast<size_t>(col)].present) return std::nullopt;
  if (kind(col) != ColumnKind::kInteger) return std::nullopt;
  int64_t v = cells_[static_cast<size_t>(col)].i;
  if (v <= 0 || v > int64_t{UINT32_MAX}) return std::nullopt;  // 0 = unknown (IntelMQ rule)
  return static_cast<uint32_t>(v);
}

std::optional<uint16_t> Event::port(Side s) const {
  int col = side(s).port;
  if (col < 0 || !cells_[static_cast<size_t>(col)].present) return std::nullopt;
  if (kind(col) != ColumnKind::kInteger) return std::nullopt;
  int64_t v = cells_[static_cast<size_t>(col)].i;
  if (v < 0 || v > 65535) return std::nullopt;
  return static_cast<uint16_t>(v);
}

std::string_view Event::str(int col) const {
  if (col < 0 || !cells_[static_cast<size_t>(col)].present) return {};
  if (kind(col) != ColumnKind::kString) return {};
  const Cell& c = cells_[static_cast<size_t>(col)];
  return std::string_view(text_.data() + c.lo, slen(c));
}

std::optional<Severity> Event::severity() const {
  std::string_view s = str(common().severity);
  return s.empty() ? std::nullopt : parse_severity(s);
}

bool Event::set_time_if(int col, UnixSeconds t) {
  if (col < 0 || kind(col) != ColumnKind::kTimestamp) return false;
  set_time(col, t);
  return true;
}

bool Event::set_u32_nonzero(int col, uint32_t v) {
  if (col < 0 || kind(col) != ColumnKind::kInteger) return false;
  if (v == 0) {
    set_null(col);
  } else {
    set_int(col, v);
  }
  return true;
}

bool Event::set_str(int col, std::string_view v) {
  if (col < 0 || kind(col) != ColumnKind::kString) return false;
  set_string(col, v);
  return true;
}

bool Event::set_ip(const IpAddress& a, Side s) {
  int col = side(s).ip;
  if (col < 0 || kind(col) != ColumnKind::kIp) return false;
  set_ip(col, a);
  return true;
}

bool Event::set_port(uint16_t p, Side s) {
  int col = side(s).port;
  if (col < 0 || kind(col) != ColumnKind::kInteger) return false;
  set_int(col, p);
  return true;
}

bool Event::set_geo(std::string_view cc, Side s) {
  int col = side(s).geo;
  if (col < 0 || kind(col) != ColumnKind::kString) return false;
  if (cc.empty()) {
    set_null(col);
    return true;
  }
  std::string up = strip(cc);
  for (char& c : up) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  store_text(col, up);
  return true;
}

bool Event::set_hostname(std::string_view v, Side s) {
  int col = side(s).hostname;
  if (col < 0 || kind(col) != ColumnKind::kString) return false;
  std::string h = strip(v);
  while (!h.empty() && h.back() == '.') h.pop_back();
  for (char& c : h) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  if (h.empty()) {
    set_null(col);
  } else {
    store_text(col, h);
  }
  return true;
}

bool Event::operator==(const Event& o) const {
  if (type_ != o.type_ || cells_.size() != o.cells_.size()) return false;
  for (int col = 0; col < size(); ++col) {
    const Cell& a = cells_[static_cast<size_t>(col)];
    const Cell& b = o.cells_[static_cast<size_t>(col)];
    if (a.present != b.present) return false;
    if (!a.present) continue;
    switch (kind(col)) {
      case ColumnKind::kString:
        if (string_at(col) != o.string_at(col)) return false;
        break;
      case ColumnKind::kIp:
        if (a.hi != b.hi || a.lo != b.lo) return false;
        break;
      case ColumnKind::kFloat:
        if (a.f != b.f) return false;
        break;
      default:
        if (a.i != b.i) return false;
    }
  }
  return true;
}

// Row codec. Per column: one byte 0 (null) or 1 (present), then for present values:
// integer/timestamp 8 bytes little-endian, float the 8 bytes of its IEEE-754 bits,
// boolean 1 byte, IP 16 bytes (hi, lo), string a 4-byte length and the bytes.
void Event::encode(std::string& out) const {
  for (int col = 0; col < size(); ++col) {
    const Cell& c = cells_[static_cast<size_t>(col)];
    out.push_back(c.present ? 1 : 0);
    if (!c.present) continue;
    switch (kind(col)) {
      case ColumnKind::kInteger:
      case ColumnKind::kTimestamp: put_u64(out, static_cast<uint64_t>(c.i)); break;
      case ColumnKind::kFloat: {
        uint64_t bits;
        std::memcpy(&bits, &c.f, 8);
        put_u64(out, bits);
        break;
      }
      case ColumnKind::kBoolean: out.push_back(c.i ? 1 : 0); break;
      case ColumnKind::kIp:
        put_u64(out, c.hi);
        put_u64(out, c.lo);
        break;
      case ColumnKind::kString: {
        uint32_t n = static_cast<uint32_t>(slen(c));
        for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>(n >> (8 * i)));
        out.append(text_.data() + c.lo, n);
        break;
      }
    }
  }
}

Status Event::decode_into(const ReportType* type, std::string_view in) {
  reset(type);
  size_t pos = 0;
  auto need = [&](size_t n) { return in.size() - pos >= n; };
  auto bad = [&](int col) {
    reset(type);
    return Error::invalid("row codec: truncated or invalid value for column " +
                          type->columns[static_cast<size_t>(col)].name);
  };
  for (int col = 0; col < size(); ++col) {
    if (!need(1)) return bad(col);
    char flag = in[pos++];
    if (flag == 0) continue;
    if (flag != 1) return bad(col);
    switch (kind(col)) {
      case ColumnKind::kInteger:
      case ColumnKind::kTimestamp:
        if (!need(8)) return bad(col);
        cell(col).i = static_cast<int64_t>(get_u64(in.data() + pos));
        pos += 8;
        break;
      case ColumnKind::kFloat: {
        if (!need(8)) return bad(col);
        uint64_t bits = get_u64(in.data() + pos);
        double f;
        std::memcpy(&f, &bits, 8);
        if (!std::isfinite(f)) return bad(col);
        cell(col).f = f;
        pos += 8;
        break;
      }
      case ColumnKind::kBoolean:
        if (!need(1) || static_cast<unsigned char>(in[pos]) > 1) return bad(col);
        cell(col).i = in[pos++];
        break;
      case ColumnKind::kIp:
        if (!need(16)) return bad(col);
        cell(col).hi = get_u64(in.data() + pos);
        cell(col).lo = get_u64(in.data() + pos + 8);
        pos += 16;
        break;
      case ColumnKind::kString: {
        if (!need(4)) return bad(col);
        uint32_t n = 0;
        for (int i = 0; i < 4; ++i)
          n |= uint32_t{static_cast<unsigned char>(in[pos + i])} << (8 * i);
        pos += 4;
        if (!need(n)) return bad(col);
        std::string_view v = in.substr(pos, n);
        if (has_control_char(v)) return bad(col);
        store_text(col, v);
        pos += n;
        continue;  // store_text set `present`
      }
    }
    cell(col).present = true;
  }
  if (pos != in.size()) return Error::invalid("row codec: trailing bytes");
  return {};
}

Result<Event> Event::decode(const ReportType* type, std::string_view bytes) {
  Event e;
  Status s = e.decode_into(type, bytes);
  if (!s) return s.error();
  return e;
}

}  // namespace vantage::core

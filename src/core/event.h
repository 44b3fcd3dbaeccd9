#pragma once
// Event: one row of one report type -- a `const ReportType*` plus one value per column, in
// the type's column order. The pipeline moves >1M of these a second, so the representation
// is flat: a vector of fixed-size cells (typed values held inline: int64, double, bool,
// UnixSeconds, IpAddress) and one string buffer for all text cells. Reusing an Event
// (reset()/clear()) keeps both allocations, so a reader filling the same Event per row does
// no per-field heap allocation.
//
// Null is distinct from the empty string (a report writes `,,` for null and `,"",` for an
// empty string). Non-string kinds have no "empty" value: setting "" makes them null.
//
// Canonical form: every value is stored parsed (an IP as 16 bytes, a timestamp as seconds),
// so two events with the same content compare equal and encode() to the same bytes whatever
// text they came from. The named setters used by enrichment normalise further: asn/naics 0
// means unknown (null), geo is upper-case, hostname lower-case without a trailing dot, and
// every string loses control characters (TAB becomes a space).
//
// Thread-safety: a plain value; no sharing. The ReportType must outlive the Event.

#include <cassert>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/ip.h"
#include "common/result.h"
#include "common/time.h"
#include "core/catalogue.h"

namespace vantage::core {

// Why a text value does not fit its column's kind (kNone: it does).
enum class ValueError : uint8_t {
  kNone = 0,
  kBadTimestamp,
  kBadInteger,
  kBadFloat,
  kBadBoolean,
  kBadIp
};
const char* value_error_name(ValueError e);  // "bad timestamp", ...

class Event {
 public:
  Event() = default;
  explicit Event(const ReportType* type) { reset(type); }

  // Switches to `type` with every column null; keeps allocated capacity.
  void reset(const ReportType* type);
  // Every column null, same type.
  void clear();

  const ReportType* type() const { return type_; }
  int size() const { return static_cast<int>(cells_.size()); }
  ColumnKind kind(int col) const { return type_->columns[static_cast<size_t>(col)].kind; }

  // ---- Generic access by column index (0 <= col < size()) ----
  bool is_null(int col) const { return !cell(col).present; }
  // Typed reads. Precondition: the column has that kind and is not null (asserted).
  int64_t int_at(int col) const { return typed(col, ColumnKind::kInteger).i; }
  double float_at(int col) const { return typed(col, ColumnKind::kFloat).f; }
  bool bool_at(int col) const { return typed(col, ColumnKind::kBoolean).i != 0; }
  UnixSeconds time_at(int col) const { return typed(col, ColumnKind::kTimestamp).i; }
  IpAddress ip_at(int col) const {
    const Cell& c = typed(col, ColumnKind::kIp);
    return IpAddress::from_v6(c.hi, c.lo);
  }
  // A string column's text; "" when null (use is_null() to tell them apart).
  std::string_view string_at(int col) const {
    const Cell& c = cell(col);
    assert(kind(col) == ColumnKind::kString);
    return c.present ? std::string_view(text_.data() + c.lo, slen(c)) : std::string_view();
  }

  void set_null(int col) { cell(col).present = false; }
  void set_int(int col, int64_t v);
  void set_float(int col, double v);
  void set_bool(int col, bool v);
  void set_time(int col, UnixSeconds v);
  void set_ip(int col, const IpAddress& v);
  // Control characters are removed (TAB becomes a space). The caller supplies UTF-8.
  void set_string(int col, std::string_view v);

  // Parses `text` as the column's kind and stores it. Empty text: null for non-string
  // kinds, the empty string for strings. On error the column is left null.
  // Accepted forms: timestamps as parse_timestamp() (stored to the second); integers in
  // decimal; floats in decimal/exponent form (no NaN/inf); booleans Y/N, yes/no, true/false,
  // t/f, 1/0 in any case; IPs as IpAddress::parse().
  ValueError set_text(int col, std::string_view text);
  // Appends the canonical text of a value (no CSV quoting): nothing for null, timestamps
  // "YYYY-MM-DD HH:MM:SS", IPs RFC 5952, floats shortest round-trip, booleans "Y"/"N".
  void append_text(int col, std::string& out) const;
  std::string text(int col) const {
    std::string s;
    append_text(col, s);
    return s;
  }

  // ---- The common fields, by name (absent column or null -> nullopt / "") ----
  // Side::kPrimary is the constituent side (see catalogue.h); kSource/kDestination are the
  // src_*/dst_* columns of the event types.
  std::optional<UnixSeconds> timestamp() const { return time_opt(common().timestamp); }
  std::optional<IpAddress> ip(Side s = Side::kPrimary) const { return ip_opt(side(s).ip); }
  std::optional<IpAddress> src_ip() const { return ip(Side::kSource); }
  std::optional<IpAddress> dst_ip() const { return ip(Side::kDestination); }
  std::optional<uint16_t> port(Side s = Side::kPrimary) const;
  std::optional<uint32_t> asn(Side s = Side::kPrimary) const { return u32_opt(side(s).asn); }
  std::optional<uint32_t> naics(Side s = Side::kPrimary) const { return u32_opt(side(s).naics); }
  std::string_view geo(Side s = Side::kPrimary) const { return str(side(s).geo); }
  std::string_view region(Side s = Side::kPrimary) const { return str(side(s).region); }
  std::string_view city(Side s = Side::kPrimary) const { return str(side(s).city); }
  std::string_view hostname(Side s = Side::kPrimary) const { return str(side(s).hostname); }
  std::string_view sector(Side s = Side::kPrimary) const { return str(side(s).sector); }
  std::string_view protocol() const { return str(common().protocol); }
  std::string_view tag() const { return str(common().tag); }
  // The `severity` column if set and valid, otherwise nullopt (callers fall back to the
  // type's default_severity).
  std::optional<Severity> severity() const;

  // Setters for enrichment and sensors. Each returns false (and does nothing) when the type
  // has no such column. Values are canonicalised as described at the top of this file.
  bool set_timestamp(UnixSeconds t) { return set_time_if(common().timestamp, t); }
  bool set_ip(const IpAddress& a, Side s = Side::kPrimary);
  bool set_port(uint16_t p, Side s = Side::kPrimary);
  bool set_asn(uint32_t asn, Side s = Side::kPrimary) { return set_u32_nonzero(side(s).asn, asn); }
  bool set_naics(uint32_t n, Side s = Side::kPrimary) { return set_u32_nonzero(side(s).naics, n); }
  bool set_geo(std::string_view cc, Side s = Side::kPrimary);
  bool set_region(std::string_view v, Side s = Side::kPrimary) {
    return set_str(side(s).region, v);
  }
  bool set_city(std::string_view v, Side s = Side::kPrimary) { return set_str(side(s).city, v); }
  bool set_hostname(std::string_view v, Side s = Side::kPrimary);
  bool set_sector(std::string_view v, Side s = Side::kPrimary) {
    return set_str(side(s).sector, v);
  }
  bool set_protocol(std::string_view v) { return set_str(common().protocol, v); }
  bool set_tag(std::string_view v) { return set_str(common().tag, v); }
  bool set_severity(Severity s) { return set_str(common().severity, severity_name(s)); }

  // Content equality: same type and the same value (or null) in every column.
  bool operator==(const Event& o) const;

  // Compact binary row codec (what the event store keeps per row): per column a null flag
  // and the value in a fixed-width or length-prefixed form. decode() checks every length
  // and rejects anything encode() would not produce for `type`.
  void encode(std::string& out) const;
  static Result<Event> decode(const ReportType* type, std::string_view bytes);
  Status decode_into(const ReportType* type, std::string_view bytes);

  // Bytes held by the string buffer (for tests and benchmarks of the representation).
  size_t text_bytes() const { return text_.size(); }

 private:
  // 24 bytes. Integer/boolean/timestamp in `i`, double in `f`, IP in hi/lo, string as
  // offset = lo into text_ and hi = length | capacity << 32 (the room of its slot, so a
  // rewrite that fits reuses it).
  struct Cell {
    union {
      int64_t i;
      double f;
      uint64_t lo;
    };
    uint64_t hi;
    bool present;
    bool slot;  // a string cell owns bytes [lo, lo + capacity) of text_
  };

  static size_t slen(const Cell& c) { return static_cast<uint32_t>(c.hi); }
  static size_t scap(const Cell& c) { return static_cast<size_t>(c.hi >> 32); }
  static const CommonColumns kNoColumns;
  const CommonColumns& common() const { return type_ ? type_->common : kNoColumns; }
  const Endpoint& side(Side s) const { return common().side[static_cast<int>(s)]; }
  Cell& cell(int col) {
    assert(col >= 0 && col < size());
    return cells_[static_cast<size_t>(col)];
  }
  const Cell& cell(int col) const {
    assert(col >= 0 && col < size());
    return cells_[static_cast<size_t>(col)];
  }
  const Cell& typed(int col, [[maybe_unused]] ColumnKind k) const {
    assert(kind(col) == k && !is_null(col));
    return cell(col);
  }
  std::optional<UnixSeconds> time_opt(int col) const;
  std::optional<IpAddress> ip_opt(int col) const;
  std::optional<uint32_t> u32_opt(int col) const;
  std::string_view str(int col) const;
  bool set_time_if(int col, UnixSeconds t);
  bool set_u32_nonzero(int col, uint32_t v);
  bool set_str(int col, std::string_view v);
  // Stores bytes that are already free of control characters.
  void store_text(int col, std::string_view v);

  const ReportType* type_ = nullptr;
  std::vector<Cell> cells_;
  std::string text_;
};

}  // namespace vantage::core

#include "enrich/asn_table.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <queue>
#include <set>
#include <unordered_map>

#include "common/strings.h"
#include "enrich/csv.h"

namespace vantage::enrich {
namespace {

struct Row {
  uint128 first = 0;  // in the family's own terms (IPv4: 0..2^32-1)
  uint128 last = 0;
  uint32_t asn = 0;
  uint32_t name_id = 0;
  uint32_t order = 0;  // input order across all files: the last tie-break
  uint32_t source = 0;
  uint32_t line = 0;
};

struct Segment {
  uint128 first;
  uint128 last;
  uint32_t row;
};

std::string addr_text(uint128 v, bool v4) {
  return v4 ? IpAddress::from_v4(static_cast<uint32_t>(v)).to_string()
            : IpAddress::from_u128(v).to_string();
}

// Cuts possibly overlapping rows into disjoint segments, each owned by the winning row (see
// the header for the rule). Rows must be sorted by (first, last, order).
std::vector<Segment> flatten(const std::vector<Row>& rows, uint128 max, bool v4,
                             const std::vector<std::string>& sources, AsnLoadStats& stats) {
  std::vector<Segment> out;
  out.reserve(rows.size());
  // Fast path: the usual case is no overlap at all.
  bool overlap = false;
  uint128 max_last = 0;
  size_t max_row = 0;
  for (size_t i = 0; i < rows.size(); ++i) {
    if (i > 0 && rows[i].first <= max_last) {
      overlap = true;
      ++stats.overlapping_rows;
      if (stats.overlap_examples.size() < 5) {
        const Row& a = rows[max_row];
        const Row& b = rows[i];
        stats.overlap_examples.push_back(
            sources[a.source] + ":" + std::to_string(a.line) + " " + addr_text(a.first, v4) + "-" +
            addr_text(a.last, v4) + " AS" + std::to_string(a.asn) + " vs " + sources[b.source] +
            ":" + std::to_string(b.line) + " " + addr_text(b.first, v4) + "-" +
            addr_text(b.last, v4) + " AS" + std::to_string(b.asn));
      }
    }
    if (i == 0 || rows[i].last > max_last) {
      max_last = rows[i].last;
      max_row = i;
    }
  }
  if (!overlap) {
    for (uint32_t i = 0; i < rows.size(); ++i) out.push_back({rows[i].first, rows[i].last, i});
    return out;
  }

  // Sweep over elementary intervals: coverage only changes at a row's first address or just
  // after its last, so the winner is constant between consecutive boundaries.
  std::vector<uint128> bounds;
  bounds.reserve(rows.size() * 2);
  for (const Row& r : rows) {
    bounds.push_back(r.first);
    if (r.last != max) bounds.push_back(r.last + 1);
  }
  std::sort(bounds.begin(), bounds.end());
  bounds.erase(std::unique(bounds.begin(), bounds.end()), bounds.end());

  auto better = [&rows](uint32_t a, uint32_t b) {
    const Row& x = rows[a];
    const Row& y = rows[b];
    uint128 sx = x.last - x.first, sy = y.last - y.first;
    if (sx != sy) return sx < sy;
    if (x.asn != y.asn) return x.asn < y.asn;
    return x.order < y.order;
  };
  std::set<uint32_t, decltype(better)> active(better);
  using Ending = std::pair<uint128, uint32_t>;  // (last, row), smallest last first
  std::priority_queue<Ending, std::vector<Ending>, std::greater<>> ending;
  size_t next = 0;
  for (size_t k = 0; k < bounds.size(); ++k) {
    uint128 b = bounds[k];
    while (next < rows.size() && rows[next].first == b) {
      active.insert(static_cast<uint32_t>(next));
      ending.push({rows[next].last, static_cast<uint32_t>(next)});
      ++next;
    }
    while (!ending.empty() && ending.top().first < b) {
      active.erase(ending.top().second);
      ending.pop();
    }
    if (active.empty()) continue;
    uint32_t winner = *active.begin();
    uint128 seg_last = k + 1 < bounds.size() ? bounds[k + 1] - 1 : max;
    if (!out.empty() && out.back().row == winner && out.back().last + 1 == b) {
      out.back().last = seg_last;
    } else {
      out.push_back({b, seg_last, winner});
    }
  }
  return out;
}

}  // namespace

Result<std::shared_ptr<const AsnTable>> AsnTable::load(const std::string& v4_path,
                                                       const std::string& v6_path) {
  std::vector<std::string> buffers;
  std::vector<std::pair<std::string, std::string_view>> texts;
  buffers.reserve(2);
  for (const std::string& path : {v4_path, v6_path}) {
    if (path.empty()) continue;
    std::string err;
    if (!csv::read_file(path, buffers.emplace_back(), err)) return Error::io(err);
  }
  size_t bi = 0;
  for (const std::string& path : {v4_path, v6_path}) {
    if (path.empty()) continue;
    texts.emplace_back(path, buffers[bi++]);
  }
  return parse(texts);
}

Result<std::shared_ptr<const AsnTable>> AsnTable::parse(
    const std::vector<std::pair<std::string, std::string_view>>& named_texts) {
  std::shared_ptr<AsnTable> t(new AsnTable());
  std::vector<Row> v4_rows, v6_rows;
  std::vector<std::string> sources;
  std::unordered_map<std::string, uint32_t> name_ids;
  std::vector<std::string_view> fields;
  std::vector<std::string> scratch;
  std::string err;
  uint32_t order = 0;

  for (const auto& named : named_texts) {
    const std::string& source = named.first;
    const std::string_view text = named.second;
    const uint32_t source_id = static_cast<uint32_t>(sources.size());
    sources.push_back(source);
    auto fail = [&source](size_t line, const std::string& why) {
      return Error::invalid(source + ":" + std::to_string(line) + ": " + why);
    };
    if (text.empty()) return Error::invalid(source + ": empty file (truncated download?)");
    if (text.back() != '\n') {
      return Error::invalid(source + ": does not end with a newline (truncated?)");
    }
    std::string_view body = text;
    if (body.substr(0, 3) == "\xEF\xBB\xBF") body.remove_prefix(3);
    csv::LineReader reader(body);
    std::string_view line;
    size_t line_no = 0;
    size_t rows_here = 0;
    while (reader.next(line, line_no)) {
      if (trim(line).empty()) continue;
      if (!csv::split_fields(line, fields, scratch, err)) return fail(line_no, err);
      if (fields.size() != 4) {
        return fail(line_no, "expected 4 fields (first_ip,last_ip,asn,name), got " +
                                 std::to_string(fields.size()));
      }
      auto first = IpAddress::parse(fields[0]);
      if (!first) return fail(line_no, "bad first address '" + std::string(fields[0]) + "'");
      auto last = IpAddress::parse(fields[1]);
      if (!last) return fail(line_no, "bad last address '" + std::string(fields[1]) + "'");
      if (first->is_v4() != last->is_v4()) return fail(line_no, "address families differ");
      if (*last < *first) return fail(line_no, "last address is below the first");
      auto asn = parse_uint(fields[2]);
      if (!asn || *asn > UINT32_MAX) {
        return fail(line_no, "bad ASN '" + std::string(fields[2]) + "'");
      }
      ++rows_here;
      ++t->stats_.rows;
      if (*asn == 0) {
        ++t->stats_.skipped_asn0;
        continue;
      }
      auto [it, inserted] =
          name_ids.try_emplace(std::string(fields[3]), static_cast<uint32_t>(name_ids.size()));
      Row r;
      r.asn = static_cast<uint32_t>(*asn);
      r.name_id = it->second;
      r.order = order++;
      r.source = source_id;
      r.line = static_cast<uint32_t>(line_no);
      if (first->is_v4()) {
        r.first = first->v4();
        r.last = last->v4();
        v4_rows.push_back(r);
      } else {
        r.first = first->u128();
        r.last = last->u128();
        v6_rows.push_back(r);
      }
    }
    if (rows_here == 0) return Error::invalid(source + ": no data rows (truncated?)");
  }

  // Name pool: one contiguous string, names in id order.
  std::vector<const std::string*> by_id(name_ids.size());
  for (const auto& [name, id] : name_ids) by_id[id] = &name;
  t->name_off_.reserve(by_id.size());
  t->name_len_.reserve(by_id.size());
  for (const std::string* n : by_id) {
    t->name_off_.push_back(static_cast<uint32_t>(t->names_.size()));
    t->name_len_.push_back(static_cast<uint32_t>(n->size()));
    t->names_ += *n;
  }
  t->stats_.distinct_names = by_id.size();

  auto by_start = [](const Row& a, const Row& b) {
    if (a.first != b.first) return a.first < b.first;
    if (a.last != b.last) return a.last < b.last;
    return a.order < b.order;
  };
  std::sort(v4_rows.begin(), v4_rows.end(), by_start);
  std::sort(v6_rows.begin(), v6_rows.end(), by_start);

  auto v4_segs = flatten(v4_rows, UINT32_MAX, true, sources, t->stats_);
  auto v6_segs = flatten(v6_rows, ~uint128{0}, false, sources, t->stats_);
  for (const Segment& s : v4_segs) {
    t->v4_first_.push_back(static_cast<uint32_t>(s.first));
    t->v4_last_.push_back(static_cast<uint32_t>(s.last));
    t->v4_asn_.push_back(v4_rows[s.row].asn);
    t->v4_name_.push_back(v4_rows[s.row].name_id);
  }
  for (const Segment& s : v6_segs) {
    t->v6_first_.push_back(s.first);
    t->v6_last_.push_back(s.last);
    t->v6_asn_.push_back(v6_rows[s.row].asn);
    t->v6_name_.push_back(v6_rows[s.row].name_id);
  }
  t->v4_bucket_.resize(65537);
  for (uint32_t b = 0; b <= 65536; ++b) {
    uint64_t key = uint64_t{b} << 16;
    t->v4_bucket_[b] = static_cast<uint32_t>(
        std::lower_bound(t->v4_first_.begin(), t->v4_first_.end(), key,
                         [](uint32_t v, uint64_t k) { return uint64_t{v} < k; }) -
        t->v4_first_.begin());
  }
  t->v6_bucket_.resize(65537);
  for (uint32_t b = 0; b <= 65536; ++b) {
    t->v6_bucket_[b] = static_cast<uint32_t>(
        b == 65536 ? t->v6_first_.size()
                   : std::lower_bound(t->v6_first_.begin(), t->v6_first_.end(), uint128{b} << 112) -
                         t->v6_first_.begin());
  }
  t->stats_.v4_segments = v4_segs.size();
  t->stats_.v6_segments = v6_segs.size();
  if (t->stats_.overlapping_rows > 0) {
    std::string examples;
    for (const auto& e : t->stats_.overlap_examples) examples += "\n  " + e;
    spdlog::warn(
        "ASN data: {} row(s) overlap another; resolved by most specific range, then lower "
        "ASN. Examples:{}",
        t->stats_.overlapping_rows, examples);
  }
  return std::shared_ptr<const AsnTable>(std::move(t));
}

uint32_t AsnTable::find_v4(uint32_t a) const {
  if (v4_first_.empty()) return kNone;
  const uint32_t b = a >> 16;
  const uint32_t* base = v4_first_.data();
  // Segments starting inside this /16 are [lo, hi); the covering one is the last that starts
  // at or below `a`, which may also be the last segment of an earlier bucket (lo - 1).
  const uint32_t* p = std::upper_bound(base + v4_bucket_[b], base + v4_bucket_[b + 1], a);
  if (p == base) return kNone;
  uint32_t idx = static_cast<uint32_t>(p - base - 1);
  return a <= v4_last_[idx] ? idx : kNone;
}

uint32_t AsnTable::find_v6(uint128 a) const {
  if (v6_first_.empty()) return kNone;
  const uint32_t b = static_cast<uint32_t>(a >> 112);
  const uint128* base = v6_first_.data();
  const uint128* p = std::upper_bound(base + v6_bucket_[b], base + v6_bucket_[b + 1], a);
  if (p == base) return kNone;
  uint32_t idx = static_cast<uint32_t>(p - base - 1);
  return a <= v6_last_[idx] ? static_cast<uint32_t>(v4_first_.size()) + idx : kNone;
}

uint32_t AsnTable::asn_at(uint32_t idx) const {
  const size_t n4 = v4_first_.size();
  return idx < n4 ? v4_asn_[idx] : v6_asn_[idx - n4];
}

std::string_view AsnTable::name_at(uint32_t idx) const {
  const size_t n4 = v4_first_.size();
  return name_of(idx < n4 ? v4_name_[idx] : v6_name_[idx - n4]);
}

AsnRecord AsnTable::record_at(uint32_t idx) const {
  const size_t n4 = v4_first_.size();
  AsnRecord r;
  r.asn = asn_at(idx);
  r.name = name_at(idx);
  if (idx < n4) {
    r.first = IpAddress::from_v4(v4_first_[idx]);
    r.last = IpAddress::from_v4(v4_last_[idx]);
  } else {
    r.first = IpAddress::from_u128(v6_first_[idx - n4]);
    r.last = IpAddress::from_u128(v6_last_[idx - n4]);
  }
  return r;
}

std::optional<AsnRecord> AsnTable::lookup(const IpAddress& a) const {
  uint32_t idx = find(a);
  if (idx == kNone) return std::nullopt;
  return record_at(idx);
}

std::vector<AsnRecord> AsnTable::overlapping(const IpPrefix& prefix) const {
  std::vector<AsnRecord> out;
  if (prefix.is_v4()) {
    uint32_t lo = prefix.first().v4(), hi = prefix.last().v4();
    auto it = std::lower_bound(v4_last_.begin(), v4_last_.end(), lo);
    for (size_t i = it - v4_last_.begin(); i < v4_first_.size() && v4_first_[i] <= hi; ++i) {
      out.push_back(record_at(static_cast<uint32_t>(i)));
    }
  } else {
    uint128 lo = prefix.first().u128(), hi = prefix.last().u128();
    auto it = std::lower_bound(v6_last_.begin(), v6_last_.end(), lo);
    for (size_t i = it - v6_last_.begin(); i < v6_first_.size() && v6_first_[i] <= hi; ++i) {
      out.push_back(record_at(static_cast<uint32_t>(v4_first_.size() + i)));
    }
  }
  return out;
}

size_t AsnTable::memory_bytes() const {
  auto bytes = [](const auto& v) { return v.capacity() * sizeof(v[0]); };
  return bytes(v4_first_) + bytes(v4_last_) + bytes(v4_asn_) + bytes(v4_name_) + bytes(v4_bucket_) +
         bytes(v6_first_) + bytes(v6_last_) + bytes(v6_asn_) + bytes(v6_name_) + names_.capacity() +
         bytes(name_off_) + bytes(name_len_);
}

}  // namespace vantage::enrich

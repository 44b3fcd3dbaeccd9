#include "sensors/scanner/targets.h"

#include <algorithm>

#include "common/strings.h"

namespace vantage::scanner {

void IntervalSet::add(const IpPrefix& p) {
  add(p.first().u128(), p.last().u128());
}

void IntervalSet::add(u128 lo, u128 hi) {
  v_.push_back({lo, hi});
}

void IntervalSet::normalise() {
  std::sort(v_.begin(), v_.end(), [](const Interval& a, const Interval& b) { return a.lo < b.lo; });
  std::vector<Interval> out;
  for (const auto& iv : v_) {
    if (!out.empty() && (out.back().hi == ~u128{0} || iv.lo <= out.back().hi + 1)) {
      out.back().hi = std::max(out.back().hi, iv.hi);
    } else {
      out.push_back(iv);
    }
  }
  v_ = std::move(out);
}

bool IntervalSet::contains(const IpAddress& a) const {
  const u128 x = a.u128();
  auto it = std::upper_bound(v_.begin(), v_.end(), x,
                             [](u128 val, const Interval& iv) { return val < iv.lo; });
  if (it == v_.begin()) return false;
  --it;
  return x <= it->hi;
}

IntervalSet IntervalSet::minus(const IntervalSet& other) const {
  IntervalSet out;
  size_t j = 0;
  const auto& o = other.v_;
  for (const auto& iv : v_) {
    u128 lo = iv.lo;
    bool alive = true;
    while (j < o.size() && o[j].hi < lo) ++j;
    size_t k = j;
    while (alive && k < o.size() && o[k].lo <= iv.hi) {
      if (o[k].lo > lo) out.v_.push_back({lo, o[k].lo - 1});
      if (o[k].hi >= iv.hi) {
        alive = false;
      } else {
        lo = o[k].hi + 1;
      }
      ++k;
    }
    if (alive) out.v_.push_back({lo, iv.hi});
  }
  return out;
}

Result<IntervalSet> parse_blocklist(std::string_view text, std::string_view origin) {
  IntervalSet set;
  size_t line_no = 0;
  while (!text.empty()) {
    const size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    ++line_no;
    if (const size_t hash = line.find('#'); hash != std::string_view::npos)
      line = line.substr(0, hash);
    while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
    while (!line.empty() && (line.back() == ' ' || line.back() == '\t' || line.back() == '\r'))
      line.remove_suffix(1);
    if (line.empty()) continue;
    auto parsed = IpPrefix::parse(line);
    if (!parsed) {
      return Error::invalid(std::string(origin) + ":" + std::to_string(line_no) + ": bad CIDR '" +
                            std::string(line) + "'");
    }
    set.add(parsed->prefix);
  }
  set.normalise();
  return set;
}

TargetSpace TargetSpace::make(const IntervalSet& targets, const IntervalSet& blocked) {
  TargetSpace t;
  t.v_ = targets.minus(blocked).intervals();
  for (const auto& iv : t.v_) {
    t.starts_.push_back(t.total_);
    const u128 n = iv.hi - iv.lo + 1;
    t.total_ += n > (u128{1} << 40) ? (uint64_t{1} << 40) : static_cast<uint64_t>(n);
  }
  return t;
}

IpAddress TargetSpace::at(uint64_t index) const {
  auto it = std::upper_bound(starts_.begin(), starts_.end(), index);
  const size_t i = static_cast<size_t>(it - starts_.begin()) - 1;
  return IpAddress::from_u128(v_[i].lo + (index - starts_[i]));
}

}  // namespace vantage::scanner

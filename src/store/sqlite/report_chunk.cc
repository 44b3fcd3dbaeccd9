#include "store/sqlite/report_chunk.h"

#include <algorithm>

namespace vantage::store {

Status scan_reports_in_chunks(
    EventStore& store, std::span<const ReportKey> keys, int64_t chunk_rows, int64_t org_rows_max,
    const ReportRowFn& row,
    const std::function<Status(std::span<const ReportKey>, bool& go_on)>& chunk) {
  chunk_rows = std::max<int64_t>(chunk_rows, 1);
  for (size_t begin = 0; begin < keys.size();) {
    auto [end, too_large] = next_report_scan_chunk(keys, begin, chunk_rows, org_rows_max);
    bool go_on = true;
    if (too_large) {
      for (size_t i = begin; i < end && go_on; ++i) {
        auto st = store.scan_report(keys[i], [&](const StoredEvent& e) {
          go_on = row(keys[i], e);
          return go_on;
        });
        if (!st) return st;
      }
    } else if (auto st = chunk(keys.subspan(begin, end - begin), go_on); !st) {
      return st;
    }
    if (!go_on) break;
    begin = end;
  }
  return {};
}

Status ReportChunk::start(Db& db, TypeIds& types, std::span<const ReportKey> keys) {
  keys_ = keys;
  wanted_.clear();
  orgs_.clear();
  pairs_.clear();
  ids_.clear();
  for (size_t i = 0; i < keys.size(); ++i) {
    auto tid = types.find(db, keys[i].type);
    if (!tid) return tid.error();
    if (!*tid) continue;  // no event of this type was ever stored
    wanted_.emplace_back(keys[i].org_id, **tid, keys[i].filter, static_cast<uint32_t>(i));
    if (orgs_.empty() || orgs_.back() != keys[i].org_id) orgs_.push_back(keys[i].org_id);
  }
  std::sort(wanted_.begin(), wanted_.end());
  return {};
}

void ReportChunk::add(uint32_t org_id, int64_t type_id, MatchFilter filter, int64_t event_id) {
  auto it = std::lower_bound(wanted_.begin(), wanted_.end(),
                             std::make_tuple(org_id, type_id, filter, uint32_t{0}));
  if (it == wanted_.end() || std::get<0>(*it) != org_id || std::get<1>(*it) != type_id ||
      std::get<2>(*it) != filter)
    return;
  pairs_.emplace_back(std::get<3>(*it), event_id);
}

void ReportChunk::add(const SpoolGroup& g) {
  auto it = std::lower_bound(wanted_.begin(), wanted_.end(),
                             std::make_tuple(g.org_id, g.type_id, g.filter, uint32_t{0}));
  if (it == wanted_.end() || std::get<0>(*it) != g.org_id || std::get<1>(*it) != g.type_id ||
      std::get<2>(*it) != g.filter)
    return;
  uint32_t key = std::get<3>(*it);
  g.for_each_id([&](int64_t id) { pairs_.emplace_back(key, id); });
}

const std::vector<int64_t>& ReportChunk::event_ids() {
  std::sort(pairs_.begin(), pairs_.end());
  pairs_.erase(std::unique(pairs_.begin(), pairs_.end()), pairs_.end());
  ids_.clear();
  for (const auto& p : pairs_) ids_.push_back(p.second);
  std::sort(ids_.begin(), ids_.end());
  ids_.erase(std::unique(ids_.begin(), ids_.end()), ids_.end());
  return ids_;
}

bool ReportChunk::hand_out(const std::vector<StoredEvent>& events, const std::vector<bool>& found,
                           const std::function<bool(const ReportKey&, const StoredEvent&)>& row) {
  // pairs_ is sorted by key index: each report's events are one run of it.
  for (size_t p = 0; p < pairs_.size();) {
    uint32_t key = pairs_[p].first;
    order_.clear();
    for (; p < pairs_.size() && pairs_[p].first == key; ++p) {
      auto at = std::lower_bound(ids_.begin(), ids_.end(), pairs_[p].second) - ids_.begin();
      if (found[static_cast<size_t>(at)]) order_.push_back(static_cast<uint32_t>(at));
    }
    std::sort(order_.begin(), order_.end(),
              [&](uint32_t a, uint32_t b) { return report_row_less(events[a], events[b]); });
    for (uint32_t at : order_) {
      if (!row(keys_[key], events[at])) return false;
    }
  }
  return true;
}

void ReportChunk::release() {
  wanted_ = {};
  orgs_ = {};
  pairs_ = {};
  ids_ = {};
  order_ = {};
}

}  // namespace vantage::store

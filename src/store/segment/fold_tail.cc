#include "store/segment/fold_tail.h"

#include <algorithm>
#include <cstdint>

namespace vantage::store {

void FoldTail::reset(int64_t after) {
  valid_ = true;
  after_ = after;
  // clear() keeps the capacity: the next fold's tail is about as large.
  events_.clear();
  routes_.clear();
  texts_.clear();
}

void FoldTail::invalidate() {
  valid_ = false;
  events_ = {};
  routes_ = {};
  texts_ = {};
}

bool FoldTail::put_texts(Event& e, const SegmentRecord& fields) {
  if (fields.geo.size() > UINT8_MAX || fields.region.size() > UINT8_MAX ||
      fields.tag.size() > UINT16_MAX ||
      texts_.size() + fields.geo.size() + fields.region.size() + fields.tag.size() > UINT32_MAX) {
    invalidate();
    return false;
  }
  e.texts_at = static_cast<uint32_t>(texts_.size());
  e.geo_size = static_cast<uint8_t>(fields.geo.size());
  e.region_size = static_cast<uint8_t>(fields.region.size());
  e.tag_size = static_cast<uint16_t>(fields.tag.size());
  texts_.append(fields.geo).append(fields.region).append(fields.tag);
  return true;
}

bool FoldTail::put_routes(Event& e, const std::vector<OrgRoute>& routes) {
  if (routes.size() > UINT16_MAX || routes_.size() + routes.size() > UINT32_MAX) {
    invalidate();
    return false;
  }
  e.routes_at = static_cast<uint32_t>(routes_.size());
  e.routes_size = static_cast<uint16_t>(routes.size());
  for (const auto& r : routes) {
    if (r.org_id >= (uint32_t{1} << 30)) {
      invalidate();
      return false;
    }
    routes_.push_back((r.org_id << 2) | static_cast<uint32_t>(r.filter));
  }
  return true;
}

bool FoldTail::append(int64_t id, DayNumber day, int64_t type_id, uint64_t event_key,
                      const SegmentRecord& fields, const std::vector<OrgRoute>& routes) {
  if (!valid_) return false;
  if (type_id < 0 || type_id > INT32_MAX) {
    invalidate();
    return false;
  }
  Event& e = events_.emplace_back();
  e.id = id;
  e.event_key = event_key;
  e.type_id = static_cast<int32_t>(type_id);
  e.day = day;
  e.asn = fields.asn;
  e.severity = fields.severity;
  return put_texts(e, fields) && put_routes(e, routes);
}

FoldTail::Event* FoldTail::find(int64_t id) {
  auto it = std::lower_bound(events_.begin(), events_.end(), id,
                             [](const Event& e, int64_t v) { return e.id < v; });
  return it != events_.end() && it->id == id ? &*it : nullptr;
}

bool FoldTail::set_representative(Event& e, const SegmentRecord& fields) {
  // The old texts stay behind in texts_ until the fold clears it (rare: an earlier repeat).
  e.asn = fields.asn;
  e.severity = fields.severity;
  return put_texts(e, fields);
}

bool FoldTail::set_routes(Event& e, const std::vector<OrgRoute>& routes) {
  return put_routes(e, routes);
}

void FoldTail::routes(const Event& e, std::vector<OrgRoute>& out) const {
  out.clear();
  for (uint32_t i = 0; i < e.routes_size; ++i) {
    uint32_t code = routes_[e.routes_at + i];
    out.push_back({code >> 2, static_cast<MatchFilter>(code & 3)});
  }
}

void FoldTail::drop_through(int64_t through) {
  if (through <= after_) return;
  after_ = through;
  if (events_.empty() || events_.back().id <= through) {
    reset(through);
    return;
  }
  // Part of the tail was folded (a fold stops at fold_max_entries): keep the rest, whose
  // routes and texts stay where they are in the arenas.
  auto keep = std::upper_bound(events_.begin(), events_.end(), through,
                               [](int64_t v, const Event& e) { return v < e.id; });
  events_.erase(events_.begin(), keep);
}

}  // namespace vantage::store

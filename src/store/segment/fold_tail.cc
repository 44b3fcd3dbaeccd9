#include "store/segment/fold_tail.h"

#include <algorithm>

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

void FoldTail::put_texts(Event& e, const SegmentRecord& fields) {
  e.texts_at = texts_.size();
  e.geo_size = static_cast<uint32_t>(fields.geo.size());
  e.region_size = static_cast<uint32_t>(fields.region.size());
  e.tag_size = static_cast<uint32_t>(fields.tag.size());
  texts_.append(fields.geo).append(fields.region).append(fields.tag);
}

void FoldTail::append(int64_t id, DayNumber day, int64_t type_id, uint64_t event_key,
                      const SegmentRecord& fields, std::span<const OrgRoute> routes) {
  Event& e = events_.emplace_back();
  e.id = id;
  e.event_key = event_key;
  e.type_id = type_id;
  e.day = day;
  e.asn = fields.asn;
  e.severity = fields.severity;
  put_texts(e, fields);
  e.routes_at = routes_.size();
  e.routes_size = static_cast<uint32_t>(routes.size());
  routes_.insert(routes_.end(), routes.begin(), routes.end());
}

FoldTail::Event* FoldTail::find(int64_t id) {
  auto it = std::lower_bound(events_.begin(), events_.end(), id,
                             [](const Event& e, int64_t v) { return e.id < v; });
  return it != events_.end() && it->id == id ? &*it : nullptr;
}

void FoldTail::set_representative(Event& e, const SegmentRecord& fields) {
  // The old texts stay behind in texts_ until the fold clears it (rare: an earlier repeat).
  e.asn = fields.asn;
  e.severity = fields.severity;
  put_texts(e, fields);
}

void FoldTail::set_routes(Event& e, std::span<const OrgRoute> routes) {
  e.routes_at = routes_.size();
  e.routes_size = static_cast<uint32_t>(routes.size());
  routes_.insert(routes_.end(), routes.begin(), routes.end());
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

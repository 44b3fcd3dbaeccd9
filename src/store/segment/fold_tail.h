#pragma once
// The segment store writer's copy of the fold's inputs: for each event it wrote since the
// last fold (the "tail": ids above the spool watermark), what the fold needs of it -- day,
// type, event key, its representative's severity, asn, geo, region and tag, and its routes.
//
// Why: the fold otherwise reads the tail back from the segment files (a pread of every
// record, its checksum, its JSON routes) and the state rows of the tail's repeats, although
// the writer had every one of those values in hand when it wrote them. A repeat that arrives
// before the fold and takes over an event's row, or adds routes to it, updates the copy here,
// so the copy always equals what the segment plus event_state say (the fold's answer must
// not depend on whether it read the tail from memory or from disk).
//
// Valid only in the process that wrote it: a new writer (a restart, kill -9) starts with an
// invalid tail and its first fold reads the tail from disk, after which the tail is valid
// and empty. A failed batch invalidates it (what the batch changed here is not undone).
// Memory: 48 bytes per event, 4 per route and its texts (about 115 bytes per event at 11
// routes), for the events between two folds (pipeline.spool_flush_events, 262,144 by
// default); a fold that takes the whole tail frees it before it sorts its own entries.
//
// Thread-safety: none; the store's writer serialises calls.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/time.h"
#include "store/segment/segment_file.h"
#include "store/store.h"

namespace vantage::store {

class FoldTail {
 public:
  // 48 bytes; the routes (4 bytes each) and texts lie in arenas.
  struct Event {
    int64_t id = 0;
    uint64_t event_key = 0;
    int32_t type_id = 0;
    DayNumber day = 0;
    uint32_t asn = 0;
    uint32_t texts_at = 0;  // geo, region, tag: consecutive in texts_
    uint32_t routes_at = 0;
    uint16_t routes_size = 0;
    uint16_t tag_size = 0;
    uint8_t geo_size = 0, region_size = 0;
    uint8_t severity = 0;
  };

  bool valid() const { return valid_; }
  // The tail holds every event with an id above `after` up to the writer's committed end.
  int64_t after() const { return after_; }
  // Valid and empty: the fold has taken everything up to `after`.
  void reset(int64_t after);
  // Not valid (the next fold reads the disk); the memory goes back.
  void invalidate();

  // A new event: its id, identity and the representative fields of `fields` (asn, severity,
  // geo, region, tag); `routes` sorted and unique. Ids arrive ascending. A value that does
  // not fit the packed layout (an organisation id of 2^30 or more, a geo or region over 255
  // bytes, a tag over 65,535, over 65,535 routes, arenas over 4 GiB) invalidates the tail:
  // the fold then reads the disk, as after a restart. So do set_representative and
  // set_routes; all three return whether the tail is still valid.
  bool append(int64_t id, DayNumber day, int64_t type_id, uint64_t event_key,
              const SegmentRecord& fields, const std::vector<OrgRoute>& routes);
  // The event with this id, or nullptr when it is not in the tail.
  Event* find(int64_t id);
  // A repeat became the event's representative.
  bool set_representative(Event& e, const SegmentRecord& fields);
  // A repeat added routes: `routes` (sorted, unique) are now all of the event's routes.
  bool set_routes(Event& e, const std::vector<OrgRoute>& routes);

  const std::vector<Event>& events() const { return events_; }
  void routes(const Event& e, std::vector<OrgRoute>& out) const;
  std::string_view geo(const Event& e) const { return {texts_.data() + e.texts_at, e.geo_size}; }
  std::string_view region(const Event& e) const {
    return {texts_.data() + e.texts_at + e.geo_size, e.region_size};
  }
  std::string_view tag(const Event& e) const {
    return {texts_.data() + e.texts_at + e.geo_size + e.region_size, e.tag_size};
  }

  // A fold committed everything up to `through` (an id of the tail, or the watermark another
  // process's fold moved to): those events leave the tail.
  void drop_through(int64_t through);

 private:
  bool put_texts(Event& e, const SegmentRecord& fields);
  bool put_routes(Event& e, const std::vector<OrgRoute>& routes);

  bool valid_ = false;
  int64_t after_ = 0;
  std::vector<Event> events_;     // ascending ids
  std::vector<uint32_t> routes_;  // org_id << 2 | filter
  std::string texts_;
};

}  // namespace vantage::store

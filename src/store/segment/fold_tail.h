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
// Memory: about 70 bytes per event plus 8 per route plus its texts, for the events between
// two folds (pipeline.spool_flush_events, 262,144 by default); the fold drops them.
//
// Thread-safety: none; the store's writer serialises calls.

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/time.h"
#include "store/segment/segment_file.h"
#include "store/store.h"

namespace vantage::store {

class FoldTail {
 public:
  struct Event {
    int64_t id = 0;
    uint64_t event_key = 0;
    int64_t type_id = 0;
    DayNumber day = 0;
    uint32_t asn = 0;
    uint64_t texts_at = 0;  // geo, region, tag: consecutive in texts_
    uint32_t geo_size = 0, region_size = 0, tag_size = 0;
    uint32_t routes_size = 0;
    uint64_t routes_at = 0;  // in routes_
    uint8_t severity = 0;
  };

  bool valid() const { return valid_; }
  // The tail holds every event with an id above `after` up to the writer's committed end.
  int64_t after() const { return after_; }
  // Valid and empty: the fold has taken everything up to `after`.
  void reset(int64_t after);
  void invalidate();

  // A new event: its id, identity and the representative fields of `fields` (asn, severity,
  // geo, region, tag); `routes` sorted and unique. Ids arrive ascending.
  void append(int64_t id, DayNumber day, int64_t type_id, uint64_t event_key,
              const SegmentRecord& fields, std::span<const OrgRoute> routes);
  // The event with this id, or nullptr when it is not in the tail.
  Event* find(int64_t id);
  // A repeat became the event's representative.
  void set_representative(Event& e, const SegmentRecord& fields);
  // A repeat added routes: `routes` (sorted, unique) are now all of the event's routes.
  void set_routes(Event& e, std::span<const OrgRoute> routes);

  const std::vector<Event>& events() const { return events_; }
  std::span<const OrgRoute> routes(const Event& e) const {
    return {routes_.data() + e.routes_at, e.routes_size};
  }
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
  void put_texts(Event& e, const SegmentRecord& fields);

  bool valid_ = false;
  int64_t after_ = 0;
  std::vector<Event> events_;  // ascending ids
  std::vector<OrgRoute> routes_;
  std::string texts_;
};

}  // namespace vantage::store

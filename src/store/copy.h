#pragma once
// Moving a data directory's events from one store to another (`vantage store migrate`), and a
// canonical text form of what a store answers (`vantage store dump`), for comparing stores of
// any engine: a migration's source and target, a crashed ingest and an uninterrupted one.
//
// Both go through the EventStore interface only, so they work between any two engines.

#include <cstdint>
#include <functional>
#include <ostream>
#include <span>
#include <vector>

#include "common/result.h"
#include "store/store.h"

namespace vantage::store {

struct CopyCounts {
  int64_t events = 0;        // distinct stored events copied
  int64_t occurrences = 0;   // occurrences replayed for them (their counts summed)
  int64_t dropped_days = 0;  // days of statistics only (retention dropped their events)
  int64_t quarantined = 0;
  int64_t checkpoints = 0;
  // CopyOptions::translate_ids, each as the target's id of the same position.
  std::vector<int64_t> translated_ids;
};

struct CopyOptions {
  // The organisations whose statistics of dropped days are carried (the registry's): a day
  // without events names no organisation, so the caller says which ones to ask about.
  // Organisations that events route to are asked about as well.
  std::vector<uint32_t> org_ids;
  // Event ids of the source that name a position in its id order -- the read_after cursors of
  // the integrations ("every event up to this id was considered") -- to translate into the
  // target's ids, which differ (each engine numbers the events it stores; the copy keeps their
  // order): id x becomes the target's id of the last copied event whose source id is <= x
  // (0 when there is none), so a cursor neither skips nor repeats an event on the target.
  std::vector<int64_t> translate_ids;
  // Called after every batch written, with the counts so far (the command's progress line).
  std::function<void(const CopyCounts&)> progress;
};

// Copies everything `from` answers into the empty store `to` (an error if `to` holds any
// event, statistic, quarantined record or checkpoint), so that `to` answers every read as
// `from` does:
//  - every stored event with all its routes (late ones included), count, first/last seen and
//    representative row: an event of count n is replayed as n occurrences (its first seen with
//    its routes, its last seen, the rest at its first seen), all with the representative's
//    fields, so the target's own write path builds its rows, spool, statistics and rollups.
//    new_since_previous_day is computed from the stored days, so it follows;
//  - the statistics of days whose events retention dropped (they live only in the counters):
//    imported as the target's own dropped days (EventStore::import_dropped_day_statistics).
//    Refused, before anything is written, when a stored event is older than such a day (late
//    events written after retention ran: the target could not tell its dropped days from its
//    live ones);
//  - the quarantine (oldest first) and the source checkpoints, unchanged, so an ingest
//    resumed on the target continues each input where the source stopped, exactly once.
// Then it checks that the target's statistics equal the source's (the days, and day by day by
// (type, geo, region, severity), (type, asn) and (type, geo, tag)) and that the source did not
// change meanwhile (its newest event id and checkpoints), and fails if not.
// Not carried: event ids (the target numbers its events in the source's order; translate_ids
// maps cursors over them), and the occurrence id of an event's representative, which the
// interface does not expose (a later occurrence with the very same first-seen second may then
// become the representative on the target where the source would have kept its own).
// A failed copy leaves a partial target: empty it and run again.
// Memory: one batch of occurrences, the quarantine (the interface reads it whole), one day's
// statistics groups, and about 100,000 organisation counters of the dropped days.
Result<CopyCounts> copy_store(EventStore& from, EventStore& to, const CopyOptions& options = {});

// Writes what `store` answers, in an order independent of event ids and engine:
//   E day type key first last count ip asn geo region severity tag row(hex) -> routes
//   R statistics by (day, type, geo, region, asn, severity); T by (day, type, geo, tag);
//   O by (organisation, day, type, severity) for every organisation routed to and every one
//     in `org_ids` (a dropped day's statistics name organisations no event routes to);
//   P every report of every day with events, its rows' keys in report order (* = not new
//     since the previous day); Q quarantine; C checkpoints.
// For tests and audits: it holds every event line in memory to sort them.
Status dump_store(EventStore& store, std::ostream& out, std::span<const uint32_t> org_ids = {});

}  // namespace vantage::store

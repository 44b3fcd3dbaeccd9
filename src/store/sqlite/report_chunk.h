#pragma once
// The bulk report read (EventStore::scan_reports) of the embedded stores (SQLite and segment):
// how the keys are cut into chunks, and one chunk's bookkeeping -- which of the chunk's reports
// each spool entry feeds, the (report, event) pairs, the chunk's distinct events, and the
// reports handed out in the keys' order with their rows in scan_report's order
// (report_row_less). The stores differ only in how they read the spool's tail and the events
// themselves, between add() and hand_out().
//
// Thread-safety: none; the store serialises calls.

#include <cstdint>
#include <functional>
#include <span>
#include <tuple>
#include <utility>
#include <vector>

#include "common/result.h"
#include "store/sqlite/spool.h"
#include "store/sqlite/store_tables.h"
#include "store/store.h"

namespace vantage::store {

// Drives a bulk report read: cuts `keys` into chunks of whole organisations
// (next_report_scan_chunk), reads an organisation of more than `org_rows_max` rows report by
// report (store.scan_report) and every other chunk through `chunk`, which clears `go_on` when
// `row` stopped the read.
using ReportRowFn = std::function<bool(const ReportKey&, const StoredEvent&)>;
Status scan_reports_in_chunks(
    EventStore& store, std::span<const ReportKey> keys, int64_t chunk_rows, int64_t org_rows_max,
    const ReportRowFn& row,
    const std::function<Status(std::span<const ReportKey>, bool& go_on)>& chunk);

class ReportChunk {
 public:
  // Starts a chunk of `keys` (one day's, in report order, as next_report_scan_chunk cuts them);
  // a key of a type never stored has no rows.
  Status start(Db& db, TypeIds& types, std::span<const ReportKey> keys);
  // The chunk's organisations, ascending and unique (none: no key can have rows).
  const std::vector<uint32_t>& orgs() const { return orgs_; }
  // One spool entry (or a group of them): kept when it belongs to one of the chunk's reports.
  void add(uint32_t org_id, int64_t type_id, MatchFilter filter, int64_t event_id);
  void add(const SpoolGroup& g);
  // After the last add(): each report's entries once (runs and tail, late routes may repeat an
  // event), and the chunk's distinct event ids, ascending.
  const std::vector<int64_t>& event_ids();
  // Hands out each report's rows, report after report in the keys' order: events[i] is the
  // event event_ids()[i], or absent where found[i] is false (gone). False when `row` stopped.
  bool hand_out(const std::vector<StoredEvent>& events, const std::vector<bool>& found,
                const std::function<bool(const ReportKey&, const StoredEvent&)>& row);
  // Gives the memory back (a chunk may have held one large organisation's rows).
  void release();

 private:
  std::span<const ReportKey> keys_;
  // (organisation, type id, filter, key index), sorted: keys are unique.
  std::vector<std::tuple<uint32_t, int64_t, MatchFilter, uint32_t>> wanted_;
  std::vector<uint32_t> orgs_;
  std::vector<std::pair<uint32_t, int64_t>> pairs_;  // (key index, event id)
  std::vector<int64_t> ids_;
  std::vector<uint32_t> order_;
};

}  // namespace vantage::store

#pragma once
// Test support shared by the store tests (header only, not part of the library): one multiset
// of occurrences, dealt out in different arrival orders, and a dump of everything a report or
// a query shows of a store -- so a test can require the same bytes whatever the order.
//
// The occurrences are made to catch an arrival-dependent store: most events occur several
// times at timestamps from a narrow range (equal timestamps happen), each occurrence's row
// names its own timestamp and id (so the representative shows in the report), and many events
// share a first-seen second (so the order of rows with equal first_seen shows).

#include <algorithm>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "store/store.h"

namespace vantage::store::testing {

inline constexpr DayNumber kOrdersFirstDay = 20100;
inline constexpr DayNumber kOrdersDays = 2;

// The occurrences, in generation order. `with_unknown_ids` adds occurrences without an id
// (0), each at the same second as a known occurrence of its event, so that the rule "a known
// id before an unknown one" decides.
inline std::vector<EventRecord> order_test_occurrences(uint32_t seed, bool with_unknown_ids) {
  std::mt19937 rng(seed);
  std::vector<EventRecord> out;
  uint64_t next_id = 0x9000000000000000ull;  // above 2^63: the ids' unsigned order matters
  for (uint64_t k = 0; k < 90; ++k) {
    // Some keys above 2^63 too: the report order compares keys as unsigned numbers.
    uint64_t key = (k % 3 == 0 ? 0xF000000000000000ull : 0) + k * 7919 + 11;
    auto day = static_cast<DayNumber>(kOrdersFirstDay + static_cast<DayNumber>(k % kOrdersDays));
    int n = 1 + static_cast<int>(rng() % 5);
    for (int i = 0; i < n; ++i) {
      EventRecord e;
      e.day = day;
      e.type = k % 4 ? "scan_http" : "honeypot_ssh";
      e.event_key = key;
      // Ids scattered (not in generation order), some below 2^63.
      e.occurrence_id = (next_id += 0x0100000000000007ull) ^ (rng() % 2 ? 0 : 0xF0ull << 56);
      e.timestamp = int64_t{day} * 86400 + static_cast<int64_t>(rng() % 12);
      e.ip = "198.51.100." + std::to_string(k);
      e.asn = 64500 + static_cast<uint32_t>(k % 3);
      e.geo = k % 2 ? "NL" : "BE";
      e.region = "R" + std::to_string(k % 4);
      e.severity = static_cast<uint8_t>(k % 5);
      e.tag = k % 3 ? "http" : "ssh,brute";
      e.row = "key " + std::to_string(key) + " ts " + std::to_string(e.timestamp) + " occ " +
              std::to_string(e.occurrence_id);
      e.routes.push_back({static_cast<uint32_t>(k % 6), MatchFilter::kCidr});
      if (rng() % 3 == 0) e.routes.push_back({7, MatchFilter::kAsn});  // reached late, sometimes
      out.push_back(e);
      if (with_unknown_ids && rng() % 4 == 0) {
        e.occurrence_id = 0;
        e.row = "key " + std::to_string(key) + " ts " + std::to_string(e.timestamp) + " unknown";
        out.push_back(std::move(e));
      }
    }
  }
  return out;
}

// `occurrences` in a random order (seed 0: as given), in batches of `per_batch`.
inline std::vector<IngestBatch> order_test_batches(std::vector<EventRecord> occurrences,
                                                   uint32_t seed, size_t per_batch) {
  if (seed) std::shuffle(occurrences.begin(), occurrences.end(), std::mt19937(seed));
  std::vector<IngestBatch> out;
  for (size_t i = 0; i < occurrences.size(); ++i) {
    if (i % per_batch == 0) out.emplace_back();
    out.back().events.push_back(std::move(occurrences[i]));
  }
  return out;
}

// Every report of the test's days (all fields of every row, in the store's order) and the
// answers of a few queries: what a constituent can see of the events. Ids are left out: they
// number events in arrival order, for the integrations' cursors, and reach no report.
inline std::string order_test_dump(EventStore& store) {
  std::string out;
  auto describe = [&](const StoredEvent& e) {
    out += std::to_string(e.day) + "|" + e.type + "|" + std::to_string(e.event_key) + "|" +
           std::to_string(e.first_seen) + "|" + std::to_string(e.last_seen) + "|" +
           std::to_string(e.count) + "|" + e.ip + "|" + std::to_string(e.asn) + "|" + e.geo + "|" +
           e.region + "|" + std::to_string(e.severity) + "|" + e.tag + "|" + e.row + "|" +
           (e.new_since_previous_day ? "new" : "old") + "\n";
  };
  for (DayNumber day = kOrdersFirstDay; day < kOrdersFirstDay + kOrdersDays; ++day) {
    auto keys = store.report_keys(day, std::nullopt);
    if (!keys) return "report_keys failed: " + keys.error().message;
    for (const auto& k : *keys) {
      out += "report " + std::to_string(day) + " " + std::to_string(k.org_id) + " " + k.type + " " +
             match_filter_name(k.filter) + " " + std::to_string(k.rows) + "\n";
      auto st = store.scan_report(k, [&](const StoredEvent& e) {
        describe(e);
        return true;
      });
      if (!st) return "scan_report failed: " + st.message();
    }
  }
  for (bool descending : {false, true}) {
    EventQuery q;
    q.first_day = kOrdersFirstDay;
    q.last_day = kOrdersFirstDay + kOrdersDays - 1;
    q.org_id = 7;
    q.descending = descending;
    q.limit = 25;
    q.offset = 2;
    auto rows = store.query(q);
    if (!rows) return "query failed: " + rows.error().message;
    out += std::string("query ") + (descending ? "descending" : "ascending") + "\n";
    for (const auto& e : *rows) {
      StoredEvent copy = e;
      copy.new_since_previous_day = true;  // query answers do not compute it
      describe(copy);
    }
  }
  return out;
}

}  // namespace vantage::store::testing

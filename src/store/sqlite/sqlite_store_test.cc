#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <map>
#include <random>

#include "store/sqlite/sqlite_db.h"
#include "store/store.h"
#include "store/store_test_orders.h"

namespace vantage::store {
namespace {

// The EventStore contract, run against each embedded engine ("sqlite", "segment"); the
// SQLite-only tests (schema upgrades, spool internals) use SqliteStoreTest below.
class StoreTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("vantage-store-" + std::to_string(std::random_device{}()));
    std::filesystem::create_directories(dir_);
    // Counters are folded from the new events after each batch here, so that a test reads
    // them right after writing (the default folds every 262,144 events or 10 s).
    SqliteStoreOptions options;
    options.spool_flush_events = 1;
    store_ = open_store("events", options);
    ASSERT_TRUE(store_);
  }
  // Opens (creating) the store `name` in the test's directory with the engine under test. The
  // segment store gets small segments, so that tests roll over several files.
  std::unique_ptr<EventStore> open_store(const std::string& name, SqliteStoreOptions options = {}) {
    Result<std::unique_ptr<EventStore>> s = Error::invalid("unknown engine " + GetParam());
    if (GetParam() == "sqlite")
      s = open_sqlite_store((dir_ / (name + ".sqlite")).string(), options);
    if (GetParam() == "segment") {
      SegmentStoreOptions segment;
      segment.fold = options;
      segment.segment_bytes = 4096;
      s = open_segment_store((dir_ / (name + ".segment")).string(), segment);
    }
    EXPECT_TRUE(s.ok()) << s.error().message;
    return s.ok() ? std::move(*s) : nullptr;
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  static EventRecord event(DayNumber day, uint64_t key, UnixSeconds ts, std::string ip,
                           std::vector<OrgRoute> routes, std::string type = "scan_http") {
    EventRecord e;
    e.day = day;
    e.type = std::move(type);
    e.event_key = key;
    e.timestamp = ts;
    e.ip = std::move(ip);
    e.asn = 64500;
    e.geo = "NL";
    e.region = "Noord-Holland";
    e.severity = 2;
    e.tag = "http,Vuln";
    e.row = "row-" + std::to_string(key);
    e.routes = std::move(routes);
    return e;
  }

  std::filesystem::path dir_;
  std::unique_ptr<EventStore> store_;
};

class SqliteStoreTest : public StoreTest {};

TEST_P(StoreTest, DeduplicatesByDayAndKey) {
  IngestBatch b;
  b.events.push_back(event(100, 1, 100 * 86400 + 50, "192.0.2.1", {{7, MatchFilter::kCidr}}));
  b.events.push_back(event(100, 1, 100 * 86400 + 10, "192.0.2.1", {{7, MatchFilter::kCidr}}));
  b.events.push_back(event(100, 1, 100 * 86400 + 90, "192.0.2.1", {{7, MatchFilter::kCidr}}));
  b.events.push_back(event(101, 1, 101 * 86400 + 5, "192.0.2.1", {{7, MatchFilter::kCidr}}));
  auto out = store_->write(b);
  ASSERT_TRUE(out.ok()) << out.error().message;
  EXPECT_EQ(out->inserted, 2);
  EXPECT_EQ(out->deduplicated, 2);
  EXPECT_EQ(out->routed, 2);

  auto keys = store_->report_keys(100, std::nullopt);
  ASSERT_TRUE(keys.ok());
  ASSERT_EQ(keys->size(), 1u);
  EXPECT_EQ((*keys)[0].rows, 1);
  std::vector<StoredEvent> rows;
  ASSERT_TRUE(store_->scan_report((*keys)[0], [&](const StoredEvent& e) {
    rows.push_back(e);
    return true;
  }));
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].count, 3u);
  EXPECT_EQ(rows[0].first_seen, 100 * 86400 + 10);
  EXPECT_EQ(rows[0].last_seen, 100 * 86400 + 90);
  EXPECT_TRUE(rows[0].new_since_previous_day);

  auto next = store_->report_keys(101, std::nullopt);
  ASSERT_TRUE(next.ok());
  ASSERT_EQ(next->size(), 1u);
  rows.clear();
  ASSERT_TRUE(store_->scan_report((*next)[0], [&](const StoredEvent& e) {
    rows.push_back(e);
    return true;
  }));
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_FALSE(rows[0].new_since_previous_day);
}

TEST_P(StoreTest, RollupsCountDistinctEventsPerDimension) {
  IngestBatch b;
  for (uint64_t k = 0; k < 10; ++k) {
    b.events.push_back(
        event(200, k, 200 * 86400 + static_cast<int64_t>(k), "198.51.100.1",
              {{1, MatchFilter::kAsn}, {1, MatchFilter::kCidr}, {2, MatchFilter::kGeo}},
              k < 4 ? "scan_ssh" : "scan_http"));
    b.events.push_back(event(200, k, 200 * 86400 + 99, "198.51.100.1", {{1, MatchFilter::kAsn}},
                             k < 4 ? "scan_ssh" : "scan_http"));
  }
  ASSERT_TRUE(store_->write(b).ok());
  StatsQuery q;
  q.first_day = q.last_day = 200;
  q.group_by = {"type"};
  auto rows = store_->stats(q);
  ASSERT_TRUE(rows.ok()) << rows.error().message;
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ((*rows)[0].keys[0], "scan_http");
  EXPECT_EQ((*rows)[0].events, 6);
  EXPECT_EQ((*rows)[1].events, 4);

  q.group_by = {"tag"};
  rows = store_->stats(q);
  ASSERT_TRUE(rows.ok()) << rows.error().message;
  ASSERT_EQ(rows->size(), 2u);  // "http" and "vuln", lower-cased and split
  EXPECT_EQ((*rows)[0].keys[0], "http");
  EXPECT_EQ((*rows)[0].events, 10);

  q.group_by = {"day", "type"};
  q.org_id = 1;
  rows = store_->stats(q);
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ((*rows)[0].keys[0], "1970-07-20");
  EXPECT_EQ((*rows)[0].events + (*rows)[1].events, 10);  // org 1 counted once per event

  q.org_id = 3;
  rows = store_->stats(q);
  ASSERT_TRUE(rows.ok());
  EXPECT_TRUE(rows->empty());

  q.group_by = {"bogus"};
  EXPECT_FALSE(store_->stats(q).ok());
}

// A repeat occurrence routed to an organisation that did not get the event the first time
// (it registered meanwhile) adds the row to its report -- and to its statistics, once.
TEST_P(StoreTest, LateRoutesCountInTheOrganisationsStatistics) {
  IngestBatch first;
  first.events.push_back(event(300, 9, 300 * 86400 + 1, "192.0.2.9", {{1, MatchFilter::kAsn}}));
  ASSERT_TRUE(store_->write(first).ok());
  IngestBatch again;
  again.events.push_back(
      event(300, 9, 300 * 86400 + 2, "192.0.2.9",
            {{1, MatchFilter::kAsn}, {5, MatchFilter::kCidr}, {5, MatchFilter::kGeo}}));
  again.events.push_back(event(300, 9, 300 * 86400 + 3, "192.0.2.9", {{5, MatchFilter::kAsn}}));
  ASSERT_TRUE(store_->write(again).ok());
  StatsQuery q;
  q.first_day = q.last_day = 300;
  q.group_by = {"day"};
  for (uint32_t org : {1u, 5u}) {
    q.org_id = org;
    auto rows = store_->stats(q);
    ASSERT_TRUE(rows.ok());
    ASSERT_EQ(rows->size(), 1u) << "org " << org;
    EXPECT_EQ((*rows)[0].events, 1) << "org " << org;
  }
}

// The same as above inside ONE batch: the first occurrence's spool rows are still queued when
// the repeats arrive, so the store must fold them against the queue, not the database.
TEST_P(StoreTest, LateRoutesWithinOneBatchCountOnce) {
  IngestBatch batch;
  batch.events.push_back(event(300, 9, 300 * 86400 + 5, "192.0.2.9", {{1, MatchFilter::kAsn}}));
  batch.events.push_back(
      event(300, 9, 300 * 86400 + 2, "192.0.2.9",
            {{1, MatchFilter::kAsn}, {5, MatchFilter::kCidr}, {5, MatchFilter::kGeo}}));
  batch.events.push_back(event(300, 9, 300 * 86400 + 3, "192.0.2.9", {{5, MatchFilter::kAsn}}));
  batch.events.push_back(event(300, 9, 300 * 86400 + 4, "192.0.2.9", {{5, MatchFilter::kCidr}}));
  auto out = store_->write(batch);
  ASSERT_TRUE(out.ok()) << out.error().message;
  EXPECT_EQ(out->inserted, 1);
  EXPECT_EQ(out->deduplicated, 3);
  EXPECT_EQ(out->routed, 4);  // 1/asn, 5/cidr, 5/geo, 5/asn
  StatsQuery q;
  q.first_day = q.last_day = 300;
  q.group_by = {"day"};
  for (uint32_t org : {1u, 5u}) {
    q.org_id = org;
    auto rows = store_->stats(q);
    ASSERT_TRUE(rows.ok());
    ASSERT_EQ(rows->size(), 1u) << "org " << org;
    EXPECT_EQ((*rows)[0].events, 1) << "org " << org;
  }
  auto keys = store_->report_keys(300, 5);
  ASSERT_TRUE(keys.ok());
  ASSERT_EQ(keys->size(), 3u);  // asn, cidr, geo: one row each
  for (const auto& k : *keys) EXPECT_EQ(k.rows, 1);
  int rows = 0;
  ASSERT_TRUE(store_
                  ->scan_report((*keys)[0],
                                [&](const StoredEvent& e) {
                                  EXPECT_EQ(e.count, 4u);
                                  EXPECT_EQ(e.first_seen, 300 * 86400 + 2);
                                  ++rows;
                                  return true;
                                })
                  .ok());
  EXPECT_EQ(rows, 1);
}

TEST_P(StoreTest, QueriesAreScopedToTheOrganisation) {
  IngestBatch b;
  b.events.push_back(event(300, 1, 300 * 86400, "192.0.2.1", {{1, MatchFilter::kCidr}}));
  b.events.push_back(event(300, 2, 300 * 86400 + 1, "192.0.2.2", {{2, MatchFilter::kCidr}}));
  b.events.push_back(event(300, 3, 300 * 86400 + 2, "192.0.2.3",
                           {{1, MatchFilter::kCidr}, {1, MatchFilter::kAsn}}));
  ASSERT_TRUE(store_->write(b).ok());
  EventQuery q;
  q.first_day = q.last_day = 300;
  q.org_id = 1;
  auto rows = store_->query(q);
  ASSERT_TRUE(rows.ok()) << rows.error().message;
  ASSERT_EQ(rows->size(), 2u);  // no duplicate for the event matched twice
  for (const auto& r : *rows) EXPECT_NE(r.ip, "192.0.2.2");
  q.ips = {"192.0.2.3"};
  rows = store_->query(q);
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 1u);
  q.ips.clear();
  q.tags = {"vuln"};  // one element of the tag list, case-insensitive
  rows = store_->query(q);
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ(rows->size(), 2u);
  q.tags = {"vul"};  // never a substring of an element
  rows = store_->query(q);
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ(rows->size(), 0u);
  q.tags.clear();
  q.limit = 1;
  q.offset = 5;
  rows = store_->query(q);
  ASSERT_TRUE(rows.ok());
  EXPECT_TRUE(rows->empty());
}

TEST_P(StoreTest, CheckpointCommitsWithTheBatch) {
  IngestBatch b;
  b.events.push_back(event(400, 1, 400 * 86400, "192.0.2.1", {}));
  b.quarantined.push_back({"file.csv", 7, "ip", "not an IPv4 address", "bad,row"});
  SourceCheckpoint c;
  c.source_key = "k1";
  c.source_name = "file.csv";
  c.offset = 1234;
  c.line = 8;
  c.accepted = 1;
  c.rejected = 1;
  b.checkpoint = c;
  ASSERT_TRUE(store_->write(b).ok());
  auto got = store_->checkpoint("k1");
  ASSERT_TRUE(got.ok());
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ((*got)->offset, 1234);
  EXPECT_FALSE((*got)->done);
  EXPECT_EQ(*store_->quarantine_count(), 1);
  auto q = store_->quarantine(10);
  ASSERT_TRUE(q.ok());
  EXPECT_EQ((*q)[0].field, "ip");
  EXPECT_EQ((*q)[0].line, 7);
  auto none = store_->checkpoint("other");
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
}

TEST_P(StoreTest, RetentionDropsEventsButKeepsStatistics) {
  IngestBatch b;
  b.events.push_back(event(500, 1, 500 * 86400, "192.0.2.1", {{1, MatchFilter::kCidr}}));
  b.events.push_back(event(510, 2, 510 * 86400, "192.0.2.2", {{1, MatchFilter::kCidr}}));
  ASSERT_TRUE(store_->write(b).ok());
  auto dropped = store_->drop_events_before(505);
  ASSERT_TRUE(dropped.ok());
  EXPECT_EQ(*dropped, 1);
  EXPECT_TRUE(store_->report_keys(500, std::nullopt)->empty());
  EXPECT_EQ(store_->report_keys(510, std::nullopt)->size(), 1u);
  StatsQuery q;
  q.first_day = 500;
  q.last_day = 510;
  auto rows = store_->stats(q);
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0].events, 2);
}

// Retention that drops the newest events must not let their ids be given again: a reused id
// sits below the spool's watermark and the integrations' cursors, and its event would never
// reach its reports or push subscriptions.
TEST_P(StoreTest, EventsAfterRetentionDroppedEverythingStillReachTheirReports) {
  IngestBatch first;
  first.events.push_back(event(500, 1, 500 * 86400, "192.0.2.1", {{1, MatchFilter::kCidr}}));
  first.events.push_back(event(500, 2, 500 * 86400, "192.0.2.2", {{1, MatchFilter::kCidr}}));
  ASSERT_TRUE(store_->write(first).ok());
  ASSERT_TRUE(store_->settle().ok());
  auto before = store_->last_event_id();
  ASSERT_TRUE(before.ok());
  ASSERT_EQ(*store_->drop_events_before(501), 2);
  IngestBatch later;
  later.events.push_back(event(510, 3, 510 * 86400, "192.0.2.3", {{1, MatchFilter::kCidr}}));
  ASSERT_TRUE(store_->write(later).ok());
  ASSERT_TRUE(store_->settle().ok());
  auto keys = store_->report_keys(510, std::nullopt);
  ASSERT_TRUE(keys.ok());
  ASSERT_EQ(keys->size(), 1u);
  EXPECT_EQ((*keys)[0].rows, 1);
  int64_t tailed = 0;
  auto page = store_->read_after({.after_id = *before}, [&](const StoredEvent& e, const auto&) {
    EXPECT_GT(e.id, *before);
    ++tailed;
    return true;
  });
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(tailed, 1);
}

// The dashboard rollups answer every dimension combination exactly as a brute-force count of
// the distinct events would, whatever the date range (month grains must join the ragged edges
// at day grain without double counting), and an upgraded schema-1 store is backfilled.
TEST_P(StoreTest, RollupsAgreeWithBruteForceOverAnyRange) {
  std::mt19937 rng(7);
  const DayNumber first = days_from_civil(2026, 1, 20), last = days_from_civil(2026, 5, 10);
  const std::vector<std::string> types = {"scan_http", "scan_ssh", "blocklist"};
  const std::vector<std::string> geos = {"NL", "DE", "US"};
  const std::vector<std::string> regions = {"North", "South"};
  const std::vector<std::string> tag_sets = {"", "mirai", "mirai,Bot", "cve-2024-1"};
  std::vector<EventRecord> all;
  IngestBatch b;
  for (uint64_t k = 0; k < 3000; ++k) {
    EventRecord e = event(first + static_cast<DayNumber>(rng() % (last - first + 1)), k, 0,
                          "192.0.2.1", {}, types[rng() % types.size()]);
    e.timestamp = static_cast<UnixSeconds>(e.day) * 86400;
    e.geo = geos[rng() % geos.size()];
    e.region = regions[rng() % regions.size()];
    e.severity = static_cast<uint8_t>(rng() % 5);
    e.tag = tag_sets[rng() % tag_sets.size()];
    all.push_back(e);
    b.events.push_back(std::move(e));
  }
  auto written = store_->write(b);
  ASSERT_TRUE(written.ok()) << written.error().message;

  auto tags_of = [](const std::string& t) {
    std::vector<std::string> out;
    if (t.empty()) return std::vector<std::string>{""};
    for (auto& x : std::vector<std::string>{t.substr(0, t.find(','))}) out.push_back(x);
    if (t.find(',') != std::string::npos) {
      std::string rest = t.substr(t.find(',') + 1);
      for (auto& c : rest) c = static_cast<char>(std::tolower(c));
      out.push_back(rest);
    }
    return out;
  };
  auto check = [&](const StatsQuery& q) {
    std::map<std::vector<std::string>, int64_t> want;
    for (const auto& e : all) {
      if (e.day < q.first_day || e.day > q.last_day) continue;
      if (!q.geo.empty() && e.geo != q.geo) continue;
      if (!q.types.empty() && std::find(q.types.begin(), q.types.end(), e.type) == q.types.end())
        continue;
      if (!q.severities.empty() &&
          std::find(q.severities.begin(), q.severities.end(), e.severity) == q.severities.end())
        continue;
      for (const auto& tag : tags_of(e.tag)) {
        if (!q.tag.empty() && tag != q.tag) continue;
        std::vector<std::string> key;
        for (const auto& g : q.group_by) {
          if (g == "day") key.push_back(format_date(e.day));
          if (g == "type") key.push_back(e.type);
          if (g == "geo") key.push_back(e.geo);
          if (g == "region") key.push_back(e.region);
          if (g == "severity") key.push_back(std::to_string(e.severity));
          if (g == "tag") key.push_back(tag);
        }
        want[key] += 1;
        bool per_tag = !q.tag.empty() ||
                       std::find(q.group_by.begin(), q.group_by.end(), "tag") != q.group_by.end();
        if (!per_tag) break;  // without a tag dimension an event counts once
      }
    }
    auto rows = store_->stats(q);
    ASSERT_TRUE(rows.ok()) << rows.error().message;
    std::map<std::vector<std::string>, int64_t> got;
    for (const auto& r : *rows) got[r.keys] = r.events;
    EXPECT_EQ(got, want) << format_date(q.first_day) << ".." << format_date(q.last_day);
  };
  const std::vector<std::vector<std::string>> groupings = {
      {"day"},    {"type"},        {"geo"},         {"geo", "severity"},
      {"region"}, {"tag"},         {"geo", "tag"},  {"day", "type"},
      {},         {"type", "geo"}, {"tag", "type"}, {"day", "geo", "tag"}};
  for (int i = 0; i < 120; ++i) {
    StatsQuery q;
    q.first_day = first - 3 + static_cast<DayNumber>(rng() % 120);
    q.last_day = q.first_day + static_cast<DayNumber>(rng() % 120);
    q.group_by = groupings[static_cast<size_t>(i) % groupings.size()];
    bool tagged = std::find(q.group_by.begin(), q.group_by.end(), "tag") != q.group_by.end();
    if (i % 3 == 0) q.geo = geos[rng() % geos.size()];
    if (i % 4 == 1 && !tagged) q.severities = {1, 3};
    bool tag_compatible =
        !tagged &&
        std::find(q.group_by.begin(), q.group_by.end(), "severity") == q.group_by.end() &&
        std::find(q.group_by.begin(), q.group_by.end(), "region") == q.group_by.end();
    if (i % 5 == 2 && tag_compatible) q.tag = "mirai";
    if (!q.tag.empty()) q.severities.clear();
    if (i % 7 == 3) q.types = {"scan_ssh", "blocklist"};
    check(q);
  }
  StatsQuery bad;
  bad.first_day = first;
  bad.last_day = last;
  bad.tag = "mirai";
  bad.severities = {2};
  EXPECT_FALSE(store_->stats(bad).ok());

  // An upgrade from schema 1: the rollups are rebuilt from stats/stats_tags on open.
  if (GetParam() != "sqlite") return;
  store_.reset();
  {
    auto db = Db::open((dir_ / "events.sqlite").string());
    ASSERT_TRUE(db.ok());
    for (const char* t : {"r_type", "r_geo", "r_geo_all", "r_region", "r_tag", "r_tag_all",
                          "r_tag_geo", "r_tag_geo_all"})
      ASSERT_TRUE((*db)->exec((std::string("DELETE FROM ") + t).c_str()).ok());
    ASSERT_TRUE((*db)->exec("PRAGMA user_version=1").ok());
  }
  auto reopened = open_sqlite_store((dir_ / "events.sqlite").string());
  ASSERT_TRUE(reopened.ok()) << reopened.error().message;
  store_ = std::move(*reopened);
  for (int i = 0; i < 12; ++i) {
    StatsQuery q;
    q.first_day = first + i * 7;
    q.last_day = last - i * 3;
    q.group_by = groupings[static_cast<size_t>(i)];
    check(q);
  }
}

// Everything a reader can ask of the spool, in a comparable form (event ids left out: the
// stores compared may number their events alike, but the answer must not depend on it).
std::string spool_snapshot(EventStore& store, DayNumber first, DayNumber last,
                           const std::vector<uint32_t>& orgs) {
  std::string out;
  for (DayNumber day = first; day <= last; ++day) {
    auto keys = store.report_keys(day, std::nullopt);
    EXPECT_TRUE(keys.ok()) << keys.error().message;
    if (!keys.ok()) return out;
    for (const auto& k : *keys) {
      out += "report " + std::to_string(day) + " " + std::to_string(k.org_id) + " " + k.type + " " +
             match_filter_name(k.filter) + " " + std::to_string(k.rows) + ":";
      EXPECT_TRUE(store
                      .scan_report(k,
                                   [&](const StoredEvent& e) {
                                     out += " " + std::to_string(e.event_key) + "/" +
                                            std::to_string(e.count) + "/" +
                                            std::to_string(e.first_seen) + "/" +
                                            std::to_string(e.new_since_previous_day);
                                     return true;
                                   })
                      .ok());
      out += "\n";
    }
  }
  for (uint32_t org : orgs) {
    auto one = store.report_keys(first, org);
    EXPECT_TRUE(one.ok());
    if (one.ok()) out += "keys of " + std::to_string(org) + ": " + std::to_string(one->size());
    for (const auto& group : std::vector<std::vector<std::string>>{
             {"day", "type", "severity"}, {"geo", "tag"}, {"type"}}) {
      StatsQuery q;
      q.first_day = first;
      q.last_day = last;
      q.org_id = org;
      q.group_by = group;
      auto rows = store.stats(q);
      EXPECT_TRUE(rows.ok()) << rows.error().message;
      if (!rows.ok()) continue;
      out += "\nstats " + std::to_string(org) + ":";
      for (const auto& r : *rows) {
        for (const auto& k : r.keys) out += " " + k;
        out += "=" + std::to_string(r.events);
      }
    }
    EventQuery eq;
    eq.first_day = first;
    eq.last_day = last;
    eq.org_id = org;
    eq.limit = 100000;
    auto rows = store.query(eq);
    EXPECT_TRUE(rows.ok()) << rows.error().message;
    if (!rows.ok()) continue;
    out += "\nquery " + std::to_string(org) + ":";
    for (const auto& r : *rows) out += " " + std::to_string(r.event_key);
    out += "\n";
  }
  return out;
}

// The spool answers the same whether its entries are still in the tail (events.routes beyond
// the watermark), already in runs, or split between the two -- with repeats that reach further
// organisations both before and after a flush.
TEST_P(StoreTest, SpoolRunsAndTailAnswerAlike) {
  auto open = [&](const char* name, int64_t flush_events) {
    SqliteStoreOptions options;
    options.spool_flush_events = flush_events;
    options.spool_flush_interval = std::chrono::hours(1);
    return open_store(name, options);
  };
  auto every_batch = open("every", 1);
  auto every_third = open("third", 40);
  auto never = open("never", int64_t{1} << 40);
  // Folds cut short after a few entries: each fold takes a part of the tail.
  SqliteStoreOptions small_folds;
  small_folds.spool_flush_events = 25;
  small_folds.fold_max_entries = 4;
  auto in_pieces = open_store("pieces", small_folds);
  ASSERT_TRUE(in_pieces);
  std::mt19937 rng(11);
  const char* types[] = {"scan_http", "scan_ssh", "blocklist"};
  const MatchFilter filters[] = {MatchFilter::kAsn, MatchFilter::kCidr, MatchFilter::kGeo,
                                 MatchFilter::kDomain};
  for (int b = 0; b < 30; ++b) {
    IngestBatch batch;
    for (int i = 0; i < 15; ++i) {
      // Keys repeat across batches (and days), so repeats bring routes the first lacked.
      uint64_t key = rng() % 120;
      DayNumber day = 700 + static_cast<DayNumber>(rng() % 3);
      std::vector<OrgRoute> routes;
      for (int r = static_cast<int>(rng() % 4); r > 0; --r) {
        routes.push_back({1 + static_cast<uint32_t>(rng() % 6), filters[rng() % 4]});
      }
      auto e = event(day, key, day * 86400 + static_cast<UnixSeconds>(rng() % 86400),
                     "192.0.2." + std::to_string(key), routes, types[key % 3]);
      e.geo = key % 2 ? "NL" : "DE";
      e.tag = key % 5 ? "mirai" : "";
      batch.events.push_back(e);
    }
    for (auto* s : {&every_batch, &every_third, &never, &in_pieces}) {
      auto out = (*s)->write(batch);
      ASSERT_TRUE(out.ok()) << out.error().message;
    }
  }
  std::vector<uint32_t> orgs = {1, 2, 3, 4, 5, 6, 7};
  std::string expected = spool_snapshot(*every_batch, 699, 703, orgs);
  EXPECT_NE(expected.find("report 701"), std::string::npos);
  EXPECT_EQ(spool_snapshot(*every_third, 699, 703, orgs), expected);
  EXPECT_EQ(spool_snapshot(*never, 699, 703, orgs), expected);
  auto distinct = every_batch->query({.first_day = 699, .last_day = 703, .limit = 100000});
  ASSERT_TRUE(distinct.ok());
  EXPECT_EQ(*never->unsettled_events(), static_cast<int64_t>(distinct->size()));
  EXPECT_EQ(*every_batch->unsettled_events(), 0);
  EXPECT_EQ(spool_snapshot(*in_pieces, 699, 703, orgs), expected);
  ASSERT_TRUE(in_pieces->settle().ok());
  EXPECT_EQ(spool_snapshot(*in_pieces, 699, 703, orgs), expected);
  ASSERT_TRUE(never->settle().ok());
  EXPECT_EQ(*never->unsettled_events(), 0);
  EXPECT_EQ(spool_snapshot(*never, 699, 703, orgs), expected);
  // A reopened store (another process: the API, the report builder) sees the same.
  every_third.reset();
  EXPECT_EQ(spool_snapshot(*open("third", 40), 699, 703, orgs), expected);
}

// Day numbers past 65535 (year 2149) or huge type ids do not fit the flush's packed sort keys;
// it falls back to sorting structs and must answer the same.
TEST_P(SqliteStoreTest, SpoolFlushBeyondThePackedRange) {
  SqliteStoreOptions never_options;
  never_options.spool_flush_events = int64_t{1} << 40;
  auto never = open_sqlite_store((dir_ / "never.sqlite").string(), never_options);
  ASSERT_TRUE(never.ok());
  IngestBatch b;
  for (uint64_t key = 1; key <= 30; ++key) {
    DayNumber day = key % 2 ? 700 : 70000;
    b.events.push_back(
        event(day, key, day * int64_t{86400} + static_cast<UnixSeconds>(key),
              "192.0.2." + std::to_string(key),
              {{static_cast<uint32_t>(key % 3), MatchFilter::kCidr}, {7, MatchFilter::kGeo}}));
  }
  ASSERT_TRUE(store_->write(b).ok());
  ASSERT_TRUE((*never)->write(b).ok());
  ASSERT_TRUE(store_->settle().ok());
  std::vector<uint32_t> orgs = {0, 1, 2, 7};
  for (DayNumber day : {700, 70000}) {
    std::string settled = spool_snapshot(*store_, day, day, orgs);
    EXPECT_NE(settled.find("report " + std::to_string(day) + " 7 scan_http geo 15:"),
              std::string::npos)
        << settled;
    EXPECT_EQ(settled, spool_snapshot(**never, day, day, orgs));
  }
}

// A store written before schema 3 kept one spool row per (day, organisation, type, filter,
// event); opening it converts them into routes and runs without changing any answer.
TEST_P(SqliteStoreTest, UpgradesAPerRowSpool) {
  IngestBatch b;
  for (uint64_t key = 1; key <= 40; ++key) {
    std::vector<OrgRoute> routes = {{static_cast<uint32_t>(key % 4), MatchFilter::kCidr}};
    if (key % 3 == 0) routes.push_back({9, MatchFilter::kGeo});
    b.events.push_back(event(800 + static_cast<DayNumber>(key % 2), key, 800 * 86400 + key,
                             "192.0.2." + std::to_string(key), routes));
  }
  ASSERT_TRUE(store_->write(b).ok());
  ASSERT_TRUE(store_->settle().ok());
  std::vector<uint32_t> orgs = {0, 1, 2, 3, 9};
  std::string expected = spool_snapshot(*store_, 799, 802, orgs);
  store_.reset();
  {
    // Rewrite it into the schema-2 layout.
    auto db = Db::open((dir_ / "events.sqlite").string());
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE((*db)
                    ->exec("CREATE TABLE spool(day INTEGER NOT NULL, org_id INTEGER NOT NULL, "
                           "type_id INTEGER NOT NULL, filter INTEGER NOT NULL, event_id INTEGER "
                           "NOT NULL, PRIMARY KEY(day, org_id, type_id, filter, event_id)) "
                           "WITHOUT ROWID")
                    .ok());
    // The spool rows from the routes, as schema 2 stored them.
    for (const char* sql : {"INSERT INTO spool SELECT e.day, j.value / 4, e.type_id, j.value % 4, "
                            "e.id FROM events e, json_each(e.routes) j",
                            "UPDATE events SET routes = '[]'", "DROP TABLE spool_runs",
                            "DROP TABLE store_meta", "PRAGMA user_version=2"}) {
      ASSERT_TRUE((*db)->exec(sql).ok()) << sql;
    }
  }
  auto reopened = open_sqlite_store((dir_ / "events.sqlite").string());
  ASSERT_TRUE(reopened.ok()) << reopened.error().message;
  store_ = std::move(*reopened);
  EXPECT_EQ(spool_snapshot(*store_, 799, 802, orgs), expected);
  // New events after the upgrade join the converted ones.
  IngestBatch more;
  more.events.push_back(
      event(800, 500, 800 * 86400 + 999, "192.0.2.250", {{9, MatchFilter::kGeo}}));
  ASSERT_TRUE(store_->write(more).ok());
  auto keys = store_->report_keys(800, 9);
  ASSERT_TRUE(keys.ok());
  ASSERT_EQ(keys->size(), 1u);
  EXPECT_EQ((*keys)[0].rows, 7);  // keys 6, 12, ..., 36 on day 800, and the new one
}

TEST_P(StoreTest, ReopensExistingStore) {
  IngestBatch b;
  b.events.push_back(event(600, 1, 600 * 86400, "192.0.2.1", {{1, MatchFilter::kCidr}}));
  ASSERT_TRUE(store_->write(b).ok());
  store_.reset();
  auto s = open_store("events");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->report_keys(600, std::nullopt)->size(), 1u);
}

TEST_P(StoreTest, ReadAfterFollowsNewEventsWithTheirRoutes) {
  auto head = store_->last_event_id();
  ASSERT_TRUE(head.ok());
  EXPECT_EQ(*head, 0);
  IngestBatch b;
  b.events.push_back(
      event(100, 1, 100 * 86400, "192.0.2.1", {{7, MatchFilter::kAsn}, {3, MatchFilter::kCidr}}));
  b.events.push_back(event(100, 2, 100 * 86400, "192.0.2.2", {{9, MatchFilter::kGeo}}));
  b.events.push_back(event(100, 3, 100 * 86400, "192.0.2.3", {{7, MatchFilter::kCidr}}));
  b.events[1].severity = 4;
  b.events.push_back(
      event(100, 1, 100 * 86400 + 5, "192.0.2.1", {{7, MatchFilter::kAsn}}));  // repeat
  ASSERT_TRUE(store_->write(b).ok());

  std::vector<int64_t> ids;
  std::vector<std::vector<OrgRoute>> routes;
  auto all = store_->read_after({}, [&](const StoredEvent& e, const std::vector<OrgRoute>& r) {
    ids.push_back(e.id);
    routes.push_back(r);
    return true;
  });
  ASSERT_TRUE(all.ok()) << all.error().message;
  // Ids grow with each new event (the SQLite store counts 1, 2, 3; the segment store's are
  // offsets in its log); the repeat got no id of its own.
  ASSERT_EQ(ids.size(), 3u);
  EXPECT_TRUE(0 < ids[0] && ids[0] < ids[1] && ids[1] < ids[2]);
  if (GetParam() == "sqlite") {
    EXPECT_EQ(ids, (std::vector<int64_t>{1, 2, 3}));
  }
  const std::vector<int64_t> id = ids;
  EXPECT_EQ(*store_->last_event_id(), id[2]);
  EXPECT_EQ(all->examined_to, id[2]);
  EXPECT_EQ(routes[0], (std::vector<OrgRoute>{{3, MatchFilter::kCidr}, {7, MatchFilter::kAsn}}));

  // One organisation's, from a cursor: examined_to moves past rows the filter skipped.
  ids.clear();
  TailQuery q;
  q.after_id = id[0];
  q.org_id = 7;
  auto of7 = store_->read_after(q, [&](const StoredEvent& e, const std::vector<OrgRoute>&) {
    ids.push_back(e.id);
    return true;
  });
  ASSERT_TRUE(of7.ok()) << of7.error().message;
  EXPECT_EQ(ids, (std::vector<int64_t>{id[2]}));
  EXPECT_EQ(of7->examined_to, id[2]);
  ids.clear();
  q.org_id = 9;
  q.min_severity = 3;
  q.after_id = 0;
  ASSERT_TRUE(store_
                  ->read_after(q,
                               [&](const StoredEvent& e, const std::vector<OrgRoute>&) {
                                 ids.push_back(e.id);
                                 return true;
                               })
                  .ok());
  EXPECT_EQ(ids, (std::vector<int64_t>{id[1]}));
  // A limit (or a callback that stops) ends the page at the last row handed over.
  TailQuery one;
  one.limit = 1;
  auto page = store_->read_after(
      one, [](const StoredEvent&, const std::vector<OrgRoute>&) { return true; });
  EXPECT_EQ(page->events, 1);
  EXPECT_EQ(page->examined_to, id[0]);
  TailQuery bounded;
  bounded.through_id = id[1];
  page = store_->read_after(bounded,
                            [](const StoredEvent&, const std::vector<OrgRoute>&) { return true; });
  EXPECT_EQ(page->events, 2);
  EXPECT_EQ(page->examined_to, id[1]);
}

// The same occurrences in any arrival order, in any batching, give the same reports and query
// answers: each event shows its earliest occurrence (ties: the smallest id, a known id before
// an unknown one) and rows with equal first_seen follow the event key.
TEST_P(StoreTest, ReportsDoNotDependOnArrivalOrder) {
  auto occurrences = testing::order_test_occurrences(3, /*with_unknown_ids=*/true);
  std::string expected;
  int order = 0;
  for (auto [seed, per_batch] :
       {std::pair<uint32_t, size_t>{0, 1000}, {1, 37}, {2, 1}, {3, 64}, {4, 5}, {5, 1000}}) {
    SqliteStoreOptions options;
    options.spool_flush_events = 50;  // some events folded early, some late
    auto s = open_store("order-" + std::to_string(order++), options);
    ASSERT_TRUE(s);
    for (const auto& b : testing::order_test_batches(occurrences, seed, per_batch)) {
      auto w = s->write(b);
      ASSERT_TRUE(w.ok()) << w.error().message;
    }
    ASSERT_TRUE(s->settle().ok());
    std::string dump = testing::order_test_dump(*s);
    if (expected.empty()) {
      expected = dump;
      // The rule itself, on the first event: it shows its earliest occurrence.
      uint64_t key = occurrences.front().event_key;
      UnixSeconds earliest = INT64_MAX;
      uint64_t id = 0;
      for (const auto& e : occurrences) {
        if (e.event_key != key || !e.occurrence_id) continue;
        if (e.timestamp < earliest || (e.timestamp == earliest && e.occurrence_id < id)) {
          earliest = e.timestamp;
          id = e.occurrence_id;
        }
      }
      std::string row = "key " + std::to_string(key) + " ts " + std::to_string(earliest) + " occ " +
                        std::to_string(id);
      EXPECT_NE(dump.find("|" + row + "|"), std::string::npos) << row << "\n" << dump;
      EXPECT_EQ(dump.find("unknown"), std::string::npos);  // a known id always wins a tie
    } else {
      EXPECT_EQ(dump, expected) << "seed " << seed << ", batches of " << per_batch;
    }
  }
}

// A store written before schema 4 (no events.rep) opens, and its rows give way to an earlier
// occurrence that arrives later.
TEST_P(SqliteStoreTest, UpgradesAStoreWithoutRepresentativeRanks) {
  IngestBatch b;
  b.events.push_back(event(700, 1, 700 * 86400 + 50, "192.0.2.1", {{1, MatchFilter::kCidr}}));
  b.events[0].occurrence_id = 5;
  b.events[0].row = "at 50";
  ASSERT_TRUE(store_->write(b).ok());
  store_.reset();
  {
    auto db = Db::open((dir_ / "events.sqlite").string());
    ASSERT_TRUE(db.ok());
    for (const char* sql : {"ALTER TABLE events DROP COLUMN rep", "PRAGMA user_version=3"}) {
      ASSERT_TRUE((*db)->exec(sql).ok()) << sql;
    }
  }
  auto reopened = open_sqlite_store((dir_ / "events.sqlite").string());
  ASSERT_TRUE(reopened.ok()) << reopened.error().message;
  store_ = std::move(*reopened);
  auto row = [&] {
    std::string r;
    auto keys = store_->report_keys(700, std::nullopt);
    EXPECT_TRUE(keys.ok() && keys->size() == 1u);
    if (!keys.ok() || keys->empty()) return r;
    EXPECT_TRUE(store_->scan_report((*keys)[0], [&](const StoredEvent& e) {
      r = e.row + " first " + std::to_string(e.first_seen - 700 * 86400) + " count " +
          std::to_string(e.count);
      return true;
    }));
    return r;
  };
  EXPECT_EQ(row(), "at 50 first 50 count 1");
  IngestBatch later = b;
  later.events[0].timestamp = 700 * 86400 + 60;
  later.events[0].occurrence_id = 1;
  later.events[0].row = "at 60";
  ASSERT_TRUE(store_->write(later).ok());
  EXPECT_EQ(row(), "at 50 first 50 count 2");
  IngestBatch earlier = b;
  earlier.events[0].timestamp = 700 * 86400 + 20;
  earlier.events[0].occurrence_id = 9;
  earlier.events[0].row = "at 20";
  ASSERT_TRUE(store_->write(earlier).ok());
  EXPECT_EQ(row(), "at 20 first 20 count 3");
  IngestBatch tie = b;  // the same second, a smaller id
  tie.events[0].timestamp = 700 * 86400 + 20;
  tie.events[0].occurrence_id = 8;
  tie.events[0].row = "at 20 too";
  ASSERT_TRUE(store_->write(tie).ok());
  EXPECT_EQ(row(), "at 20 too first 20 count 4");
}

// The two embedded engines give the same answers to the same batches: every report (rows,
// order, representative, new_since_previous_day), queries with and without an organisation,
// statistics in every grouping, read_after's events and routes (ids aside: each engine numbers
// its own), checkpoints and retention's count.
TEST(EnginesAgree, SameBatchesGiveTheSameAnswers) {
  auto dir = std::filesystem::temp_directory_path() /
             ("vantage-engines-" + std::to_string(std::random_device{}()));
  std::filesystem::create_directories(dir);
  SqliteStoreOptions fold;
  fold.spool_flush_events = 50;
  auto sqlite = open_sqlite_store((dir / "events.sqlite").string(), fold);
  SegmentStoreOptions segment_options;
  segment_options.fold = fold;
  segment_options.segment_bytes = 8192;
  auto segment = open_segment_store((dir / "events.segment").string(), segment_options);
  ASSERT_TRUE(sqlite.ok() && segment.ok());
  auto occurrences = testing::order_test_occurrences(3, /*with_unknown_ids=*/true);
  int n = 0;
  for (auto& b : testing::order_test_batches(occurrences, 9, 23)) {
    SourceCheckpoint c;
    c.source_key = "feed";
    c.line = ++n;
    b.checkpoint = c;
    for (auto* s : {&*sqlite, &*segment}) ASSERT_TRUE((*s)->write(b).ok());
  }
  auto answers = [&](EventStore& s) {
    std::string out = testing::order_test_dump(s);
    EventQuery all;
    all.first_day = 0;
    all.last_day = 100000;
    all.limit = 100000;
    auto rows = s.query(all);
    if (!rows) return "query failed: " + rows.error().message;
    for (const auto& e : *rows) {
      out +=
          "all " + std::to_string(e.event_key) + " " + std::to_string(e.count) + " " + e.ip + "\n";
    }
    for (std::vector<std::string> g : std::vector<std::vector<std::string>>{
             {"day"}, {"type", "severity"}, {"geo", "region"}, {"asn"}, {"tag"}}) {
      for (std::optional<uint32_t> org : {std::optional<uint32_t>(), std::optional<uint32_t>(7)}) {
        StatsQuery q;
        q.first_day = 0;
        q.last_day = 100000;
        q.group_by = g;
        q.org_id = org;
        auto counted = s.stats(q);
        if (!counted) return "stats failed: " + counted.error().message;
        for (const auto& r : *counted) {
          out += "stats";
          for (const auto& k : r.keys) out += " " + k;
          out += " " + std::to_string(r.events) + "\n";
        }
      }
    }
    auto tail = s.read_after({.limit = 100000}, [&](const StoredEvent& e, const auto& routes) {
      out += "tail " + std::to_string(e.event_key) + " " + std::to_string(routes.size()) + "\n";
      return true;
    });
    if (!tail) return "read_after failed: " + tail.error().message;
    out += "checkpoint " + std::to_string((*s.checkpoint("feed"))->line) + "\n";
    return out;
  };
  std::string expected = answers(**sqlite);
  EXPECT_NE(expected.find("report"), std::string::npos);
  EXPECT_EQ(answers(**segment), expected);
  auto dropped = (*sqlite)->drop_events_before(testing::kOrdersFirstDay + 1);
  ASSERT_TRUE(dropped.ok());
  EXPECT_GT(*dropped, 0);
  EXPECT_EQ(*(*segment)->drop_events_before(testing::kOrdersFirstDay + 1), *dropped);
  EXPECT_EQ(answers(**segment), answers(**sqlite));
  sqlite->reset();
  segment->reset();
  std::filesystem::remove_all(dir);
}

INSTANTIATE_TEST_SUITE_P(Engines, StoreTest, ::testing::Values("sqlite", "segment"),
                         [](const auto& engine) { return engine.param; });
INSTANTIATE_TEST_SUITE_P(Sqlite, SqliteStoreTest, ::testing::Values("sqlite"),
                         [](const auto& engine) { return engine.param; });

}  // namespace
}  // namespace vantage::store

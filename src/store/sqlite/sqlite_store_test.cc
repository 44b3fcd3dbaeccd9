#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <map>
#include <random>

#include "store/sqlite/sqlite_db.h"
#include "store/store.h"

namespace vantage::store {
namespace {

class SqliteStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("vantage-store-" + std::to_string(std::random_device{}()));
    std::filesystem::create_directories(dir_);
    auto s = open_sqlite_store((dir_ / "events.sqlite").string());
    ASSERT_TRUE(s.ok()) << s.error().message;
    store_ = std::move(*s);
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

TEST_F(SqliteStoreTest, DeduplicatesByDayAndKey) {
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

TEST_F(SqliteStoreTest, RollupsCountDistinctEventsPerDimension) {
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
TEST_F(SqliteStoreTest, LateRoutesCountInTheOrganisationsStatistics) {
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
TEST_F(SqliteStoreTest, LateRoutesWithinOneBatchCountOnce) {
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

TEST_F(SqliteStoreTest, QueriesAreScopedToTheOrganisation) {
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

TEST_F(SqliteStoreTest, CheckpointCommitsWithTheBatch) {
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

TEST_F(SqliteStoreTest, RetentionDropsEventsButKeepsStatistics) {
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

// The dashboard rollups answer every dimension combination exactly as a brute-force count of
// the distinct events would, whatever the date range (month grains must join the ragged edges
// at day grain without double counting), and an upgraded schema-1 store is backfilled.
TEST_F(SqliteStoreTest, RollupsAgreeWithBruteForceOverAnyRange) {
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

TEST_F(SqliteStoreTest, ReopensExistingStore) {
  IngestBatch b;
  b.events.push_back(event(600, 1, 600 * 86400, "192.0.2.1", {{1, MatchFilter::kCidr}}));
  ASSERT_TRUE(store_->write(b).ok());
  store_.reset();
  auto s = open_sqlite_store((dir_ / "events.sqlite").string());
  ASSERT_TRUE(s.ok());
  EXPECT_EQ((*s)->report_keys(600, std::nullopt)->size(), 1u);
}

}  // namespace
}  // namespace vantage::store

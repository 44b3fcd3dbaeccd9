#include <gtest/gtest.h>

#include <filesystem>
#include <random>

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

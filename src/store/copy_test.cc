// copy_store between two SQLite stores: every carried field checked on the target directly
// (so a field the copy dropped fails here, whatever the dump shows) and the two dumps equal.

#include "store/copy.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <random>
#include <sstream>
#include <tuple>

#include "common/time.h"

namespace vantage::store {
namespace {

constexpr DayNumber kDropped = 20000;  // retention drops its events: statistics only
constexpr DayNumber kDay1 = 20001;
constexpr DayNumber kDay2 = 20002;

UnixSeconds at(DayNumber day, int64_t seconds) {
  return int64_t{day} * 86400 + seconds;
}

EventRecord event(DayNumber day, uint64_t key, UnixSeconds ts, std::vector<OrgRoute> routes,
                  std::string tag = "http,Vuln", std::string row = "") {
  EventRecord e;
  e.day = day;
  e.type = key % 2 ? "scan_http" : "honeypot_ssh";
  e.event_key = key;
  e.timestamp = ts;
  e.ip = "192.0.2." + std::to_string(key % 250);
  e.asn = 64500 + static_cast<uint32_t>(key % 3);
  e.geo = key % 2 ? "NL" : "DE";
  e.region = key % 2 ? "Noord-Holland" : "Berlin";
  e.severity = static_cast<uint8_t>(key % 5);
  e.tag = std::move(tag);
  e.row = row.empty() ? "row-" + std::to_string(key) : std::move(row);
  e.routes = std::move(routes);
  return e;
}

// The source is a SQLite store (what `vantage store migrate` reads on an embedded installation);
// the target is each embedded engine.
class CopyStoreTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("vantage-copy-" + std::to_string(std::random_device{}()));
    std::filesystem::create_directories(dir_);
    from_ = open("from.sqlite");
    to_ = open_target();
  }
  void TearDown() override {
    from_.reset();
    to_.reset();
    std::filesystem::remove_all(dir_);
  }

  std::unique_ptr<EventStore> open(const std::string& name) {
    auto s = open_sqlite_store((dir_ / name).string());
    EXPECT_TRUE(s.ok()) << s.error().message;
    return s.ok() ? std::move(*s) : nullptr;
  }

  std::unique_ptr<EventStore> open_target() {
    auto s = GetParam() == "segment" ? open_segment_store((dir_ / "to.segment").string())
                                     : open_sqlite_store((dir_ / "to.sqlite").string());
    EXPECT_TRUE(s.ok()) << s.error().message;
    return s.ok() ? std::move(*s) : nullptr;
  }

  void write(EventStore& store, const IngestBatch& b) {
    auto out = store.write(b);
    ASSERT_TRUE(out.ok()) << out.error().message;
  }

  // A source with every kind of thing a store keeps.
  void fill_source() {
    IngestBatch old;  // the day retention drops
    for (uint64_t k = 1; k <= 6; ++k) {
      old.events.push_back(
          event(kDropped, k, at(kDropped, 10 * int64_t(k)),
                {{7, MatchFilter::kCidr}, {uint32_t(8 + k % 2), MatchFilter::kAsn}},
                k % 3 ? "Mirai, botnet" : ""));
    }
    write(*from_, old);

    IngestBatch b;
    // Key 11: three occurrences, the earliest arriving second with its own row (the
    // representative), a later one adding a route for organisation 9 (a late route).
    b.events.push_back(event(kDay1, 11, at(kDay1, 500), {{7, MatchFilter::kCidr}}, "http", "late"));
    b.events.push_back(event(kDay1, 11, at(kDay1, 100), {{7, MatchFilter::kCidr}}, "http", "rep"));
    b.events.push_back(event(kDay1, 12, at(kDay1, 200), {}, ""));  // routed nowhere, untagged
    b.events.push_back(event(kDay1, 12, at(kDay1, 250), {}, ""));  // count 2
    b.events.push_back(event(kDay1, 13, at(kDay1, 300), {{7, MatchFilter::kGeo}}));
    b.quarantined.push_back(
        {"feed-a.jsonl", 4, "ip", "not an address", std::string("\x01\xff", 2)});
    b.checkpoint = SourceCheckpoint{"feed-a:100:abc", "feed-a.jsonl", 1000, 5, true, 4, 1, 0, 0, 0};
    write(*from_, b);
    ASSERT_TRUE(from_->settle());  // the late route then reaches an event already folded

    IngestBatch late;
    late.events.push_back(
        event(kDay1, 11, at(kDay1, 900), {{9, MatchFilter::kDomain}}, "http", "x"));
    // Key 13 again on the next day: not new since the previous day there.
    late.events.push_back(event(kDay2, 13, at(kDay2, 50), {{7, MatchFilter::kGeo}}));
    late.events.push_back(event(kDay2, 14, at(kDay2, 60), {{8, MatchFilter::kAsn}}));
    late.quarantined.push_back({"feed-b.jsonl", 2, "timestamp", "bad date", "2026-13-01"});
    late.checkpoint =
        SourceCheckpoint{"feed-b:7:def", "feed-b.jsonl", 300, 3, false, 3, 1, 1, 1, 1};
    write(*from_, late);

    ASSERT_TRUE(from_->settle());
    auto dropped = from_->drop_events_before(kDay1);
    ASSERT_TRUE(dropped.ok());
    ASSERT_EQ(*dropped, 6);
  }

  std::string dump(EventStore& store) {
    std::ostringstream out;
    const uint32_t orgs[] = {7, 8, 9};
    auto st = dump_store(store, out, orgs);
    EXPECT_TRUE(st.ok()) << st.error().message;
    return out.str();
  }

  std::vector<StoredEvent> report(EventStore& store, DayNumber day, uint32_t org) {
    std::vector<StoredEvent> rows;
    auto keys = store.report_keys(day, org);
    EXPECT_TRUE(keys.ok());
    for (const auto& k : *keys) {
      EXPECT_TRUE(store.scan_report(k, [&](const StoredEvent& e) {
        rows.push_back(e);
        return true;
      }));
    }
    return rows;
  }

  int64_t stat(EventStore& store, StatsQuery q) {
    auto rows = store.stats(q);
    EXPECT_TRUE(rows.ok()) << rows.error().message;
    int64_t n = 0;
    for (const auto& r : *rows) n += r.events;
    return n;
  }

  std::filesystem::path dir_;
  std::unique_ptr<EventStore> from_, to_;
};

TEST_P(CopyStoreTest, TargetAnswersAsTheSource) {
  fill_source();
  CopyOptions options;
  options.org_ids = {7, 8, 9};
  int progress_calls = 0;
  options.progress = [&](const CopyCounts&) { ++progress_calls; };
  auto copied = copy_store(*from_, *to_, options);
  ASSERT_TRUE(copied.ok()) << copied.error().message;
  EXPECT_EQ(copied->events, 5);
  EXPECT_EQ(copied->occurrences, 8);
  EXPECT_EQ(copied->dropped_days, 1);
  EXPECT_EQ(copied->quarantined, 2);
  EXPECT_EQ(copied->checkpoints, 2);
  EXPECT_GT(progress_calls, 0);

  // Count, first/last seen, the representative row, late routes.
  auto org9 = report(*to_, kDay1, 9);
  ASSERT_EQ(org9.size(), 1u);
  EXPECT_EQ(org9[0].event_key, 11u);
  EXPECT_EQ(org9[0].count, 3u);
  EXPECT_EQ(org9[0].first_seen, at(kDay1, 100));
  EXPECT_EQ(org9[0].last_seen, at(kDay1, 900));
  EXPECT_EQ(org9[0].row, "rep");
  EXPECT_EQ(org9[0].tag, "http");
  // new_since_previous_day.
  auto org7 = report(*to_, kDay2, 7);
  ASSERT_EQ(org7.size(), 1u);
  EXPECT_EQ(org7[0].event_key, 13u);
  EXPECT_FALSE(org7[0].new_since_previous_day);
  EXPECT_EQ(org7[0].region, "Noord-Holland");
  EXPECT_EQ(org7[0].severity, 3);
  EXPECT_EQ(org7[0].asn, 64501u);
  // The unrouted event is stored too.
  StatsQuery day1{.first_day = kDay1, .last_day = kDay1};
  EXPECT_EQ(stat(*to_, day1), 3);
  // Statistics of the dropped day: totals, tags, regions, per organisation.
  StatsQuery dropped{.first_day = kDropped, .last_day = kDropped};
  EXPECT_EQ(stat(*to_, dropped), 6);
  dropped.group_by = {"tag"};
  dropped.tag = "mirai";
  EXPECT_EQ(stat(*to_, dropped), 4);
  dropped.tag.clear();
  dropped.group_by = {"geo", "region"};
  dropped.region = "Berlin";
  EXPECT_EQ(stat(*to_, dropped), 3);
  dropped.region.clear();
  dropped.group_by = {};
  dropped.org_id = 9;
  EXPECT_EQ(stat(*to_, dropped), 3);
  dropped.org_id = 7;
  EXPECT_EQ(stat(*to_, dropped), 6);
  // No event of the dropped day came back.
  EXPECT_TRUE(report(*to_, kDropped, 7).empty());
  // Quarantine and checkpoints, unchanged: a resumed ingest continues where the source stopped.
  auto q = to_->quarantine(10);
  ASSERT_TRUE(q.ok());
  ASSERT_EQ(q->size(), 2u);
  EXPECT_EQ((*q)[0].source, "feed-b.jsonl");  // newest first, as the source answers
  EXPECT_EQ((*q)[1].raw, std::string("\x01\xff", 2));
  auto c = to_->checkpoint("feed-b:7:def");
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE(c->has_value());
  EXPECT_EQ((*c)->offset, 300);
  EXPECT_EQ((*c)->line, 3);
  EXPECT_FALSE((*c)->done);
  EXPECT_EQ((*c)->accepted, 3);
  EXPECT_EQ((*c)->allowlisted, 1);
  auto sc = from_->checkpoint("feed-b:7:def");
  ASSERT_TRUE(sc.ok() && sc->has_value());
  EXPECT_EQ((*c)->deduplicated, (*sc)->deduplicated);
  EXPECT_EQ((*c)->routed, (*sc)->routed);

  // And everything else the stores answer.
  std::string a = dump(*from_), b = dump(*to_);
  EXPECT_EQ(a, b);
  EXPECT_NE(a.find(" 13*"), std::string::npos) << a;  // the dump shows what it compares
  EXPECT_NE(a.find("O 9 " + format_date(kDropped)), std::string::npos) << a;
  // A store that differs in one occurrence dumps differently.
  IngestBatch one;
  one.events.push_back(event(kDay2, 14, at(kDay2, 70), {{8, MatchFilter::kAsn}}));
  write(*to_, one);
  EXPECT_NE(dump(*to_), a);
}

// (id, day, key) of every event in id order.
std::vector<std::tuple<int64_t, DayNumber, uint64_t>> ids(EventStore& store) {
  std::vector<std::tuple<int64_t, DayNumber, uint64_t>> out;
  TailQuery q;
  auto page = store.read_after(q, [&](const StoredEvent& e, const std::vector<OrgRoute>&) {
    out.emplace_back(e.id, e.day, e.event_key);
    return true;
  });
  EXPECT_TRUE(page.ok());
  return out;
}

TEST_P(CopyStoreTest, TranslatesCursorsToTheTargetsIds) {
  fill_source();
  // The target numbers its events from 1: start the source's ids well above that.
  auto source = ids(*from_);
  ASSERT_EQ(source.size(), 5u);
  ASSERT_GT(std::get<0>(source[0]), 1);  // retention left a gap below the first id
  CopyOptions options;
  options.translate_ids = {std::get<0>(source[2]),     0,
                           std::get<0>(source[0]) - 1, std::get<0>(source[4]) + 100,
                           std::get<0>(source[3]),     std::get<0>(source[0])};
  auto copied = copy_store(*from_, *to_, options);
  ASSERT_TRUE(copied.ok()) << copied.error().message;
  auto target = ids(*to_);
  ASSERT_EQ(target.size(), 5u);
  for (size_t i = 0; i < 5; ++i) {  // the same events in the same order
    EXPECT_EQ(std::get<1>(source[i]), std::get<1>(target[i]));
    EXPECT_EQ(std::get<2>(source[i]), std::get<2>(target[i]));
  }
  ASSERT_NE(std::get<0>(source[2]), std::get<0>(target[2]));  // so the test means something
  std::vector<int64_t> want = {
      std::get<0>(target[2]), 0, 0, std::get<0>(target[4]), std::get<0>(target[3]),
      std::get<0>(target[0])};
  EXPECT_EQ(copied->translated_ids, want);
}

TEST_P(CopyStoreTest, RefusesATargetThatIsNotEmpty) {
  fill_source();
  IngestBatch b;
  b.checkpoint = SourceCheckpoint{"other", "other.jsonl", 1, 1, false, 0, 0, 0, 0, 0};
  write(*to_, b);
  auto copied = copy_store(*from_, *to_);
  ASSERT_FALSE(copied.ok());
  EXPECT_EQ(copied.error().code, ErrorCode::kFailedPrecondition);
  EXPECT_NE(copied.error().message.find("not empty"), std::string::npos);
  auto head = to_->last_event_id();
  ASSERT_TRUE(head.ok());
  EXPECT_EQ(*head, 0);
}

TEST_P(CopyStoreTest, RefusesLateEventsOlderThanADroppedDay) {
  fill_source();
  IngestBatch b;  // written after retention dropped kDropped, for the day before it
  b.events.push_back(event(kDropped - 1, 40, at(kDropped - 1, 5), {{7, MatchFilter::kCidr}}));
  write(*from_, b);
  ASSERT_TRUE(from_->settle());
  auto copied = copy_store(*from_, *to_);
  ASSERT_FALSE(copied.ok());
  EXPECT_NE(copied.error().message.find("retention"), std::string::npos) << copied.error().message;
  auto head = to_->last_event_id();  // refused before anything was written
  ASSERT_TRUE(head.ok());
  EXPECT_EQ(*head, 0);
}

TEST_P(CopyStoreTest, CopiesAnEmptyStore) {
  auto copied = copy_store(*from_, *to_);
  ASSERT_TRUE(copied.ok()) << copied.error().message;
  EXPECT_EQ(copied->events, 0);
  EXPECT_EQ(dump(*from_), dump(*to_));
}

INSTANTIATE_TEST_SUITE_P(Targets, CopyStoreTest, ::testing::Values("sqlite", "segment"),
                         [](const auto& target) { return target.param; });

}  // namespace
}  // namespace vantage::store

// The segment store's own guarantees, beyond the contract tests it shares with the SQLite
// store (sqlite/sqlite_store_test.cc, TEST_P): an uncommitted batch's bytes are dropped,
// segment files roll and retention deletes the old ones, a reopened writer deduplicates
// against what it wrote before.

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>

#include "store/segment/segment_file.h"
#include "store/store.h"

namespace vantage::store {
namespace {

class SegmentStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("vantage-segment-" + std::to_string(std::random_device{}()));
    open();
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  void open() {
    store_.reset();
    SegmentStoreOptions options;
    options.fold.spool_flush_events = 1;
    options.segment_bytes = 2048;  // a few events per file
    auto s = open_segment_store(dir_.string(), options);
    ASSERT_TRUE(s.ok()) << s.error().message;
    store_ = std::move(*s);
  }
  static EventRecord event(DayNumber day, uint64_t key, UnixSeconds ts, uint32_t org) {
    EventRecord e;
    e.day = day;
    e.type = "scan_http";
    e.event_key = key;
    e.timestamp = ts;
    e.ip = "192.0.2." + std::to_string(key % 250);
    e.geo = "NL";
    e.row = std::string(200, static_cast<char>('a' + key % 26));
    e.routes = {{org, MatchFilter::kCidr}};
    return e;
  }
  std::vector<StoredEvent> report(DayNumber day, uint32_t org) {
    std::vector<StoredEvent> rows;
    auto keys = store_->report_keys(day, org);
    EXPECT_TRUE(keys.ok());
    for (const auto& k : *keys) {
      EXPECT_TRUE(store_->scan_report(k, [&](const StoredEvent& e) {
        rows.push_back(e);
        return true;
      }));
    }
    return rows;
  }
  std::vector<std::string> segment_files() {
    std::vector<std::string> out;
    for (const auto& f : std::filesystem::directory_iterator(dir_)) {
      if (f.path().extension() == ".seg") out.push_back(f.path().filename().string());
    }
    std::sort(out.begin(), out.end());
    return out;
  }

  std::filesystem::path dir_;
  std::unique_ptr<EventStore> store_;
};

TEST_F(SegmentStoreTest, BytesPastTheCommittedEndAreNeverRead) {
  IngestBatch a;
  for (uint64_t k = 1; k <= 3; ++k) a.events.push_back(event(300, k, 300 * 86400 + 10, 5));
  ASSERT_TRUE(store_->write(a).ok());
  auto head = store_->last_event_id();
  ASSERT_TRUE(head.ok());
  store_.reset();
  // A batch synced to the segment whose transaction never committed (kill -9 in between).
  auto files = segment_files();
  ASSERT_FALSE(files.empty());
  {
    std::ofstream tail(dir_ / files.back(), std::ios::app | std::ios::binary);
    tail << std::string(100, '\x7f');
  }
  open();
  EXPECT_EQ(*store_->last_event_id(), *head);
  EXPECT_EQ(report(300, 5).size(), 3u);  // a reader before any write: the end bounds it
  IngestBatch b;
  b.events.push_back(event(300, 4, 300 * 86400 + 20, 5));
  b.events.push_back(event(300, 2, 300 * 86400 + 5, 5));  // a repeat, earlier
  auto out = store_->write(b);
  ASSERT_TRUE(out.ok()) << out.error().message;
  EXPECT_EQ(out->inserted, 1);
  EXPECT_EQ(out->deduplicated, 1);
  open();
  auto rows = report(300, 5);
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows[0].event_key, 2u);  // first seen earliest now
  EXPECT_EQ(rows[0].count, 2u);
  int64_t n = 0;
  auto page = store_->read_after({}, [&](const StoredEvent&, const std::vector<OrgRoute>&) {
    ++n;
    return true;
  });
  ASSERT_TRUE(page.ok()) << page.error().message;
  EXPECT_EQ(n, 4);
}

TEST_F(SegmentStoreTest, BulkReportReadsStopAtTheCommittedEnd) {
  IngestBatch a;
  for (uint64_t k = 1; k <= 3; ++k) a.events.push_back(event(300, k, 300 * 86400 + 10, 5));
  ASSERT_TRUE(store_->write(a).ok());
  store_.reset();
  // A whole, valid record past the committed end (a batch synced to the segment whose
  // transaction never committed): a copy of the last record, routed to the same organisation.
  auto files = segment_files();
  ASSERT_FALSE(files.empty());
  std::string bytes;
  {
    std::ifstream in(dir_ / files.back(), std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  ASSERT_GE(bytes.size(), 4u);
  uint32_t length = 0;
  std::memcpy(&length, bytes.data() + bytes.size() - 4, 4);
  ASSERT_LE(length, bytes.size());
  {
    std::ofstream tail(dir_ / files.back(), std::ios::app | std::ios::binary);
    tail << bytes.substr(bytes.size() - length);
  }
  open();
  auto keys = store_->report_keys(300, std::nullopt);
  ASSERT_TRUE(keys.ok());
  ASSERT_EQ(keys->size(), 1u);
  EXPECT_EQ((*keys)[0].rows, 3);
  int64_t rows = 0;
  auto st = store_->scan_reports(*keys, [&](const ReportKey&, const StoredEvent&) {
    ++rows;
    return true;
  });
  ASSERT_TRUE(st.ok()) << st.error().message;
  EXPECT_EQ(rows, 3);
}

TEST_F(SegmentStoreTest, AReopenedWriterDeduplicatesAgainstWhatItWrote) {
  IngestBatch a;
  for (uint64_t k = 1; k <= 20; ++k) a.events.push_back(event(400, k, 400 * 86400 + 50, 1));
  ASSERT_TRUE(store_->write(a).ok());
  IngestBatch repeat;
  repeat.events.push_back(event(400, 7, 400 * 86400 + 60, 1));
  ASSERT_TRUE(store_->write(repeat).ok());
  open();
  IngestBatch b;
  for (uint64_t k = 1; k <= 20; ++k) b.events.push_back(event(400, k, 400 * 86400 + 40, 1));
  b.events.push_back(event(400, 7, 400 * 86400 + 30, 2));  // a route the event lacked
  auto out = store_->write(b);
  ASSERT_TRUE(out.ok()) << out.error().message;
  EXPECT_EQ(out->inserted, 0);
  EXPECT_EQ(out->deduplicated, 21);
  EXPECT_EQ(out->routed, 1);
  auto rows = report(400, 1);
  ASSERT_EQ(rows.size(), 20u);
  for (const auto& e : rows) {
    EXPECT_EQ(e.first_seen, e.event_key == 7 ? 400 * 86400 + 30 : 400 * 86400 + 40);
    EXPECT_EQ(e.count, e.event_key == 7 ? 4u : 2u);
  }
  EXPECT_EQ(report(400, 2).size(), 1u);
}

TEST_F(SegmentStoreTest, FilesRollAndRetentionDeletesTheOldOnes) {
  for (DayNumber day = 500; day < 505; ++day) {
    IngestBatch b;
    for (uint64_t k = 1; k <= 12; ++k) b.events.push_back(event(day, k, day * 86400 + 1, 3));
    ASSERT_TRUE(store_->write(b).ok());
  }
  auto before = segment_files();
  EXPECT_GT(before.size(), 5u);  // ~300-byte records, 2 KiB files
  auto dropped = store_->drop_events_before(503);
  ASSERT_TRUE(dropped.ok()) << dropped.error().message;
  EXPECT_EQ(*dropped, 36);
  auto after = segment_files();
  EXPECT_LT(after.size(), before.size());
  EXPECT_EQ(after.back(), before.back());  // the file being written stays
  EXPECT_TRUE(report(502, 3).empty());
  EXPECT_EQ(report(503, 3).size(), 12u);
  // Events of the kept days are all still readable, and writing goes on.
  open();
  IngestBatch more;
  more.events.push_back(event(504, 1, 504 * 86400 + 1, 3));  // a repeat
  more.events.push_back(event(505, 1, 505 * 86400 + 1, 3));
  auto out = store_->write(more);
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->inserted, 1);
  EXPECT_EQ(report(504, 3).size(), 12u);
  EXPECT_FALSE(report(505, 3)[0].new_since_previous_day);
}

TEST(SegmentRecordTest, RoundTripsAndRejectsDamage) {
  SegmentRecord r;
  r.day = 20000;
  r.type_id = 3;
  r.event_key = 0xF00000000000000Full;
  r.timestamp = 1700000000;
  r.rank = -5;
  r.asn = 64500;
  r.severity = 4;
  r.ip = "2001:db8::1";
  r.geo = "NL";
  r.region = "Utrecht";
  r.tag = "a,b";
  r.routes = "[29,30]";
  const std::string row(300, 'x');  // the record's texts are views: the row must outlive them
  r.row = row;
  std::string bytes;
  encode_segment_record(r, bytes);
  SegmentRecord back;
  ASSERT_TRUE(decode_segment_record(bytes, back));
  EXPECT_EQ(back.event_key, r.event_key);
  EXPECT_EQ(back.rank, r.rank);
  EXPECT_EQ(back.row, r.row);
  EXPECT_EQ(back.routes, r.routes);
  for (size_t i = 0; i < bytes.size(); i += 7) {
    std::string damaged = bytes;
    damaged[i] = static_cast<char>(damaged[i] ^ 0x40);
    EXPECT_FALSE(decode_segment_record(damaged, back)) << "byte " << i;
  }
  EXPECT_FALSE(decode_segment_record(std::string_view(bytes).substr(0, bytes.size() - 1), back));
}

// Ids are record ends (byte offsets): a caller's id window may end inside a record (the copy of
// `vantage store migrate` pages by windows of ids). Paging by any window must hand out every
// event exactly once, and examined_to must stay where the next page can start.
TEST_F(SegmentStoreTest, ReadAfterWindowsEndingInsideARecord) {
  IngestBatch a;
  for (uint64_t k = 1; k <= 12; ++k) a.events.push_back(event(300, k, 300 * 86400 + 10, 5));
  ASSERT_TRUE(store_->write(a).ok());
  auto head = store_->last_event_id();
  ASSERT_TRUE(head.ok());
  for (int64_t window : {1, 7, 100, 251, 1000, 5000}) {
    std::vector<uint64_t> seen;
    TailQuery q;
    q.limit = 5;
    int stalls = 0;
    while (q.after_id < *head) {
      q.through_id = std::min(*head, q.after_id + window);
      auto page = store_->read_after(q, [&](const StoredEvent& e, const std::vector<OrgRoute>&) {
        EXPECT_GT(e.id, q.after_id);
        EXPECT_LE(e.id, q.through_id);
        seen.push_back(e.event_key);
        return true;
      });
      ASSERT_TRUE(page.ok()) << "window " << window << ": " << page.error().message;
      if (page->examined_to <= q.after_id) {  // nothing ends in the window: widen it
        ASSERT_LT(++stalls, 64);
        window *= 2;
        continue;
      }
      q.after_id = page->examined_to;
    }
    std::vector<uint64_t> expected;
    for (uint64_t k = 1; k <= 12; ++k) expected.push_back(k);
    EXPECT_EQ(seen, expected) << "window " << window;
  }
}

}  // namespace
}  // namespace vantage::store

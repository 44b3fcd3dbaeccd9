// The bulk report read (scan_reports) of the embedded stores -- SQLite and segment -- against
// their one-report read (scan_report): the same rows, values and order, whatever the chunk
// size, key subset or early stop -- over a store whose spool is partly folded into runs, partly
// late routes and partly an unfolded tail, with repeats that take over an event's row. The
// twin of ClickHouseStoreTest.BulkReportScanMatchesPerReportScans.

#include <gtest/gtest.h>

#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "store/store.h"

namespace vantage::store {
namespace {

constexpr DayNumber kFirstDay = 20000;

class BulkScanTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("vantage-bulkscan-" + std::to_string(std::random_device{}()));
    std::filesystem::create_directories(dir_);
    writer_ = open({});
    ASSERT_TRUE(writer_);
  }
  void TearDown() override {
    writer_.reset();
    std::filesystem::remove_all(dir_);
  }

  struct Chunking {
    int64_t chunk_rows = 100000;
    int64_t org_rows_max = 250000;
  };
  // The store under test with this chunking. The writer folds only when told (settle), so the
  // last batches stay in the spool's tail; the segment store gets 64 KiB files, so that a bulk
  // read crosses several of them.
  std::unique_ptr<EventStore> open(Chunking c) {
    SqliteStoreOptions o;
    o.spool_flush_events = int64_t{1} << 40;
    o.spool_flush_interval = std::chrono::hours(24);
    o.report_chunk_rows = c.chunk_rows;
    o.report_bulk_org_rows_max = c.org_rows_max;
    Result<std::unique_ptr<EventStore>> s = Error::invalid("unknown engine " + GetParam());
    if (GetParam() == "sqlite") s = open_sqlite_store((dir_ / "events.sqlite").string(), o);
    if (GetParam() == "segment") {
      SegmentStoreOptions so;
      so.fold = o;
      so.segment_bytes = 64 << 10;
      so.report_chunk_rows = c.chunk_rows;
      so.report_bulk_org_rows_max = c.org_rows_max;
      s = open_segment_store((dir_ / "events.segment").string(), so);
    }
    EXPECT_TRUE(s.ok()) << s.error().message;
    return s.ok() ? std::move(*s) : nullptr;
  }

  // Events over three days for a few dozen organisations: keys repeat within and across days
  // (new_since_previous_day), first-seen seconds collide often and half the keys are above 2^63
  // (the order within a second is the key's unsigned order), several types and filters, and
  // repeats that route an event to a further organisation (late routes).
  static std::vector<IngestBatch> batches(int count, int per_batch, uint32_t seed) {
    std::mt19937_64 rng(seed);
    std::vector<IngestBatch> out;
    uint64_t occurrence = 1;
    for (int b = 0; b < count; ++b) {
      IngestBatch batch;
      for (int i = 0; i < per_batch; ++i) {
        uint64_t k = rng() % 400;
        EventRecord e;
        e.day = kFirstDay + static_cast<DayNumber>(rng() % 3);
        e.event_key = (k % 2 ? 0x8000000000000000ull : 0) + k * 104729 + 7;
        e.type = k % 3 == 0 ? "honeypot_ssh" : (k % 3 == 1 ? "scan_http" : "sinkhole_http");
        e.occurrence_id = occurrence++;
        e.timestamp = int64_t{e.day} * 86400 + static_cast<int64_t>(rng() % 20);
        e.ip = "198.51.100." + std::to_string(k % 250);
        e.asn = 64500 + static_cast<uint32_t>(k % 9);
        e.geo = k % 2 ? "NL" : "BE";
        e.region = k % 4 ? "North" : "South";
        e.severity = static_cast<uint8_t>(k % 5);
        e.tag = k % 5 ? "scan,Vuln" : "";
        e.row = "row " + std::to_string(k) + " occurrence " + std::to_string(e.occurrence_id);
        e.routes.push_back({static_cast<uint32_t>(k % 23), MatchFilter::kCidr});
        if (k % 4 == 0) e.routes.push_back({static_cast<uint32_t>(k % 31), MatchFilter::kAsn});
        if (rng() % 6 == 0)
          e.routes.push_back({static_cast<uint32_t>(rng() % 40), MatchFilter::kGeo});
        batch.events.push_back(std::move(e));
      }
      out.push_back(std::move(batch));
    }
    return out;
  }

  static std::string describe(const ReportKey& k, const StoredEvent& e) {
    return std::to_string(k.org_id) + "/" + k.type + "/" + match_filter_name(k.filter) + "|" +
           std::to_string(e.id) + "|" + std::to_string(e.day) + "|" + e.type + "|" +
           std::to_string(e.event_key) + "|" + std::to_string(e.first_seen) + "|" +
           std::to_string(e.last_seen) + "|" + std::to_string(e.count) + "|" + e.ip + "|" +
           std::to_string(e.asn) + "|" + e.geo + "|" + e.region + "|" + std::to_string(e.severity) +
           "|" + e.tag + "|" + e.row + "|" + (e.new_since_previous_day ? "new" : "seen");
  }

  static std::vector<std::string> one_by_one(EventStore& s, const std::vector<ReportKey>& keys) {
    std::vector<std::string> out;
    for (const auto& k : keys) {
      auto st = s.scan_report(k, [&](const StoredEvent& e) {
        out.push_back(describe(k, e));
        return true;
      });
      EXPECT_TRUE(st.ok()) << st.error().message;
    }
    return out;
  }

  static std::vector<std::string> bulk(EventStore& s, const std::vector<ReportKey>& keys,
                                       size_t stop_after = SIZE_MAX) {
    std::vector<std::string> out;
    auto st = s.scan_reports(keys, [&](const ReportKey& k, const StoredEvent& e) {
      out.push_back(describe(k, e));
      return out.size() < stop_after;
    });
    EXPECT_TRUE(st.ok()) << st.error().message;
    return out;
  }

  std::filesystem::path dir_;
  std::unique_ptr<EventStore> writer_;
};

TEST_P(BulkScanTest, BulkReportScanMatchesPerReportScans) {
  auto all = batches(8, 300, 47);
  for (size_t b = 0; b < all.size(); ++b) {
    auto w = writer_->write(all[b]);
    ASSERT_TRUE(w.ok()) << w.error().message;
    if (b == 5) {
      ASSERT_TRUE(writer_->settle().ok());  // batches 6 and 7 stay in the tail
    }
  }
  auto unsettled = writer_->unsettled_events();
  ASSERT_TRUE(unsettled.ok());
  ASSERT_GT(*unsettled, 0) << "the test needs a spool tail";

  std::mt19937 rng(47);
  // Chunks of one organisation, of several, of everything; and organisations read report by
  // report (more rows than org_rows_max) among organisations read in bulk.
  for (Chunking c : {Chunking{1, 1000000}, Chunking{37, 1000000}, Chunking{1000000, 1000000},
                     Chunking{37, 30}, Chunking{1000000, 0}}) {
    SCOPED_TRACE("chunk " + std::to_string(c.chunk_rows) + ", org rows max " +
                 std::to_string(c.org_rows_max));
    auto opened = open(c);
    ASSERT_TRUE(opened);
    EventStore& s = *opened;
    for (DayNumber day = kFirstDay; day < kFirstDay + 3; ++day) {
      SCOPED_TRACE("day " + std::to_string(day));
      auto keys = s.report_keys(day, std::nullopt);
      ASSERT_TRUE(keys.ok());
      ASSERT_GT(keys->size(), 20u);
      auto expected = one_by_one(s, *keys);
      ASSERT_GT(expected.size(), keys->size());
      EXPECT_EQ(bulk(s, *keys), expected);
      for (int trial = 0; trial < 3; ++trial) {
        std::vector<ReportKey> some;
        for (const auto& k : *keys)
          if (rng() % 3) some.push_back(k);
        EXPECT_EQ(bulk(s, some), one_by_one(s, some)) << "subset " << trial;
      }
      std::vector<ReportKey> one_org;
      for (const auto& k : *keys)
        if (k.org_id == (*keys)[keys->size() / 2].org_id) one_org.push_back(k);
      EXPECT_EQ(bulk(s, one_org), one_by_one(s, one_org));
      // A key with no rows (a type never stored) is skipped; the others are read as usual.
      std::vector<ReportKey> with_unknown = one_org;
      with_unknown.insert(with_unknown.begin(),
                          ReportKey{day, one_org[0].org_id, "aaa_never_stored", one_org[0].filter});
      EXPECT_EQ(bulk(s, with_unknown), one_by_one(s, one_org));
      for (size_t stop : {size_t{1}, size_t{5}, expected.size() / 2}) {
        auto stopped = bulk(s, *keys, stop);
        EXPECT_EQ(stopped, std::vector<std::string>(expected.begin(),
                                                    expected.begin() + static_cast<long>(stop)));
      }
    }
    // Keys out of report order, repeated, or of two days are refused.
    auto a = s.report_keys(kFirstDay, std::nullopt);
    auto b = s.report_keys(kFirstDay + 1, std::nullopt);
    ASSERT_TRUE(a.ok() && b.ok() && a->size() > 1 && !b->empty());
    std::vector<ReportKey> reversed(a->rbegin(), a->rend());
    std::vector<ReportKey> repeated = {a->front(), a->front()};
    std::vector<ReportKey> two_days = {a->front(), b->back()};
    auto no_row = [](const ReportKey&, const StoredEvent&) { return true; };
    for (const auto* bad : {&reversed, &repeated, &two_days}) {
      auto st = s.scan_reports(*bad, no_row);
      ASSERT_FALSE(st.ok());
      EXPECT_EQ(st.error().code, ErrorCode::kInvalidArgument);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Engines, BulkScanTest, ::testing::Values("sqlite", "segment"),
                         [](const auto& engine) { return engine.param; });

}  // namespace
}  // namespace vantage::store

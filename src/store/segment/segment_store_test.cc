// The segment store's own guarantees, beyond the contract tests it shares with the SQLite
// store (sqlite/sqlite_store_test.cc, TEST_P): an uncommitted batch's bytes are dropped,
// segment files roll and retention deletes the old ones, a reopened writer deduplicates
// against what it wrote before.

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <random>

#include "store/segment/dedup_table.h"
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

// Retention run by another process than the writer (`vantage serve`'s job while `vantage
// ingest` writes): the writer must forget the dropped days' keys. A late occurrence of a
// dropped event is then a new event, invisible behind the retention day, in both engines --
// not a repeat counted into a record that is gone. (Before the writer read the retention day
// at each batch, the segment store counted it as a repeat: inserted 0, deduplicated 2.)
TEST_F(SegmentStoreTest, RetentionByAnotherInstanceReachesTheWritersDedup) {
  for (std::string engine : {"sqlite", "segment"}) {
    SCOPED_TRACE(engine);
    auto path = dir_ / ("other-" + engine);
    auto open_engine = [&] {
      return engine == "sqlite" ? open_sqlite_store((path / "events.sqlite").string())
                                : open_segment_store((path / "events.segment").string());
    };
    std::filesystem::create_directories(path);
    auto writer = open_engine();
    ASSERT_TRUE(writer.ok()) << writer.error().message;
    IngestBatch a;
    for (uint64_t k = 1; k <= 10; ++k) a.events.push_back(event(600, k, 600 * 86400 + 5, 4));
    for (uint64_t k = 1; k <= 5; ++k) a.events.push_back(event(602, k, 602 * 86400 + 5, 4));
    ASSERT_TRUE((*writer)->write(a).ok());
    {
      auto other = open_engine();
      ASSERT_TRUE(other.ok()) << other.error().message;
      auto dropped = (*other)->drop_events_before(601);
      ASSERT_TRUE(dropped.ok()) << dropped.error().message;
      EXPECT_EQ(*dropped, 10);
    }
    IngestBatch late;
    late.events.push_back(event(600, 3, 600 * 86400 + 9, 4));  // its event was dropped
    late.events.push_back(event(602, 1, 602 * 86400 + 9, 4));  // a repeat of a kept event
    auto out = (*writer)->write(late);
    ASSERT_TRUE(out.ok()) << out.error().message;
    EXPECT_EQ(out->inserted, 1);
    EXPECT_EQ(out->deduplicated, 1);
    // Day 600 itself: the segment store hides everything behind its retention day; the SQLite
    // store keeps no retention day and shows the late event's new row (docs/store.md).
    if (engine == "segment") {
      auto keys = (*writer)->report_keys(600, 4);
      ASSERT_TRUE(keys.ok());
      EXPECT_TRUE(keys->empty());
    }
    std::map<uint64_t, uint32_t> counts;
    auto kept = (*writer)->report_keys(602, 4);
    ASSERT_TRUE(kept.ok());
    for (const auto& k : *kept) {
      ASSERT_TRUE((*writer)->scan_report(k, [&](const StoredEvent& e) {
        counts[e.event_key] = e.count;
        return true;
      }));
    }
    EXPECT_EQ(counts, (std::map<uint64_t, uint32_t>{{1, 2}, {2, 1}, {3, 1}, {4, 1}, {5, 1}}));
  }
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

// The writer keeps the fold's inputs in memory (fold_tail.h) instead of reading the tail back
// from the segment: the answers must not depend on which the fold used. The same batches go
// into a writer that folds from memory, writers reopened before the fold (which read the
// tail from disk), a writer whose folds stop part-way (fold_max_entries), and the SQLite
// store -- with repeats that take over a tail event's row (other severity, geo, region, asn,
// tag) or add routes to it before the fold, inside one batch and across batches. A copy that
// missed any of those changes counts the event under its old fields or organisations.
class SegmentFoldTailTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("vantage-fold-tail-" + std::to_string(std::random_device{}()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  static constexpr DayNumber kDay = 500;
  static constexpr UnixSeconds kBase = kDay * 86400;

  static EventRecord event(uint64_t key, UnixSeconds at, std::vector<OrgRoute> routes,
                           int severity = 2, std::string geo = "NL",
                           std::string region = "Noord-Holland", uint32_t asn = 64500,
                           std::string tag = "http") {
    EventRecord e;
    e.day = kDay;
    e.type = key % 2 ? "scan_http" : "scan_ssl";
    e.event_key = key;
    e.timestamp = kBase + at;
    e.ip = "192.0.2." + std::to_string(key);
    e.asn = asn;
    e.geo = std::move(geo);
    e.region = std::move(region);
    e.severity = static_cast<uint8_t>(severity);
    e.tag = std::move(tag);
    e.row = "row-" + std::to_string(key) + "-" + std::to_string(at);
    e.routes = std::move(routes);
    return e;
  }
  static OrgRoute cidr(uint32_t org) { return {org, MatchFilter::kCidr}; }

  std::vector<IngestBatch> batches() const {
    std::vector<IngestBatch> out(3);
    for (uint64_t k = 1; k <= 40; ++k) out[0].events.push_back(event(k, 100, {cidr(k % 3 + 1)}));
    // Repeats of the first batch's events: earlier (they take over the row), later with
    // further organisations (the registry changed), or both; and new events.
    for (uint64_t k = 1; k <= 10; ++k) {
      out[1].events.push_back(
          event(k, 50, {cidr(k % 3 + 1)}, 4, "DE", "Bayern", 64501, "Vuln,ssl"));
    }
    for (uint64_t k = 11; k <= 20; ++k) {
      out[1].events.push_back(event(k, 200, {cidr(k % 3 + 1), {9, MatchFilter::kAsn}}));
    }
    for (uint64_t k = 5; k <= 8; ++k) {
      out[1].events.push_back(event(k, 40, {cidr(7), cidr(8)}, 1, "BE", "", 64502, "iot"));
    }
    for (uint64_t k = 41; k <= 50; ++k) out[1].events.push_back(event(k, 100, {cidr(4)}));
    // A tail event taken over a second time, one getting a second further organisation, an
    // event of the previous batch taken over, and a new event repeated in its own batch.
    out[2].events.push_back(event(3, 10, {cidr(1)}, 1, "FR", "Bretagne", 64503, ""));
    out[2].events.push_back(event(12, 300, {{10, MatchFilter::kGeo}}));
    out[2].events.push_back(event(45, 20, {cidr(4), cidr(5)}, 3, "US", "", 64504, "a,b"));
    out[2].events.push_back(event(60, 100, {cidr(6)}));
    out[2].events.push_back(event(60, 10, {cidr(6), cidr(11)}, 3, "IT", "Lazio", 64505, "x"));
    if (far_org_) {  // beyond the tail's packed routes: the fold falls back to the disk
      out[1].events.push_back(event(70, 100, {cidr(far_org_)}));
      out[2].events.push_back(event(71, 100, {cidr(2)}));
      out[2].events.push_back(event(33, 300, {cidr(far_org_)}));
    }
    for (size_t i = 0; i < out.size(); ++i) {
      SourceCheckpoint c;
      c.source_key = "feed";
      c.line = static_cast<int64_t>(i + 1);
      out[i].checkpoint = c;
    }
    return out;
  }

  struct Run {
    std::string engine = "segment";
    std::vector<size_t> settle_after;  // batch indices after which the store settles
    std::vector<size_t> reopen_after;  // ... after which it is closed without settling
    size_t fold_max_entries = size_t{8} << 20;
  };

  std::unique_ptr<EventStore> open(const std::string& name, const Run& run) {
    SqliteStoreOptions fold;
    fold.spool_flush_events = int64_t{1} << 40;  // folds only where the run says
    fold.spool_flush_interval = std::chrono::hours(24);
    fold.fold_max_entries = run.fold_max_entries;
    Result<std::unique_ptr<EventStore>> s = Error::invalid("unknown engine");
    if (run.engine == "sqlite") s = open_sqlite_store((dir_ / (name + ".sqlite")).string(), fold);
    if (run.engine == "segment") {
      SegmentStoreOptions segment;
      segment.fold = fold;
      segment.segment_bytes = 4096;
      s = open_segment_store((dir_ / name).string(), segment);
    }
    EXPECT_TRUE(s.ok()) << s.error().message;
    return s.ok() ? std::move(*s) : nullptr;
  }

  // Writes batches [first, last] and settles after those the run says -- but not after
  // `last` when `dies` (the process is killed there). The settle due after first - 1, whose
  // process died before it, comes first.
  bool write_range(EventStore& store, size_t first, size_t last, bool dies, const Run& run) {
    auto all = batches();
    auto settles = [&](size_t i) {
      return std::count(run.settle_after.begin(), run.settle_after.end(), i) > 0;
    };
    if (first > 0 && settles(first - 1) && !store.settle()) return false;
    for (size_t i = first; i <= last && i < all.size(); ++i) {
      if (!store.write(all[i])) return false;
      if (settles(i) && !(dies && i == last) && !store.settle()) return false;
    }
    return true;
  }

  // Writes the batches as the run says -- each part before a reopen point in a child process
  // that exits without closing the store (as kill -9: no settle on the way out) -- settles,
  // and answers what the folds wrote.
  std::string answers(const std::string& name, const Run& run) {
    size_t first = 0;
    for (size_t last : run.reopen_after) {
      pid_t pid = ::fork();
      if (pid == 0) {
        auto store = open(name, run);
        ::_exit(store && write_range(*store, first, last, true, run) ? 0 : 1);
      }
      int status = 0;
      if (pid < 0 || ::waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
          WEXITSTATUS(status) != 0) {
        return "the writer process before batch " + std::to_string(last + 1) + " failed";
      }
      first = last + 1;
    }
    auto store = open(name, run);
    if (!store) return "cannot open";
    if (!write_range(*store, first, batches().size() - 1, false, run)) return "write failed";
    if (auto st = store->settle(); !st) return "settle failed: " + st.error().message;
    std::string text;
    auto unsettled = store->unsettled_events();
    text += "unsettled " + (unsettled ? std::to_string(*unsettled) : "?") + "\n";
    for (std::vector<std::string> g : std::vector<std::vector<std::string>>{
             {"type", "severity"}, {"geo", "region"}, {"asn"}, {"tag"}, {"day", "geo"}}) {
      StatsQuery q;
      q.first_day = q.last_day = kDay;
      q.group_by = g;
      auto rows = store->stats(q);
      if (!rows) return "stats failed: " + rows.error().message;
      for (const auto& r : *rows) {
        text += "stats";
        for (const auto& k : r.keys) text += " " + k;
        text += " " + std::to_string(r.events) + "\n";
      }
    }
    std::vector<uint32_t> orgs = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};
    if (far_org_) orgs.push_back(far_org_);
    for (uint32_t org : orgs) {
      StatsQuery q;
      q.first_day = q.last_day = kDay;
      q.group_by = {"type", "severity"};
      q.org_id = org;
      auto rows = store->stats(q);
      if (!rows) return "org stats failed: " + rows.error().message;
      for (const auto& r : *rows) {
        text += "org " + std::to_string(org);
        for (const auto& k : r.keys) text += " " + k;
        text += " " + std::to_string(r.events) + "\n";
      }
      auto keys = store->report_keys(kDay, org);
      if (!keys) return "report_keys failed: " + keys.error().message;
      for (const auto& k : *keys) {
        text += "report " + std::to_string(org) + " " + k.type + " " +
                std::to_string(static_cast<int>(k.filter)) + " " + std::to_string(k.rows) + "\n";
        auto st = store->scan_report(k, [&](const StoredEvent& e) {
          text += "  " + std::to_string(e.event_key) + " " + std::to_string(e.count) + " " +
                  std::to_string(e.first_seen) + " " + e.geo + " " + e.row + "\n";
          return true;
        });
        if (!st) return "scan_report failed: " + st.error().message;
      }
    }
    return text;
  }

  std::filesystem::path dir_;
  uint32_t far_org_ = 0;
};

TEST_F(SegmentFoldTailTest, FoldingFromMemoryEqualsFoldingFromDisk) {
  std::string truth = answers("sqlite", {.engine = "sqlite"});
  ASSERT_NE(truth.find("org 9 scan_ssl 2 "), std::string::npos) << truth;   // added routes
  ASSERT_NE(truth.find("stats scan_http 1 "), std::string::npos) << truth;  // taken over
  EXPECT_EQ(answers("memory", {}), truth);
  EXPECT_EQ(answers("partial", {.fold_max_entries = 7}), truth);
  EXPECT_EQ(answers("disk", {.reopen_after = {2}}), truth);
  EXPECT_EQ(answers("restart_between", {.reopen_after = {0}}), truth);
}

// Folds between the batches: the later repeats hit folded events (late routes) and tail
// events alike; a writer reopened right after a fold starts with an empty, valid tail.
TEST_F(SegmentFoldTailTest, FoldsBetweenBatchesAndRestartsBeforeThem) {
  std::string truth = answers("sqlite", {.engine = "sqlite", .settle_after = {0, 1}});
  ASSERT_NE(truth.find("org 9 "), std::string::npos) << truth;
  EXPECT_EQ(answers("memory", {.settle_after = {0, 1}}), truth);
  EXPECT_EQ(answers("partial", {.settle_after = {0, 1}, .fold_max_entries = 5}), truth);
  // Killed before a fold: the next process folds from disk, then writes on from memory.
  EXPECT_EQ(answers("killed_0", {.settle_after = {0, 1}, .reopen_after = {0}}), truth);
  EXPECT_EQ(answers("killed_1", {.settle_after = {0, 1}, .reopen_after = {1}}), truth);
  EXPECT_EQ(answers("killed_both", {.settle_after = {0, 1}, .reopen_after = {0, 1}}), truth);
}

// The writer's dedup table against std::map under random puts, overwrites, erases (the
// undo of a failed batch) and retention, through several index growths. Keys collide on
// purpose (few days, keys from a small range) so probe runs and backward shifts happen.
TEST(DedupTableTest, AgreesWithAMapUnderRandomOperations) {
  DedupTable table;
  std::map<std::pair<DayNumber, uint64_t>, int64_t> truth;
  std::mt19937_64 rng(7);
  auto check = [&] {
    ASSERT_EQ(table.size(), truth.size());
    for (const auto& [k, id] : truth) {
      const DedupEntry* e = table.find({k.first, k.second});
      ASSERT_NE(e, nullptr);
      EXPECT_EQ(e->id, id);
      EXPECT_EQ(e->day, k.first);
    }
  };
  for (int round = 0; round < 6; ++round) {
    for (int i = 0; i < 40000; ++i) {
      DayNumber day = 100 + static_cast<DayNumber>(rng() % 4);
      uint64_t key = rng() % 50000;
      int op = static_cast<int>(rng() % 10);
      if (op < 7) {
        auto id = static_cast<int64_t>(rng() >> 1);
        table.put({day, key}, {id, 1, 2, 3, 4, 1});
        truth[{day, key}] = id;
      } else {
        EXPECT_EQ(table.erase({day, key}), truth.erase({day, key}) == 1);
      }
      if (table.find({day, key ^ 0x5555}) != nullptr) {
        EXPECT_TRUE(truth.count({day, key ^ 0x5555}));
      }
    }
    check();
    if (round == 3) {
      table.erase_days_before(102);
      std::erase_if(truth, [](const auto& kv) { return kv.first.first < 102; });
      check();
    }
  }
  table.clear();
  EXPECT_EQ(table.size(), 0u);
  EXPECT_EQ(table.find({100, 1}), nullptr);
}

// An organisation id the tail cannot pack (2^30 and above) invalidates it mid-batch: that
// fold reads the disk, the next folds use memory again.
TEST_F(SegmentFoldTailTest, AnUnpackableEventFallsBackToTheDisk) {
  far_org_ = (uint32_t{1} << 30) + 3;
  std::string truth = answers("sqlite", {.engine = "sqlite", .settle_after = {0, 1}});
  ASSERT_NE(truth.find("org " + std::to_string(far_org_) + " "), std::string::npos) << truth;
  EXPECT_EQ(answers("memory", {.settle_after = {0, 1}}), truth);
  EXPECT_EQ(answers("once", {}), answers("sqlite_once", {.engine = "sqlite"}));
}

}  // namespace
}  // namespace vantage::store

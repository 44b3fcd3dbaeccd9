#include "pipeline/ingest.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <tuple>

#include "core/csv_reader.h"

namespace vantage::pipeline {
namespace {

namespace fs = std::filesystem;

class IngestTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("vantage-ingest-" + std::to_string(std::random_device{}()));
    fs::create_directories(dir_);
    auto s = store::open_sqlite_store((dir_ / "events.sqlite").string());
    ASSERT_TRUE(s.ok()) << s.error().message;
    store_ = std::move(*s);
  }
  void TearDown() override {
    store_.reset();
    fs::remove_all(dir_);
  }
  std::string write_file(const std::string& name, const std::string& content) {
    auto p = dir_ / name;
    std::ofstream(p, std::ios::binary) << content;
    return p.string();
  }

  fs::path dir_;
  std::unique_ptr<store::EventStore> store_;
};

const core::Catalogue& cat() {
  return core::Catalogue::builtin();
}

TEST_F(IngestTest, QuarantinesBadLinesAndKeepsTheirNeighbours) {
  std::string path = write_file(
      "feed.jsonl",
      R"({"type":"scan_http","timestamp":"2024-01-04 10:00:00","ip":"192.0.2.1","port":80})"
      "\n"
      R"({"type":"scan_http","timestamp":"2024-01-04 10:00:00","ip":"999.0.2.1"})"
      "\n\n"
      "\x01\x02garbage\xff\n"
      R"({"type":"scan_http","ip":"192.0.2.3"})"
      "\n"
      R"({"type":"scan_http","timestamp":"2024-01-04 11:00:00","ip":"192.0.2.1","port":80})"
      "\n");
  Ingestor ingestor(cat(), {}, *store_);
  auto r = ingestor.ingest_file(path, {});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_TRUE(r->complete);
  EXPECT_EQ(r->accepted, 2);
  EXPECT_EQ(r->rejected, 3);
  EXPECT_EQ(r->inserted, 1);  // the two good lines are the same event an hour apart
  EXPECT_EQ(r->deduplicated, 1);
  auto q = store_->quarantine(10);
  ASSERT_TRUE(q.ok());
  ASSERT_EQ(q->size(), 3u);
  std::set<std::pair<int64_t, std::string>> got;
  for (const auto& rec : *q) got.insert({rec.line, rec.field});
  EXPECT_TRUE(got.count({2, "ip"}));
  EXPECT_TRUE(got.count({4, ""}));
  EXPECT_TRUE(got.count({5, "timestamp"}));

  // The same content again is recognised and not counted twice.
  auto again = ingestor.ingest_file(path, {});
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->already_done);
  auto cps = store_->checkpoints();
  ASSERT_EQ(cps->size(), 1u);
  EXPECT_EQ((*cps)[0].accepted, 2);
  EXPECT_EQ((*cps)[0].rejected, 3);
  EXPECT_EQ((*cps)[0].deduplicated, 1);
}

TEST_F(IngestTest, ResumesFromTheCommittedCheckpoint) {
  std::string body = "\"timestamp\",\"ip\",\"port\"\n";
  for (int i = 0; i < 1000; ++i) {
    body += "\"2024-01-04 10:00:00\",\"192.0.2." + std::to_string(i % 250) + "\"," +
            std::to_string(1000 + i) + "\n";
  }
  std::string path = write_file("2024-01-04-scan_http-test-asn.csv", body);
  std::atomic<bool> stop{true};  // stops after the first batch
  IngestOptions opts;
  opts.batch_size = 100;
  opts.queue_depth = 1;
  opts.stop = &stop;
  Ingestor ingestor(cat(), {}, *store_);
  auto first = ingestor.ingest_file(path, opts);
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_FALSE(first->complete);
  EXPECT_LT(first->accepted, 1000);
  opts.stop = nullptr;
  auto second = ingestor.ingest_file(path, opts);
  ASSERT_TRUE(second.ok());
  EXPECT_TRUE(second->complete);
  EXPECT_EQ(second->resumed_from, first->records);
  EXPECT_EQ(first->accepted + second->accepted, 1000);
  auto cp = store_->checkpoint(store_->checkpoints()->at(0).source_key);
  EXPECT_EQ((**cp).accepted, 1000);
  EXPECT_EQ((**cp).deduplicated, 0);
}

TEST_F(IngestTest, ReusedBatchesCarryNothingOver) {
  // Written batches come back to the processing stage and their records are written over; a
  // batch whose last records are rejected must not send a previous batch's record again.
  std::string body;
  for (int i = 0; i < 40; ++i) {
    if (i % 4 == 3) {
      body += R"({"type":"scan_http","ip":"192.0.2.)" + std::to_string(i) +
              R"("})"
              "\n";
      continue;  // no timestamp: rejected by the processing stage, after decoding
    }
    body += R"({"type":"scan_http","timestamp":"2024-01-04 10:00:00","ip":"192.0.2.)" +
            std::to_string(i) + R"(","port":)" + std::to_string(1000 + i) + "}\n";
  }
  std::string path = write_file("reuse.jsonl", body);
  IngestOptions opts;
  opts.batch_size = 4;
  opts.queue_depth = 1;
  Ingestor ingestor(cat(), {}, *store_);
  auto r = ingestor.ingest_file(path, opts);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->accepted, 30);
  EXPECT_EQ(r->rejected, 10);
  EXPECT_EQ(r->inserted, 30);
  EXPECT_EQ(r->deduplicated, 0);
  auto q = store_->quarantine(100);
  ASSERT_TRUE(q.ok());
  std::set<int64_t> lines;
  for (const auto& rec : *q) lines.insert(rec.line);
  std::set<int64_t> expected;
  for (int i = 3; i < 40; i += 4) expected.insert(i + 1);
  EXPECT_EQ(lines, expected);
}

TEST_F(IngestTest, UnknownTypeIsAClearErrorAndForcedTypeFixesIt) {
  std::string path = write_file("partner-feed.csv",
                                "\"timestamp\",\"ip\"\n\"2024-01-04 10:00:00\",\"192.0.2.1\"\n");
  Ingestor ingestor(cat(), {}, *store_);
  auto r = ingestor.ingest_file(path, {});
  ASSERT_FALSE(r.ok());
  IngestOptions opts;
  opts.type = cat().find("blocklist");
  auto fixed = ingestor.ingest_file(path, opts);
  ASSERT_TRUE(fixed.ok()) << fixed.error().message;
  EXPECT_EQ(fixed->accepted, 1);
}

// Every golden file (one per report type, Shadowserver's real format) is ingested with a
// registry of overlapping claims; the spool must equal a brute-force evaluation of the claims.
TEST_F(IngestTest, GoldenFilesRouteEveryRowToTheRightOrganisations) {
  std::vector<match::OrgSpec> specs(6);
  for (uint32_t i = 0; i < specs.size(); ++i) {
    specs[i].org_id = 100 + i;
    specs[i].short_name = "org" + std::to_string(i);
  }
  specs[0].cidrs = {IpPrefix::parse("198.51.100.0/24")->prefix};
  specs[1].cidrs = {IpPrefix::parse("198.51.100.0/25")->prefix};
  specs[1].ignores = {IpPrefix::parse("198.51.100.0/28")->prefix};
  specs[2].cidrs = {IpPrefix::parse("2001:db8::/32")->prefix};
  specs[3].asns = {64500, 64501};
  specs[4].countries = {"DE"};
  specs[5].domains = {"example.org"};
  match::IndexHolder holder;
  holder.publish(match::SubscriptionIndex::build(specs));

  ProcessorInputs inputs;
  inputs.index = &holder;
  Ingestor ingestor(cat(), inputs, *store_);
  Processor plain({});  // computes the same event keys without routing
  std::map<uint32_t, std::set<uint64_t>> expected;
  std::string root = std::string(VANTAGE_SOURCE_DIR) + "/tests/golden/csv";
  int files = 0;
  for (const auto& entry : fs::directory_iterator(root)) {
    std::string path = entry.path().string();
    const core::ReportType* type = cat().find(entry.path().stem().string());
    ASSERT_NE(type, nullptr) << path;
    IngestOptions opts;
    opts.type = type;
    auto r = ingestor.ingest_file(path, opts);
    ASSERT_TRUE(r.ok()) << path << ": " << r.error().message;
    ++files;
    auto reader = core::CsvReader::open_file(path, cat(), {}, type);
    ASSERT_TRUE(reader.ok());
    core::Event e;
    while (reader->next(e) == core::CsvReader::Next::kRow) {
      store::EventRecord rec;
      std::string f, why;
      plain.begin_batch();
      if (plain.process(e, rec, f, why) != Outcome::kAccepted) continue;
      auto ip = e.ip();
      std::string_view host = routing_domain(e);
      for (const auto& s : specs) {
        bool hit = false;
        for (const auto& p : s.cidrs) hit |= ip && p.contains(*ip);
        for (auto a : s.asns) hit |= e.asn() == a;
        for (const auto& c : s.countries) hit |= e.geo() == c;
        for (const auto& d : s.domains) {
          hit |= host == d || (host.size() > d.size() && host.ends_with("." + d));
        }
        for (const auto& p : s.ignores) hit &= !(ip && p.contains(*ip));
        if (hit) expected[s.org_id].insert(rec.event_key);
      }
    }
  }
  EXPECT_EQ(files, 170);
  for (const auto& s : specs) {
    store::EventQuery q;
    q.first_day = 0;
    q.last_day = 100000;
    q.org_id = s.org_id;
    q.limit = 100000;
    auto rows = store_->query(q);
    ASSERT_TRUE(rows.ok()) << rows.error().message;
    std::set<uint64_t> got;
    for (const auto& r : *rows) got.insert(r.event_key);
    EXPECT_EQ(got, expected[s.org_id]) << s.short_name;
    EXPECT_FALSE(got.empty()) << s.short_name;
  }
}

// Everything the pipeline hands to a store, in order, passed on to a real store; optionally
// failing the n-th write (the store's error path).
class RecordingStore final : public store::EventStore {
 public:
  explicit RecordingStore(store::EventStore& inner, int fail_write = 0)
      : inner_(inner), fail_write_(fail_write) {}

  std::vector<store::EventRecord> events;
  std::vector<store::QuarantineRecord> quarantined;
  std::vector<store::SourceCheckpoint> checkpoints_seen;
  int writes = 0;
  std::function<void(int)> on_write;  // called with the write's number, before it

  Result<store::BatchOutcome> write(const store::IngestBatch& batch) override {
    ++writes;
    if (on_write) on_write(writes);
    if (writes == fail_write_) return Error::io("injected store write failure");
    events.insert(events.end(), batch.events.begin(), batch.events.end());
    quarantined.insert(quarantined.end(), batch.quarantined.begin(), batch.quarantined.end());
    if (batch.checkpoint) checkpoints_seen.push_back(*batch.checkpoint);
    return inner_.write(batch);
  }
  Result<std::optional<store::SourceCheckpoint>> checkpoint(std::string_view key) override {
    return inner_.checkpoint(key);
  }
  Result<std::vector<store::SourceCheckpoint>> checkpoints() override {
    return inner_.checkpoints();
  }
  Result<std::vector<store::ReportKey>> report_keys(DayNumber day,
                                                    std::optional<uint32_t> org) override {
    return inner_.report_keys(day, org);
  }
  Status scan_report(const store::ReportKey& key,
                     const std::function<bool(const store::StoredEvent&)>& row) override {
    return inner_.scan_report(key, row);
  }
  Status scan_reports(
      std::span<const store::ReportKey> keys,
      const std::function<bool(const store::ReportKey&, const store::StoredEvent&)>& row) override {
    return inner_.scan_reports(keys, row);
  }
  Result<std::vector<store::StatsRow>> stats(const store::StatsQuery& q) override {
    return inner_.stats(q);
  }
  Result<std::vector<store::StoredEvent>> query(const store::EventQuery& q) override {
    return inner_.query(q);
  }
  Result<std::vector<store::QuarantineRecord>> quarantine(int64_t limit) override {
    return inner_.quarantine(limit);
  }
  Result<int64_t> quarantine_count() override { return inner_.quarantine_count(); }
  Result<int64_t> drop_events_before(DayNumber day) override {
    return inner_.drop_events_before(day);
  }
  Status settle() override { return inner_.settle(); }
  Result<store::TailPage> read_after(
      const store::TailQuery& q,
      const std::function<bool(const store::StoredEvent&, const std::vector<store::OrgRoute>&)>&
          event) override {
    return inner_.read_after(q, event);
  }
  Result<int64_t> last_event_id() override { return inner_.last_event_id(); }
  Result<int64_t> unsettled_events() override { return inner_.unsettled_events(); }

 private:
  store::EventStore& inner_;
  int fail_write_;
};

bool same_record(const store::EventRecord& a, const store::EventRecord& b) {
  return a.day == b.day && a.type == b.type && a.event_key == b.event_key &&
         a.occurrence_id == b.occurrence_id && a.line == b.line && a.timestamp == b.timestamp &&
         a.ip == b.ip && a.asn == b.asn && a.geo == b.geo && a.region == b.region &&
         a.severity == b.severity && a.tag == b.tag && a.row == b.row && a.routes == b.routes;
}

bool same_quarantine(const store::QuarantineRecord& a, const store::QuarantineRecord& b) {
  return a.source == b.source && a.line == b.line && a.field == b.field && a.reason == b.reason &&
         a.raw == b.raw;
}

// A feed with every outcome: accepted events routed to organisations, repeats (deduplicated),
// records the decoder rejects, records the processing stage rejects (no timestamp) and
// research-scanner events in an attacker report (allow-listed).
std::string mixed_feed(int lines) {
  std::string body;
  for (int i = 0; i < lines; ++i) {
    std::string ip = "198.51.100." + std::to_string(i % 200);
    std::string hour = std::to_string(10 + i % 10);
    switch (i % 11) {
      case 3: body += "\x01\x02not json\xff\n"; break;
      case 5: body += R"({"type":"scan_http","ip":")" + ip + "\"}\n"; break;
      case 7:
        body += R"({"type":"event4_honeypot_darknet","timestamp":"2024-01-04 )" + hour +
                R"(:00:00","src_ip":"192.0.2.)" + std::to_string(i % 50) + R"(","dst_port":23})" +
                "\n";
        break;
      case 8:
        body += R"({"type":"event4_honeypot_darknet","timestamp":"2024-01-04 )" + hour +
                R"(:00:00","src_ip":")" + ip + R"(","dst_port":23})" + "\n";
        break;
      default:
        body += R"({"type":"scan_http","timestamp":"2024-01-04 )" + hour + R"(:00:00","ip":")" +
                ip + R"(","port":)" + std::to_string(8000 + i % 300) + "}\n";
    }
  }
  return body;
}

struct ThreadedRun {
  std::unique_ptr<store::EventStore> store;
  std::unique_ptr<RecordingStore> recorder;
  Result<IngestSummary> summary = Error::invalid("not run");
};

class ThreadedIngestTest : public IngestTest {
 protected:
  ThreadedRun ingest(const std::string& path, size_t threads, int fail_write = 0) {
    ThreadedRun run;
    auto s = store::open_sqlite_store(
        (dir_ / ("threads" + std::to_string(threads) + "-" + std::to_string(++runs_) + ".sqlite"))
            .string());
    EXPECT_TRUE(s.ok());
    run.store = std::move(*s);
    run.recorder = std::make_unique<RecordingStore>(*run.store, fail_write);
    std::vector<match::OrgSpec> specs(3);
    for (uint32_t i = 0; i < specs.size(); ++i) specs[i].org_id = 100 + i;
    specs[0].cidrs = {IpPrefix::parse("198.51.100.0/24")->prefix};
    specs[1].cidrs = {IpPrefix::parse("198.51.100.0/26")->prefix};
    specs[2].cidrs = {IpPrefix::parse("192.0.2.0/24")->prefix};
    holder_.publish(match::SubscriptionIndex::build(specs));
    rules_ = *OperatorRules::parse(
        R"({"research_scanners":[{"cidr":"192.0.2.0/27","name":"test project"}]})");
    ProcessorInputs inputs;
    inputs.index = &holder_;
    inputs.rules = &rules_;
    IngestOptions opts;
    opts.batch_size = 7;  // many batches, so that threads overtake each other
    opts.queue_depth = 2;
    opts.processing_threads = threads;
    Ingestor ingestor(cat(), inputs, *run.recorder);
    run.summary = ingestor.ingest_file(path, opts);
    return run;
  }

  match::IndexHolder holder_;
  OperatorRules rules_;
  int runs_ = 0;
};

TEST_F(ThreadedIngestTest, FourProcessingThreadsHandTheStoreWhatOneDoes) {
  std::string path = write_file("mixed.jsonl", mixed_feed(3000));
  ThreadedRun one = ingest(path, 1);
  ASSERT_TRUE(one.summary.ok()) << one.summary.error().message;
  EXPECT_TRUE(one.summary->complete);
  // The feed has every outcome, or the comparison below would prove little.
  EXPECT_GT(one.summary->accepted, 0);
  EXPECT_GT(one.summary->deduplicated, 0);
  EXPECT_GT(one.summary->allowlisted, 0);
  EXPECT_GT(one.summary->routed, 0);
  EXPECT_GT(one.summary->rejected, 0);
  for (int round = 0; round < 3; ++round) {
    ThreadedRun four = ingest(path, 4);
    ASSERT_TRUE(four.summary.ok()) << four.summary.error().message;
    EXPECT_TRUE(four.summary->complete);
    EXPECT_EQ(four.summary->records, one.summary->records);
    EXPECT_EQ(four.summary->accepted, one.summary->accepted);
    EXPECT_EQ(four.summary->rejected, one.summary->rejected);
    EXPECT_EQ(four.summary->allowlisted, one.summary->allowlisted);
    EXPECT_EQ(four.summary->inserted, one.summary->inserted);
    EXPECT_EQ(four.summary->deduplicated, one.summary->deduplicated);
    EXPECT_EQ(four.summary->routed, one.summary->routed);
    // The same records, in the same order, as the store received them.
    ASSERT_EQ(four.recorder->events.size(), one.recorder->events.size());
    for (size_t i = 0; i < one.recorder->events.size(); ++i) {
      ASSERT_TRUE(same_record(four.recorder->events[i], one.recorder->events[i])) << i;
    }
    ASSERT_EQ(four.recorder->quarantined.size(), one.recorder->quarantined.size());
    for (size_t i = 0; i < one.recorder->quarantined.size(); ++i) {
      ASSERT_TRUE(same_quarantine(four.recorder->quarantined[i], one.recorder->quarantined[i]))
          << i;
    }
    // Checkpoints only move forward, and their counters are those of the records before them.
    const auto& cps = four.recorder->checkpoints_seen;
    ASSERT_FALSE(cps.empty());
    for (size_t i = 1; i < cps.size(); ++i) {
      EXPECT_GT(cps[i].line, cps[i - 1].line);
      EXPECT_GE(cps[i].accepted, cps[i - 1].accepted);
      EXPECT_GE(cps[i].rejected, cps[i - 1].rejected);
      EXPECT_GE(cps[i].allowlisted, cps[i - 1].allowlisted);
    }
    int64_t accepted_before = 0;
    size_t next_event = 0;
    for (const auto& cp : cps) {  // every event up to this checkpoint's line was sent with it
      while (next_event < four.recorder->events.size() &&
             four.recorder->events[next_event].line <= cp.line) {
        ++next_event;
        ++accepted_before;
      }
      EXPECT_EQ(cp.accepted, accepted_before) << "checkpoint at line " << cp.line;
    }
    // And the stores agree: checkpoint row, events, quarantine.
    auto a = one.store->checkpoints();
    auto b = four.store->checkpoints();
    ASSERT_TRUE(a.ok() && b.ok());
    ASSERT_EQ(a->size(), 1u);
    ASSERT_EQ(b->size(), 1u);
    const auto &ca = (*a)[0], &cb = (*b)[0];
    EXPECT_EQ(std::tie(ca.line, ca.offset, ca.done, ca.accepted, ca.rejected, ca.allowlisted,
                       ca.deduplicated, ca.routed),
              std::tie(cb.line, cb.offset, cb.done, cb.accepted, cb.rejected, cb.allowlisted,
                       cb.deduplicated, cb.routed));
    store::EventQuery q;
    q.first_day = 0;
    q.last_day = 100000;
    q.limit = 100000;
    for (uint32_t org : {0u, 100u, 101u, 102u}) {
      if (org) q.org_id = org;
      auto ea = one.store->query(q);
      auto eb = four.store->query(q);
      ASSERT_TRUE(ea.ok() && eb.ok());
      ASSERT_EQ(ea->size(), eb->size()) << org;
      for (size_t i = 0; i < ea->size(); ++i) {
        const auto &x = (*ea)[i], &y = (*eb)[i];
        EXPECT_EQ(std::tie(x.id, x.day, x.event_key, x.first_seen, x.last_seen, x.count, x.row),
                  std::tie(y.id, y.day, y.event_key, y.first_seen, y.last_seen, y.count, y.row));
      }
    }
    auto qa = one.store->quarantine(100000);
    auto qb = four.store->quarantine(100000);
    ASSERT_TRUE(qa.ok() && qb.ok());
    ASSERT_EQ(qa->size(), qb->size());
    for (size_t i = 0; i < qa->size(); ++i) EXPECT_TRUE(same_quarantine((*qa)[i], (*qb)[i]));
  }
}

TEST_F(ThreadedIngestTest, AStoreWriteFailureEndsTheIngestCleanly) {
  std::string path = write_file("fails.jsonl", mixed_feed(3000));
  for (int fail_at : {1, 2, 5}) {
    ThreadedRun run = ingest(path, 4, fail_at);
    ASSERT_FALSE(run.summary.ok()) << "write " << fail_at;
    EXPECT_NE(run.summary.error().message.find("injected store write failure"), std::string::npos);
    // Nothing after the failed write reached the store, and its checkpoint is where the last
    // good write left it: a rerun resumes from there.
    EXPECT_EQ(run.recorder->writes, fail_at);
    auto cps = run.store->checkpoints();
    ASSERT_TRUE(cps.ok());
    if (fail_at == 1) {
      EXPECT_TRUE(cps->empty());
    } else {
      ASSERT_EQ(cps->size(), 1u);
      EXPECT_EQ((*cps)[0].line, run.recorder->checkpoints_seen.back().line);
    }
  }
}

TEST_F(ThreadedIngestTest, AReadErrorEndsTheIngestCleanly) {
  // A directory opens as a FILE* but every read fails (EISDIR): the reader's io failure.
  std::FILE* dir = std::fopen(dir_.c_str(), "rb");
  ASSERT_NE(dir, nullptr);
  auto s = store::open_sqlite_store((dir_ / "read-error.sqlite").string());
  ASSERT_TRUE(s.ok());
  IngestOptions opts;
  opts.batch_size = 7;
  opts.queue_depth = 1;
  opts.processing_threads = 4;
  Ingestor ingestor(cat(), {}, **s);
  auto r = ingestor.ingest_stream(dir, "dir.jsonl", opts);
  std::fclose(dir);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("read error"), std::string::npos) << r.error().message;
}

TEST_F(ThreadedIngestTest, AStopWithFourThreadsResumesToTheSameStore) {
  std::string path = write_file("stop.jsonl", mixed_feed(2000));
  ThreadedRun one = ingest(path, 1);
  ASSERT_TRUE(one.summary.ok());
  auto s = store::open_sqlite_store((dir_ / "stopped.sqlite").string());
  ASSERT_TRUE(s.ok());
  ProcessorInputs inputs;
  inputs.index = &holder_;
  inputs.rules = &rules_;
  Ingestor ingestor(cat(), inputs, **s);
  IngestOptions opts;
  opts.batch_size = 7;
  opts.queue_depth = 2;
  opts.processing_threads = 4;
  std::atomic<bool> stop{true};
  opts.stop = &stop;
  auto first = ingestor.ingest_file(path, opts);
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_FALSE(first->complete);
  opts.stop = nullptr;
  auto second = ingestor.ingest_file(path, opts);
  ASSERT_TRUE(second.ok()) << second.error().message;
  EXPECT_TRUE(second->complete);
  EXPECT_EQ(second->resumed_from, first->records);
  auto a = one.store->checkpoints();
  auto b = (*s)->checkpoints();
  ASSERT_TRUE(a.ok() && b.ok() && a->size() == 1 && b->size() == 1);
  EXPECT_EQ((*a)[0].accepted, (*b)[0].accepted);
  EXPECT_EQ((*a)[0].rejected, (*b)[0].rejected);
  EXPECT_EQ((*a)[0].allowlisted, (*b)[0].allowlisted);
  EXPECT_EQ((*a)[0].deduplicated, (*b)[0].deduplicated);
  EXPECT_EQ((*a)[0].routed, (*b)[0].routed);
}

TEST_F(IngestTest, ARegistryChangeMidIngestNeverGoesBackInTime) {
  // The subscription index changes while four threads process: every batch is routed with the
  // index current when it was taken, and batches are taken in input order, so in the records
  // the store receives the old routes stop at one point and the new ones start there.
  std::string body;
  for (int i = 0; i < 4000; ++i) {
    body += R"({"type":"scan_http","timestamp":"2024-01-04 10:00:00","ip":"198.51.100.)" +
            std::to_string(i % 250) + R"(","port":)" + std::to_string(1000 + i) + "}\n";
  }
  std::string path = write_file("registry-change.jsonl", body);
  auto index_for = [](uint32_t org) {
    std::vector<match::OrgSpec> specs(1);
    specs[0].org_id = org;
    specs[0].cidrs = {IpPrefix::parse("198.51.100.0/24")->prefix};
    return match::SubscriptionIndex::build(specs);
  };
  match::IndexHolder holder;
  holder.publish(index_for(1));
  RecordingStore recorder(*store_);
  recorder.on_write = [&](int n) {
    if (n == 5) holder.publish(index_for(2));
  };
  ProcessorInputs inputs;
  inputs.index = &holder;
  IngestOptions opts;
  opts.batch_size = 5;
  opts.queue_depth = 2;
  opts.processing_threads = 4;
  Ingestor ingestor(cat(), inputs, recorder);
  auto r = ingestor.ingest_file(path, opts);
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(recorder.events.size(), 4000u);
  size_t switched = recorder.events.size();
  for (size_t i = 0; i < recorder.events.size(); ++i) {
    const auto& routes = recorder.events[i].routes;
    ASSERT_EQ(routes.size(), 1u) << i;
    if (routes[0].org_id == 2 && switched == recorder.events.size()) switched = i;
    if (switched < i) {
      EXPECT_EQ(routes[0].org_id, 2u) << "record " << i << " went back in time";
    }
  }
  EXPECT_GT(switched, 0u);
  EXPECT_LT(switched, recorder.events.size());
  EXPECT_EQ(switched % 5, 0u);  // at a batch boundary
}

TEST(ProcessingThreads, DerivedFromTheCoresWhenNotConfigured) {
  EXPECT_EQ(processing_threads_for(3), 3u);
  size_t derived = processing_threads_for(0);
  EXPECT_GE(derived, 1u);
  EXPECT_LE(derived, kMaxDerivedProcessingThreads);
}

}  // namespace
}  // namespace vantage::pipeline

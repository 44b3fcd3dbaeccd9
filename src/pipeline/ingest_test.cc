#include "pipeline/ingest.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>

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

}  // namespace
}  // namespace vantage::pipeline

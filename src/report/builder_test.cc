#include "report/builder.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <set>

#include "core/csv_reader.h"
#include "report/test_ingest.h"

namespace vantage::report {
namespace {

namespace fs = std::filesystem;

class BuilderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("vantage-report-" + std::to_string(std::random_device{}()));
    fs::create_directories(dir_);
    store_ = std::move(*store::open_sqlite_store((dir_ / "events.sqlite").string()));
    manifest_ = std::move(*Manifest::open((dir_ / "reports.sqlite").string()));
    std::vector<match::OrgSpec> specs(2);
    specs[0].org_id = 1;
    specs[0].short_name = "Example_CERT";
    specs[0].cidrs = {IpPrefix::parse("192.0.2.0/24")->prefix};
    specs[1].org_id = 2;
    specs[1].short_name = "asn_org";
    specs[1].asns = {64500};
    holder_.publish(match::SubscriptionIndex::build(specs));
  }
  void TearDown() override { fs::remove_all(dir_); }

  void ingest(const std::string& name, const std::string& body) {
    write_and_ingest(dir_ / name, body, holder_, *store_);
  }
  Result<BuildSummary> build(DayNumber day, bool delta = false) {
    BuildOptions o;
    o.report_dir = (dir_ / "reports").string();
    o.delta = delta;
    auto names = [](uint32_t id) -> std::optional<std::string> {
      if (id == 1) return "Example_CERT";
      if (id == 2) return "asn_org";
      return std::nullopt;
    };
    return build_reports(*store_, core::Catalogue::builtin(), *manifest_, names, day, o);
  }

  fs::path dir_;
  std::unique_ptr<store::EventStore> store_;
  std::unique_ptr<Manifest> manifest_;
  match::IndexHolder holder_;
};

TEST_F(BuilderTest, WritesOneShadowserverCsvPerOrgTypeAndFilter) {
  ingest("2024-03-01-scan_ssh-feed-x.csv",
         "\"timestamp\",\"ip\",\"port\",\"asn\",\"geo\",\"tag\"\n"
         "\"2024-03-01 10:00:00\",\"192.0.2.1\",22,64500,\"NL\",\"ssh,weak\"\n"
         "\"2024-03-01 11:00:00\",\"192.0.2.2\",22,64501,\"NL\",\n"
         "\"2024-03-01 12:00:00\",\"198.51.100.1\",22,64500,,\n"
         "\"2024-03-01 13:00:00\",\"192.0.2.1\",22,64500,\"NL\",\"ssh,weak\"\n");
  DayNumber day = *parse_date("2024-03-01");
  auto s = build(day);
  ASSERT_TRUE(s.ok()) << s.error().message;
  ASSERT_EQ(s->reports.size(), 2u);  // org1 by cidr, org2 by asn
  std::set<std::string> files;
  for (const auto& r : s->reports) files.insert(r.entry.file_name);
  EXPECT_TRUE(files.count("2024-03-01-scan_ssh-Example_CERT-cidr.csv"));
  EXPECT_TRUE(files.count("2024-03-01-scan_ssh-asn_org-asn.csv"));
  for (const auto& r : s->reports) {
    EXPECT_EQ(r.entry.id.size(), 50u);
    EXPECT_EQ(r.entry.id.find_first_not_of(
                  "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
              std::string::npos);
    std::string body = *read_file_range(r.entry.bytes());
    EXPECT_EQ(static_cast<int64_t>(body.size()), r.entry.size);
    EXPECT_EQ(body.rfind("\"timestamp\",\"severity\",\"ip\"", 0), 0u) << body;
    EXPECT_EQ(body.back(), '\n');
    auto reader = core::CsvReader::from_buffer(body, *core::Catalogue::builtin().find("scan_ssh"));
    core::Event e;
    int rows = 0;
    while (reader.next(e) == core::CsvReader::Next::kRow) {
      ++rows;
      // The type's default severity is filled in where the input had none.
      EXPECT_EQ(e.severity(), core::Catalogue::builtin().find("scan_ssh")->default_severity);
    }
    EXPECT_EQ(reader.stats().skipped, 0);
    EXPECT_EQ(rows, r.entry.rows);
  }
  // The duplicate row (192.0.2.1 twice) is one row with its first timestamp.
  auto cert = std::find_if(s->reports.begin(), s->reports.end(), [](const BuiltReport& r) {
    return r.entry.file_name == "2024-03-01-scan_ssh-Example_CERT-cidr.csv";
  });
  EXPECT_EQ(cert->entry.rows, 2);
  std::string sev =
      core::severity_name(core::Catalogue::builtin().find("scan_ssh")->default_severity);
  EXPECT_NE(read_file_range(cert->entry.bytes())
                ->find("\"2024-03-01 10:00:00\",\"" + sev + "\",\"192.0.2.1\""),
            std::string::npos);

  // A rebuild keeps the ids (links already mailed keep working).
  auto again = build(day);
  ASSERT_TRUE(again.ok());
  std::set<std::string> ids1, ids2;
  for (const auto& r : s->reports) ids1.insert(r.entry.id);
  for (const auto& r : again->reports) ids2.insert(r.entry.id);
  EXPECT_EQ(ids1, ids2);
  auto listed = manifest_->list({1, day, day, {}, -1});
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(listed->size(), 1u);
  auto found = manifest_->find(listed->at(0).id);
  ASSERT_TRUE(found.ok() && found->has_value());
  EXPECT_EQ((*found)->file_name, "2024-03-01-scan_ssh-Example_CERT-cidr.csv");
  EXPECT_FALSE(manifest_->find("nope")->has_value());
}

TEST_F(BuilderTest, DeltaModeWritesOnlyNewRowsAndSkipsEmptyReports) {
  // 2024-03-05 is a Tuesday: delta applies.
  ingest("2024-03-04-scan_ssh-feed-a.csv",
         "\"timestamp\",\"ip\",\"port\"\n\"2024-03-04 10:00:00\",\"192.0.2.1\",22\n");
  ingest("2024-03-05-scan_ssh-feed-b.csv",
         "\"timestamp\",\"ip\",\"port\"\n\"2024-03-05 10:00:00\",\"192.0.2.1\",22\n"
         "\"2024-03-05 10:00:00\",\"192.0.2.9\",22\n");
  auto full = build(*parse_date("2024-03-05"));
  ASSERT_TRUE(full.ok());
  ASSERT_EQ(full->reports.size(), 1u);
  EXPECT_EQ(full->reports[0].entry.rows, 2);
  EXPECT_EQ(full->reports[0].new_rows, 1);
  EXPECT_EQ(full->reports[0].recurring_rows, 1);
  auto delta = build(*parse_date("2024-03-05"), true);
  ASSERT_TRUE(delta.ok());
  ASSERT_EQ(delta->reports.size(), 1u);
  EXPECT_EQ(delta->reports[0].entry.rows, 1);
  EXPECT_NE(summary_text("Example_CERT", *parse_date("2024-03-05"), {&delta->reports[0]})
                .find("1 new since the previous day"),
            std::string::npos);

  ingest("2024-03-06-scan_ssh-feed-c.csv",
         "\"timestamp\",\"ip\",\"port\"\n\"2024-03-06 10:00:00\",\"192.0.2.9\",22\n");
  auto empty = build(*parse_date("2024-03-06"), true);
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->reports.empty());
  EXPECT_EQ(empty->skipped_empty, 1);
}

TEST(ReportFileName, FollowsIntelMqAndAbuseIoRules) {
  EXPECT_EQ(report_file_name(*parse_date("2024-07-04"), "dns_openresolver", "example.com", "asn"),
            "2024-07-04-dns_openresolver-example_com-asn.csv");
}

}  // namespace
}  // namespace vantage::report

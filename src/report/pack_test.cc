// Report packs (report/pack.h) against the one-file-per-report layout: the same bytes and
// sha256 for the same day, a re-run that swaps generations and leaves one pack, a build
// killed (SIGKILL) before its commit that leaves the previous state, old manifests that read
// as before, and the byte-range reader's bounds.

#include "report/pack.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <tuple>

#include "common/file_range.h"
#include "common/strings.h"
#include "report/builder.h"
#include "report/test_ingest.h"
#include "store/sqlite/sqlite_db.h"

namespace vantage::report {
namespace {

namespace fs = std::filesystem;

constexpr int kOrgs = 40;

std::string sha256_hex(std::string_view bytes) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned len = 0;
  EVP_Digest(bytes.data(), bytes.size(), digest, &len, EVP_sha256(), nullptr);
  return hex_encode(digest, len);
}

using Key = std::tuple<uint32_t, std::string, std::string>;  // org, type, filter

Key key_of(const ReportEntry& e) {
  return {e.org_id, e.type, e.filter};
}

std::vector<std::string> files_in(const fs::path& dir, std::string_view suffix) {
  std::vector<std::string> out;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
    if (it->path().string().ends_with(suffix)) out.push_back(it->path().string());
  return out;
}

// kOrgs organisations, org i claiming 10.i.0.0/16 and AS 64500+i: each org gets one scan_ssh
// report per day (the cidr match decides the filter).
class PackTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("vantage-pack-" + std::to_string(std::random_device{}()));
    fs::create_directories(dir_);
    store_path_ = (dir_ / "events.sqlite").string();
    store_ = std::move(*store::open_sqlite_store(store_path_));
    manifest_ = std::move(*Manifest::open((dir_ / "reports.sqlite").string()));
    std::vector<match::OrgSpec> specs(kOrgs);
    for (int i = 0; i < kOrgs; ++i) {
      specs[i].org_id = static_cast<uint32_t>(i + 1);
      specs[i].short_name = "org" + std::to_string(i + 1);
      specs[i].cidrs = {IpPrefix::parse("10." + std::to_string(i + 1) + ".0.0/16")->prefix};
      specs[i].asns = {static_cast<uint32_t>(64500 + i + 1)};
    }
    holder_.publish(match::SubscriptionIndex::build(specs));
    day_ = *parse_date("2024-03-05");
  }
  void TearDown() override { fs::remove_all(dir_); }

  // `rows` rows per organisation, starting at host `first`.
  void ingest(const std::string& name, int rows, int first = 1) {
    std::string body = "\"timestamp\",\"ip\",\"port\",\"asn\"\n";
    for (int o = 1; o <= kOrgs; ++o)
      for (int r = 0; r < rows; ++r)
        body += "\"2024-03-05 10:" + std::to_string(10 + r % 50) + ":00\",\"10." +
                std::to_string(o) + "." + std::to_string((first + r) / 250) + "." +
                std::to_string((first + r) % 250 + 1) + "\",22," + std::to_string(64500 + o) + "\n";
    write_and_ingest(dir_ / name, body, holder_, *store_);
  }

  static Result<BuildSummary> build_into(store::EventStore& store, Manifest& manifest,
                                         const fs::path& report_dir, ReportLayout layout,
                                         const ShortNameLookup& names) {
    BuildOptions o;
    o.report_dir = report_dir.string();
    o.layout = layout;
    return build_reports(store, core::Catalogue::builtin(), manifest, names,
                         *parse_date("2024-03-05"), o);
  }
  static std::optional<std::string> name_of(uint32_t id) {
    if (id < 1 || id > kOrgs) return std::nullopt;
    return "org" + std::to_string(id);
  }
  Result<BuildSummary> build(ReportLayout layout, Manifest* manifest = nullptr,
                             const fs::path& report_dir = {}) {
    return build_into(*store_, manifest ? *manifest : *manifest_,
                      report_dir.empty() ? dir_ / "reports" : report_dir, layout, name_of);
  }
  fs::path day_dir(const fs::path& report_dir = {}) const {
    return day_directory((report_dir.empty() ? dir_ / "reports" : report_dir).string(), day_);
  }
  std::map<Key, ReportEntry> entries(Manifest& m) {
    std::map<Key, ReportEntry> out;
    auto all = m.entries_of_day(day_);
    EXPECT_TRUE(all.ok());
    if (all.ok())
      for (auto& e : *all) out[key_of(e)] = e;
    return out;
  }
  // Every entry's bytes hash to its sha256 and have its size.
  void expect_entries_readable(Manifest& m) {
    for (const auto& [k, e] : entries(m)) {
      auto bytes = read_file_range(e.bytes());
      ASSERT_TRUE(bytes.ok()) << e.file_name << ": " << bytes.error().message;
      EXPECT_EQ(static_cast<int64_t>(bytes->size()), e.size) << e.file_name;
      EXPECT_EQ(sha256_hex(*bytes), e.sha256) << e.file_name;
    }
  }

  fs::path dir_;
  std::string store_path_;
  std::unique_ptr<store::EventStore> store_;
  std::unique_ptr<Manifest> manifest_;
  match::IndexHolder holder_;
  DayNumber day_ = 0;
};

TEST_F(PackTest, PackAndFilesLayoutsGiveTheSameBytesAndSha256) {
  ingest("2024-03-05-scan_ssh-feed-a.csv", 30);
  auto files_manifest = std::move(*Manifest::open((dir_ / "files.sqlite").string()));
  auto files = build(ReportLayout::kFiles, files_manifest.get(), dir_ / "files");
  ASSERT_TRUE(files.ok()) << files.error().message;
  auto packed = build(ReportLayout::kPack);
  ASSERT_TRUE(packed.ok()) << packed.error().message;
  ASSERT_EQ(packed->reports.size(), static_cast<size_t>(kOrgs));  // one (cidr) report each
  EXPECT_EQ(packed->rows, files->rows);
  EXPECT_EQ(packed->bytes, files->bytes);

  auto by_file = entries(*files_manifest);
  auto by_pack = entries(*manifest_);
  ASSERT_EQ(by_file.size(), by_pack.size());
  for (const auto& [k, f] : by_file) {
    const ReportEntry& p = by_pack.at(k);
    EXPECT_EQ(f.pack_offset, -1);
    EXPECT_GE(p.pack_offset, 0);
    EXPECT_EQ(p.file_name, f.file_name);
    EXPECT_EQ(p.size, f.size);
    EXPECT_EQ(p.rows, f.rows);
    EXPECT_EQ(p.sha256, f.sha256) << f.file_name;
    EXPECT_EQ(*read_file_range(p.bytes()), *read_file_range(f.bytes())) << f.file_name;
  }
  expect_entries_readable(*manifest_);

  // One pack, no CSV files, and the ranges tile it exactly (no gap, no overlap).
  auto packs = files_in(day_dir(), ".pack");
  ASSERT_EQ(packs.size(), 1u);
  EXPECT_TRUE(files_in(day_dir(), ".csv").empty());
  std::map<int64_t, int64_t> ranges;
  for (const auto& [k, p] : by_pack) {
    EXPECT_EQ(p.path, packs[0]);
    ranges[p.pack_offset] = p.size;
  }
  int64_t at = 0;
  for (const auto& [offset, size] : ranges) {
    EXPECT_EQ(offset, at);
    at = offset + size;
  }
  EXPECT_EQ(at, static_cast<int64_t>(fs::file_size(packs[0])));
}

TEST_F(PackTest, RerunSwapsToANewPackWithIdenticalBytesAndRemovesTheOld) {
  ingest("2024-03-05-scan_ssh-feed-a.csv", 5);
  ASSERT_TRUE(build(ReportLayout::kPack).ok());
  auto first = entries(*manifest_);
  auto old_packs = files_in(day_dir(), ".pack");
  ASSERT_EQ(old_packs.size(), 1u);

  ASSERT_TRUE(build(ReportLayout::kPack).ok());
  auto second = entries(*manifest_);
  ASSERT_EQ(first.size(), second.size());
  auto packs = files_in(day_dir(), ".pack");
  ASSERT_EQ(packs.size(), 1u);
  EXPECT_NE(packs[0], old_packs[0]);  // a new generation, the old one removed
  for (const auto& [k, a] : first) {
    const ReportEntry& b = second.at(k);
    EXPECT_EQ(a.id, b.id);  // links already mailed keep working
    EXPECT_EQ(a.sha256, b.sha256);
    EXPECT_EQ(a.size, b.size);
    EXPECT_EQ(b.path, packs[0]);
  }
  expect_entries_readable(*manifest_);

  // New events change the day: the rebuilt pack holds them, nothing of the old one is left.
  ingest("2024-03-05-scan_ssh-feed-b.csv", 3, 100);
  ASSERT_TRUE(build(ReportLayout::kPack).ok());
  auto third = entries(*manifest_);
  ASSERT_EQ(files_in(day_dir(), ".pack").size(), 1u);
  for (const auto& [k, e] : third) {
    EXPECT_EQ(e.rows, 8) << e.file_name;
    EXPECT_NE(e.sha256, first.at(k).sha256);
  }
  expect_entries_readable(*manifest_);

  // Switching to files and back: entries follow, unreferenced packs go.
  ASSERT_TRUE(build(ReportLayout::kFiles).ok());
  for (const auto& [k, e] : entries(*manifest_)) {
    EXPECT_EQ(e.pack_offset, -1);
    EXPECT_EQ(e.sha256, third.at(k).sha256);
  }
  EXPECT_TRUE(files_in(day_dir(), ".pack").empty());
  expect_entries_readable(*manifest_);
  ASSERT_TRUE(build(ReportLayout::kPack).ok());
  for (const auto& [k, e] : entries(*manifest_)) EXPECT_EQ(e.sha256, third.at(k).sha256);
  expect_entries_readable(*manifest_);
}

TEST_F(PackTest, OrgRebuildKeepsTheOtherOrganisationsPack) {
  ingest("2024-03-05-scan_ssh-feed-a.csv", 4);
  ASSERT_TRUE(build(ReportLayout::kPack).ok());
  BuildOptions o;
  o.report_dir = (dir_ / "reports").string();
  o.org_id = 7;
  ASSERT_TRUE(
      build_reports(*store_, core::Catalogue::builtin(), *manifest_, name_of, day_, o).ok());
  // org 7's entries point at the new pack, everyone else's at the first: both stay.
  EXPECT_EQ(files_in(day_dir(), ".pack").size(), 2u);
  expect_entries_readable(*manifest_);
}

// A build killed by SIGKILL after it wrote part of its pack, before its manifest commit:
// every entry still names the previous pack and its bytes; the next build completes the day
// and removes the orphan.
TEST_F(PackTest, BuildKilledMidwayLeavesThePreviousStateAndTheNextBuildCompletes) {
  ingest("2024-03-05-scan_ssh-feed-a.csv", 5);
  ASSERT_TRUE(build(ReportLayout::kPack).ok());
  auto before = entries(*manifest_);
  // New rows for every organisation: the killed build's pack differs from the committed one.
  ingest("2024-03-05-scan_ssh-feed-b.csv", 2000, 100);

  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // Its own connections (never use a SQLite connection across fork).
    auto store = store::open_sqlite_store(store_path_);
    auto manifest = Manifest::open((dir_ / "reports.sqlite").string());
    if (!store.ok() || !manifest.ok()) ::_exit(2);
    int calls = 0;
    auto names = [&](uint32_t id) -> std::optional<std::string> {
      if (++calls == 30) ::raise(SIGKILL);  // mid-build: 29 organisations written
      return name_of(id);
    };
    (void)build_into(**store, **manifest, dir_ / "reports", ReportLayout::kPack, names);
    ::_exit(3);  // not reached
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status)) << "exit status " << status;
  EXPECT_EQ(WTERMSIG(status), SIGKILL);

  // The previous state, exactly, and readable.
  auto after_kill = entries(*manifest_);
  ASSERT_EQ(after_kill.size(), before.size());
  for (const auto& [k, e] : before) {
    const ReportEntry& now = after_kill.at(k);
    EXPECT_EQ(now.id, e.id);
    EXPECT_EQ(now.path, e.path);
    EXPECT_EQ(now.pack_offset, e.pack_offset);
    EXPECT_EQ(now.sha256, e.sha256);
  }
  expect_entries_readable(*manifest_);
  auto packs = files_in(day_dir(), ".pack");
  EXPECT_EQ(packs.size(), 2u);  // the committed one and the killed build's orphan
  int64_t orphan_bytes = 0;
  for (const auto& p : packs)
    if (p != before.begin()->second.path) orphan_bytes = static_cast<int64_t>(fs::file_size(p));
  EXPECT_GT(orphan_bytes, 0) << "the kill should land after part of the pack was written";

  // The next build: complete, the same bytes as a files-layout build of the same store, one pack.
  auto rebuilt = build(ReportLayout::kPack);
  ASSERT_TRUE(rebuilt.ok()) << rebuilt.error().message;
  EXPECT_EQ(files_in(day_dir(), ".pack").size(), 1u);
  auto reference_manifest = std::move(*Manifest::open((dir_ / "files.sqlite").string()));
  ASSERT_TRUE(build(ReportLayout::kFiles, reference_manifest.get(), dir_ / "files").ok());
  auto reference = entries(*reference_manifest);
  auto now = entries(*manifest_);
  ASSERT_EQ(now.size(), reference.size());
  for (const auto& [k, e] : now) {
    EXPECT_EQ(e.sha256, reference.at(k).sha256);
    EXPECT_EQ(e.id, before.at(k).id);
    EXPECT_EQ(e.rows, 2005);
  }
  expect_entries_readable(*manifest_);
}

TEST_F(PackTest, EmptyDeltaReportsLeaveNoBytesInThePack) {
  // 2024-03-05 is a Tuesday: the delta keeps only rows not seen on 2024-03-04. Three orgs
  // with the same row on both days: their delta reports are empty and leave nothing behind.
  std::string day4 = "\"timestamp\",\"ip\",\"port\"\n", day5 = day4;
  for (int o = 1; o <= 3; ++o) {
    day4 += "\"2024-03-04 10:00:00\",\"10." + std::to_string(o) + ".0.1\",22\n";
    day5 += "\"2024-03-05 10:00:00\",\"10." + std::to_string(o) + ".0.1\",22\n";
  }
  // org 1 also has a row new on the 5th: its report is the only one.
  day5 += "\"2024-03-05 11:00:00\",\"10.1.0.9\",22\n";
  ASSERT_NO_FATAL_FAILURE(
      write_and_ingest(dir_ / "2024-03-04-scan_ssh-feed-a.csv", day4, holder_, *store_));
  ASSERT_NO_FATAL_FAILURE(
      write_and_ingest(dir_ / "2024-03-05-scan_ssh-feed-b.csv", day5, holder_, *store_));
  BuildOptions o;
  o.report_dir = (dir_ / "reports").string();
  o.delta = true;
  auto s = build_reports(*store_, core::Catalogue::builtin(), *manifest_, name_of, day_, o);
  ASSERT_TRUE(s.ok()) << s.error().message;
  ASSERT_EQ(s->reports.size(), 1u);
  EXPECT_EQ(s->skipped_empty, 2);
  const ReportEntry& e = s->reports[0].entry;
  EXPECT_EQ(e.rows, 1);
  auto packs = files_in(day_dir(), ".pack");
  ASSERT_EQ(packs.size(), 1u);
  EXPECT_EQ(static_cast<int64_t>(fs::file_size(packs[0])), e.size);  // only its bytes
  expect_entries_readable(*manifest_);
}

// A manifest written before packs (no pack_offset column) opens, reads its entries as files of
// their own, and takes pack entries from then on.
TEST(ManifestMigration, OldManifestsReadAsFilesOfTheirOwn) {
  fs::path dir = fs::temp_directory_path() / ("vantage-mig-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::string path = (dir / "reports.sqlite").string();
  {
    auto db = store::Db::open(path);
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE((*db)
                    ->exec("CREATE TABLE reports(id TEXT PRIMARY KEY, org_id INTEGER NOT NULL, "
                           "report TEXT NOT NULL, type TEXT NOT NULL, day INTEGER NOT NULL, "
                           "filter TEXT NOT NULL, file_name TEXT NOT NULL, path TEXT NOT NULL, "
                           "size INTEGER NOT NULL, sha256 TEXT NOT NULL, rows INTEGER NOT NULL, "
                           "created INTEGER NOT NULL, UNIQUE(org_id, type, day, filter));"
                           "INSERT INTO reports VALUES('old', 1, 'o', 'scan_ssh', 19000, 'asn', "
                           "'f.csv', '/x/f.csv', 3, 'ab', 1, 5);")
                    .ok());
  }
  auto m = Manifest::open(path);
  ASSERT_TRUE(m.ok()) << m.error().message;
  auto old = (*m)->find("old");
  ASSERT_TRUE(old.ok() && old->has_value());
  EXPECT_EQ((*old)->pack_offset, -1);
  EXPECT_EQ((*old)->bytes().offset, -1);
  EXPECT_EQ((*old)->bytes().path, "/x/f.csv");
  ReportEntry e = **old;
  e.id.clear();
  e.path = "/x/reports-1.pack";
  e.pack_offset = 10;
  auto up = (*m)->upsert(e);
  ASSERT_TRUE(up.ok());
  EXPECT_EQ(up->id, "old");
  EXPECT_EQ((*(*m)->find("old"))->pack_offset, 10);
  m->reset();
  ASSERT_TRUE(Manifest::open(path).ok());  // a second open finds the column and adds nothing
  fs::remove_all(dir);
}

TEST(FileRange, ReadsExactlyTheRangeAndRefusesOnesPastTheEnd) {
  fs::path p = fs::temp_directory_path() / ("vantage-range-" + std::to_string(::getpid()));
  std::ofstream(p, std::ios::binary) << "0123456789";
  EXPECT_EQ(*read_file_range({p.string()}), "0123456789");
  EXPECT_EQ(*read_file_range({p.string(), 3, 4}), "3456");
  EXPECT_EQ(*read_file_range({p.string(), 10, 0}), "");
  EXPECT_FALSE(read_file_range({p.string(), 8, 3}).ok());
  EXPECT_FALSE(read_file_range({p.string(), 0, -1}).ok());
  auto missing = read_file_range({p.string() + ".none"});
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
  auto reader = FileRangeReader::open({p.string(), 2, 5});
  ASSERT_TRUE(reader.ok());
  std::string out;
  EXPECT_EQ(*(*reader)->read(out, 2), 2u);
  EXPECT_EQ(*(*reader)->read(out, 100), 3u);
  EXPECT_EQ(*(*reader)->read(out, 100), 0u);
  EXPECT_EQ(out, "23456");
  fs::remove(p);
}

}  // namespace
}  // namespace vantage::report

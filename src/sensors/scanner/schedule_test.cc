// Scheduled scanning: schedule entries and the per-module "last scanned" record.
#include "sensors/scanner/schedule.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

namespace vantage::scanner {
namespace {

TEST(Schedule, ParsesEntries) {
  auto s = parse_schedule({"ssh:60", "chargen:1440:198.51.100.0/24,2001:db8::/48"});
  ASSERT_TRUE(s.ok()) << s.error().message;
  ASSERT_EQ(s->size(), 2u);
  EXPECT_EQ((*s)[0].module, "ssh");
  EXPECT_EQ((*s)[0].interval, std::chrono::minutes(60));
  EXPECT_TRUE((*s)[0].targets.empty());
  EXPECT_EQ((*s)[1].targets.size(), 2u);
  EXPECT_FALSE(parse_schedule({"nosuch:60"}).ok());
  EXPECT_FALSE(parse_schedule({"ssh"}).ok());
  EXPECT_FALSE(parse_schedule({"ssh:0"}).ok());
  EXPECT_FALSE(parse_schedule({"ssh:6x"}).ok());
  EXPECT_FALSE(parse_schedule({"ssh:60:10.0.0.0/33"}).ok());
}

TEST(Schedule, LastScannedRecordPerModuleAndType) {
  const std::string dir =
      (std::filesystem::temp_directory_path() / ("vantage-scanstate-" + std::to_string(getpid())))
          .string();
  std::filesystem::create_directories(dir);
  EXPECT_TRUE(load_scan_state(dir)->empty());
  ScanRecord a{"modbus", {"scan_ics"}, 100, 110, {"198.51.100.0/24"}, 256, 2, "ok"};
  ScanRecord b{"bacnet", {"scan_ics"}, 200, 230, {"198.51.100.0/24"}, 256, 1, "ok"};
  ScanRecord c{"stun", {"scan_stun", "scan6_stun"}, 50, 60, {"2001:db8::/48"}, 3, 3, "ok"};
  ASSERT_TRUE(record_scan(dir, a).ok());
  ASSERT_TRUE(record_scan(dir, b).ok());
  ASSERT_TRUE(record_scan(dir, c).ok());
  a.finished = 300;  // a later modbus run replaces the first
  ASSERT_TRUE(record_scan(dir, a).ok());
  auto all = load_scan_state(dir);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 3u);
  auto ics = last_scan_of_type(dir, "scan_ics");
  ASSERT_TRUE(ics.ok() && ics->has_value());
  EXPECT_EQ((*ics)->module, "modbus");
  EXPECT_EQ((*ics)->finished, 300);
  EXPECT_EQ((*last_scan_of_type(dir, "scan6_stun"))->addresses, 3u);
  EXPECT_FALSE(last_scan_of_type(dir, "scan_ssh")->has_value());
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace vantage::scanner

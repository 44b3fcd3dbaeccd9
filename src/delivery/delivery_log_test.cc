#include "delivery/delivery_log.h"

#include <gtest/gtest.h>

#include <filesystem>

namespace vantage::delivery {
namespace {

class DeliveryLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("vantage-dlog-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
};

DeliveryRecord row(std::string org, std::string day, std::string status, int attempt) {
  DeliveryRecord r;
  r.at = 1795419758;
  r.day = std::move(day);
  r.org = std::move(org);
  r.unit = "r-1";
  r.kind = "report";
  r.reports = "r-1";
  r.recipient = "cert@example.org";
  r.message_id = "<a@b>";
  r.attempt = attempt;
  r.status = std::move(status);
  r.smtp_code = 250;
  r.reason = "250 ok";
  r.encrypted = true;
  return r;
}

TEST_F(DeliveryLogTest, AppendsAndFiltersByOrgAndDay) {
  const std::string path = default_delivery_log_path(dir_.string());
  EXPECT_EQ(path, (dir_ / "deliveries.sqlite").string());
  auto log = DeliveryLog::open(path);
  ASSERT_TRUE(log.ok()) << log.error().message;
  ASSERT_TRUE((*log)->append(row("org1", "2026-11-22", kStatusRetrying, 1)).ok());
  ASSERT_TRUE((*log)->append(row("org1", "2026-11-22", kStatusDelivered, 2)).ok());
  ASSERT_TRUE((*log)->append(row("org2", "2026-11-22", kStatusFailed, 1)).ok());
  ASSERT_TRUE((*log)->append(row("org1", "2026-11-23", kStatusDelivered, 1)).ok());

  auto all = (*log)->query({});
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 4u);

  auto org1_day = (*log)->query({.org = "org1", .day = "2026-11-22"});
  ASSERT_TRUE(org1_day.ok());
  ASSERT_EQ(org1_day->size(), 2u);
  EXPECT_EQ((*org1_day)[0].status, kStatusRetrying);
  EXPECT_EQ((*org1_day)[1].status, kStatusDelivered);
  EXPECT_EQ((*org1_day)[1].attempt, 2);
  EXPECT_EQ((*org1_day)[1].recipient, "cert@example.org");
  EXPECT_EQ((*org1_day)[1].smtp_code, 250);
  EXPECT_TRUE((*org1_day)[1].encrypted);

  auto day = (*log)->query({.day = "2026-11-22"});
  ASSERT_TRUE(day.ok());
  EXPECT_EQ(day->size(), 3u);
  auto none = (*log)->query({.org = "org3"});
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

TEST_F(DeliveryLogTest, SurvivesReopen) {
  const std::string path = (dir_ / "d.sqlite").string();
  {
    auto log = DeliveryLog::open(path);
    ASSERT_TRUE(log.ok());
    ASSERT_TRUE((*log)->append(row("org1", "2026-11-22", kStatusNoRecipients, 0)).ok());
  }
  auto log = DeliveryLog::open(path);
  ASSERT_TRUE(log.ok());
  auto rows = (*log)->query({.org = "org1"});
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ(rows->front().status, kStatusNoRecipients);
}

TEST_F(DeliveryLogTest, OpenFailsInMissingDirectory) {
  EXPECT_FALSE(DeliveryLog::open((dir_ / "no" / "such" / "d.sqlite").string()).ok());
}

}  // namespace
}  // namespace vantage::delivery

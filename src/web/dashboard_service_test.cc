#include "web/dashboard_service.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <random>

#include "api/params.h"

namespace vantage::web {
namespace {

using nlohmann::json;

class DashboardServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("vantage-dash-" + std::to_string(std::random_device{}()));
    std::filesystem::create_directories(dir_);
    auto s = store::open_sqlite_store((dir_ / "events.sqlite").string());
    ASSERT_TRUE(s.ok());
    // Day 20000: 25 scan_http events in NL (org 1), 3 in DE (org 2); day 20001: 12 scan_ssh
    // in NL (org 1), tagged "brute".
    store::IngestBatch b;
    uint64_t key = 0;
    auto add = [&](DayNumber day, const char* type, const char* geo, uint32_t org, int n,
                   const char* tag) {
      for (int i = 0; i < n; ++i) {
        store::EventRecord e;
        e.day = day;
        e.type = type;
        e.event_key = ++key;
        e.timestamp = static_cast<UnixSeconds>(day) * 86400;
        e.ip = "192.0.2." + std::to_string(i);
        e.geo = geo;
        e.region = "R1";
        e.severity = 2;
        e.tag = tag;
        e.row = "x";
        e.routes = {{org, store::MatchFilter::kAsn}};
        b.events.push_back(e);
      }
    };
    add(20000, "scan_http", "NL", 1, 25, "");
    add(20000, "scan_http", "DE", 2, 3, "");
    add(20001, "scan_ssh", "NL", 1, 12, "brute");
    ASSERT_TRUE((*s)->write(b).ok());
    auto reader = store::open_sqlite_store((dir_ / "events.sqlite").string());
    ASSERT_TRUE(reader.ok());
    auto keys = std::make_shared<api::MemoryKeyStore>();
    keys->add({.key = "k1", .org_id = 1, .org_short_name = "org-one", .secrets = {"s1"}});
    keys->add({.key = "k2", .org_id = 2, .org_short_name = "org-two", .secrets = {"s2"}});
    DashboardOptions o;
    o.min_count = 10;
    o.manifest_path = (dir_ / "reports.sqlite").string();
    o.delivery_log_path = (dir_ / "deliveries.sqlite").string();
    service_ = std::make_unique<DashboardService>(
        o, std::move(*reader), keys,
        std::shared_ptr<const core::Catalogue>(&core::Catalogue::builtin(), [](const auto*) {}),
        nullptr, [] { return DayNumber{20002}; });
  }
  void TearDown() override {
    service_.reset();
    std::filesystem::remove_all(dir_);
  }

  json get_stats(const std::string& query, unsigned want_status = 200) {
    http::Request r;
    r.method = "GET";
    r.path = "/dash/api/stats";
    r.query = query;
    auto resp = service_->stats(r);
    EXPECT_EQ(resp.status, want_status) << resp.body;
    return json::parse(resp.body);
  }
  json post(const std::string& method, json body, const std::string& secret,
            unsigned want_status = 200) {
    http::Request r;
    r.method = "POST";
    r.path = "/dash/api/org/" + method;
    r.body = body.dump();
    r.headers.emplace_back("HMAC2", api::hmac_sha256_hex(secret, r.body));
    auto resp = service_->org(r);
    EXPECT_EQ(resp.status, want_status) << resp.body;
    return json::parse(resp.body);
  }

  std::filesystem::path dir_;
  std::unique_ptr<DashboardService> service_;
};

TEST_F(DashboardServiceTest, MetaDescribesWhatIsPresent) {
  auto resp = service_->meta(http::Request{});
  ASSERT_EQ(resp.status, 200u);
  auto m = json::parse(resp.body);
  EXPECT_EQ(m["first_day"], format_date(20000));
  EXPECT_EQ(m["last_day"], format_date(20001));
  EXPECT_EQ(m["min_count"], 10);
  ASSERT_EQ(m["types"].size(), 2u);
  EXPECT_EQ(m["types"][0]["name"], "scan_http");
  EXPECT_EQ(m["tags"], json::array({"brute"}));
  EXPECT_EQ(m["countries"], json::array({"DE", "NL"}));
}

TEST_F(DashboardServiceTest, PublicCountsBelowTheThresholdAreWithheld) {
  auto s = get_stats("group=geo&from=" + format_date(20000) + "&to=" + format_date(20001));
  ASSERT_EQ(s["rows"].size(), 1u);  // DE has 3 < 10
  EXPECT_EQ(s["rows"][0], json::array({"NL", 37}));
  EXPECT_EQ(s["suppressed"], 1);
  EXPECT_EQ(s["total"], 37);
  // Defaults: the range ends at the last day with data.
  s = get_stats("group=day,type");
  EXPECT_EQ(s["to"], format_date(20001));
  ASSERT_EQ(s["rows"].size(), 2u);
  EXPECT_EQ(s["rows"][1], json::array({format_date(20001), "scan_ssh", 12}));
  s = get_stats("group=severity&type=scan_ssh&tag=Brute&from=" + format_date(20000), 400);
  EXPECT_NE(s["error"].get<std::string>().find("severity"), std::string::npos);
  s = get_stats("group=tag&type=scan_ssh&from=" + format_date(20000));
  EXPECT_EQ(s["rows"][0], json::array({"brute", 12}));
  s = get_stats("group=severity&geo=nl&from=" + format_date(20000));
  EXPECT_EQ(s["rows"][0], json::array({"medium", 37}));
}

TEST_F(DashboardServiceTest, BadParametersAreRejectedWithAReason) {
  EXPECT_NE(get_stats("group=ip", 400)["error"].get<std::string>().find("grouping"),
            std::string::npos);
  get_stats("type=nope", 400);
  get_stats("from=2026-13-01", 400);
  get_stats("from=2020-01-01&to=2026-01-01", 400);  // over two years
  get_stats("severity=urgent", 400);
  get_stats("geo=NLD", 400);
  get_stats("from=%zz", 400);
}

TEST_F(DashboardServiceTest, OrganisationViewIsScopedToTheKey) {
  std::string from = format_date(20000), to = format_date(20001);
  auto who = post("whoami", {{"apikey", "k2"}}, "s2");
  EXPECT_EQ(who["org"], "org-two");
  auto s = post("stats", {{"apikey", "k2"}, {"group", "geo"}, {"from", from}, {"to", to}}, "s2");
  EXPECT_EQ(s["rows"], json::array({json::array({"DE", 3})}));  // no threshold for its own data
  EXPECT_EQ(s["min_count"], 0);
  s = post("stats", {{"apikey", "k1"}, {"group", "day"}, {"from", from}, {"to", to}}, "s1");
  EXPECT_EQ(s["total"], 37);
  post("stats", {{"apikey", "k1"}, {"group", "geo"}}, "s2", 401);  // k1 with k2's secret
  post("stats", {{"apikey", "k9"}}, "s1", 401);
  post("nope", {{"apikey", "k1"}}, "s1", 404);
  auto r = post("reports", {{"apikey", "k1"}, {"from", from}, {"to", to}}, "s1");
  EXPECT_TRUE(r["reports"].empty());
  auto d = post("deliveries", {{"apikey", "k1"}}, "s1");
  EXPECT_TRUE(d["deliveries"].empty());
}

TEST(ParseForm, DecodesPlusAndPercentAndJoinsRepeats) {
  auto f = parse_form("region=North+Holland&type=a&type=b&x=%41");
  ASSERT_TRUE(f.has_value());
  ASSERT_EQ(f->size(), 3u);
  EXPECT_EQ((*f)[0].second, "North Holland");
  EXPECT_EQ((*f)[1].second, "a,b");
  EXPECT_EQ((*f)[2].second, "A");
  EXPECT_FALSE(parse_form("a=%4").has_value());
}

}  // namespace
}  // namespace vantage::web

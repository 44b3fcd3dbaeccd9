// Remediation: the episode rule on hand-made day lists, then a synthetic series through a real
// SQLite event store -- issues that appear, persist and disappear on known days -- with exact
// first/last/fixed days and distributions, updated all at once and day by day, late data,
// scoped and unrecorded scans, and the scan_state.json import.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "core/catalogue.h"
#include "core/event.h"
#include "remediation/episodes.h"
#include "remediation/tracker.h"

namespace vantage::remediation {
namespace {

TEST(Episodes, FixedAfterNAbsentCycles) {
  std::vector<DayNumber> seen = {10, 11, 12};
  std::vector<DayNumber> cycles = {10, 11, 12, 13, 15, 17, 18};
  auto e = derive_episodes(seen, cycles, 3, 20);
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0].first_day, 10);
  EXPECT_EQ(e[0].last_day, 12);
  EXPECT_EQ(e[0].fixed_day, 13);
  EXPECT_EQ(e[0].confirmed_day, 17);
  EXPECT_EQ(e[0].days_open(20), 3);
  // As of day 16 only two absent cycles have run: still open.
  auto early = derive_episodes(seen, cycles, 3, 16);
  ASSERT_EQ(early.size(), 1u);
  EXPECT_TRUE(early[0].open());
  EXPECT_EQ(early[0].days_open(16), 6);
}

TEST(Episodes, UnscannedTypeNeverFixed) {
  std::vector<DayNumber> seen = {1};
  auto e = derive_episodes(seen, {}, 1, 400);
  ASSERT_EQ(e.size(), 1u);
  EXPECT_TRUE(e[0].open());
  EXPECT_EQ(e[0].days_open(400), 399);
}

TEST(Episodes, GapsShorterThanNStayOneEpisodeLongerOnesReopen) {
  std::vector<DayNumber> cycles = {1, 2, 3, 4, 5, 6, 7, 8, 9};
  std::vector<DayNumber> short_gap = {1, 4};  // cycles 2,3 absent: 2 < 3
  auto a = derive_episodes(short_gap, cycles, 3, 9);
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].last_day, 4);
  EXPECT_EQ(a[0].fixed_day, 5);
  std::vector<DayNumber> long_gap = {1, 5};  // cycles 2,3,4 absent: fixed, then a regression
  auto b = derive_episodes(long_gap, cycles, 3, 9);
  ASSERT_EQ(b.size(), 2u);
  EXPECT_EQ(b[0], (Episode{1, 1, 2, 4}));
  EXPECT_EQ(b[1], (Episode{5, 5, 6, 8}));
}

TEST(Episodes, SummaryPercentilesAreNearestRank) {
  std::map<int64_t, int64_t> ttf = {{1, 1}, {3, 1}, {6, 1}};
  std::map<int64_t, int64_t> open = {{1, 1}, {2, 1}, {9, 1}};
  auto d = summarise(ttf, open);
  EXPECT_EQ(d.fixed, 3);
  EXPECT_DOUBLE_EQ(d.mean_days, 10.0 / 3.0);
  EXPECT_EQ(d.min_days, 1);
  EXPECT_EQ(d.p50_days, 3);
  EXPECT_EQ(d.p75_days, 6);
  EXPECT_EQ(d.p90_days, 6);
  EXPECT_EQ(d.max_days, 6);
  EXPECT_EQ(d.histogram[0], 1);  // 1
  EXPECT_EQ(d.histogram[1], 1);  // 2-3
  EXPECT_EQ(d.histogram[2], 1);  // 4-7
  EXPECT_EQ(d.open, 3);
  EXPECT_EQ(d.open_median_age, 2);
}

// ---- the synthetic series through a real store -------------------------------------------

constexpr DayNumber D0 = 20000;

class Series : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("vantage-remediation-" + std::to_string(std::random_device{}()));
    std::filesystem::create_directories(dir_);
    store::SqliteStoreOptions so;
    so.spool_flush_events = 1;  // statistics right after each batch
    auto s = store::open_sqlite_store((dir_ / "events.sqlite").string(), so);
    ASSERT_TRUE(s.ok()) << s.error().message;
    store_ = std::move(*s);
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  // One event of `type` for `ip:port` on day D0 + `d`, routed to `org`.
  void add(int d, const std::string& type, const std::string& ip, int port, uint32_t org,
           const std::string& geo = "NL") {
    const auto* t = cat_.find(type);
    ASSERT_NE(t, nullptr) << type;
    core::Event e(t);
    UnixSeconds ts = static_cast<UnixSeconds>(D0 + d) * 86400 + 3600;
    e.set_timestamp(ts);
    ASSERT_TRUE(e.set_ip(*IpAddress::parse(ip)));
    ASSERT_TRUE(e.set_port(static_cast<uint16_t>(port)));
    e.set_geo(geo);
    e.set_sector("Communications");
    store::EventRecord r;
    r.day = D0 + d;
    r.type = type;
    r.event_key = std::hash<std::string>()(type + ip + std::to_string(port)) ^ (org * 7919u);
    r.timestamp = ts;
    r.ip = ip;
    r.geo = geo;
    r.severity = 2;
    e.encode(r.row);
    r.routes = {{org, store::MatchFilter::kCidr}};
    store::IngestBatch b;
    b.events.push_back(std::move(r));
    auto w = store_->write(b);
    ASSERT_TRUE(w.ok()) << w.error().message;
  }

  std::unique_ptr<Tracker> tracker(const std::string& name, TrackerOptions o = {}) {
    auto t = Tracker::open((dir_ / name).string(), o);
    EXPECT_TRUE(t.ok()) << t.error().message;
    return t.ok() ? std::move(*t) : nullptr;
  }

  static void record(Tracker& t, const std::string& type, std::vector<int> days,
                     std::vector<std::string> scope = {}) {
    for (int d : days) {
      ScanCycle c;
      c.type = type;
      c.at = static_cast<UnixSeconds>(D0 + d) * 86400 + 7200;
      c.source = scope.empty() ? "test" : "test-scoped";
      for (const auto& s : scope) c.scope.push_back(IpPrefix::parse(s)->prefix);
      auto r = t.cycle_log().append(c);
      ASSERT_TRUE(r.ok()) << r.error().message;
    }
  }

  // The series: see the comments by each issue. Days are offsets from D0.
  void load_series() {
    // scan_http is scanned by Vantage itself (recorded cycles, below).
    for (int d : {0, 1, 2}) add(d, "scan_http", "192.0.2.4", 80, 1);  // A: fixed on 3
    for (int d : {1, 5}) add(d, "scan_http", "192.0.2.5", 80, 1);     // B: gap of 2, fixed 7
    add(0, "scan_http", "192.0.2.6", 8080, 1);                        // C: fixed 1 ...
    add(8, "scan_http", "192.0.2.6", 8080, 1);                        // ... back on 8: open
    for (int d : {9, 10}) add(d, "scan_http", "192.0.2.7", 80, 1);    // D: open
    add(2, "scan_http", "198.51.100.9", 80, 2, "DE");                 // G (org 2): fixed 3
    // scan_ftp is a partner's: its cycles are the days with any scan_ftp event.
    for (int d : {0, 1}) add(d, "scan_ftp", "192.0.2.20", 21, 1);            // E: fixed 2
    for (int d : {2, 3, 4}) add(d, "scan_ftp", "203.0.113.1", 21, 2, "DE");  // background
    // scan_telnet: seen once, never looked for again.
    add(0, "scan_telnet", "192.0.2.30", 23, 1);  // F: open
  }
  static void record_http(Tracker& t) {
    record(t, "scan_http", {0, 1, 2, 3, 5, 7, 8, 9, 10});
    record(t, "scan_http", {4, 6}, {"10.0.0.0/8"});  // scans elsewhere: never cover 192.0.2.x
  }

  std::map<std::string, std::vector<Episode>> episodes(Tracker& t, uint32_t org) {
    IssueQuery q;
    q.org_id = org;
    auto rows = t.issues(q);
    EXPECT_TRUE(rows.ok()) << rows.error().message;
    std::map<std::string, std::vector<Episode>> out;
    for (const auto& r : *rows) {
      EXPECT_EQ(r.org_id, org);
      out[r.type + " " + r.subject].push_back(r.episode);
    }
    for (auto& [k, v] : out)
      std::sort(v.begin(), v.end(),
                [](const auto& a, const auto& b) { return a.first_day < b.first_day; });
    return out;
  }

  static Episode ep(int first, int last, std::optional<int> fixed = {},
                    std::optional<int> confirmed = {}) {
    Episode e{D0 + first, D0 + last, std::nullopt, std::nullopt};
    if (fixed) e.fixed_day = D0 + *fixed;
    if (confirmed) e.confirmed_day = D0 + *confirmed;
    return e;
  }

  const core::Catalogue& cat_ = core::Catalogue::builtin();
  std::filesystem::path dir_;
  std::unique_ptr<store::EventStore> store_;
};

TEST_F(Series, ExactDaysAndDistributions) {
  load_series();
  auto t = tracker("r.sqlite");
  record_http(*t);
  auto s = t->update(*store_, cat_, D0 + 10);
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(s->days_read, 9);  // the days with events: 0-5 and 8-10

  auto org1 = episodes(*t, 1);
  std::map<std::string, std::vector<Episode>> want1 = {
      {"scan_http 192.0.2.4:80", {ep(0, 2, 3, 7)}},
      {"scan_http 192.0.2.5:80", {ep(1, 5, 7, 9)}},
      {"scan_http 192.0.2.6:8080", {ep(0, 0, 1, 3), ep(8, 8)}},
      {"scan_http 192.0.2.7:80", {ep(9, 10)}},
      {"scan_ftp 192.0.2.20:21", {ep(0, 1, 2, 4)}},
      {"scan_telnet 192.0.2.30:23", {ep(0, 0)}},
  };
  EXPECT_EQ(org1, want1);
  auto org2 = episodes(*t, 2);
  EXPECT_EQ(org2.at("scan_http 198.51.100.9:80"), (std::vector<Episode>{ep(2, 2, 3, 7)}));
  EXPECT_EQ(org2.at("scan_ftp 203.0.113.1:21"), (std::vector<Episode>{ep(2, 4)}));

  // days open: C's second episode and D, as of day 10.
  IssueQuery open;
  open.org_id = 1;
  open.status = IssueStatus::kOpen;
  auto rows = t->issues(open);
  ASSERT_TRUE(rows.ok());
  std::map<std::string, int64_t> ages;
  for (const auto& r : *rows) ages[r.subject] = r.days_open;
  EXPECT_EQ(ages, (std::map<std::string, int64_t>{
                      {"192.0.2.6:8080", 2}, {"192.0.2.7:80", 1}, {"192.0.2.30:23", 10}}));

  // Distributions per type for org 1: scan_http fixes took 3 (A), 6 (B) and 1 (C) days.
  DistributionQuery dq;
  dq.group = Dimension::kType;
  dq.first_day = D0;
  dq.last_day = D0 + 10;
  dq.org_id = 1;
  auto dist = t->distributions(dq);
  ASSERT_TRUE(dist.ok()) << dist.error().message;
  std::map<std::string, Distribution> by_type;
  for (const auto& g : *dist) by_type[g.key] = g.distribution;
  ASSERT_EQ(by_type.size(), 3u);
  const auto& http = by_type["scan_http"];
  EXPECT_EQ(http.fixed, 3);
  EXPECT_EQ(http.min_days, 1);
  EXPECT_EQ(http.p50_days, 3);
  EXPECT_EQ(http.p90_days, 6);
  EXPECT_EQ(http.max_days, 6);
  EXPECT_DOUBLE_EQ(http.mean_days, 10.0 / 3.0);
  EXPECT_EQ(http.open, 2);
  EXPECT_EQ(http.open_median_age, 1);
  EXPECT_EQ(by_type["scan_ftp"].fixed, 1);
  EXPECT_EQ(by_type["scan_ftp"].p50_days, 2);
  EXPECT_EQ(by_type["scan_telnet"].fixed, 0);
  EXPECT_EQ(by_type["scan_telnet"].open, 1);

  // Per country over both organisations: NL has A, B, C, E fixed; DE has G fixed, one open.
  dq.group = Dimension::kGeo;
  dq.org_id.reset();
  dist = t->distributions(dq);
  ASSERT_TRUE(dist.ok());
  std::map<std::string, Distribution> by_geo;
  for (const auto& g : *dist) by_geo[g.key] = g.distribution;
  EXPECT_EQ(by_geo["NL"].fixed, 4);
  EXPECT_EQ(by_geo["NL"].p50_days, 2);  // values 1,2,3,6
  EXPECT_EQ(by_geo["DE"].fixed, 1);
  EXPECT_EQ(by_geo["DE"].min_days, 1);
  EXPECT_EQ(by_geo["DE"].open, 1);

  // A date range holding only B's fix (day 7); the others were fixed on days 1 to 3.
  dq.group = Dimension::kNone;
  dq.first_day = D0 + 5;
  dq.last_day = D0 + 7;
  dist = t->distributions(dq);
  ASSERT_TRUE(dist.ok());
  ASSERT_EQ(dist->size(), 1u);
  EXPECT_EQ((*dist)[0].distribution.fixed, 1);
  EXPECT_EQ((*dist)[0].distribution.max_days, 6);

  // Nothing changed: the next update reads no day and changes nothing.
  auto again = t->update(*store_, cat_, D0 + 10);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->days_read, 0);
  EXPECT_EQ(episodes(*t, 1), want1);
}

TEST_F(Series, DayByDayEqualsAllAtOnce) {
  load_series();
  auto once = tracker("once.sqlite");
  auto daily = tracker("daily.sqlite");
  record_http(*once);
  record_http(*daily);
  for (int d = 0; d <= 10; ++d) ASSERT_TRUE(daily->update(*store_, cat_, D0 + d).ok());
  ASSERT_TRUE(once->update(*store_, cat_, D0 + 10).ok());
  EXPECT_EQ(episodes(*daily, 1), episodes(*once, 1));
  EXPECT_EQ(episodes(*daily, 2), episodes(*once, 2));
}

TEST_F(Series, LateDataReopensAndLateScansMoveFixes) {
  load_series();
  auto t = tracker("r.sqlite");
  record_http(*t);
  ASSERT_TRUE(t->update(*store_, cat_, D0 + 10).ok());
  // A partner delivers day 3's sighting of A late: A was seen on 3, so the fix moves to 5.
  add(3, "scan_http", "192.0.2.4", 80, 1);
  auto s = t->update(*store_, cat_, D0 + 10);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->days_read, 1);
  EXPECT_EQ(episodes(*t, 1).at("scan_http 192.0.2.4:80"), (std::vector<Episode>{ep(0, 3, 5, 8)}));
  // A scan recorded late, on day 6 over everything, moves B's confirmation earlier (7 -> 6...
  // B's first absent cycle after day 5 is now 6).
  record(*t, "scan_http", {6});
  ASSERT_TRUE(t->update(*store_, cat_, D0 + 10).ok());
  EXPECT_EQ(episodes(*t, 1).at("scan_http 192.0.2.5:80"), (std::vector<Episode>{ep(1, 5, 6, 8)}));
}

TEST_F(Series, RecordedPolicyNeverFixesUnrecordedTypes) {
  load_series();
  TrackerOptions o;
  o.cycle_source = CycleSource::kRecorded;
  auto t = tracker("r.sqlite", o);
  record_http(*t);
  ASSERT_TRUE(t->update(*store_, cat_, D0 + 10).ok());
  auto org1 = episodes(*t, 1);
  EXPECT_EQ(org1.at("scan_ftp 192.0.2.20:21"), (std::vector<Episode>{ep(0, 1)}));  // open
  EXPECT_EQ(org1.at("scan_http 192.0.2.4:80"), (std::vector<Episode>{ep(0, 2, 3, 7)}));
}

TEST_F(Series, AutoCountsRecordedScansThatFoundNothingAndPartnerDays) {
  add(0, "scan_ssh", "192.0.2.40", 22, 1);
  add(0, "scan_ssh", "192.0.2.41", 22, 1);
  add(1, "scan_ssh", "192.0.2.41", 22, 1);
  add(4, "scan_ssh", "203.0.113.9", 22, 2);  // a partner's event elsewhere: day 4 is a cycle
  TrackerOptions events_only;
  events_only.cycle_source = CycleSource::kEvents;
  auto a = tracker("auto.sqlite");
  auto e = tracker("events.sqlite", events_only);
  for (auto* t : {a.get(), e.get()}) record(*t, "scan_ssh", {2, 3});  // scans that found nothing
  ASSERT_TRUE(a->update(*store_, cat_, D0 + 5).ok());
  ASSERT_TRUE(e->update(*store_, cat_, D0 + 5).ok());
  // auto: days 1 (events), 2, 3 (recorded), 4 (events) -> .40 fixed on 1, .41 on 2.
  EXPECT_EQ(episodes(*a, 1).at("scan_ssh 192.0.2.40:22"), (std::vector<Episode>{ep(0, 0, 1, 3)}));
  EXPECT_EQ(episodes(*a, 1).at("scan_ssh 192.0.2.41:22"), (std::vector<Episode>{ep(0, 1, 2, 4)}));
  // events only: the empty scans of days 2 and 3 are no cycles -> .41 is still open.
  EXPECT_EQ(episodes(*e, 1).at("scan_ssh 192.0.2.41:22"), (std::vector<Episode>{ep(0, 1)}));
}

TEST_F(Series, ScopedScansCoverOnlyTheirPrefixes) {
  add(0, "scan_http", "192.0.2.4", 80, 1);
  add(0, "scan_http", "10.1.2.3", 80, 1);
  auto t = tracker("r.sqlite");
  record(*t, "scan_http", {0});
  record(*t, "scan_http", {1, 2}, {"10.0.0.0/8"});
  ASSERT_TRUE(t->update(*store_, cat_, D0 + 5).ok());
  auto org1 = episodes(*t, 1);
  EXPECT_EQ(org1.at("scan_http 10.1.2.3:80").front().fixed_day, std::nullopt);  // 2 < 3 cycles
  record(*t, "scan_http", {3}, {"10.1.0.0/16", "192.0.2.0/24"});
  ASSERT_TRUE(t->update(*store_, cat_, D0 + 5).ok());
  org1 = episodes(*t, 1);
  EXPECT_EQ(org1.at("scan_http 10.1.2.3:80"), (std::vector<Episode>{ep(0, 0, 1, 3)}));
  EXPECT_EQ(org1.at("scan_http 192.0.2.4:80"), (std::vector<Episode>{ep(0, 0)}));  // one cycle
}

TEST_F(Series, ScanStateImportIsIdempotent) {
  auto t = tracker("r.sqlite");
  auto path = dir_ / "scan_state.json";
  EXPECT_EQ(*import_scan_state(path.string(), t->cycle_log()), 0);  // no file yet
  std::ofstream(path) << R"({"format":"vantage-scan-state/1","modules":[
    {"module":"http","report_types":["scan_http","scan6_http"],"started":1767225600,
     "finished":1767225612,"targets":["198.51.100.0/24"],"addresses":256,"events":3,"status":"ok"},
    {"module":"ssh","report_types":["scan_ssh"],"started":1767225600,"finished":0,
     "targets":[],"status":"running"}]})";
  auto n = import_scan_state(path.string(), t->cycle_log());
  ASSERT_TRUE(n.ok()) << n.error().message;
  EXPECT_EQ(*n, 2);
  EXPECT_EQ(*import_scan_state(path.string(), t->cycle_log()), 0);
  auto days = t->cycle_log().cycles("scan_http", 0, 30000);
  ASSERT_TRUE(days.ok());
  ASSERT_EQ(days->size(), 1u);
  EXPECT_EQ((*days)[0].day, day_of(1767225612));
  EXPECT_FALSE((*days)[0].everything);
  EXPECT_TRUE((*days)[0].covers(*IpAddress::parse("198.51.100.7")));
  EXPECT_FALSE((*days)[0].covers(*IpAddress::parse("192.0.2.1")));
  EXPECT_TRUE(t->cycle_log().list("scan_ssh", 10)->empty());  // unfinished: not a cycle
}

}  // namespace
}  // namespace vantage::remediation

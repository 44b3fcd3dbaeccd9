#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <thread>

#include "api/api_service.h"
#include "api/manifest_reader.h"
#include "api/params.h"
#include "core/event.h"
#include "registry/sqlite/sqlite_registry.h"

namespace vantage::api {
namespace {

using nlohmann::json;

TEST(HmacTest, SpecVectors) {
  // docs/shadowserver-api.md §1.2, secret "testsecret".
  EXPECT_EQ(hmac_sha256_hex("testsecret", R"({"apikey": "testkey"})"),
            "d029b9a2d8be20065513b0376d6232e7f60cc6506fab49819469c151523c1002");
  EXPECT_EQ(hmac_sha256_hex("testsecret", R"({"apikey":"testkey"})"),
            "ba0f448d801a0bdff69388bda3d204d8d28ec1fb0e47603ec7b3dfda88d16952");
  EXPECT_EQ(
      hmac_sha256_hex("testsecret", R"({ "apikey": "testkey" ,"date": "2024-01-02:2024-01-04" })"),
      "b6658cf7088764de1d607c4a71009d87f87eefb0bf742eb458aa623e89a10a54");
  EXPECT_TRUE(hmac_matches("testsecret", R"({"apikey":"testkey"})",
                           "BA0F448D801A0BDFF69388BDA3D204D8D28EC1FB0E47603EC7B3DFDA88D16952"));
  EXPECT_FALSE(hmac_matches("testsecret", R"({"apikey":"testkey"} )",
                            "ba0f448d801a0bdff69388bda3d204d8d28ec1fb0e47603ec7b3dfda88d16952"));
  EXPECT_FALSE(hmac_matches("testsecret", "x", "zz"));
  EXPECT_FALSE(hmac_matches("testsecret", R"({"apikey":"testkey"})",
                            "ba0f448d801a0bdff69388bda3d204d8d28ec1fb0e47603ec7b3dfda88d1695"));
}

TEST(DateGrammarTest, Forms) {
  DayNumber today = *parse_date("2024-01-10");
  auto d = [&](std::string_view s) { return parse_date_range(s, today); };
  EXPECT_EQ(d("2024-01-04")->first, *parse_date("2024-01-04"));
  EXPECT_EQ(d("2024-01-04")->last, *parse_date("2024-01-04"));
  EXPECT_EQ(d("2024-01-02:2024-01-04")->first, *parse_date("2024-01-02"));
  EXPECT_EQ(d("2024-01-02:2024-01-04")->last, *parse_date("2024-01-04"));
  EXPECT_EQ(d("now")->first, today);
  EXPECT_EQ(d("-365:now")->first, today - 365);
  EXPECT_EQ(d("-365:now")->last, today);
  EXPECT_EQ(d("2024-01-08:now")->last, today);
  EXPECT_EQ(d("-2")->first, today - 2);
  EXPECT_EQ(d(" 2024-01-02 : 2024-01-04 ")->last, *parse_date("2024-01-04"));
  for (auto bad : {"", "2024-1-4", "2024-02-30", "yesterday", "2024-01-04:2024-01-02", "-x", "-",
                   "1:2:3", "2024-01-04:", ":now", "--1"})
    EXPECT_FALSE(d(bad).ok()) << bad;
}

TEST(ParamsTest, NumbersAsStringsAndLists) {
  json b = json::parse(R"({"limit":"1000","page":2,"detail":"true","type":"scan_ssl",
                          "types":["a",""],"id":""})");
  EXPECT_EQ(**int_param(b, "limit"), 1000);
  EXPECT_EQ(**int_param(b, "page"), 2);
  EXPECT_FALSE(int_param(b, "missing")->has_value());
  EXPECT_TRUE(*bool_param(b, "detail", false));
  EXPECT_EQ(string_list_param(b, "type")->size(), 1u);
  EXPECT_EQ(string_list_param(b, "types")->size(), 1u);
  EXPECT_FALSE(string_param(b, "id")->has_value());  // empty id must not filter
  EXPECT_FALSE(int_param(json::parse(R"({"limit":"ten"})"), "limit").ok());
  EXPECT_FALSE(bool_param(json::parse(R"({"detail":[1]})"), "detail", false).ok());
}

TEST(JsonTextTest, AppendJsonStringMatchesNlohmann) {
  std::vector<std::string> samples = {"",
                                      "plain-id_0123",
                                      "https://www.shadowserver.org/what-we-do/x/",
                                      "quote\" backslash\\ slash/",
                                      std::string("nul\0ctl\x01\x1f\x7f", 11),
                                      "caf\xc3\xa9 \xe2\x82\xac",
                                      "bad \xff\xfe utf8 \xc3"};
  std::mt19937 rng(5);
  for (int i = 0; i < 2000; ++i) {
    std::string r(rng() % 12, ' ');
    for (auto& c : r) c = static_cast<char>(rng() % 256);
    samples.push_back(r);
  }
  for (const auto& t : samples) {
    std::string out = "x";
    append_json_string(out, t);
    EXPECT_EQ(out, "x" + json(t).dump(-1, ' ', false, json::error_handler_t::replace)) << t;
  }
}

// The API's cached-statement reader returns what report::Manifest returns, in its order.
TEST(ManifestReaderTest, AgreesWithManifest) {
  auto dir = std::filesystem::temp_directory_path() /
             ("vantage_api_manifest_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  std::string path = (dir / "reports.sqlite").string();
  auto mf = report::Manifest::open(path);
  ASSERT_TRUE(mf.ok());
  const char* types[] = {"scan_http", "scan_ssl", "blocklist", "sinkhole_http"};
  const char* filters[] = {"asn", "cidr", "geo"};
  std::mt19937 rng(3);
  for (int i = 0; i < 400; ++i) {
    report::ReportEntry e;
    e.org_id = rng() % 5 + 1;
    e.report = "org" + std::to_string(e.org_id);
    e.type = types[rng() % 4];
    e.day = 19000 + static_cast<DayNumber>(rng() % 20);
    e.filter = filters[rng() % 3];
    e.file_name = format_date(e.day) + "-" + e.type + "-" + e.report + "-" + e.filter + ".csv";
    e.path = "/nonexistent/" + e.file_name;
    e.size = rng() % 1000;
    e.sha256 = "ab";
    e.rows = rng() % 50;
    if (rng() % 2) e.pack_offset = rng() % 100000;  // a range of a day's pack
    ASSERT_TRUE((*mf)->upsert(e).ok());
  }
  auto reader = ManifestReader::open(path);
  ASSERT_TRUE(reader.ok()) << reader.error().message;
  auto same = [](const report::ReportEntry& a, const report::ReportEntry& b) {
    return a.id == b.id && a.org_id == b.org_id && a.report == b.report && a.type == b.type &&
           a.day == b.day && a.filter == b.filter && a.file_name == b.file_name &&
           a.path == b.path && a.size == b.size && a.sha256 == b.sha256 && a.rows == b.rows &&
           a.created == b.created && a.pack_offset == b.pack_offset;
  };
  size_t nonempty = 0;
  for (int i = 0; i < 300; ++i) {
    report::ListQuery q;
    q.org_id = rng() % 6 + 1;
    q.first_day = 19000 + static_cast<DayNumber>(rng() % 20);
    q.last_day = q.first_day + static_cast<DayNumber>(rng() % 10);
    for (int t = 0; t < 4; ++t)
      if (rng() % 3 == 0) q.types.push_back(types[t]);
    q.limit = rng() % 3 == 0 ? static_cast<int64_t>(rng() % 6) : -1;
    auto want = (*mf)->list(q);
    auto got = (*reader)->list(q);
    ASSERT_TRUE(want.ok() && got.ok());
    ASSERT_EQ(got->size(), want->size()) << i;
    for (size_t j = 0; j < got->size(); ++j) EXPECT_TRUE(same((*got)[j], (*want)[j])) << i;
    if (!got->empty()) {
      ++nonempty;
      auto f = (*reader)->find((*got)[0].id);
      ASSERT_TRUE(f.ok() && f->has_value());
      EXPECT_TRUE(same(**f, (*got)[0]));
    }
  }
  EXPECT_GT(nonempty, 100u);
  auto missing = (*reader)->find("no-such-id");
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(missing->has_value());
  // Entries committed after the reader opened are seen (no read transaction left open).
  report::ReportEntry late;
  late.org_id = 9;
  late.report = "org9";
  late.type = "scan_http";
  late.day = 19005;
  late.filter = "asn";
  late.file_name = "late.csv";
  late.path = "/nonexistent/late.csv";
  late.sha256 = "cd";
  auto stored = (*mf)->upsert(late);
  ASSERT_TRUE(stored.ok());
  report::ListQuery q9;
  q9.org_id = 9;
  q9.first_day = 19000;
  q9.last_day = 19010;
  auto got9 = (*reader)->list(q9);
  ASSERT_TRUE(got9.ok());
  ASSERT_EQ(got9->size(), 1u);
  EXPECT_EQ((*got9)[0].id, stored->id);
  std::filesystem::remove_all(dir);
}

// A service over a temporary data directory with `orgs` organisations, each with one key,
// some events per org and one report file per org.
class ApiFixture : public ::testing::Test {
 protected:
  static constexpr const char* kSecret = "s3cret";
  void build(int orgs, int events_per_org) {
    dir_ = std::filesystem::temp_directory_path() /
           ("vantage_api_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_ / "reports");
    auto keys = std::make_shared<MemoryKeyStore>();
    auto st = store::open_sqlite_store((dir_ / "events.sqlite").string());
    ASSERT_TRUE(st.ok());
    auto mf = report::Manifest::open((dir_ / "reports.sqlite").string());
    ASSERT_TRUE(mf.ok());
    const core::ReportType* type = catalogue_->find("scan_http");
    ASSERT_NE(type, nullptr);
    today_ = *parse_date("2024-01-10");
    std::mt19937 rng(7);
    store::IngestBatch batch;
    for (int o = 1; o <= orgs; ++o) {
      KeyIdentity id;
      id.key = "key" + std::to_string(o);
      id.org_id = static_cast<uint32_t>(o);
      id.org_short_name = "org" + std::to_string(o);
      id.label = "test";
      id.secrets = {kSecret};
      id.filter_fields = {o % 2 ? "asn" : "geo"};
      keys->add(id);
      for (int e = 0; e < events_per_org; ++e) {
        core::Event ev(type);
        ev.set_timestamp(static_cast<UnixSeconds>(today_ - 1) * 86400 + e);
        std::string ip = "10." + std::to_string(o / 256) + "." + std::to_string(o % 256) + "." +
                         std::to_string(e % 250 + 1);
        ev.set_text(type->column_index("ip"), ip);
        ev.set_asn(static_cast<uint32_t>(64000 + o));
        ev.set_geo(o % 2 ? "NL" : "DE");
        ev.set_text(type->column_index("port"), std::to_string(80 + e % 3));
        store::EventRecord rec;
        rec.day = today_ - 1;
        rec.type = "scan_http";
        rec.event_key = rng();
        rec.timestamp = *ev.timestamp();
        rec.ip = ip;
        rec.asn = static_cast<uint32_t>(64000 + o);
        rec.geo = o % 2 ? "NL" : "DE";
        ev.encode(rec.row);
        rec.routes.push_back({static_cast<uint32_t>(o),
                              o % 2 ? store::MatchFilter::kAsn : store::MatchFilter::kGeo});
        batch.events.push_back(std::move(rec));
      }
      report::ReportEntry entry;
      entry.org_id = static_cast<uint32_t>(o);
      entry.report = id.org_short_name;
      entry.type = "scan_http";
      entry.day = today_ - 1;
      entry.filter = o % 2 ? "asn" : "geo";
      entry.file_name =
          format_date(entry.day) + "-scan_http-" + entry.report + "-" + entry.filter + ".csv";
      entry.path = (dir_ / "reports" / entry.file_name).string();
      std::ofstream(entry.path) << "\"timestamp\",\"ip\"\n\"2024-01-09 00:00:00\",\"10.0.0." << o
                                << "\"\n";
      entry.size = static_cast<int64_t>(std::filesystem::file_size(entry.path));
      entry.rows = 1;
      auto up = (*mf)->upsert(entry);
      ASSERT_TRUE(up.ok());
      ids_[o] = up->id;
    }
    ASSERT_TRUE((*st)->write(batch).ok());
    ApiOptions opt = options_;
    if (pooled_) {
      // Each request borrows its own connection; the objects passed in join the pool.
      opt.manifest_path = (dir_ / "reports.sqlite").string();
      opt.store_path = (dir_ / "events.sqlite").string();
    }
    UnixSeconds now = static_cast<UnixSeconds>(today_) * 86400 + 3600;
    service_ = std::make_unique<ApiService>(opt, keys, std::move(*mf), std::move(*st), catalogue_,
                                            [now] { return now; });
  }
  void TearDown() override {
    service_.reset();
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }

  http::Response call(const std::string& method, const std::string& body,
                      std::string secret = kSecret, std::string header = "HMAC2") {
    http::Request r;
    r.method = "POST";
    r.path = "/api2/" + method;
    r.body = body;
    r.headers.emplace_back(header, hmac_sha256_hex(secret, body));
    r.headers.emplace_back("Content-Type", "application/x-www-form-urlencoded");
    return drain(service_->handle_api(r));
  }
  // A streamed answer's pieces joined into `body`, as a client would receive them; bounded so
  // that a generator that never ends fails the test instead of hanging it.
  static http::Response drain(http::Response r) {
    if (!r.generator) return r;
    std::string piece;
    bool more = true;
    for (int i = 0; more && i < 1000000; ++i) {
      piece.clear();
      more = r.generator(piece);
      r.body += piece;
    }
    EXPECT_FALSE(more) << "generator did not finish";
    r.generator = nullptr;
    return r;
  }
  json call_json(const std::string& method, const std::string& body, unsigned want = 200) {
    auto r = call(method, body);
    EXPECT_EQ(r.status, want) << method << " " << body << " -> " << r.body;
    return json::parse(r.body, nullptr, false);
  }

  std::shared_ptr<const core::Catalogue> catalogue_ =
      std::shared_ptr<const core::Catalogue>(&core::Catalogue::builtin(), [](const auto*) {});
  ApiOptions options_;
  bool pooled_ = false;
  std::filesystem::path dir_;
  DayNumber today_ = 0;
  std::map<int, std::string> ids_;
  std::unique_ptr<ApiService> service_;
};

TEST_F(ApiFixture, MethodsAndErrors) {
  build(3, 20);
  EXPECT_TRUE(call_json("test/ping", R"({"apikey": "key1"})").contains("pong"));
  // urllib's title-cased header, Perl's compact body, IntelMQ's spacing.
  EXPECT_EQ(call("test/ping", R"({"apikey":"key1"})", kSecret, "Hmac2").status, 200u);
  EXPECT_EQ(call("reports/list",
                 R"({ "apikey": "key1" ,"date": "2024-01-08:2024-01-10" ,"reports": ["org1"]})")
                .status,
            200u);
  auto info = call_json("key/info", R"({"apikey": "key1"})");
  ASSERT_TRUE(info.is_array());
  ASSERT_EQ(info.size(), 1u);
  EXPECT_EQ(info[0]["query_limit"], "0");
  EXPECT_EQ(call_json("reports/subscribed", R"({"apikey": "key1"})"), json::parse(R"(["org1"])"));
  auto list_raw = call("reports/list", R"({"apikey": "key1", "date": "-3:now", "limit": "10"})");
  // Written by hand for speed: must be exactly nlohmann's compact, key-sorted form.
  EXPECT_EQ(list_raw.body, json::parse(list_raw.body).dump());
  auto test_raw = call("reports/list", R"({"apikey": "key1", "reports": ["test", "org1"]})");
  EXPECT_EQ(test_raw.body, json::parse(test_raw.body).dump());
  EXPECT_GT(json::parse(test_raw.body).size(), 100u);
  auto list = call_json("reports/list", R"({"apikey": "key1", "date": "-3:now", "limit": "10"})");
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0]["id"], ids_[1]);
  EXPECT_EQ(list[0]["timestamp"], "2024-01-09");
  EXPECT_EQ(list[0]["report"], "org1");
  EXPECT_EQ(list[0]["file"], "2024-01-09-scan_http-org1-asn.csv");
  EXPECT_TRUE(call_json("reports/list", R"({"apikey":"key1","date":"2023-01-01"})").empty());
  EXPECT_TRUE(call_json("reports/list", R"({"apikey":"key1","types":["scan_ssl"]})").empty());
  EXPECT_EQ(call_json("reports/list", R"({"apikey":"key1","type":"scan_http","id":""})").size(),
            1u);
  auto test = call_json("reports/list", R"({"apikey":"key1","reports":["test"],"limit":3})");
  ASSERT_EQ(test.size(), 3u);
  EXPECT_EQ(test[0]["report"], "test");
  EXPECT_EQ(test[0]["timestamp"], "2010-02-10");
  EXPECT_EQ(test[0]["id"], "test:" + test[0]["type"].get<std::string>());
  auto types = call_json("reports/types", R"({"apikey":"key1","detail":"true","date":"-365:now"})");
  ASSERT_EQ(types.size(), 1u);
  EXPECT_EQ(types[0]["type"], "scan_http");
  EXPECT_TRUE(types[0].contains("description"));
  EXPECT_EQ(call_json("reports/types", R"({"apikey":"key1"})"), json::parse(R"(["scan_http"])"));
  auto stats = call_json("reports/stats", R"({"apikey":"key1"})");
  ASSERT_EQ(stats.size(), 2u);
  EXPECT_EQ(stats[0], json::parse(R"(["date","type","events"])"));
  EXPECT_EQ(stats[1][0], "2024-01-09");
  EXPECT_EQ(stats[1][2], 20);
  auto schema = call_json("reports/schema", R"({"apikey":"key1","type":"scan-http"})");
  EXPECT_TRUE(schema.contains("ip"));
  // reports/query: filter rule, paging, [] past the end, sort, facet.
  auto nf = call("reports/query", R"({"apikey":"key1","query":{"geo":"NL"}})");
  EXPECT_EQ(nf.status, 400u);
  EXPECT_NE(nf.body.find("No supported report filters found"), std::string::npos);
  auto q =
      call_json("reports/query",
                R"({"apikey":"key1","query":{"asn":"64001","port":80},"limit":"5","page":"1"})");
  ASSERT_EQ(q.size(), 5u);
  EXPECT_EQ(q[0]["port"], 80);
  EXPECT_EQ(q[0]["asn"], 64001);
  auto p2 =
      call_json("reports/query", R"({"apikey":"key1","query":{"asn":64001},"limit":15,"page":2})");
  EXPECT_EQ(p2.size(), 5u);
  EXPECT_TRUE(
      call_json("reports/query", R"({"apikey":"key1","query":{"asn":64001},"limit":15,"page":3})")
          .empty());
  auto facet =
      call_json("reports/query", R"({"apikey":"key1","query":{"asn":64001},"facet":"port"})");
  ASSERT_EQ(facet.size(), 3u);
  EXPECT_EQ(facet[0][1].get<int>() + facet[1][1].get<int>() + facet[2][1].get<int>(), 20);
  call_json("reports/query", R"({"apikey":"key1","query":{"asn":64001},"sort":"sideways"})", 400);
  call_json("reports/query", R"({"apikey":"key1"})", 400);
  auto dev = call_json("reports/device-info", R"({"apikey":"key1","query":{"ip":"10.0.1.1"}})");
  EXPECT_TRUE(dev.contains("10.0.1.1"));
  auto dl = call_json("reports/download", R"({"apikey":"key1","id":"test:scan_vnc","limit":3})");
  EXPECT_LE(dl.size(), 3u);
  EXPECT_FALSE(dl.empty());
  auto own = call_json("reports/download", "{\"apikey\":\"key1\",\"id\":\"" + ids_[1] + "\"}");
  ASSERT_EQ(own.size(), 1u);
  EXPECT_EQ(own[0]["ip"], "10.0.0.1");
  call_json("reports/download", "{\"apikey\":\"key1\",\"id\":\"" + ids_[2] + "\"}", 404);

  // Error table.
  EXPECT_EQ(call("reports/list", "not json").status, 400u);
  EXPECT_EQ(call("reports/list", "[1]").status, 400u);
  EXPECT_EQ(call("reports/list", R"({"date":"now"})").status, 401u);
  EXPECT_EQ(call("reports/list", R"({"apikey":"nokey"})").status, 401u);
  EXPECT_EQ(call("reports/list", R"({"apikey":"key1"})", "wrong").status, 401u);
  EXPECT_EQ(call("reports/nothing", R"({"apikey":"key1"})").status, 404u);
  EXPECT_EQ(call("honeypot/common-vulnerabilities", R"({"apikey":"key1"})").status, 403u);
  EXPECT_EQ(call("reports/list", R"({"apikey":"key1","date":"2024-13-01"})").status, 400u);
  EXPECT_EQ(call("reports/schema", R"({"apikey":"key1","type":"nope"})").status, 400u);
  http::Request get;
  get.method = "GET";
  get.path = "/api2/test/ping";
  EXPECT_EQ(service_->handle_api(get).status, 405u);
  http::Request nohmac;
  nohmac.method = "POST";
  nohmac.path = "/api2/test/ping";
  nohmac.body = R"({"apikey":"key1"})";
  EXPECT_EQ(service_->handle_api(nohmac).status, 401u);
}

// The same methods with a connection pool per database file and requests from several
// threads at once: identical answers, and every thread sees only its own organisation.
TEST_F(ApiFixture, ConcurrentRequestsWithConnectionPools) {
  pooled_ = true;
  build(40, 5);
  std::mutex failure_mu;
  int failures = 0;
  std::string first_failure;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        int o = (t * 200 + i) % 40 + 1;
        std::string k = "\"apikey\":\"key" + std::to_string(o) + "\"";
        auto fail = [&](const std::string& what) {
          std::lock_guard lock(failure_mu);
          if (failures++ == 0) first_failure = what;
        };
        auto list_body = call("reports/list", "{" + k + ",\"date\":\"-30:now\"}").body;
        auto list = json::parse(list_body, nullptr, false);
        if (!list.is_array() || list.size() != 1 || list[0]["id"] != ids_[o])
          fail("list " + list_body);
        auto stats_body = call("reports/stats", "{" + k + "}").body;
        auto stats = json::parse(stats_body, nullptr, false);
        if (!stats.is_array() || stats.size() != 2 || stats[1][2] != 5) fail("stats " + stats_body);
        http::Request get;
        get.method = "GET";
        get.path = "/dl/" + ids_[o];
        auto dl = service_->handle_download(get, "/dl/");
        if (dl.status != 200) fail("download " + std::to_string(dl.status) + " " + dl.body);
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures, 0) << "first: " << first_failure;
}

// The legacy JSON download streams the CSV's rows as objects and stops at the row cap.
TEST_F(ApiFixture, LegacyDownloadStreamsAndCaps) {
  options_.download_json_row_cap = 2500;
  build(1, 1);
  // Replace org1's report file with a 3,000-row CSV (quoted fields, an embedded comma and
  // quote) so that the answer spans several generator pieces.
  std::string path;
  {
    auto mf = report::Manifest::open((dir_ / "reports.sqlite").string());
    ASSERT_TRUE(mf.ok());
    auto e = (*mf)->find(ids_[1]);
    ASSERT_TRUE(e.ok() && e->has_value());
    path = (*e)->path;
  }
  {
    std::ofstream out(path, std::ios::trunc);
    out << "\"timestamp\",\"ip\",\"note\"\n";
    for (int i = 0; i < 3000; ++i)
      out << "\"2024-01-09 00:00:00\",\"10.0." << i / 250 << "." << i % 250
          << "\",\"a, \"\"quoted\"\" note " << i << "\"\n";
  }
  auto raw = service_->handle_api([&] {
    http::Request r;
    r.method = "POST";
    r.path = "/api2/reports/download";
    r.body = "{\"apikey\":\"key1\",\"id\":\"" + ids_[1] + "\"}";
    r.headers.emplace_back("HMAC2", hmac_sha256_hex(kSecret, r.body));
    return r;
  }());
  EXPECT_EQ(raw.status, 200u);
  EXPECT_TRUE(static_cast<bool>(raw.generator)) << "the legacy download must be streamed";
  auto rows = json::parse(drain(std::move(raw)).body, nullptr, false);
  ASSERT_TRUE(rows.is_array());
  ASSERT_EQ(rows.size(), 2500u);
  EXPECT_EQ(rows[0]["ip"], "10.0.0.0");
  EXPECT_EQ(rows[2499]["note"], "a, \"quoted\" note 2499");
  auto few = call_json("reports/download",
                       "{\"apikey\":\"key1\",\"id\":\"" + ids_[1] + "\",\"limit\":\"3\"}");
  EXPECT_EQ(few.size(), 3u);
  // An empty file answers [].
  std::ofstream(path, std::ios::trunc).close();
  EXPECT_EQ(call_json("reports/download", "{\"apikey\":\"key1\",\"id\":\"" + ids_[1] + "\"}"),
            json::array());
}

// A key revoked through another registry connection (another process, in production: `vantage
// key revoke`) fails on the very next lookup, although the lookup cache holds it for 2 s.
TEST(RegistryKeyStoreTest, RevocationIsImmediate) {
  auto dir = std::filesystem::temp_directory_path() /
             ("vantage_api_keystore_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  auto writer = registry::SqliteRegistry::open_in_data_dir(dir.string());
  ASSERT_TRUE(writer.ok()) << writer.error().message;
  registry::NewOrganisation org;
  org.name = "Example";
  org.short_name = "example";
  auto o = (*writer)->add_org(org);
  ASSERT_TRUE(o.ok()) << o.error().message;
  auto k1 = (*writer)->issue_key(o->id, registry::KeyKind::kApi, "one");
  auto k2 = (*writer)->issue_key(o->id, registry::KeyKind::kApi, "two");
  ASSERT_TRUE(k1.ok() && k2.ok());
  auto reader = registry::SqliteRegistry::open_in_data_dir(dir.string());
  ASSERT_TRUE(reader.ok());
  RegistryKeyStore keys(std::move(*reader), std::chrono::hours(1));
  auto first = keys.lookup(k1->key);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->secrets, std::vector<std::string>{k1->secret});
  EXPECT_EQ(first->org_short_name, "example");
  ASSERT_TRUE(keys.lookup(k2->key).ok());
  ASSERT_TRUE((*writer)->revoke_key(k1->key).ok());
  auto after = keys.lookup(k1->key);
  ASSERT_FALSE(after.ok());
  EXPECT_EQ(after.error().code, ErrorCode::kPermissionDenied);
  EXPECT_TRUE(keys.lookup(k2->key).ok()) << "other keys keep working";
  // Rotation without overlap: the old secret stops at once, the new one works.
  auto rotated = (*writer)->rotate_key(k2->key, 0);
  ASSERT_TRUE(rotated.ok());
  auto now = keys.lookup(k2->key);
  ASSERT_TRUE(now.ok());
  EXPECT_EQ(now->secrets, std::vector<std::string>{rotated->secret});

  // With one registry connection per concurrent caller: threads looking the key up while
  // it is revoked never get it back once revoke_key() has returned.
  auto open_more = [dir] { return registry::SqliteRegistry::open_in_data_dir(dir.string()); };
  auto base = open_more();
  ASSERT_TRUE(base.ok());
  RegistryKeyStore pooled(std::move(*base), std::chrono::hours(1),
                          [open_more]() -> Result<std::unique_ptr<registry::Registry>> {
                            auto r = open_more();
                            if (!r) return r.error();
                            return std::unique_ptr<registry::Registry>(std::move(*r));
                          });
  auto k3 = (*writer)->issue_key(o->id, registry::KeyKind::kApi, "three");
  ASSERT_TRUE(k3.ok());
  std::atomic<bool> revoked{false};
  std::atomic<int> stale{0}, ok_before{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 3; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 300; ++i) {
        bool was_revoked = revoked.load();
        auto r = pooled.lookup(k3->key);
        if (was_revoked && r.ok()) ++stale;
        if (!was_revoked && r.ok()) ++ok_before;
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  ASSERT_TRUE((*writer)->revoke_key(k3->key).ok());
  revoked = true;
  for (auto& th : threads) th.join();
  EXPECT_EQ(stale.load(), 0);
  EXPECT_GT(ok_before.load(), 0);
  EXPECT_FALSE(pooled.lookup(k3->key).ok());
  std::filesystem::remove_all(dir);
}

TEST_F(ApiFixture, Downloads) {
  build(2, 1);
  auto get = [&](std::string path, std::string query = "") {
    http::Request r;
    r.method = "GET";
    r.path = std::move(path);
    r.query = std::move(query);
    return service_->handle_download(r, "/dl/");
  };
  auto ok = get("/dl/" + ids_[1]);
  EXPECT_EQ(ok.status, 200u);
  EXPECT_FALSE(ok.file_path.empty());
  bool disp = false;
  for (const auto& [k, v] : ok.headers)
    if (k == "Content-Disposition")
      disp = v == "attachment; filename=2024-01-09-scan_http-org1-asn.csv";
  EXPECT_TRUE(disp);
  EXPECT_EQ(ids_[1].size(), 50u);
  // The path?query id form: split anywhere, same id.
  EXPECT_EQ(get("/dl/" + ids_[1].substr(0, 27), ids_[1].substr(27)).status, 404u);
  auto t = get("/dl/test:scan_vnc");
  EXPECT_EQ(t.status, 200u);
  EXPECT_NE(t.body.find("\"timestamp\""), std::string::npos);
  EXPECT_EQ(get("/dl/test%3Ascan_vnc").status, 200u);
  EXPECT_EQ(get("/dl/unknownid").status, 404u);
  for (std::string bad : {"/dl/../reports.sqlite", "/dl/..%2freports.sqlite", "/dl/%2e%2e",
                          "/dl/a/b", "/dl/", "/dl/test:..%2f", "/dl/%00"})
    EXPECT_EQ(get(bad).status, 404u) << bad;
}

// A report stored as a range of a day's pack (report.layout = "pack") downloads byte for byte
// as its own file would: /dl/ streams exactly the range with its Content-Length and the same
// headers, reports/download reads only the range's rows, and a missing pack is a 404.
TEST_F(ApiFixture, PackRangeDownloadsAreTheReportBytes) {
  build(2, 1);
  std::string own_file;
  std::string pack_path = (dir_ / "reports" / "reports-0000000000000001.pack").string();
  const std::string csv =
      "\"timestamp\",\"ip\",\"note\"\n\"2024-01-09 00:00:00\",\"10.0.0.1\",\"a, \"\"b\"\"\"\n"
      "\"2024-01-09 00:00:01\",\"10.0.0.2\",\"c\"\n";
  // Other reports' bytes on both sides: a reader that overruns its range would show them.
  const std::string before = "\"timestamp\",\"ip\"\n\"2024-01-09 00:00:00\",\"192.0.2.1\"\n";
  const std::string after = "\"timestamp\",\"ip\"\n\"2024-01-09 00:00:00\",\"192.0.2.2\"\n";
  std::ofstream(pack_path, std::ios::binary) << before << csv << after;
  {
    auto mf = report::Manifest::open((dir_ / "reports.sqlite").string());
    ASSERT_TRUE(mf.ok());
    auto e = (*mf)->find(ids_[1]);
    ASSERT_TRUE(e.ok() && e->has_value());
    own_file = (*e)->path;
    report::ReportEntry packed = **e;
    packed.path = pack_path;
    packed.pack_offset = static_cast<int64_t>(before.size());
    packed.size = static_cast<int64_t>(csv.size());
    packed.rows = 2;
    auto up = (*mf)->upsert(packed);
    ASSERT_TRUE(up.ok());
    EXPECT_EQ(up->id, ids_[1]);  // same download id
  }
  std::filesystem::remove(own_file);  // served from the pack, not from a file of its own
  http::Request get;
  get.method = "GET";
  get.path = "/dl/" + ids_[1];
  auto dl = service_->handle_download(get, "/dl/");
  EXPECT_EQ(dl.status, 200u);
  EXPECT_TRUE(dl.file_path.empty());
  ASSERT_TRUE(dl.content_length.has_value());
  EXPECT_EQ(*dl.content_length, csv.size());
  std::map<std::string, std::string> headers(dl.headers.begin(), dl.headers.end());
  EXPECT_EQ(headers["Content-Disposition"],
            "attachment; filename=2024-01-09-scan_http-org1-asn.csv");
  EXPECT_EQ(headers["Content-Type"], "text/csv; charset=utf-8");
  EXPECT_EQ(drain(std::move(dl)).body, csv);

  auto rows = call_json("reports/download", "{\"apikey\":\"key1\",\"id\":\"" + ids_[1] + "\"}");
  ASSERT_EQ(rows.size(), 2u) << rows.dump();
  EXPECT_EQ(rows[0]["note"], "a, \"b\"");
  EXPECT_EQ(rows[1]["ip"], "10.0.0.2");

  // The other organisation's report (its own file) is served as before.
  get.path = "/dl/" + ids_[2];
  auto legacy = service_->handle_download(get, "/dl/");
  EXPECT_EQ(legacy.status, 200u);
  EXPECT_FALSE(legacy.file_path.empty());

  // A pack shorter than the range, or gone: not found, never a short or wrong body.
  std::filesystem::resize_file(pack_path, before.size() + csv.size() - 1);
  get.path = "/dl/" + ids_[1];
  EXPECT_EQ(service_->handle_download(get, "/dl/").status, 404u);
  std::filesystem::remove(pack_path);
  EXPECT_EQ(service_->handle_download(get, "/dl/").status, 404u);
  call_json("reports/download", "{\"apikey\":\"key1\",\"id\":\"" + ids_[1] + "\"}", 404);
}

TEST_F(ApiFixture, RateLimitAndQuota) {
  options_.rate_per_second = 0.001;
  options_.burst = 3;
  options_.daily_query_limit = 1;
  build(1, 1);
  EXPECT_EQ(call("reports/query", R"({"apikey":"key1","query":{"asn":64001}})").status, 200u);
  EXPECT_EQ(call("reports/query", R"({"apikey":"key1","query":{"asn":64001}})").status, 429u);
  auto info = call("key/info", R"({"apikey":"key1"})");
  EXPECT_EQ(info.status, 200u);
  EXPECT_EQ(json::parse(info.body)[0]["query_count"], "1");
  EXPECT_EQ(json::parse(info.body)[0]["query_limit"], "1");
  EXPECT_EQ(call("test/ping", R"({"apikey":"key1"})").status, 429u);
}

// Many organisations; for every key and every method nothing of another org comes back.
TEST_F(ApiFixture, IsolationAcrossOrganisations) {
  const int kOrgs = 1000;
  build(kOrgs, 3);
  std::mt19937 rng(11);
  for (int o = 1; o <= kOrgs; ++o) {
    std::string k = "\"apikey\":\"key" + std::to_string(o) + "\"";
    std::string own = "org" + std::to_string(o);
    auto list = call_json("reports/list", "{" + k + ",\"date\":\"-30:now\"}");
    ASSERT_EQ(list.size(), 1u);
    EXPECT_EQ(list[0]["report"], own);
    EXPECT_EQ(list[0]["id"], ids_[o]);
    int other = static_cast<int>(rng() % kOrgs) + 1;
    std::string other_name = "org" + std::to_string(other);
    auto list2 = call_json("reports/list", "{" + k + ",\"reports\":[\"" + other_name + "\"]}");
    if (other != o) {
      EXPECT_TRUE(list2.empty());
    }
    auto sub = call_json("reports/subscribed", "{" + k + "}");
    EXPECT_EQ(sub, json::array({own}));
    auto stats = call_json("reports/stats", "{" + k + ",\"report\":\"" + other_name + "\"}");
    if (other != o) {
      EXPECT_EQ(stats.size(), 1u);
    }
    auto own_stats = call_json("reports/stats", "{" + k + "}");
    ASSERT_EQ(own_stats.size(), 2u);
    EXPECT_EQ(own_stats[1][2], 3);
    // Ask for the other org's ASN / country: the org's own filter field is present, the
    // values are not its own, so nothing may come back unless they coincide.
    std::string field = o % 2 ? "asn" : "geo";
    std::string value = o % 2 ? std::to_string(64000 + other) : (other % 2 ? "\"NL\"" : "\"DE\"");
    auto q = call_json("reports/query",
                       "{" + k + ",\"query\":{\"" + field + "\":" + value + "},\"limit\":100}");
    for (const auto& row : q) EXPECT_EQ(row["asn"], 64000 + o);
    auto dev = call_json("reports/device-info", "{" + k + ",\"query\":{\"geo\":\"NL\",\"asn\":" +
                                                    std::to_string(64000 + other) + "}}");
    for (const auto& [ip, d] : dev.items()) EXPECT_EQ(d["asn"], 64000 + o);
    if (other != o) {
      call_json("reports/download", "{" + k + ",\"id\":\"" + ids_[other] + "\"}", 404);
    }
    auto types = call_json("reports/types", "{" + k + "}");
    EXPECT_EQ(types.size(), 1u);
  }
}

}  // namespace
}  // namespace vantage::api

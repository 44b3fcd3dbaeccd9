// The honeypot's services, each driven over a real socket on 127.0.0.1; what they log is
// read back from the inbox they ship to and decoded by the pipeline's own decoder.

#include "sensors/honeypot/honeypot.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "core/catalogue.h"
#include "pipeline/jsonl_decoder.h"
#include "sensors/honeypot/http/http.h"
#include "sensors/honeypot/redis/redis.h"

namespace vantage::honeypot {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

struct Decoded {
  std::string type;
  std::map<std::string, std::string> fields;
};

// Starts the named services on 127.0.0.1 (free ports), shipping into an inbox in a temp dir.
class HoneypotFixture : public ::testing::Test {
 protected:
  void start(const std::vector<std::string>& names) {
    dir_ = fs::temp_directory_path() /
           ("vantage_hp_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    std::vector<std::string> listen;
    for (const auto& n : names) listen.push_back(n + "=127.0.0.1:0");
    auto bindings = parse_listen(listen);
    ASSERT_TRUE(bindings.ok()) << bindings.error().message;
    sensors::SensorHostOptions ho;
    ho.sensor = "honeypot";
    ho.state_dir = (dir_ / "state").string();
    ho.tcp_threads = 2;
    ho.udp_threads = 1;
    ho.allow_root = true;  // the test process keeps its privileges; `vantage honeypot` drops
    ho.destination = sensors::inbox_destination((dir_ / "inbox").string());
    HoneypotSettings settings;
    settings.sensor_name = "test-honeypot";
    settings.idle_timeout = 2s;
    settings.rules_dir = std::string(VANTAGE_SOURCE_DIR) + "/conf/honeypot";
    if (tweak_) tweak_(settings);
    hp_ = Honeypot::create(settings, *bindings, std::move(ho));
    ASSERT_TRUE(hp_.ok()) << hp_.error().message;
    for (const auto& [name, at] : (*hp_)->bound()) ports_[name] = at.port;
  }
  void run() { ASSERT_TRUE((*hp_)->start().ok()); }
  std::vector<Decoded> events() {
    EXPECT_TRUE((*hp_)->host().flush(10s));
    std::vector<Decoded> out;
    const auto& catalogue = core::Catalogue::builtin();
    pipeline::JsonlDecoder decoder(catalogue, nullptr);
    std::vector<fs::path> files;
    for (const auto& e : fs::directory_iterator(dir_ / "inbox")) files.push_back(e.path());
    std::sort(files.begin(), files.end());
    for (const auto& f : files) {
      std::ifstream in(f);
      for (std::string line; std::getline(in, line);) {
        core::Event ev;
        pipeline::DecodeError err;
        EXPECT_TRUE(decoder.decode(line, ev, err))
            << err.field << ": " << err.reason << " in " << line;
        Decoded d;
        d.type = ev.type()->name;
        for (int c = 0; c < ev.size(); ++c) {
          if (!ev.is_null(c))
            d.fields[ev.type()->columns[static_cast<size_t>(c)].name] = ev.text(c);
        }
        out.push_back(std::move(d));
      }
    }
    return out;
  }
  int connect_to(const std::string& service) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(ports_.at(service));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    timeval tv{5, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    return fd;
  }
  static std::string exchange(int fd, std::string_view send, size_t expect_bytes) {
    EXPECT_EQ(::send(fd, send.data(), send.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(send.size()));
    std::string got;
    char buf[4096];
    while (got.size() < expect_bytes) {
      ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) break;
      got.append(buf, static_cast<size_t>(n));
    }
    return got;
  }
  void TearDown() override {
    if (hp_.ok()) (*hp_)->stop();
    fs::remove_all(dir_);
  }

  fs::path dir_;
  Result<std::unique_ptr<Honeypot>> hp_{Error::internal("not started")};
  std::map<std::string, uint16_t> ports_;
  std::function<void(HoneypotSettings&)> tweak_;  // settings a test changes before start()
};

TEST(HoneypotListen, ParsesEntriesAndDefaultsToLoopback) {
  auto all = parse_listen({});
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), static_cast<size_t>(
                             std::count_if(builtin_services().begin(), builtin_services().end(),
                                           [](const ServiceModule& s) { return s.default_on; })));
  for (const auto& b : *all) {
    EXPECT_EQ(b.at.ip.to_string(), "127.0.0.1");
    EXPECT_EQ(b.at.port, b.service->loopback_port);
  }
  auto one = parse_listen({"redis=[::1]:6379"});
  ASSERT_TRUE(one.ok());
  EXPECT_EQ((*one)[0].at.to_string(), "[::1]:6379");
  EXPECT_FALSE(parse_listen({"nosuch=127.0.0.1:1"}).ok());
  EXPECT_FALSE(parse_listen({"redis"}).ok());
  EXPECT_FALSE(parse_listen({"redis=127.0.0.1:99999"}).ok());
}

TEST(HoneypotServices, EveryServiceFillsOnlyItsCatalogueTypes) {
  const auto& catalogue = core::Catalogue::builtin();
  std::set<std::string> names;
  std::set<uint16_t> loopback_ports;
  for (const auto& s : builtin_services()) {
    EXPECT_TRUE(names.insert(s.name).second) << "duplicate service " << s.name;
    EXPECT_TRUE(loopback_ports.insert(s.loopback_port).second) << "shared loopback port " << s.name;
    EXPECT_GE(s.loopback_port, 1024) << s.name << ": `vantage up` runs unprivileged";
    EXPECT_FALSE(s.report_types.empty()) << s.name;
    for (const auto& t : s.report_types) EXPECT_NE(catalogue.find(t), nullptr) << t;
    EXPECT_TRUE(s.install) << s.name;
  }
}

TEST(RedisProtocol, ReadsRespAndInlineCommandsWithinBounds) {
  std::vector<std::string_view> args;
  size_t used = 0;
  std::string resp = "*3\r\n$4\r\nAUTH\r\n$5\r\nadmin\r\n$6\r\nsecret\r\nPING\r\n";
  ASSERT_EQ(redis::parse_command(resp, args, used), redis::Parse::kComplete);
  ASSERT_EQ(args.size(), 3u);
  EXPECT_EQ(args[2], "secret");
  EXPECT_EQ(resp.substr(used), "PING\r\n");
  ASSERT_EQ(redis::parse_command(resp.substr(used), args, used), redis::Parse::kComplete);
  EXPECT_EQ(args[0], "PING");
  EXPECT_EQ(redis::parse_command("*2\r\n$4\r\nAUTH\r\n$10\r\nab", args, used),
            redis::Parse::kIncomplete);
  EXPECT_EQ(redis::parse_command("*2\r\n$4\r\nAUTHX\r\n", args, used), redis::Parse::kMalformed);
  EXPECT_EQ(redis::parse_command("*99999\r\n", args, used), redis::Parse::kMalformed);
  EXPECT_EQ(redis::parse_command("*1\r\n$-1\r\n", args, used), redis::Parse::kMalformed);
  EXPECT_EQ(redis::parse_command(std::string(70000, 'A'), args, used), redis::Parse::kMalformed);
}

TEST_F(HoneypotFixture, RedisLogsEveryAuthAttemptAndRefusesIt) {
  start({"redis"});
  run();
  int fd = connect_to("redis");
  EXPECT_EQ(exchange(fd, "PING\r\n", 1), "-NOAUTH Authentication required.\r\n");
  EXPECT_EQ(exchange(fd, "*2\r\n$4\r\nAUTH\r\n$6\r\nhunter\r\n", 1), "-ERR invalid password\r\n");
  std::string raw_pw = "p\xff\"w";
  std::string cmd = "*3\r\n$4\r\nAUTH\r\n$5\r\nadmin\r\n$" + std::to_string(raw_pw.size()) +
                    "\r\n" + raw_pw + "\r\n";
  EXPECT_EQ(exchange(fd, cmd, 1),
            "-WRONGPASS invalid username-password pair or user is disabled.\r\n");
  EXPECT_EQ(exchange(fd, "QUIT\r\n", 5), "+OK\r\n");
  ::close(fd);
  auto evs = events();
  ASSERT_EQ(evs.size(), 2u);
  for (const auto& e : evs) {
    EXPECT_EQ(e.type, "event4_honeypot_brute_force");
    EXPECT_EQ(e.fields.at("src_ip"), "127.0.0.1");
    EXPECT_EQ(e.fields.at("dst_port"), std::to_string(ports_["redis"]));
    EXPECT_EQ(e.fields.at("application"), "redis");
    EXPECT_EQ(e.fields.at("public_source"), "test-honeypot");
    EXPECT_EQ(e.fields.at("protocol"), "tcp");
  }
  EXPECT_EQ(evs[0].fields.at("password"), "hunter");
  EXPECT_EQ(evs[0].fields.count("username"), 0u);
  EXPECT_EQ(evs[1].fields.at("username"), "admin");
  EXPECT_EQ(evs[1].fields.at("password"), "p\\xff\"w");
}

// ---------------------------------------------------------------------------------------
// HTTP: exploit signatures and the web service

std::string shipped_rules_path() {
  return std::string(VANTAGE_SOURCE_DIR) + "/conf/honeypot/http_rules.json";
}

TEST(HttpRules, ShippedRulesLoadAndCatchTheirOwnRequests) {
  auto set = http::RuleSet::load(shipped_rules_path());
  ASSERT_TRUE(set.ok()) << set.error().message;
  std::set<std::string> cves;
  for (const auto& r : (*set)->rules()) {
    cves.insert(r.cve);
    EXPECT_FALSE(r.tests.empty()) << r.id;
    EXPECT_FALSE(r.references.empty()) << r.id;
  }
  EXPECT_GE(cves.size(), 30u);
  EXPECT_GE((*set)->benign().size(), 10u);
  // The loader replays every test; do it here too, independently of its bookkeeping.
  for (const auto& r : (*set)->rules()) {
    for (const auto& t : r.tests) {
      std::string wire = t.wire();
      sensors::HttpRequest req;
      std::string why;
      ASSERT_EQ(sensors::parse_http_request(wire, req, {}, &why), sensors::HttpParse::kComplete)
          << r.id << ": " << why;
      const auto* got = (*set)->classify(http::RequestView{wire, &req});
      ASSERT_NE(got, nullptr) << r.id;
      EXPECT_EQ(got->cve, r.cve) << r.id;
    }
  }
}

std::string one_rule(const std::string& rule_fields, const std::string& extra = "") {
  return R"({"format": "vantage-http-rules/1", "rules": [{"id": "r1", "cve": "CVE-2099-0001",
    "name": "test", "class": "remote code execution", "cvss": 9.8, "cvss_version": "3.1",
    "severity": "critical", "tactic": "TA0001", "technique": "T1190", "vendor": "V",
    "product": "P", )" +
         rule_fields + "}]" + extra + "}";
}

TEST(HttpRules, ErrorsNameTheFileTheRuleAndTheField) {
  const std::string good_match = R"("match": [{"field": "path", "contains": "/x"}])";
  const std::string good_tests = R"("tests": [{"target": "/x"}])";
  auto ok = http::RuleSet::parse(one_rule(good_match + "," + good_tests), "t.json");
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  struct Case {
    std::string text, want;
  };
  for (const auto& c : std::vector<Case>{
           {"{", "t.json: not JSON"},
           {R"({"format": "other", "rules": []})", "field 'format'"},
           {one_rule(good_match), "rule 'r1' (#1): field 'tests'"},
           {one_rule(good_tests), "rule 'r1' (#1): field 'match'"},
           {one_rule(R"("match": [{"field": "nope", "contains": "x"}],)" + good_tests),
            "match #1: field 'field': unknown field 'nope'"},
           {one_rule(R"("match": [{"field": "path", "regex": "(unclosed"}],)" + good_tests),
            "field 'regex'"},
           {one_rule(R"("match": [{"field": "path", "regex": "/x"}],)" + good_tests),
            "needs one literal condition"},
           {one_rule(R"("match": [{"field": "header", "contains": "x"}],)" + good_tests),
            "field 'name' is required"},
           {one_rule(good_match + R"(, "tests": [{"target": "/y"}])"),
            "rule 'r1' (#1): test #1: the rule does not match its own test request"},
           {one_rule(good_match + "," + good_tests, R"(, "benign": [{"target": "/x"}])"),
            "benign #1: matched by rule 'r1'"},
           {one_rule(good_match + "," + good_tests + R"(, "colour": "red")"),
            "unknown field 'colour'"},
       }) {
    auto r = http::RuleSet::parse(c.text, "t.json");
    ASSERT_FALSE(r.ok()) << c.text;
    EXPECT_NE(r.error().message.find(c.want), std::string::npos)
        << "got: " << r.error().message << "\nwant: " << c.want;
    EXPECT_EQ(r.error().message.rfind("t.json", 0), 0u) << r.error().message;
  }
  // Field-level checks of the vulnerability's description.
  std::string bad_cve = one_rule(good_match + "," + good_tests);
  bad_cve.replace(bad_cve.find("CVE-2099-0001"), 13, "CVE-99-1");
  auto r = http::RuleSet::parse(bad_cve, "t.json");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("field 'cve'"), std::string::npos) << r.error().message;
  // A generic rule first steals a specific rule's test: the message says which.
  std::string two = R"({"format": "vantage-http-rules/1", "rules": [)";
  for (const char* id : {"generic", "specific"}) {
    two += std::string(id == std::string("generic") ? "" : ",") + R"({"id": ")" + id +
           R"(", "cve": "CVE-2099-0002", "name": "n", "class": "c", "cvss": 5, "cvss_version":
           "3.1", "severity": "medium", "tactic": "TA0001", "technique": "T1190", "vendor": "v",
           "product": "p", "match": [{"field": "path", "contains": ")" +
           (id == std::string("generic") ? "/a" : "/a/b") + R"("}], "tests": [{"target": ")" +
           (id == std::string("generic") ? "/a" : "/a/b") + R"("}]})";
  }
  two += "]}";
  r = http::RuleSet::parse(two, "t.json");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("rule 'specific' (#2): test #1: classified as rule 'generic'"),
            std::string::npos)
      << r.error().message;
}

TEST(HttpRules, FieldsOperatorsAndCase) {
  auto set = http::RuleSet::parse(R"({"format": "vantage-http-rules/1", "rules": [
    {"id": "hdr", "cve": "CVE-2099-0010", "name": "n", "class": "c", "cvss": 5,
     "cvss_version": "3.1", "severity": "medium", "tactic": "TA0001", "technique": "T1190",
     "vendor": "v", "product": "p",
     "match": [{"field": "header", "name": "x-thing", "prefix": "AB", "nocase": true},
               {"field": "header", "name": "X-Thing", "regex": "^ab[0-9]+$", "nocase": true}],
     "tests": [{"target": "/", "headers": {"X-Thing": "aB12"}}]},
    {"id": "dec", "cve": "CVE-2099-0011", "name": "n", "class": "c", "cvss": 5,
     "cvss_version": "3.1", "severity": "medium", "tactic": "TA0001", "technique": "T1190.001",
     "vendor": "v", "product": "p",
     "match": [{"field": "uri_decoded", "contains": "/../"}, {"field": "method", "equals": "GET"}],
     "tests": [{"target": "/a/%2e%2e/b"}]},
    {"id": "body", "cve": "CVE-2099-0012", "name": "n", "class": "c", "cvss": 5,
     "cvss_version": "3.1", "severity": "medium", "tactic": "TA0001", "technique": "T1190",
     "vendor": "v", "product": "p",
     "match": [{"field": "body", "contains": ["needle", "pin"]}],
     "tests": [{"method": "POST", "target": "/", "body": "hay pin hay"}]}],
    "benign": [{"target": "/", "headers": {"X-Thing": "ab12x"}}, {"method": "POST",
               "target": "/a/%2e%2e/b", "body": "x"}, {"target": "/", "body": "NEEDLE"}]})",
                                  "t.json");
  ASSERT_TRUE(set.ok()) << set.error().message;
  std::string out;
  http::percent_decode("%41%zz%4", out);
  EXPECT_EQ(out, "A%zz%4");
}

TEST_F(HoneypotFixture, HttpLogsEveryRequestWithItsClassification) {
  start({"http"});
  run();
  int fd = connect_to("http");
  std::string got = exchange(
      fd, "GET /?x=%24%7Bjndi:ldap://127.0.0.1/a%7D HTTP/1.1\r\nHost: h\r\nUser-Agent: t/1\r\n\r\n",
      1);
  EXPECT_TRUE(got.starts_with("HTTP/1.1 200 OK\r\n")) << got;
  // Pipelined: a benign request and an upload, answered in order on the same connection.
  std::string body = "<?php echo 1; ?>";
  std::string two =
      "GET /robots.txt HTTP/1.1\r\nHost: h\r\n\r\nPOST "
      "/vendor/phpunit/phpunit/src/Util/PHP/eval-stdin.php HTTP/1.1\r\nHost: h\r\n"
      "Content-Length: " +
      std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
  got = exchange(fd, two, 1 << 20);
  EXPECT_NE(got.find("HTTP/1.1 404 Not Found"), std::string::npos) << got;
  EXPECT_NE(got.find("Connection: close"), std::string::npos) << got;
  ::close(fd);
  // Not HTTP at all: logged as malformed, answered 400.
  fd = connect_to("http");
  got = exchange(fd, std::string("\x16\x03\x01\x00\x05hello\r\n\r\n", 14), 1 << 20);
  EXPECT_TRUE(got.starts_with("HTTP/1.1 400")) << got;
  ::close(fd);
  // Half a request, then the peer leaves: logged as incomplete.
  fd = connect_to("http");
  ASSERT_EQ(::send(fd, "GET /half HTTP/1.1\r\nHost:", 25, MSG_NOSIGNAL), 25);
  std::this_thread::sleep_for(100ms);
  ::close(fd);
  std::this_thread::sleep_for(200ms);
  auto evs = events();
  ASSERT_EQ(evs.size(), 5u);
  std::map<std::string, Decoded> by_tag;
  for (const auto& e : evs) {
    EXPECT_EQ(e.type, "event4_honeypot_http_scan");
    EXPECT_EQ(e.fields.at("src_ip"), "127.0.0.1");
    EXPECT_EQ(e.fields.at("dst_port"), std::to_string(ports_["http"]));
    EXPECT_EQ(e.fields.at("url_scheme"), "http");
    EXPECT_EQ(e.fields.at("public_source"), "test-honeypot");
    EXPECT_TRUE(e.fields.count("request_raw"));
    by_tag[e.fields.count("tag") ? e.fields.at("tag") : "-"] = e;
  }
  const auto& l4j = evs[0].fields;
  EXPECT_EQ(l4j.at("vulnerability_id"), "CVE-2021-44228");
  EXPECT_EQ(l4j.at("vulnerability_enum"), "CVE");
  EXPECT_EQ(l4j.at("vulnerability_score"), "10");
  EXPECT_EQ(l4j.at("vulnerability_severity"), "critical");
  EXPECT_EQ(l4j.at("threat_framework"), "MITRE ATT&CK");
  EXPECT_EQ(l4j.at("threat_tactic_id"), "TA0001");
  EXPECT_EQ(l4j.at("threat_technique_id"), "T1190");
  EXPECT_EQ(l4j.at("target_vendor"), "Apache");
  EXPECT_EQ(l4j.at("pattern"), "log4shell");
  EXPECT_EQ(l4j.at("http_agent"), "t/1");
  EXPECT_EQ(l4j.at("http_request_method"), "GET");
  EXPECT_EQ(l4j.at("http_url"), "/?x=%24%7Bjndi:ldap://127.0.0.1/a%7D");
  EXPECT_EQ(evs[1].fields.at("http_url"), "/robots.txt");
  EXPECT_EQ(evs[1].fields.count("vulnerability_id"), 0u);
  const auto& up = evs[2].fields;
  EXPECT_EQ(up.at("vulnerability_id"), "CVE-2017-9841");
  EXPECT_EQ(up.at("body_raw"), "PD9waHAgZWNobyAxOyA/Pg==");  // base64 of the body
  EXPECT_EQ(up.at("file_md5"), "56d26d4051c1d9a6500ef8ca4fbd8834");
  EXPECT_EQ(up.at("file_sha256").size(), 64u);
  EXPECT_TRUE(by_tag.count("http-malformed"));
  EXPECT_TRUE(by_tag.count("http-incomplete"));
  EXPECT_EQ(by_tag["http-incomplete"].fields.at("request_raw"),
            "R0VUIC9oYWxmIEhUVFAvMS4xDQpIb3N0Og==");
}

TEST_F(HoneypotFixture, HttpRulesReloadWhenTheFileChangesAndKeepTheOldOnesIfBroken) {
  fs::path rules_dir =
      fs::temp_directory_path() / ("vantage_hp_rules_" + std::to_string(::getpid()));
  fs::create_directories(rules_dir);
  auto write_rules = [&](const std::string& path_needle) {
    std::ofstream(rules_dir / "http_rules.json.tmp")
        << one_rule(R"("match": [{"field": "path", "contains": ")" + path_needle +
                    R"("}], "tests": [{"target": ")" + path_needle + R"("}])");
    fs::rename(rules_dir / "http_rules.json.tmp", rules_dir / "http_rules.json");
  };
  write_rules("/first");
  tweak_ = [&](HoneypotSettings& s) { s.rules_dir = rules_dir.string(); };
  start({"http"});
  run();
  auto request = [&](const std::string& path) {
    int fd = connect_to("http");
    exchange(fd, "GET " + path + " HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n", 1 << 20);
    ::close(fd);
  };
  request("/first");
  request("/second");
  write_rules("/second");
  std::this_thread::sleep_for(2500ms);  // LiveRules checks the file every 2 s
  request("/first");                    // this connection checks; the next one uses the new
  request("/second");
  std::ofstream(rules_dir / "http_rules.json") << "{broken";
  std::this_thread::sleep_for(2500ms);
  request("/x");
  request("/second");  // the broken file is not used: the rules before it stay
  auto evs = events();
  ASSERT_EQ(evs.size(), 6u);
  auto cve = [&](size_t i) {
    return evs[i].fields.count("vulnerability_id") ? evs[i].fields.at("vulnerability_id") : "";
  };
  EXPECT_EQ(cve(0), "CVE-2099-0001");
  EXPECT_EQ(cve(1), "");
  EXPECT_EQ(cve(3), "CVE-2099-0001");
  EXPECT_EQ(cve(5), "CVE-2099-0001");
  fs::remove_all(rules_dir);
}

TEST_F(HoneypotFixture, HttpRefusesToStartWithABadRulesFile) {
  fs::path rules_dir = fs::temp_directory_path() / ("vantage_hp_bad_" + std::to_string(::getpid()));
  fs::create_directories(rules_dir);
  std::ofstream(rules_dir / "http_rules.json") << one_rule(R"("match": [])");
  HoneypotSettings settings;
  settings.rules_dir = rules_dir.string();
  auto bindings = parse_listen({"http=127.0.0.1:0"});
  ASSERT_TRUE(bindings.ok());
  sensors::SensorHostOptions ho;
  ho.sensor = "honeypot";
  ho.state_dir = (rules_dir / "state").string();
  ho.allow_root = true;
  auto hp = Honeypot::create(settings, *bindings, std::move(ho));
  ASSERT_FALSE(hp.ok());
  EXPECT_NE(hp.error().message.find("http_rules.json: rule 'r1' (#1): field 'match'"),
            std::string::npos)
      << hp.error().message;
  fs::remove_all(rules_dir);
}

}  // namespace
}  // namespace vantage::honeypot

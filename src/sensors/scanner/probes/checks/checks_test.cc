// The check language (template.h, run.h, version.h, safety.h), its exchange over several
// connections, and every shipped check against its fixtures (conf/checks/fixtures/).
#include "sensors/scanner/probes/checks/checks.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "sensors/scanner/probes/checks/fixtures.h"
#include "sensors/scanner/probes/checks/run.h"
#include "sensors/scanner/probes/checks/safety.h"
#include "sensors/scanner/probes/checks/version.h"

namespace vantage::scanner {
namespace {

using namespace std::string_literals;
using json = nlohmann::json;

ProbeTarget target(const std::string& host = "") {
  return {*IpAddress::parse("192.0.2.7"), 443, host};
}

std::shared_ptr<const CheckTemplate> must_parse(const std::string& text) {
  auto t = parse_check_template(text, "inline");
  EXPECT_TRUE(t.ok()) << (t.ok() ? "" : t.error().message);
  return t.ok() ? *t : nullptr;
}

std::string parse_error(const std::string& text) {
  auto t = parse_check_template(text, "inline");
  return t.ok() ? "" : t.error().message;
}

// --- versions ---------------------------------------------------------------------------

bool in(const std::vector<std::string>& ranges, const std::string& v,
        VersionScheme s = VersionScheme::dotted) {
  auto r = VersionRanges::parse(ranges, s);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
  return r.ok() && r->contains(v);
}

TEST(CheckVersion, DottedComparesDigitRuns) {
  EXPECT_TRUE(in({">=7.0.0 <7.2.4.1"}, "7.2.4"));
  EXPECT_FALSE(in({">=7.0.0 <7.2.4.1"}, "7.2.4.1"));
  EXPECT_TRUE(in({">=7.0.0 <7.2.4.1"}, "7.2.4.0"));
  EXPECT_TRUE(in({">=8.5p1 <9.8p1"}, "9.2p1"));
  EXPECT_FALSE(in({">=8.5p1 <9.8p1"}, "9.8p1"));
  EXPECT_TRUE(in({"<4.4p1", ">=8.5p1 <9.8p1"}, "3.9p1"));
  EXPECT_TRUE(in({">=13.1 <13.1-49.13"}, "13.1-48.47"));
  EXPECT_FALSE(in({">=13.1 <13.1-49.13"}, "13.1-49.15"));
  EXPECT_TRUE(in({"2.4.49"}, "2.4.49"));
  EXPECT_FALSE(in({"2.4.49"}, "2.4.50"));
  EXPECT_TRUE(in({"=7.2"}, "7.2.0"));  // missing components are 0
  EXPECT_TRUE(in({"!=1.2.3"}, "1.2.4"));
  EXPECT_TRUE(in({">2.441"}, "2.442"));
  EXPECT_FALSE(in({"<10"}, "no digits here"));
  EXPECT_FALSE(in({"<10"}, std::string(20, '9')));  // over 18 digits: not a version
}

TEST(CheckVersion, SemverOrdersPrereleases) {
  const auto s = VersionScheme::semver;
  EXPECT_TRUE(in({"<8.0.0"}, "8.0.0-beta1", s));
  EXPECT_TRUE(in({">=8.0.0-beta1 <8.3.1"}, "8.3.0", s));
  EXPECT_TRUE(in({">=8.0.0-beta1 <8.3.1"}, "v8.0.0", s));
  EXPECT_TRUE(in({"<1.0.0-alpha.1"}, "1.0.0-alpha", s));
  EXPECT_TRUE(in({"<1.0.0-alpha.beta"}, "1.0.0-alpha.1", s));  // numeric < alphanumeric
  EXPECT_TRUE(in({"<1.0.0-beta.11"}, "1.0.0-beta.2", s));      // numeric comparison
  EXPECT_TRUE(in({"=1.0.0"}, "1.0.0+build.5", s));             // build metadata ignored
  EXPECT_FALSE(in({"<9.0.0"}, "1.2.3.4", s));                  // four parts: not semver
  EXPECT_FALSE(in({"<9.0.0"}, "1.2.3-", s));
  EXPECT_FALSE(VersionRanges::parse({">=x"}, s).ok());
  EXPECT_FALSE(VersionRanges::parse({}, s).ok());
  EXPECT_FALSE(VersionRanges::parse({"  "}, s).ok());
}

// --- non-intrusion rules -----------------------------------------------------------------

TEST(CheckSafety, RefusesWhatCouldChangeOrExploitAServer) {
  namespace cs = check_safety;
  EXPECT_TRUE(cs::http_method("GET").ok());
  EXPECT_TRUE(cs::http_method("OPTIONS").ok());
  for (auto m : {"POST", "PUT", "DELETE", "PATCH", "TRACE", "CONNECT", "get"})
    EXPECT_FALSE(cs::http_method(m).ok()) << m;
  EXPECT_TRUE(cs::http_path("/remote/login?lang=en").ok());
  EXPECT_TRUE(cs::http_path("/owa/auth/logon.aspx;x=1").ok());
  for (auto p : {"x", "", "/a b", "/../etc/passwd", "/cgi-bin/.%2e/.%2e/bin/sh", "/%2E%2E/",
                 "/a\\b", "/a%00", "/?x=${jndi:ldap://x}", "/?q=$(id)", "/?q=<script>", "/?q='1'",
                 "/a|b", "/%252e", "/a\r\nX: y"})
    EXPECT_FALSE(cs::http_path(p).ok()) << p;
  EXPECT_TRUE(cs::http_header("Accept-Language", "en").ok());
  EXPECT_TRUE(cs::http_header("Cookie", "a=b").ok());
  for (auto h : {"Authorization", "Content-Type", "Content-Length", "Transfer-Encoding", "Host",
                 "Connection", "Upgrade", "X-Forwarded-For"})
    EXPECT_FALSE(cs::http_header(h, "x").ok()) << h;
  EXPECT_FALSE(cs::http_header("User-Agent", "${jndi:ldap://a/b}").ok());
  EXPECT_FALSE(cs::http_header("Cookie", "a\r\nb").ok());
  EXPECT_TRUE(cs::raw_payload("").ok());
  EXPECT_TRUE(cs::raw_payload("EHLO vantage.invalid\r\n").ok());
  EXPECT_TRUE(cs::raw_payload("a1 CAPABILITY\r\n").ok());
  EXPECT_TRUE(cs::raw_payload("t3 12.2.1\nAS:255\nHL:19\n\n").ok());
  EXPECT_TRUE(cs::raw_payload("\x06\x00\xff\x07\x00\x00\x00\x00"s).ok());
  for (auto p :
       {"SITE CPFR /etc/passwd\r\n", "DELE x\r\n", "USER anonymous\r\n", "MAIL FROM:<a@b>\r\n",
        "CONFIG SET dir /tmp\r\n", "EHLO x\r\nDATA\r\n", "FLUSHALL\r\n"})
    EXPECT_FALSE(cs::raw_payload(p).ok()) << p;
  EXPECT_FALSE(cs::raw_payload("\x01\x02${jndi:ldap://x}"s).ok());
  EXPECT_FALSE(cs::raw_payload(std::string(513, '\x01')).ok());
}

TEST(CheckTemplate, LoaderEnforcesTheRules) {
  EXPECT_NE(parse_error(
                R"J({"id":"x","request":{"method":"POST","path":"/"},"match":{"status":[200]}})J"),
            "");
  EXPECT_NE(
      parse_error(R"J({"id":"x","request":{"path":"/","body":"a=b"},"match":{"status":[200]}})J"),
      "");
  EXPECT_NE(parse_error(R"J({"id":"x","request":{"path":"/..;/x"},"match":{"status":[200]}})J"),
            "");
  EXPECT_NE(
      parse_error(
          R"J({"id":"x","request":{"path":"/","headers":{"Authorization":"Basic x"}},"match":{"status":[200]}})J"),
      "");
  EXPECT_NE(
      parse_error(
          R"J({"id":"x","protocol":"tcp","port":21,"report_type":"scan_ftp","steps":[{"send":"SITE CPFR /etc/passwd\r\n","match":{"regex":"350"}}]})J"),
      "");
  // A check must decide on what the server says.
  EXPECT_NE(parse_error(R"J({"id":"x","steps":[{"request":{"path":"/"}}]})J"), "");
  EXPECT_NE(
      parse_error(
          R"J({"id":"x","steps":[{"request":{"path":"/"},"match":{"status":[200]}},{"request":{"path":"/b"}}]})J"),
      "");
  // Typos are errors, with the JSON path.
  EXPECT_NE(
      parse_error(R"J({"id":"x","request":{"path":"/"},"match":{"stauts":[200]}})J").find("match"),
      std::string::npos);
  EXPECT_NE(
      parse_error(
          R"J({"id":"x","steps":[{"request":{"path":"/"},"match":{"any":[{"status":[200]},{"regex":"("}]}}]})J")
          .find("steps[0].match.any[1]"),
      std::string::npos);
  EXPECT_NE(
      parse_error(
          R"J({"id":"x","request":{"path":"/"},"match":{"version":{"from":"nope","ranges":["<1"]}}})J"),
      "");
  EXPECT_NE(
      parse_error(
          R"J({"id":"x","report_type":"scan_nonexistent","request":{"path":"/"},"match":{"status":[200]}})J"),
      "");
  EXPECT_NE(
      parse_error(
          R"J({"id":"x","request":{"path":"/"},"extract":[{"name":"v","regex":"(a)","column":"no_such_column"}],"match":{"status":[200]}})J"),
      "");
  EXPECT_NE(
      parse_error(
          R"J({"id":"x","request":{"path":"/"},"extract":[{"name":"v","regex":"(a)","column":"ip"}],"match":{"status":[200]}})J"),
      "");
  EXPECT_NE(
      parse_error(
          R"J({"id":"x","info":{"cve":["CVE-21-1"]},"request":{"path":"/"},"match":{"status":[200]}})J"),
      "");
  EXPECT_NE(
      parse_error(
          R"J({"id":"x","info":{"cvss":{"score":11}},"request":{"path":"/"},"match":{"status":[200]}})J"),
      "");
  EXPECT_NE(parse_error(R"J({"id":"X Y","request":{"path":"/"},"match":{"status":[200]}})J"), "");
  EXPECT_NE(
      parse_error(R"J({"id":"x","severity":7,"request":{"path":"/"},"match":{"status":[200]}})J"),
      "");
  EXPECT_NE(
      parse_error(
          R"J({"id":"x","protocol":"udp","port":623,"report_type":"scan_ipmi","steps":[{"send_hex":"00"},{"send_hex":"00","match":{"bytes":"00"}}]})J"),
      "");
  EXPECT_NE(parse_error("[]"), "");
}

// --- running checks ------------------------------------------------------------------------

const char* kMultiStep = R"J({
  "id": "multi", "tls": true,
  "info": {"name": "Demo", "cve": ["CVE-2099-0001", "CVE-2099-0002"], "severity": "critical",
           "cvss": {"score": 9.8, "vector": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}},
  "steps": [
    {"request": {"path": "/"},
     "extract": [{"name": "next", "header": "location", "regex": "^(?:https?://[^/]+)?(/[^?#]*)"}],
     "match": {"status": [301, 302]}},
    {"request": {"path": "{{next}}", "headers": {"Referer": "https://{{host}}/"}},
     "extract": [{"name": "version", "regex": "Demo ([0-9.]+)", "column": "version"},
                 {"name": "build", "json": "/build/id", "column": "build_branch"}],
     "match": {"all": [{"status": [200]},
                       {"any": [{"version": {"from": "version", "ranges": ["<1.2.3", ">=2.0 <2.0.5"]}},
                                {"contains": "force-vulnerable"}]},
                       {"not": {"regex": "(?i)patched"}}]}}]})J";

TEST(CheckRun, MultiStepUsesExtractedValues) {
  auto t = must_parse(kMultiStep);
  ASSERT_TRUE(t);
  EXPECT_EQ(t->tag, "cve-2099-0001;cve-2099-0002");
  EXPECT_EQ(t->port, 443);
  std::vector<std::string> reqs;
  auto r = run_check_on_replies(
      t, target("portal.example"),
      {"HTTP/1.1 302 Found\r\nLocation: https://portal.example/app/login?x=1\r\nContent-Length: "
       "0\r\n\r\n",
       "HTTP/1.1 200 OK\r\nServer: demo\r\n\r\n{\"name\":\"Demo 2.0.4\",\"build\":{\"id\":42}}"},
      &reqs);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ((*r)["version"], "2.0.4");
  EXPECT_EQ((*r)["build_branch"], "42");
  EXPECT_EQ((*r)["severity"], "critical");
  EXPECT_EQ((*r)["tag"], "cve-2099-0001;cve-2099-0002");
  EXPECT_EQ((*r)["http_code"], 200);
  EXPECT_EQ((*r)["server"], "demo");
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[0].rfind("GET / HTTP/1.1\r\nHost: portal.example\r\n", 0), 0u) << reqs[0];
  EXPECT_EQ(reqs[1].rfind("GET /app/login HTTP/1.1\r\n", 0), 0u) << reqs[1];
  EXPECT_NE(reqs[1].find("Referer: https://portal.example/\r\n"), std::string::npos);
  EXPECT_NE(reqs[1].find("Connection: close\r\n\r\n"), std::string::npos);

  // Patched version; version outside the ranges; the NOT branch; the first step failing.
  const std::string redirect = "HTTP/1.1 302 Found\r\nLocation: /app/\r\n\r\n";
  EXPECT_FALSE(
      run_check_on_replies(t, target(), {redirect, "HTTP/1.1 200 OK\r\n\r\nDemo 2.0.5"}).ok());
  EXPECT_TRUE(
      run_check_on_replies(t, target(), {redirect, "HTTP/1.1 200 OK\r\n\r\nDemo 1.2.2"}).ok());
  EXPECT_TRUE(
      run_check_on_replies(t, target(), {redirect, "HTTP/1.1 200 OK\r\n\r\nforce-vulnerable"})
          .ok());
  EXPECT_FALSE(
      run_check_on_replies(t, target(), {redirect, "HTTP/1.1 200 OK\r\n\r\nDemo 1.0 PATCHED"})
          .ok());
  reqs.clear();
  EXPECT_FALSE(
      run_check_on_replies(t, target(), {"HTTP/1.1 200 OK\r\n\r\nDemo 1.0", ""}, &reqs).ok());
  EXPECT_EQ(reqs.size(), 1u);  // no second request after a failed step
  EXPECT_FALSE(run_check_on_replies(t, target(), {"SSH-2.0-x\r\n"}).ok());
  EXPECT_FALSE(run_check_on_replies(t, target(), {}).ok());
}

TEST(CheckRun, SubstitutedValuesCannotBreakTheRules) {
  auto t = must_parse(R"J({"id":"s","steps":[
    {"request":{"path":"/"},"extract":[{"name":"p","header":"x-next"}],"match":{"status":[200]}},
    {"request":{"path":"/a/{{p}}"},"match":{"status":[200]}}]})J");
  ASSERT_TRUE(t);
  std::vector<std::string> reqs;
  // A reply cannot smuggle a query or traversal: values are percent-encoded in paths.
  auto r = run_check_on_replies(
      t, target(), {"HTTP/1.1 200 OK\r\nX-Next: b?c=${x}\r\n\r\n", "HTTP/1.1 200 OK\r\n\r\n"},
      &reqs);
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[1].rfind("GET /a/b%3Fc%3D%24%7Bx%7D HTTP/1.1", 0), 0u) << reqs[1];
  reqs.clear();
  r = run_check_on_replies(t, target(), {"HTTP/1.1 200 OK\r\nX-Next: ../../etc\r\n\r\n", ""},
                           &reqs);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(reqs.size(), 1u);  // the traversal request is never built
  // A value that never arrived: no request.
  reqs.clear();
  EXPECT_FALSE(run_check_on_replies(t, target(), {"HTTP/1.1 200 OK\r\n\r\n", ""}, &reqs).ok());
  EXPECT_EQ(reqs.size(), 1u);
}

TEST(CheckRun, RawPayloadVariablesAreCheckedAfterSubstitution) {
  auto t = must_parse(R"J({"id":"v","protocol":"tcp","port":25,"report_type":"scan_smtp_vulnerable",
    "steps":[{"read":{"until":"\\n"},"extract":[{"name":"who","regex":"^220 ([^ \\r\\n]+)"}],"match":{"regex":"^220"}},
             {"send":"EHLO {{who}}\r\n","match":{"regex":"^250"}}]})J");
  ASSERT_TRUE(t);
  std::vector<std::string> reqs;
  EXPECT_TRUE(
      run_check_on_replies(t, target(), {"220 mx.example ESMTP\r\n", "250 hi\r\n"}, &reqs).ok());
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[1], "EHLO mx.example\r\n");
  reqs.clear();
  // A banner carrying an injection string never reaches the next request.
  EXPECT_FALSE(
      run_check_on_replies(t, target(), {"220 ${jndi:ldap://x/a} ESMTP\r\n", "250 hi\r\n"}, &reqs)
          .ok());
  EXPECT_EQ(reqs.size(), 1u);
}

TEST(CheckRun, RawTcpStepsBinaryExtractorsAndMaps) {
  auto t =
      must_parse(R"J({"id":"raw","protocol":"tcp","port":2000,"report_type":"scan_smtp_vulnerable",
    "info":{"cve":"CVE-2099-0003","severity":"high"},
    "steps":[
      {"read":{"until":"\\r\\n"},"extract":[{"name":"banner","regex":"^220 (.*)\\r\\n","column":"banner"}],
       "match":{"regex":"^220 "}},
      {"send":"EHLO vantage.invalid\r\n","read":{"until":"250 "},
       "extract":[{"name":"stamp","binary":{"offset":4,"length":4,"endian":"little"},
                   "map":{"1684234849":"4.91","1684234850":"4.99"}}],
       "match":{"all":[{"bytes":"3235302d","offset":0},{"version":{"from":"stamp","ranges":["<4.92"]}}]}}]})J");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->tag, "cve-2099-0003");
  std::vector<std::string> reqs;
  // bytes 4..7 of "250-abcd" little-endian: 0x64636261 = 1684234849.
  auto r = run_check_on_replies(t, target(), {"220 mx ESMTP\r\n", "250-abcd\r\n250 OK\r\n"}, &reqs);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ((*r)["banner"], "mx ESMTP");
  EXPECT_EQ((*r)["severity"], "high");
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[0], "");
  EXPECT_EQ(reqs[1], "EHLO vantage.invalid\r\n");
  EXPECT_FALSE(run_check_on_replies(t, target(), {"220 mx\r\n", "250-abce\r\n250 OK\r\n"}).ok());
  EXPECT_FALSE(run_check_on_replies(t, target(), {"220 mx\r\n", "250-xyz\r\n"}).ok());  // unmapped
  EXPECT_FALSE(run_check_on_replies(t, target(), {"220 mx\r\n", "25"}).ok());           // too short

  CheckRun run(t, target());
  (void)run.request();
  EXPECT_FALSE(run.reply_complete("220 mx"));
  EXPECT_TRUE(run.reply_complete("220 mx\r\n"));
}

TEST(CheckRun, UdpCheckAsAModule) {
  auto m = parse_check(R"J({"id":"u","protocol":"udp","port":623,"report_type":"scan_ipmi",
    "info":{"cve":"CVE-2099-0004"},
    "steps":[{"send_hex":"0600ff07 0000000000 0000000000 0920 1837 0400",
              "match":{"bytes":"0600ff07","offset":0}}]})J",
                       "inline");
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_EQ(m->transport, Transport::udp);
  const std::string framed = m->request(target());
  auto out = udp_unframe(framed);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].size(), 20u);
  EXPECT_TRUE(m->parse(udp_frames({"\x06\x00\xff\x07 reply"s})).ok());
  EXPECT_FALSE(m->parse(udp_frames({"\x06\x00\xff\x08"s})).ok());
  EXPECT_FALSE(m->parse("").ok());
}

TEST(CheckRun, ExtractorsReadHeadersJsonAndParts) {
  auto t = must_parse(R"J({"id":"e","request":{"path":"/x"},
    "extract":[{"name":"owa","header":"X-OWA-Version","column":"version"},
               {"name":"num","json":"/version/number"},
               {"name":"ctype","header":"content-type","regex":"^([a-z]+)/"},
               {"name":"status_line","regex":"^(HTTP/1\\.[01]) ","part":"headers"}],
    "match":{"all":[{"extracted":"owa"},{"extracted":{"name":"num","regex":"^7\\."}},
                    {"extracted":{"name":"ctype","regex":"^application$"}},
                    {"extracted":"status_line"},
                    {"contains":["Server: x"],"part":"all"}]}})J");
  ASSERT_TRUE(t);
  auto r = run_check_on_replies(
      t, target(),
      {"HTTP/1.1 200 OK\r\nServer: x\r\nX-OWA-Version: 15.1.2106.2\r\nContent-Type: "
       "application/json\r\n\r\n{\"version\":{\"number\":\"7.17.9\"}}"});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ((*r)["version"], "15.1.2106.2");
  EXPECT_FALSE(
      run_check_on_replies(t, target(),
                           {"HTTP/1.1 200 OK\r\nServer: x\r\nX-OWA-Version: 1\r\nContent-Type: "
                            "application/json\r\n\r\n{\"version\":{\"number\":8}}"})
          .ok());
  EXPECT_FALSE(run_check_on_replies(t, target(), {"HTTP/1.1 200 OK\r\n\r\nnot json"}).ok());
}

TEST(CheckRun, HeadRepliesEndAtTheHeaders) {
  auto t = must_parse(
      R"J({"id":"h","request":{"method":"HEAD","path":"/"},"match":{"headers":{"server":"^Apache/2\\.4\\.49"}}})J");
  ASSERT_TRUE(t);
  CheckRun run(t, target());
  ASSERT_TRUE(run.request().ok());
  EXPECT_TRUE(run.reply_complete("HTTP/1.1 200 OK\r\nContent-Length: 500\r\n\r\n"));
  EXPECT_TRUE(
      run_check_on_replies(
          t, target(),
          {"HTTP/1.1 200 OK\r\nServer: Apache/2.4.49 (Unix)\r\nContent-Length: 500\r\n\r\n"})
          .ok());
}

// The exchange: TLS is exercised end to end in tests/scanner/checks_e2e_test.sh; here the
// plain multi-step path and its connection choreography.
TEST(CheckExchange, OneConnectionPerHttpStep) {
  auto t = must_parse(R"J({"id":"x2","steps":[
    {"request":{"path":"/a"},"match":{"status":[200]}},
    {"request":{"path":"/b"},"match":{"contains":"yes"}}]})J");
  ASSERT_TRUE(t);
  ProbeModule m = make_check_module(t);
  ASSERT_TRUE(m.exchange);
  auto x = m.exchange(target());
  EXPECT_EQ(x->start().rfind("GET /a ", 0), 0u);
  bool done = false;
  EXPECT_EQ(x->feed("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n", &done), "");
  EXPECT_FALSE(done);
  EXPECT_EQ(x->feed("ok", &done), "");
  EXPECT_TRUE(done);
  ASSERT_TRUE(x->next_connection(ConnectionEnd::done));
  EXPECT_EQ(x->start().rfind("GET /b ", 0), 0u);
  done = false;
  // No Content-Length: the reply ends when the server closes.
  EXPECT_EQ(x->feed("HTTP/1.1 200 OK\r\n\r\nyes", &done), "");
  EXPECT_FALSE(done);
  EXPECT_FALSE(x->next_connection(ConnectionEnd::closed));
  auto r = x->result();
  ASSERT_TRUE(r.ok()) << r.error().message;

  // A step that does not match asks for no further connection.
  auto y = m.exchange(target());
  (void)y->start();
  done = false;
  (void)y->feed("HTTP/1.1 404 NF\r\nContent-Length: 0\r\n\r\n", &done);
  EXPECT_TRUE(done);
  EXPECT_FALSE(y->next_connection(ConnectionEnd::done));
  EXPECT_FALSE(y->result().ok());
}

// --- the shipped checks ----------------------------------------------------------------------

// Every file in conf/checks loads, and every one has fixtures: at least one reply that must
// match (a vulnerable version) and one that must not (a patched one), each decided right.
TEST(ShippedChecks, EveryCheckHasFixturesAndDecidesThemRight) {
  auto report = run_fixture_dir(std::string(VANTAGE_SOURCE_DIR) + "/conf/checks");
  ASSERT_TRUE(report.ok()) << report.error().message;
  for (const auto& f : report->failures)
    ADD_FAILURE() << f.check << " [" << f.name << "]: " << f.reason;
  EXPECT_GE(report->checks, 42u);
  EXPECT_GE(report->cves, 40u);
  EXPECT_GE(report->cases, 3 * report->checks);
}

// The fixture runner itself catches each kind of problem (a test that can fail).
TEST(ShippedChecks, FixtureRunnerReportsProblems) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("vantage_fixtures_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir / "fixtures");
  auto write = [&](const std::string& name, const std::string& text) {
    std::ofstream(dir / name) << text;
  };
  write(
      "a.json",
      R"J({"id":"a","info":{"cve":"CVE-2099-0001"},"request":{"path":"/"},"match":{"headers":{"server":"^x/1$"}}})J");
  write("b.json", R"J({"id":"b","request":{"path":"/"},"match":{"status":[200]}})J");
  write("fixtures/a.json", R"J({"cases":[
    {"name":"ok","expect":"match","replies":["HTTP/1.1 200 OK\r\nServer: x/1\r\n\r\n"],"fields":{"server":"x/1"}},
    {"name":"wrong decision","expect":"no-match","replies":["HTTP/1.1 200 OK\r\nServer: x/1\r\n\r\n"]},
    {"name":"wrong field","expect":"match","replies":["HTTP/1.1 200 OK\r\nServer: x/1\r\n\r\n"],"fields":{"http_code":404}},
    {"name":"bad hex","expect":"match","replies":[{"hex":"zz"}]}]})J");
  write("fixtures/zombie.json", R"J({"cases":[]})J");
  auto report = run_fixture_dir(dir.string());
  std::filesystem::remove_all(dir);
  ASSERT_TRUE(report.ok()) << report.error().message;
  std::set<std::string> got;
  for (const auto& f : report->failures)
    got.insert(f.check + "|" + f.name + "|" + f.reason.substr(0, 12));
  EXPECT_TRUE(got.count("a||a CVE check ")) << ::testing::PrintToString(got);
  EXPECT_TRUE(got.count("a|wrong decision|should not m")) << ::testing::PrintToString(got);
  EXPECT_TRUE(got.count("a|wrong field|column http_")) << ::testing::PrintToString(got);
  EXPECT_TRUE(got.count("a|bad hex|a reply is a")) << ::testing::PrintToString(got);
  EXPECT_TRUE(got.count("b||no fixture f")) << ::testing::PrintToString(got);
  EXPECT_TRUE(got.count("|zombie.json|fixture for ")) << ::testing::PrintToString(got);
  EXPECT_EQ(report->failures.size(), 6u) << ::testing::PrintToString(got);
}

}  // namespace
}  // namespace vantage::scanner

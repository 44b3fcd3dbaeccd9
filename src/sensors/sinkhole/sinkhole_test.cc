// The sinkhole's parts one by one (DNS wire format, DGAs, domain map, classifier, ClientHello
// and JA3, the durable DNS counts) and the whole sensor over real sockets on 127.0.0.1, its
// events read back from the inbox it ships to and decoded by the pipeline's own decoder.

#include "sensors/sinkhole/sinkhole.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "common/strings.h"
#include "core/catalogue.h"
#include "pipeline/jsonl_decoder.h"
#include "sensors/sinkhole/classifier.h"
#include "sensors/sinkhole/dga.h"
#include "sensors/sinkhole/dns_counts.h"
#include "sensors/sinkhole/dns_message.h"
#include "sensors/sinkhole/domain_map.h"
#include "sensors/sinkhole/http_service.h"
#include "sensors/sinkhole/referer.h"
#include "sensors/sinkhole/tls_hello.h"
#include "sensors/sinkhole/watch.h"

namespace vantage::sinkhole {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

fs::path temp_dir(const std::string& name) {
  fs::path p =
      fs::temp_directory_path() / ("vantage_sinkhole_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(p);
  fs::create_directories(p);
  return p;
}

std::string source_dir() {
  const char* d = std::getenv("VANTAGE_SOURCE_DIR");
  return d ? d : VANTAGE_SOURCE_DIR;
}

Families test_families() {
  auto f = Families::parse(R"({"families": [
    {"name": "necurs", "tag": "necurs", "severity": "critical"},
    {"name": "zeus", "infection": "zeus", "tag": "zeus-tag", "severity": "high"},
    {"name": "mirai", "severity": "high"}]})");
  EXPECT_TRUE(f.ok());
  return std::move(*f);
}

// ---- DNS wire format ---------------------------------------------------------------------

std::string query_bytes(uint16_t id, std::string_view name, uint16_t type, bool edns = false) {
  std::string q;
  EXPECT_TRUE(dns::build_query(id, name, type, q));
  if (edns) {
    q[11] = 1;  // ARCOUNT
    q += std::string("\0\0\x29\x10\x00\0\0\0\0\0\0", 11);
  }
  return q;
}

TEST(DnsMessage, ReadsAQueryAndWritesAnAnswerAResolverCanRead) {
  std::string msg = query_bytes(0x1234, "WwW.Necurs-Demo.TEST", dns::kA, true);
  dns::Query q;
  const char* why = "";
  ASSERT_EQ(dns::parse_query(msg, q, &why), dns::QueryParse::kOk) << why;
  EXPECT_EQ(q.id, 0x1234);
  EXPECT_EQ(q.qtype, dns::kA);
  EXPECT_TRUE(q.edns);
  EXPECT_EQ(q.edns_udp_size, 4096);
  std::string text;
  dns::append_presentation(q.qname, text);
  EXPECT_EQ(text, "www.necurs-demo.test");
  EXPECT_EQ(q.qname.labels, 3);

  std::string answer;
  dns::AnswerWriter w(answer);
  w.begin(q, dns::kNoError, true);
  w.add_a(w.kAnswer, -1, 300, 0xC6120001);
  w.add_aaaa(w.kAnswer, -1, 300, *IpAddress::parse("2001:db8::1"));
  dns::WireName ns;
  ASSERT_TRUE(dns::encode_name("ns1.sinkhole.test", ns));
  w.add_ns(w.kAuthority, 2, 300, ns);
  w.add_opt(1232);
  w.finish(512);
  dns::ResolverAnswer a;
  ASSERT_TRUE(dns::parse_answer(answer, a, &why)) << why;
  EXPECT_EQ(a.id, 0x1234);
  EXPECT_EQ(a.rcode, 0);
  ASSERT_EQ(a.addresses.size(), 2u);
  EXPECT_EQ(a.addresses[0].to_string(), "198.18.0.1");
  EXPECT_EQ(a.addresses[1].to_string(), "2001:db8::1");
  EXPECT_TRUE(a.ns.empty());  // authority NS are not answers
  // The question is echoed with the case it was asked in (0x20 randomisation).
  EXPECT_NE(answer.find("\x03WwW\x0bNecurs-Demo\x04TEST"), std::string::npos);
  // Too big for the limit: cut to the question, TC set.
  w.begin(q, dns::kNoError, true);
  for (int i = 0; i < 100; ++i) w.add_a(w.kAnswer, -1, 300, 0x01020304);
  EXPECT_LE(w.finish(512), 512u);
  EXPECT_TRUE(answer[2] & 0x02);
}

TEST(DnsMessage, RefusesHostileNames) {
  dns::WireName n;
  const char* why = "";
  size_t pos = 0;
  // A pointer to itself, a forward pointer, a chain past the pointer limit.
  std::string self("\xc0\x00", 2);
  EXPECT_FALSE(dns::read_name(self, pos, n, &why));
  std::string forward("\xc0\x05\x00\x00\x00\x01\x61\x00", 8);
  pos = 0;
  EXPECT_FALSE(dns::read_name(forward, pos, n, &why));
  std::string loop("\x01\x61\xc0\x00", 4);  // label then a pointer back to it, forever
  pos = 2;
  EXPECT_FALSE(dns::read_name(loop, pos, n, &why));
  // A truncated label, a reserved label type, a name over 255 bytes.
  pos = 0;
  EXPECT_FALSE(dns::read_name(std::string("\x05"
                                          "ab",
                                          3),
                              pos, n, &why));
  pos = 0;
  EXPECT_FALSE(dns::read_name(std::string("\x41"
                                          "a\x00",
                                          3),
                              pos, n, &why));
  std::string long_name;
  for (int i = 0; i < 5; ++i) long_name += std::string(1, '\x3f') + std::string(63, 'a');
  long_name.push_back('\0');
  pos = 0;
  EXPECT_FALSE(dns::read_name(long_name, pos, n, &why));
  EXPECT_STREQ(why, "name longer than 255 bytes");
  // Odd bytes are escaped, never raw in the text.
  pos = 0;
  ASSERT_TRUE(dns::read_name(std::string("\x03"
                                         "a\tB\x03"
                                         "com\x00",
                                         9),
                             pos, n, &why));
  std::string text;
  dns::append_presentation(n, text);
  EXPECT_EQ(text, "a\\009b.com");
  // Queries that are not: too short, a response, two questions, an opcode we do not serve,
  // a huge count with nothing behind it.
  dns::Query q;
  EXPECT_EQ(dns::parse_query("abc", q, &why), dns::QueryParse::kTooShort);
  std::string resp = query_bytes(1, "a.test", dns::kA);
  resp[2] = static_cast<char>(resp[2] | 0x80);
  EXPECT_EQ(dns::parse_query(resp, q, &why), dns::QueryParse::kNotAQuery);
  std::string two = query_bytes(1, "a.test", dns::kA);
  two[5] = 2;
  EXPECT_EQ(dns::parse_query(two, q, &why), dns::QueryParse::kFormErr);
  std::string notify = query_bytes(1, "a.test", dns::kSOA);
  notify[2] = static_cast<char>(4 << 3);
  EXPECT_EQ(dns::parse_query(notify, q, &why), dns::QueryParse::kNotImp);
  std::string many = query_bytes(1, "a.test", dns::kA);
  many[6] = many[7] = many[8] = many[9] = many[10] = many[11] = '\xff';
  EXPECT_EQ(dns::parse_query(many, q, &why), dns::QueryParse::kOk);  // answered, no EDNS
  EXPECT_FALSE(q.edns);
}

// ---- DGAs ---------------------------------------------------------------------------------

TEST(Dga, GivesThePublishedAlgorithmsDomains) {
  // Vectors computed independently from the write-ups' reference descriptions.
  const DgaAlgorithm* necurs = find_dga("necurs");
  ASSERT_NE(necurs, nullptr);
  std::vector<std::string> out;
  necurs->generate({9, 2048, {}}, *parse_date("2026-12-07"), out);
  ASSERT_EQ(out.size(), 2048u);
  EXPECT_EQ(out[0], "ssneuhdooqgvavgybuua.cm");
  EXPECT_EQ(out[1], "phqveplkqwu.sx");
  EXPECT_EQ(out[2047], "liilcafsfaxbn.ki");
  out.clear();
  necurs->generate({9, 2, {}}, *parse_date("2015-01-20"), out);
  EXPECT_EQ(out, (std::vector<std::string>{"ugpqryjosahariolynps.co", "dkxpgseru.nu"}));
  const DgaAlgorithm* ramnit = find_dga("ramnit");
  ASSERT_NE(ramnit, nullptr);
  out.clear();
  ramnit->generate({0xEF214BBF, 3, {}}, 0, out);
  EXPECT_EQ(out, (std::vector<std::string>{"mtsoexdphaqliva.com", "uulwwmawqjujuuprpp.com",
                                           "twuybywnrlqcf.com"}));
  out.clear();
  ramnit->generate({0x4302C04A, 3, {"click", "bid", "eu"}}, 0, out);
  EXPECT_EQ(out,
            (std::vector<std::string>{"rgcakqlu.click", "rycvrswhnhygtj.bid", "ijjsshatuadmd.eu"}));
}

// ---- Domain map ---------------------------------------------------------------------------

TEST(DomainMap, ReadsTheFileAndFindsTheMostSpecificZone) {
  auto fam = test_families();
  DayNumber today = *parse_date("2026-12-07");
  auto m = DomainMap::parse(R"(# comment
zone   sinkhole.test
domain C2.Example.test   family=necurs expires=2027-01-31   # trailing comment
domain deep.c2.example.test family=zeus from=2026-12-01 until=2026-12-31
domain later.test family=zeus from=2027-01-01
dga    necurs family=necurs seed=9 count=4 tlds=test from=2026-12-01 until=2026-12-31
dga    ramnit family=zeus seed=0xEF214BBF count=2 tlds=test
)",
                            fam, {today, 1});
  ASSERT_TRUE(m.ok()) << m.error().message;
  const DomainMap& map = **m;
  auto* e = map.find("www.c2.example.test");
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->apex, "c2.example.test");
  EXPECT_EQ(fam.at(e->family).name, "necurs");
  EXPECT_EQ(e->expires, *parse_date("2027-01-31"));
  EXPECT_EQ(map.find("x.deep.c2.example.test")->apex, "deep.c2.example.test");
  EXPECT_EQ(map.find("ns1.sinkhole.test")->kind, ZoneEntry::Kind::kOwn);
  EXPECT_EQ(map.find("example.test"), nullptr);
  EXPECT_EQ(map.find("test"), nullptr);
  EXPECT_FALSE(map.find("later.test")->active(today));
  // Necurs for 2026-12-06..08 (slack 1): days 6 and 7 are one 4-day block, 8 the next.
  std::vector<std::string> expect;
  for (int d : {6, 8}) {
    find_dga("necurs")->generate({9, 4, {"test"}}, today + d - 7, expect);
  }
  for (const auto& n : expect) {
    auto* g = map.find(n);
    ASSERT_NE(g, nullptr) << n;
    EXPECT_TRUE(g->generated);
    EXPECT_TRUE(g->active(today));
  }
  ASSERT_NE(map.find("mtsoexdphaqliva.test"), nullptr);  // ramnit, undated
  EXPECT_EQ(map.dga_lines().size(), 2u);
}

TEST(DomainMap, NamesTheLineOfEveryMistake) {
  auto fam = test_families();
  auto bad = [&](const std::string& text) {
    auto m = DomainMap::parse(text, fam, {0, 2});
    EXPECT_FALSE(m.ok()) << text;
    return m.ok() ? std::string() : m.error().message;
  };
  EXPECT_EQ(bad("\n\ndomain a.test\n").substr(0, 2), "3:");
  EXPECT_NE(bad("domain a.test family=nosuch").find("not in the families file"), std::string::npos);
  EXPECT_NE(
      bad("domain a.test family=zeus\ndomain A.test family=zeus").find("already listed on line 1"),
      std::string::npos);
  EXPECT_NE(bad("domain a..test family=zeus").find("not a domain name"), std::string::npos);
  EXPECT_NE(bad("domain a.test family=zeus from=2026-13-01").find("not a YYYY-MM-DD"),
            std::string::npos);
  EXPECT_NE(bad("dga nosuch family=zeus").find("no DGA 'nosuch'"), std::string::npos);
  EXPECT_NE(bad("dga necurs family=zeus count=0").find("count=0"), std::string::npos);
  EXPECT_NE(bad("frobnicate a.test").find("unknown directive"), std::string::npos);
  EXPECT_NE(bad("domain a.test family=zeus colour=red").find("unknown option"), std::string::npos);
  // Over the bound: refused, after generating no more than the bound leaves room for.
  DomainMapOptions small{*parse_date("2026-12-07"), 1, 100};
  auto m = DomainMap::parse("dga ramnit family=zeus seed=1 count=100000", fam, small);
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.error().message.find("more than 100 domains"), std::string::npos)
      << m.error().message;
}

TEST(DomainMap, TheShippedExampleFilesLoad) {
  SinkholeSettings s;
  s.domains_file = source_dir() + "/conf/sinkhole/domains.txt";
  s.families_file = source_dir() + "/conf/sinkhole/families.json";
  s.rules_file = source_dir() + "/conf/sinkhole/rules.json";
  auto snap = load_snapshot(s, today());
  ASSERT_TRUE(snap.ok()) << snap.error().message;
  EXPECT_GE((*snap)->families.size(), 12u);
  EXPECT_NE((*snap)->domains->find("www.necurs-demo.test"), nullptr);
  EXPECT_GE((*snap)->classifier.http_rules(), 8u);
}

// ---- Classifier -----------------------------------------------------------------------------

TEST(Classifier, GlobsAndBodyKinds) {
  EXPECT_TRUE(glob_match("*", ""));
  EXPECT_TRUE(glob_match("/gate.php", "/gate.php"));
  EXPECT_TRUE(glob_match("*gate.php", "/x/gate.php"));
  EXPECT_FALSE(glob_match("*gate.php", "/gate.php5"));
  EXPECT_TRUE(glob_match("a*b*c", "axxbyyc"));
  EXPECT_FALSE(glob_match("a*b*c", "axxbyy"));
  EXPECT_TRUE(glob_match("?x*", "ax"));
  // A pathological pattern on a long text ends (no exponential backtracking).
  EXPECT_FALSE(glob_match("*a*a*a*a*a*a*a*b", std::string(20000, 'a')));
  EXPECT_EQ(body_kind(""), "empty");
  EXPECT_EQ(body_kind(" {\"a\":1}"), "json");
  EXPECT_EQ(body_kind("aGVsbG8gd29ybGQ="), "base64");
  EXPECT_EQ(body_kind("a=1&b=x%20y"), "urlencoded");
  EXPECT_EQ(body_kind("hello world"), "text");
  EXPECT_EQ(body_kind(std::string("\x00\x01\xff", 3)), "binary");
}

TEST(Classifier, FirstMatchingRuleNamesTheFamilyElseTheHostsDomain) {
  auto fam = test_families();
  auto c = Classifier::parse(R"({
    "http": [
      {"name": "zeus-gate", "family": "zeus", "method": "POST", "path": "*gate.php",
       "body_kind": "binary"},
      {"name": "ua", "family": "necurs", "agent": "Necurs*", "tag": "necurs-ua"},
      {"name": "bare", "family": "mirai", "no_agent": true, "header_order": "host", "ports": [8080]},
      {"name": "tls-only", "family": "zeus", "ja3": "ada70206e40642a3e4461f35503241d5"}
    ],
    "raw": [
      {"name": "mirai", "family": "mirai", "transport": "tcp", "hex": "00 00 00 01", "min_len": 5},
      {"name": "wild", "family": "zeus", "transport": "udp", "hex": "ab ?? cd", "offset": 1}
    ]})",
                             fam);
  ASSERT_TRUE(c.ok()) << c.error().message;
  HttpFacts f;
  f.method = "POST";
  f.path = "/panel/gate.php";
  f.body = std::string_view("\x01\x02\x03", 3);
  f.has_agent = true;
  f.agent = "Mozilla/4.0";
  Verdict v = c->classify_http(f, fam);
  EXPECT_EQ(fam.at(v.family).name, "zeus");
  EXPECT_EQ(v.tag, "zeus-tag");
  EXPECT_EQ(v.rule, "zeus-gate");
  f.body = "text";
  f.agent = "Necurs/1.0";
  v = c->classify_http(f, fam);
  EXPECT_EQ(v.rule, "ua");
  EXPECT_EQ(v.tag, "necurs-ua");
  f.has_agent = false;
  f.agent = "";
  f.header_order = "host";
  f.local_port = 8080;
  EXPECT_EQ(c->classify_http(f, fam).rule, "bare");
  f.local_port = 80;
  f.host_family = fam.find("necurs");
  v = c->classify_http(f, fam);  // no rule: the Host's sinkholed domain names it
  EXPECT_EQ(v.rule, "");
  EXPECT_EQ(fam.at(v.family).name, "necurs");
  f.host_family = -1;
  EXPECT_EQ(c->classify_http(f, fam).family, Families::kUnknown);
  f.ja3 = "ada70206e40642a3e4461f35503241d5";
  EXPECT_EQ(c->classify_http(f, fam).rule, "tls-only");

  EXPECT_EQ(c->classify_raw({std::string_view("\0\0\0\x01\x03"
                                              "abc",
                                              8),
                             false, 23},
                            fam)
                .rule,
            "mirai");
  EXPECT_EQ(c->classify_raw({std::string_view("\0\0\0\x01", 4), false, 23}, fam).rule, "");
  EXPECT_EQ(c->classify_raw({std::string_view("\0\0\0\x01\x03", 5), true, 23}, fam).rule, "");
  EXPECT_EQ(c->classify_raw({"x\xab-\xcd", true, 9}, fam).rule, "wild");
  EXPECT_EQ(c->classify_raw({"x\xab-\xce", true, 9}, fam).family, Families::kUnknown);

  EXPECT_FALSE(Classifier::parse(R"({"http": [{"family": "zeus", "colour": "red"}]})", fam).ok());
  EXPECT_FALSE(Classifier::parse(R"({"http": [{"family": "nosuch"}]})", fam).ok());
  EXPECT_FALSE(Classifier::parse(R"({"raw": [{"family": "zeus", "hex": "abc"}]})", fam).ok());
  EXPECT_FALSE(
      Classifier::parse(R"({"http": [{"family": "zeus", "body_kind": "pdf"}]})", fam).ok());
}

// ---- ClientHello and JA3 ----------------------------------------------------------------------

std::string u16(uint16_t v) {
  return {static_cast<char>(v >> 8), static_cast<char>(v & 0xFF)};
}

// A ClientHello written by hand, with GREASE values JA3 must leave out.
std::string handmade_hello(size_t split_at = 0) {
  std::string body = u16(769) + std::string(32, 'r') + std::string(1, '\0');
  std::string ciphers = u16(0x0a0a);
  for (uint16_t c : {47, 53, 5, 10, 49161, 49162, 49171, 49172, 50, 56, 19, 4}) ciphers += u16(c);
  body += u16(static_cast<uint16_t>(ciphers.size())) + ciphers + "\x01" + std::string(1, '\0');
  std::string sni_name = "c2.example.test";
  std::string sni = u16(static_cast<uint16_t>(sni_name.size() + 3)) + std::string(1, '\0') +
                    u16(static_cast<uint16_t>(sni_name.size())) + sni_name;
  std::string groups = u16(0x1a1a) + u16(23) + u16(24) + u16(25);
  std::string ext = u16(0) + u16(static_cast<uint16_t>(sni.size())) + sni;
  ext += u16(10) + u16(static_cast<uint16_t>(groups.size() + 2)) +
         u16(static_cast<uint16_t>(groups.size())) + groups;
  ext += u16(11) + u16(2) + std::string("\x01\x00", 2);
  ext += u16(0x2a2a) + u16(0);
  body += u16(static_cast<uint16_t>(ext.size())) + ext;
  std::string hs = std::string(1, '\x01') + std::string(1, '\0') +
                   u16(static_cast<uint16_t>(body.size())) + body;
  if (split_at == 0) return "\x16\x03\x01" + u16(static_cast<uint16_t>(hs.size())) + hs;
  // The same handshake in two records (TLS allows fragmenting it anywhere).
  return "\x16\x03\x01" + u16(static_cast<uint16_t>(split_at)) + hs.substr(0, split_at) +
         "\x16\x03\x01" + u16(static_cast<uint16_t>(hs.size() - split_at)) + hs.substr(split_at);
}

TEST(TlsHello, ComputesJa3LikeTheReference) {
  for (size_t split : {0, 3, 40}) {
    ClientHello h;
    const char* why = "";
    ASSERT_EQ(parse_client_hello(handmade_hello(split), h, &why), HelloParse::kOk) << why;
    EXPECT_EQ(h.server_name, "c2.example.test");
    // The JA3 README's example string and hash.
    EXPECT_EQ(ja3_text(h), "769,47-53-5-10-49161-49162-49171-49172-50-56-19-4,0-10-11,23-24-25,0");
    EXPECT_EQ(ja3_hash(h), "ada70206e40642a3e4461f35503241d5");
  }
  std::string full = handmade_hello();
  ClientHello h;
  const char* why = "";
  for (size_t cut : {size_t{0}, size_t{4}, size_t{9}, full.size() - 1}) {
    EXPECT_EQ(parse_client_hello(full.substr(0, cut), h, &why), HelloParse::kIncomplete) << cut;
  }
  EXPECT_EQ(parse_client_hello("GET / HTTP/1.1\r\n", h, &why), HelloParse::kMalformed);
  std::string bad = full;
  bad[bad.size() - 1] = '\x7f';  // the last extension's length past the end
  EXPECT_EQ(parse_client_hello(bad, h, &why), HelloParse::kMalformed);
}

TEST(TlsHello, ReadsWhatOpenSslSends) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  SSL* ssl = SSL_new(ctx);
  BIO* rbio = BIO_new(BIO_s_mem());
  BIO* wbio = BIO_new(BIO_s_mem());
  SSL_set_bio(ssl, rbio, wbio);
  SSL_set_tlsext_host_name(ssl, "www.zeus-demo.test");
  SSL_set_connect_state(ssl);
  SSL_do_handshake(ssl);
  char buf[8192];
  int n = BIO_read(wbio, buf, sizeof buf);
  ASSERT_GT(n, 0);
  ClientHello h;
  const char* why = "";
  ASSERT_EQ(parse_client_hello(std::string_view(buf, static_cast<size_t>(n)), h, &why),
            HelloParse::kOk)
      << why;
  EXPECT_EQ(h.server_name, "www.zeus-demo.test");
  EXPECT_EQ(h.version, 0x0303);
  EXPECT_GE(h.ciphers.size(), 3u);
  EXPECT_FALSE(h.groups.empty());
  EXPECT_EQ(ja3_hash(h).size(), 32u);
  SSL_free(ssl);
  SSL_CTX_free(ctx);
}

// ---- DNS counts ---------------------------------------------------------------------------------

struct Emitted {
  std::vector<std::string> segments;
  int64_t rows = 0;
};

CountStore::RowFormatter plain_format() {
  return [](int64_t, const std::vector<DnsRow>& rows, std::string& out) {
    for (const auto& r : rows) {
      out += r.proto + " " + r.ip + " " + r.qtype + " " + r.qname + " " + r.family + " " +
             std::to_string(r.count) + " " + std::to_string(r.first_seen) + " " +
             std::to_string(r.first_port) + "\n";
    }
  };
}

TEST(CountStore, CountsEveryQueryOnceAcrossFoldsAndEmitsTheRowsOnce) {
  auto dir = temp_dir("counts");
  CountStoreOptions o;
  o.dir = dir.string();
  o.writers = 2;
  o.period_s = 60;
  o.rotate_bytes = 1;  // close every log at every pass
  o.merge_bytes = 1;   // and fold
  auto s = CountStore::open(o);
  ASSERT_TRUE(s.ok()) << s.error().message;
  auto ip = *IpAddress::parse("192.0.2.53");
  for (int i = 0; i < 100; ++i) {
    (*s)->add(i % 2, "udp", ip, static_cast<uint16_t>(1000 + i), "A", "necurs", "x.necurs.test");
    if (i % 10 == 9) {
      ASSERT_TRUE((*s)->commit(0).ok());
      ASSERT_TRUE((*s)->commit(1).ok());
      // Rotated and folded in between: every query still counted once.
      ASSERT_TRUE(
          (*s)->maintain(now_seconds(), plain_format(), [](auto, auto) { return Status{}; }).ok());
    }
  }
  (*s)->add(0, "tcp", *IpAddress::parse("2001:db8::53"), 53, "AAAA", "-", "other.test");
  ASSERT_TRUE((*s)->commit(0).ok());
  EXPECT_EQ((*s)->stats().counted, 101);
  EXPECT_GE((*s)->stats().merges, 3);  // the running period was folded several times
  Emitted e;
  auto emit = [&](std::string_view text, int64_t rows) {
    e.segments.emplace_back(text);
    e.rows += rows;
    return Status{};
  };
  // Not over yet: nothing emitted.
  ASSERT_TRUE((*s)->maintain(now_seconds(), plain_format(), emit).ok());
  EXPECT_EQ(e.rows, 0);
  // Two periods later: the period's two rows, once.
  ASSERT_TRUE((*s)->maintain(now_seconds() + 130, plain_format(), emit).ok());
  ASSERT_EQ(e.rows, 2);
  std::string all = e.segments[0];
  EXPECT_NE(all.find("tcp 2001:db8::53 AAAA other.test - 1 "), std::string::npos) << all;
  EXPECT_NE(all.find("udp 192.0.2.53 A x.necurs.test necurs 100 "), std::string::npos) << all;
  EXPECT_NE(all.find(" 1000\n"), std::string::npos) << all;  // the first query's port
  ASSERT_TRUE((*s)->maintain(now_seconds() + 200, plain_format(), emit).ok());
  EXPECT_EQ(e.rows, 2);
  EXPECT_EQ((*s)->stats().periods_emitted, 1);
}

TEST(CountStore, AKillLosesNoCountedQueryAndEmittingAgainGivesTheSameBytes) {
  auto dir = temp_dir("counts_kill");
  CountStoreOptions o;
  o.dir = dir.string();
  o.writers = 1;
  o.period_s = 60;
  // A writer process counts 500 queries (reporting each commit on a pipe, as a DNS server
  // answers after its commit) and is killed with SIGKILL while still counting.
  int pipefd[2];
  ASSERT_EQ(::pipe(pipefd), 0);
  pid_t pid = ::fork();
  if (pid == 0) {
    ::close(pipefd[0]);
    auto s = CountStore::open(o);
    if (!s.ok()) _exit(2);
    auto ip = *IpAddress::parse("192.0.2.1");
    for (int i = 0;; ++i) {
      (*s)->add(0, "udp", ip, 5353, "A", "zeus", "c2.zeus.test");
      if (!(*s)->commit(0).ok()) _exit(3);
      char one = 1;
      if (::write(pipefd[1], &one, 1) != 1) _exit(4);
    }
  }
  ::close(pipefd[1]);
  int64_t acknowledged = 0;
  char b;
  while (acknowledged < 500 && ::read(pipefd[0], &b, 1) == 1) ++acknowledged;
  ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  while (::read(pipefd[0], &b, 1) == 1) ++acknowledged;  // answers sent before the kill
  ::close(pipefd[0]);
  ASSERT_GE(acknowledged, 500);

  auto s = CountStore::open(o);
  ASSERT_TRUE(s.ok());
  Emitted first;
  int fail = 1;
  // The first emission fails (the journal's disk is full): nothing is marked, so the next
  // pass emits again -- the same bytes.
  auto emit = [&](std::string_view text, int64_t rows) -> Status {
    if (fail-- > 0) return Error::io("disk full");
    first.segments.emplace_back(text);
    first.rows += rows;
    return {};
  };
  EXPECT_FALSE((*s)->maintain(now_seconds() + 130, plain_format(), emit).ok());
  EXPECT_EQ((*s)->stats().pending_periods, 1);
  ASSERT_TRUE((*s)->maintain(now_seconds() + 130, plain_format(), emit).ok());
  ASSERT_EQ(first.rows, 1);
  // Every answered query counted, and at most the one the kill caught between its write and
  // its answer on top.
  auto f = split(first.segments[0], ' ');
  int64_t count = *parse_int(f[5]);
  EXPECT_GE(count, acknowledged);
  EXPECT_LE(count, acknowledged + 1);
}

TEST(CountStore, ACrashAfterTheRowsFileEmitsTheSameRowsFile) {
  auto dir = temp_dir("counts_rows");
  CountStoreOptions o;
  o.dir = dir.string();
  o.period_s = 60;
  std::string once;
  {
    auto s = CountStore::open(o);
    ASSERT_TRUE(s.ok());
    for (int i = 0; i < 3; ++i)
      (*s)->add(0, "udp", *IpAddress::parse("192.0.2.9"), 7, "MX", "-", "a.test");
    ASSERT_TRUE((*s)->commit(0).ok());
    // The journal refuses: rows.jsonl stays, no marker.
    EXPECT_FALSE((*s)->maintain(now_seconds() + 130, plain_format(),
                                [&](std::string_view t, int64_t) -> Status {
                                  once = std::string(t);
                                  return Error::io("no");
                                })
                     .ok());
  }
  // A new process (families file edited meanwhile: the formatter changed) emits the rows file
  // as written, not a new formatting.
  auto s = CountStore::open(o);
  ASSERT_TRUE(s.ok());
  std::string again;
  ASSERT_TRUE(
      (*s)->maintain(
              now_seconds() + 130,
              [](int64_t, const std::vector<DnsRow>&, std::string& out) { out = "different\n"; },
              [&](std::string_view t, int64_t) {
                again = std::string(t);
                return Status{};
              })
          .ok());
  EXPECT_EQ(again, once);
  EXPECT_TRUE(fs::is_empty(dir));
}

// ---- The sensor over sockets
// ----------------------------------------------------------------------

struct Decoded {
  std::string type;
  std::map<std::string, std::string> fields;
};

class SinkholeFixture : public ::testing::Test {
 protected:
  void start(std::string resolver = "") {
    dir_ = temp_dir(::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::ofstream(dir_ / "families.json") << R"({"families": [
      {"name": "necurs", "tag": "necurs", "severity": "critical"},
      {"name": "zeus", "tag": "zeus", "severity": "high"},
      {"name": "mirai", "severity": "high"}]})";
    std::ofstream(dir_ / "domains.txt") << "zone sinkhole.test\n"
                                           "domain necurs.test family=necurs\n"
                                           "domain zeus.test family=zeus expires=2020-01-01\n"
                                           "domain old.test family=zeus until=2020-01-01\n";
    std::ofstream(dir_ / "rules.json") << R"({"http": [
      {"name": "zeus-gate", "family": "zeus", "method": "POST", "path": "*gate.php"}],
      "raw": [{"name": "mirai", "family": "mirai", "transport": "tcp", "hex": "00000001"}]})";
    SinkholeSettings s;
    s.sensor_name = "test-sinkhole";
    s.domains_file = (dir_ / "domains.txt").string();
    s.families_file = (dir_ / "families.json").string();
    s.rules_file = (dir_ / "rules.json").string();
    s.addresses = {*IpAddress::parse("198.18.0.1"), *IpAddress::parse("2001:db8::1")};
    s.nameservers = {"ns1.sinkhole.test", "ns2.sinkhole.test"};
    s.dns_period_s = 60;
    s.idle_timeout = 2s;
    s.resolver = std::move(resolver);
    auto bindings = parse_listen({"dns=127.0.0.1:0", "http=127.0.0.1:0", "https=127.0.0.1:0",
                                  "tcp=127.0.0.1:0", "udp=127.0.0.1:0"});
    ASSERT_TRUE(bindings.ok());
    sensors::SensorHostOptions ho;
    ho.sensor = "sinkhole";
    ho.state_dir = (dir_ / "state").string();
    ho.tcp_threads = 2;
    ho.udp_threads = 2;
    ho.allow_root = true;
    ho.destination = sensors::inbox_destination((dir_ / "inbox").string());
    fs::create_directories(dir_ / "inbox");
    auto sk = Sinkhole::create(s, *bindings, std::move(ho));
    ASSERT_TRUE(sk.ok()) << sk.error().message;
    sk_ = std::move(*sk);
    for (const auto& [name, at] : sk_->bound()) ports_[name] = at.port;
    ASSERT_TRUE(sk_->start().ok());
  }
  void TearDown() override {
    sk_.reset();
    fs::remove_all(dir_);
  }
  std::vector<Decoded> events() {
    EXPECT_TRUE(sk_->host().flush(10s));
    std::vector<Decoded> out;
    pipeline::JsonlDecoder decoder(core::Catalogue::builtin(), nullptr);
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
  static sockaddr_in to(uint16_t port) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return a;
  }
  std::string dns_udp(const std::string& q) {
    int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    timeval tv{5, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    auto a = to(ports_["dns"]);
    ::sendto(fd, q.data(), q.size(), 0, reinterpret_cast<sockaddr*>(&a), sizeof a);
    char buf[4096];
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    ::close(fd);
    return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
  }
  std::string tcp_exchange(uint16_t port, const std::string& send, bool wait_close = true) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    timeval tv{5, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    auto a = to(port);
    EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    ::send(fd, send.data(), send.size(), MSG_NOSIGNAL);
    std::string got;
    char buf[4096];
    while (wait_close) {
      ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) break;
      got.append(buf, static_cast<size_t>(n));
    }
    ::close(fd);
    return got;
  }
  fs::path dir_;
  std::unique_ptr<Sinkhole> sk_;
  std::map<std::string, uint16_t> ports_;
};

TEST_F(SinkholeFixture, AnswersAuthoritativelyAndCountsEveryQueryIntoOneRowPerKey) {
  ASSERT_NO_FATAL_FAILURE(start());
  const char* why = "";
  dns::ResolverAnswer a;
  ASSERT_TRUE(dns::parse_answer(dns_udp(query_bytes(7, "WWW.necurs.test", dns::kA)), a, &why))
      << why;
  EXPECT_EQ(a.rcode, dns::kNoError);
  ASSERT_EQ(a.addresses.size(), 1u);
  EXPECT_EQ(a.addresses[0].to_string(), "198.18.0.1");
  ASSERT_TRUE(dns::parse_answer(dns_udp(query_bytes(8, "www.necurs.test", dns::kA)), a, &why));
  ASSERT_TRUE(dns::parse_answer(dns_udp(query_bytes(9, "necurs.test", dns::kAAAA)), a, &why));
  EXPECT_EQ(a.addresses.at(0).to_string(), "2001:db8::1");
  ASSERT_TRUE(dns::parse_answer(dns_udp(query_bytes(10, "necurs.test", dns::kNS)), a, &why));
  EXPECT_EQ(a.ns, (std::vector<std::string>{"ns1.sinkhole.test", "ns2.sinkhole.test"}));
  ASSERT_TRUE(dns::parse_answer(dns_udp(query_bytes(11, "nx.sinkhole.test", dns::kA)), a, &why));
  EXPECT_EQ(a.rcode, dns::kNxDomain);
  ASSERT_TRUE(dns::parse_answer(dns_udp(query_bytes(12, "ns1.sinkhole.test", dns::kA)), a, &why));
  EXPECT_EQ(a.addresses.size(), 1u);
  ASSERT_TRUE(dns::parse_answer(dns_udp(query_bytes(13, "example.org", dns::kA)), a, &why));
  EXPECT_EQ(a.rcode, dns::kRefused);
  ASSERT_TRUE(dns::parse_answer(dns_udp(query_bytes(14, "www.old.test", dns::kA)), a, &why));
  EXPECT_EQ(a.rcode, dns::kRefused);  // no longer delegated to us
  // Over TCP: length-prefixed, same answer.
  std::string q = query_bytes(15, "x.zeus.test", dns::kA);
  std::string framed = u16(static_cast<uint16_t>(q.size())) + q;
  std::string got = tcp_exchange(ports_["dns"], framed + framed, false);
  // Malformed: nothing counted, FORMERR/drop, kept aside.
  EXPECT_EQ(dns_udp(std::string("\x00\x01\x00\x00\x00\x02\x00\x00\x00\x00\x00\x00junk", 16)).size(),
            12u);
  // Every query counted: the period's rows, once it is over.
  std::this_thread::sleep_for(200ms);
  ASSERT_TRUE(sk_->maintain_counts(now_seconds() + 130).ok());
  auto evs = events();
  std::map<std::string, Decoded> rows;
  for (const auto& e : evs) {
    ASSERT_EQ(e.type, "event4_sinkhole_dns");
    rows[e.fields.at("protocol") + " " + e.fields.at("query_type") + " " + e.fields.at("query")] =
        e;
  }
  EXPECT_EQ(rows.at("udp A www.necurs.test").fields.at("count"), "2");
  EXPECT_EQ(rows.at("udp A www.necurs.test").fields.at("family"), "necurs");
  EXPECT_EQ(rows.at("udp A www.necurs.test").fields.at("src_ip"), "127.0.0.1");
  EXPECT_EQ(rows.at("udp A example.org").fields.at("tag"), "not-sinkholed");
  EXPECT_EQ(rows.count("udp A example.org"), 1u);
  EXPECT_EQ(rows.at("tcp A x.zeus.test").fields.at("count"), "2");
  EXPECT_EQ(rows.size(), 8u);
  auto status = sk_->counters();
  EXPECT_EQ(status["counters"]["dns_queries"], 10);
  EXPECT_EQ(status["counters"]["dns_formerr"], 1);
  EXPECT_EQ(status["dns_counts"]["counted"], 10);
}

TEST_F(SinkholeFixture, LogsAndClassifiesHttpRequestsAndWhatIsNotHttp) {
  ASSERT_NO_FATAL_FAILURE(start());
  std::string r1 = tcp_exchange(ports_["http"],
                                "POST /panel/gate.php HTTP/1.1\r\nHost: www.zeus.test\r\n"
                                "User-Agent: bot/1\r\nContent-Length: 3\r\n"
                                "X-Forwarded-For: 10.1.2.3\r\nConnection: close\r\n\r\nabc");
  EXPECT_EQ(r1.substr(0, 15), "HTTP/1.1 200 OK");
  // Keep-alive: two requests on one connection, the second with a Referer from an address.
  tcp_exchange(
      ports_["http"],
      "GET /a HTTP/1.1\r\nHost: necurs.test\r\n\r\n"
      "GET /b?x=1 HTTP/1.1\r\nHost: necurs.test:80\r\nReferer: http://192.0.2.80:8080/page\r\n"
      "Connection: close\r\n\r\n");
  tcp_exchange(ports_["http"],
               "GET / HTTP/1.1\r\nHost: unknown.example\r\nConnection: close\r\n\r\n");
  tcp_exchange(ports_["http"], std::string("\x16\x03\x01garbage\r\n\r\n", 14));
  tcp_exchange(ports_["tcp"],
               std::string("\x00\x00\x00\x01\x04"
                           "bot1",
                           9),
               false);
  {
    int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    auto a = to(ports_["udp"]);
    ::sendto(fd, "hello", 5, 0, reinterpret_cast<sockaddr*>(&a), sizeof a);
    ::close(fd);
  }
  std::this_thread::sleep_for(300ms);
  auto evs = events();
  std::map<std::string, std::vector<Decoded>> by_type;
  for (const auto& e : evs) by_type[e.type].push_back(e);
  ASSERT_EQ(by_type["event4_sinkhole_http"].size(), 4u);
  // Two loop threads: their events reach the journal in either order.
  Decoded gate;
  for (const auto& e : by_type["event4_sinkhole_http"])
    if (e.fields.at("http_url") == "/panel/gate.php") gate = e;
  ASSERT_FALSE(gate.fields.empty());
  EXPECT_EQ(gate.fields.at("family"), "zeus");
  EXPECT_EQ(gate.fields.at("severity"), "high");
  EXPECT_EQ(gate.fields.at("http_url"), "/panel/gate.php");
  EXPECT_EQ(gate.fields.at("http_host"), "www.zeus.test");
  EXPECT_EQ(gate.fields.at("http_agent"), "bot/1");
  EXPECT_EQ(gate.fields.at("forwarded_by"), "10.1.2.3");
  EXPECT_EQ(gate.fields.at("public_source"), "test-sinkhole");
  EXPECT_EQ(gate.fields.at("dst_port"), std::to_string(ports_["http"]));
  std::set<std::string> families;
  for (const auto& e : by_type["event4_sinkhole_http"]) families.insert(e.fields.at("family"));
  EXPECT_EQ(families, (std::set<std::string>{"zeus", "necurs", "unknown"}));
  ASSERT_EQ(by_type["event4_sinkhole_http_referer"].size(), 1u);
  auto& ref = by_type["event4_sinkhole_http_referer"][0];
  EXPECT_EQ(ref.fields.at("http_referer_ip"), "192.0.2.80");
  EXPECT_EQ(ref.fields.at("http_referer_port"), "8080");
  EXPECT_EQ(ref.fields.at("family"), "necurs");
  EXPECT_EQ(ref.fields.at("http_url"), "/b?x=1");
  // Not HTTP on the web port, the raw TCP first packet, the UDP datagram.
  ASSERT_EQ(by_type["event4_sinkhole"].size(), 3u);
  std::map<std::string, std::string> raw;
  for (const auto& e : by_type["event4_sinkhole"])
    raw[e.fields.at("protocol") + ":" + e.fields.at("dst_port")] = e.fields.at("family");
  EXPECT_EQ(raw["tcp:" + std::to_string(ports_["tcp"])], "mirai");
  EXPECT_EQ(raw["udp:" + std::to_string(ports_["udp"])], "unknown");
  EXPECT_EQ(raw["tcp:" + std::to_string(ports_["http"])], "unknown");
  auto c = sk_->counters();
  EXPECT_EQ(c["counters"]["http_requests"], 4);
  EXPECT_EQ(c["counters"]["http_malformed"], 1);
  EXPECT_EQ(c["aside"]["malformed_kept"], 1);
  EXPECT_EQ(c["aside"]["unclassified_kept"], 2);
}

TEST_F(SinkholeFixture, HttpsCarriesSniCipherAndJa3) {
  ASSERT_NO_FATAL_FAILURE(start());
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  auto a = to(ports_["https"]);
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  SSL* ssl = SSL_new(ctx);
  SSL_set_fd(ssl, fd);
  SSL_set_tlsext_host_name(ssl, "www.zeus.test");
  ASSERT_EQ(SSL_connect(ssl), 1);
  std::string req = "GET /c.bin HTTP/1.1\r\nHost: www.zeus.test\r\nConnection: close\r\n\r\n";
  SSL_write(ssl, req.data(), static_cast<int>(req.size()));
  char buf[512];
  int n = SSL_read(ssl, buf, sizeof buf);
  EXPECT_GT(n, 0);
  std::string cipher = SSL_get_cipher_name(ssl);
  SSL_free(ssl);
  ::close(fd);
  SSL_CTX_free(ctx);
  // Plain bytes to the TLS port: logged as what they are.
  tcp_exchange(ports_["https"], std::string("\x00\x00\x00\x01\x02"
                                            "id",
                                            7));
  auto evs = events();
  int https = 0, raw = 0;
  for (const auto& e : evs) {
    if (e.type == "event4_sinkhole_http") {
      ++https;
      EXPECT_EQ(e.fields.at("ssl_servername"), "www.zeus.test");
      EXPECT_EQ(e.fields.at("ssl_cipher"), cipher);
      EXPECT_EQ(e.fields.at("application"), "https");
      EXPECT_EQ(e.fields.at("family"), "zeus");
    } else if (e.type == "event4_sinkhole") {
      ++raw;
      EXPECT_EQ(e.fields.at("family"), "mirai");
    }
  }
  EXPECT_EQ(https, 1);
  EXPECT_EQ(raw, 1);
}

TEST_F(SinkholeFixture, ReloadsItsDataWithoutARestartAndKeepsTheOldOnAMistake) {
  ASSERT_NO_FATAL_FAILURE(start());
  const char* why = "";
  dns::ResolverAnswer a;
  ASSERT_TRUE(dns::parse_answer(dns_udp(query_bytes(1, "new.test", dns::kA)), a, &why));
  EXPECT_EQ(a.rcode, dns::kRefused);
  std::ofstream(dir_ / "domains.txt", std::ios::app) << "domain new.test family=necurs\n";
  ASSERT_TRUE(sk_->reload().ok());
  ASSERT_TRUE(dns::parse_answer(dns_udp(query_bytes(2, "new.test", dns::kA)), a, &why));
  EXPECT_EQ(a.rcode, dns::kNoError);
  std::ofstream(dir_ / "domains.txt", std::ios::app) << "domain broken\n";
  EXPECT_FALSE(sk_->reload().ok());
  ASSERT_TRUE(dns::parse_answer(dns_udp(query_bytes(3, "new.test", dns::kA)), a, &why));
  EXPECT_EQ(a.rcode, dns::kNoError);  // the last good data still answers
  auto c = sk_->counters();
  EXPECT_EQ(c["data"]["reload_failures"], 1);
  EXPECT_NE(c["data"]["last_reload_error"].get<std::string>().find("domains.txt:6"),
            std::string::npos);
}

TEST_F(SinkholeFixture, TheWatchReportsLapsedRegistrationsAndLostDelegations) {
  // A resolver that does not answer (nothing listens on port 1): every delegation unknown.
  // tests/sinkhole/ checks the real thing through unbound.
  ASSERT_NO_FATAL_FAILURE(start("127.0.0.1:1"));
  sk_->watch().round();
  auto problems = sk_->watch().problems();
  std::map<std::string, std::string> by_domain;
  for (const auto& p : problems) by_domain[p.domain] += p.problem + ";";
  EXPECT_EQ(by_domain["zeus.test"], "expired;unresolved;");
  EXPECT_EQ(by_domain["necurs.test"], "unresolved;");
  EXPECT_EQ(by_domain.count("old.test"), 0u);  // no longer ours: its NS are not checked
}

}  // namespace
}  // namespace vantage::sinkhole

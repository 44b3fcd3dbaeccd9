#include <gtest/gtest.h>

#include <string>

#include "core/catalogue.h"
#include "sensors/scanner/probes/checks/checks.h"
#include "sensors/scanner/probes/http/http.h"
#include "sensors/scanner/probes/output.h"
#include "sensors/scanner/probes/probe.h"
#include "sensors/scanner/probes/ssh/ssh.h"

namespace vantage::scanner {
namespace {

using namespace std::string_literals;

// Every module's report type and columns exist in the report catalogue (src/core).
TEST(ProbeSchema, ModulesMatchCatalogue) {
  const auto& cat = core::Catalogue::builtin();
  auto check = [&](const ProbeModule& m) {
    const auto* type = cat.find(m.report_type);
    ASSERT_NE(type, nullptr) << m.name << ": unknown report type " << m.report_type;
    auto has = [&](const std::string& col) {
      for (const auto& c : type->columns)
        if (c.name == col) return true;
      return false;
    };
    for (const auto& c : m.columns) EXPECT_TRUE(has(c)) << m.report_type << " lacks " << c;
    for (const auto& c : common_columns()) EXPECT_TRUE(has(c)) << m.report_type << " lacks " << c;
  };
  for (const auto& m : builtin_modules()) check(m);
  auto checks = load_checks(std::string(VANTAGE_SOURCE_DIR) + "/conf/checks");
  ASSERT_TRUE(checks.ok()) << checks.error().message;
  ASSERT_GE(checks->size(), 2u);
  for (const auto& m : *checks) check(m);
  EXPECT_EQ(module_for_port(22)->name, "ssh");
  EXPECT_EQ(find_module("nope"), nullptr);
}

std::string kexinit_packet() {
  std::string payload = "\x14"s + std::string(16, '\xab');
  auto add = [&](const std::string& s) {
    for (int i = 3; i >= 0; --i) payload += static_cast<char>((s.size() >> (8 * i)) & 0xff);
    payload += s;
  };
  for (auto s :
       {"curve25519-sha256,diffie-hellman-group14-sha256", "ssh-ed25519,rsa-sha2-512", "aes128-ctr",
        "chacha20-poly1305@openssh.com,aes256-gcm@openssh.com", "hmac-sha2-256",
        "umac-128-etm@openssh.com,hmac-sha2-512", "none", "none,zlib@openssh.com", "", ""})
    add(s);
  payload += "\x00\x00\x00\x00\x00"s;
  const uint8_t pad = 4;
  const uint32_t len = static_cast<uint32_t>(payload.size() + pad + 1);
  std::string pkt;
  for (int i = 3; i >= 0; --i) pkt += static_cast<char>((len >> (8 * i)) & 0xff);
  pkt += static_cast<char>(pad);
  pkt += payload + std::string(pad, '\0');
  return pkt;
}

TEST(SshProbe, IdentAndKexinit) {
  const std::string ident = "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n";
  const std::string all = ident + kexinit_packet();
  EXPECT_FALSE(ssh_reply_complete(ident));
  EXPECT_FALSE(ssh_reply_complete(all.substr(0, all.size() - 1)));
  // KEXINIT alone is not the end: the host key comes in the ECDH reply.
  EXPECT_FALSE(ssh_reply_complete(all));
  auto r = parse_ssh_server(all);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->software, "OpenSSH_9.2p1");
  EXPECT_EQ(r->comment, "Debian-2+deb12u3");
  ASSERT_TRUE(r->has_kexinit);
  EXPECT_EQ(r->lists[3], "chacha20-poly1305@openssh.com,aes256-gcm@openssh.com");
  EXPECT_EQ(r->hassh_server_algorithms,
            "curve25519-sha256,diffie-hellman-group14-sha256;chacha20-poly1305@openssh.com,"
            "aes256-gcm@openssh.com;umac-128-etm@openssh.com,hmac-sha2-512;none,zlib@openssh.com");
  EXPECT_EQ(r->hassh_server.size(), 32u);
  EXPECT_EQ(r->cookie_hex, "abababababababababababababababab");
  EXPECT_FALSE(parse_ssh_server("HTTP/1.0 400 Bad\r\n").ok());
  // Lines before the identification are allowed (RFC 4253 4.2).
  EXPECT_TRUE(parse_ssh_server("hello\r\nSSH-2.0-x\r\n").ok());
}

TEST(HttpProbe, ParsesAndKnowsWhenComplete) {
  const std::string reply =
      "HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nContent-Type: text/html\r\n"
      "Content-Length: 5\r\nSet-Cookie: a=b\r\n\r\nhello";
  EXPECT_TRUE(http_reply_complete(reply));
  EXPECT_FALSE(http_reply_complete(reply.substr(0, reply.size() - 1)));
  auto f = http_module().parse(reply);
  ASSERT_TRUE(f.ok());
  EXPECT_EQ((*f)["http_code"], 200);
  EXPECT_EQ((*f)["server"], "nginx/1.22.1");
  EXPECT_EQ((*f)["set_cookie"], "a=b");
  const std::string chunked =
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n";
  EXPECT_TRUE(http_reply_complete(chunked));
  EXPECT_EQ(parse_http_reply(chunked)->body, "abcde");
  EXPECT_FALSE(http_module().parse("SSH-2.0-x\r\n").ok());
  EXPECT_FALSE(parse_http_reply("HTTP/1.1 2x0 OK\r\n\r\n").ok());
}

TEST(TextProbes, RedisMemcachedFtpSmtpTelnet) {
  const std::string info =
      "# Server\r\nredis_version:7.0.15\r\nredis_mode:standalone\r\nos:Linux\r\n"
      "arch_bits:64\r\nuptime_in_seconds:12\r\nconnected_clients:1\r\n";
  const std::string bulk = "$" + std::to_string(info.size()) + "\r\n" + info + "\r\n";
  const auto& redis = *find_module("redis");
  EXPECT_FALSE(redis.complete(bulk.substr(0, 20)));
  EXPECT_TRUE(redis.complete(bulk));
  auto r = redis.parse(bulk);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)["version"], "7.0.15");
  EXPECT_EQ((*r)["architecture"], "64");
  EXPECT_TRUE(redis.parse("-NOAUTH Authentication required.\r\n").ok());
  EXPECT_FALSE(redis.parse("+OK\r\n").ok());

  const auto& mc = *find_module("memcached");
  auto m = mc.parse("STAT pid 42\r\nSTAT version 1.6.18\r\nSTAT curr_connections 2\r\nEND\r\n");
  ASSERT_TRUE(m.ok());
  EXPECT_EQ((*m)["version"], "1.6.18");
  EXPECT_EQ((*m)["pid"], "42");
  EXPECT_FALSE(mc.parse("ERROR\r\n").ok());

  const auto& ftp = *find_module("ftp");
  EXPECT_FALSE(ftp.complete("220-Welcome\r\n"));
  EXPECT_TRUE(ftp.complete("220-Welcome\r\n220 ready\r\n"));
  EXPECT_EQ((*ftp.parse("220 (vsFTPd 3.0.3)\r\n"))["banner"], "220 (vsFTPd 3.0.3)");
  EXPECT_FALSE(ftp.parse("500 no\r\n").ok());
  EXPECT_TRUE(find_module("smtp")->parse("220 mx.example ESMTP Postfix\r\n").ok());

  const auto& tn = *find_module("telnet");
  const std::string neg =
      "\xff\xfd\x18\xff\xfb\x01\xff\xfa\x18\x01\xff\xf0"
      "Debian GNU/Linux 12\r\nlogin: "s;
  EXPECT_TRUE(tn.complete(neg));
  EXPECT_EQ((*tn.parse(neg))["banner"], "Debian GNU/Linux 12\nlogin: ");
}

TEST(Checks, TemplateParsingAndMatching) {
  auto m = parse_check(R"({"id":"t1","tag":"CVE-2099-0001","severity":"high",
      "request":{"path":"/x"},"match":{"status":[200],"headers":{"Server":"^nginx/1\\.2"},
      "body_contains":["secret"]},"detail":"d"})",
                       "inline");
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_EQ(m->name, "check:t1");
  EXPECT_EQ(m->report_type, "scan_http_vulnerable");
  EXPECT_NE(m->request({*IpAddress::parse("127.0.0.1"), 80}).find("GET /x HTTP/1.1"),
            std::string::npos);
  auto hit = m->parse("HTTP/1.1 200 OK\r\nServer: nginx/1.22\r\n\r\nthe secret");
  ASSERT_TRUE(hit.ok());
  EXPECT_EQ((*hit)["severity"], "high");
  EXPECT_EQ((*hit)["detail"], "d");
  EXPECT_FALSE(m->parse("HTTP/1.1 404 NF\r\nServer: nginx/1.22\r\n\r\nthe secret").ok());
  EXPECT_FALSE(m->parse("HTTP/1.1 200 OK\r\nServer: apache\r\n\r\nthe secret").ok());
  EXPECT_FALSE(m->parse("HTTP/1.1 200 OK\r\nServer: nginx/1.22\r\n\r\nnothing").ok());
  EXPECT_FALSE(
      parse_check(R"({"id":"x","request":{"method":"POST","path":"/"},"match":{"status":[200]}})",
                  "p")
          .ok());
  EXPECT_FALSE(parse_check(R"({"id":"x","request":{"path":"/"},"match":{}})", "p").ok());
  EXPECT_FALSE(
      parse_check(R"({"id":"x","request":{"path":"x"},"match":{"status":[1]}})", "p").ok());
  EXPECT_FALSE(parse_check("not json", "p").ok());
  EXPECT_FALSE(
      parse_check(R"({"id":"x","request":{"path":"/"},"match":{"body_regex":"("}})", "p").ok());
}

TEST(Output, EventLineUsesOnlyDeclaredColumns) {
  ProbeOutcome o;
  o.target = {*IpAddress::parse("127.0.0.1"), 6379};
  o.module = find_module("redis");
  o.status = "success";
  o.fields = nlohmann::json{{"version", "7.0"}, {"bogus", 1}};
  const std::string line = format_event(o, 1700000000);
  auto j = nlohmann::json::parse(line);
  EXPECT_EQ(j["type"], "scan_redis");
  EXPECT_EQ(j["fields"]["timestamp"], "2023-11-14 22:13:20");
  EXPECT_EQ(j["fields"]["port"], 6379);
  EXPECT_EQ(j["fields"]["version"], "7.0");
  EXPECT_FALSE(j["fields"].contains("bogus"));
  EXPECT_EQ(line.back(), '\n');
}

}  // namespace
}  // namespace vantage::scanner

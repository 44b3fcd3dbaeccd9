// Unit tests for the TCP application-layer probes of issue #18 on recorded server replies
// (probes/testdata/<module>.bin: what the server sent to the module's own requests, recorded
// by a relay between `vantage probe` and the server, up to the STARTTLS upgrade). Recorded
// from Debian 12's dovecot (imap, pop3), vsftpd (ftp), postfix (smtp), Xtigervnc (vnc), xrdp
// (rdp), smbd (smb), slapd (ldap), rabbitmq-server (amqp), kamailio (sip), cupsd (ipp),
// etcd (etcd), tinyproxy (http_proxy), dockerd (docker); from tests/scanner/tcp_responders.py
// for the products Debian does not package (mongodb, mssql, couchdb, kubernetes and the edge
// devices).
#include <gtest/gtest.h>

#include <string>

#include "sensors/scanner/probes/probe.h"
#include "sensors/scanner/probes/probe_test_util.h"

namespace vantage::scanner {
namespace {

using namespace std::string_literals;
using test_util::fixture;

nlohmann::json parse(const std::string& module, std::string_view bytes) {
  const ProbeModule* m = find_module(module);
  EXPECT_NE(m, nullptr) << module;
  auto r = m->parse(bytes);
  EXPECT_TRUE(r.ok()) << module << ": " << (r.ok() ? "" : r.error().message);
  return r.ok() ? *r : nlohmann::json::object();
}

const char* const kModules[] = {
    "imap",   "pop3",       "ftp",    "smtp",     "vnc",        "rdp",     "smb",       "ldap",
    "amqp",   "sip",        "ipp",    "etcd",     "http_proxy", "mongodb", "mssql_tds", "couchdb",
    "docker", "kubernetes", "citrix", "fortinet", "ivanti",     "paloalto"};

TEST(TcpProbes, StarttlsGreetings) {
  auto imap = parse("imap", fixture("imap"));
  EXPECT_EQ(imap["banner"],
            "* OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ STARTTLS "
            "AUTH=PLAIN] Dovecot (Debian) ready.");
  EXPECT_EQ(parse("pop3", fixture("pop3"))["banner"], "+OK Dovecot (Debian) ready.");
  auto ftp = parse("ftp", fixture("ftp"));
  EXPECT_EQ(ftp["banner"], "220 Vantage test FTP");
  EXPECT_EQ(ftp["auth_tls_response"], "234 Proceed with negotiation.");
  auto smtp = parse("smtp", fixture("smtp"));
  EXPECT_EQ(smtp["banner"], "220 localhost ESMTP Postfix");
  EXPECT_EQ(smtp["auth_tls_response"], "220 2.0.0 Ready to start TLS");
  // The TLS that would follow is not in the recording: no certificate columns, no error.
  EXPECT_FALSE(smtp.contains("handshake"));
  // A server that does not offer STARTTLS still gives its banner.
  auto plain = parse("smtp", "220 mx ESMTP\r\n250-mx\r\n250 SIZE 1000\r\n");
  EXPECT_EQ(plain["banner"], "220 mx ESMTP");
  EXPECT_FALSE(plain.contains("auth_tls_response"));
  // FTP falls back to AUTH SSL when AUTH TLS is refused.
  auto old = parse("ftp", "220 old ftpd\r\n500 AUTH TLS unknown\r\n234 AUTH SSL ok\r\n");
  EXPECT_EQ(old["auth_tls_response"], "500 AUTH TLS unknown");
  EXPECT_EQ(old["auth_ssl_response"], "234 AUTH SSL ok");
  EXPECT_FALSE(find_module("imap")->parse("+OK not imap\r\n").ok());
  EXPECT_FALSE(find_module("pop3")->parse("* OK not pop\r\n").ok());
  // FTP and SMTP greet alike: the answer to the first command decides.
  EXPECT_FALSE(find_module("ftp")
                   ->parse("220 mx ESMTP Postfix\r\n502 5.5.2 Error: command not "
                           "recognized\r\n")
                   .ok());
  EXPECT_FALSE(find_module("smtp")
                   ->parse("220 Vantage test FTP\r\n530 Please login with USER and PASS.\r\n")
                   .ok());
  EXPECT_FALSE(find_module("smtp")->parse("220 (vsFTPd 3.0.3)\r\n500 Unknown command.\r\n").ok());
  EXPECT_TRUE(find_module("smtp")->parse("220 mail.example\r\n250 mail.example\r\n").ok());
  EXPECT_TRUE(find_module("ftp")->parse("220 files.example\r\n500 AUTH not understood\r\n").ok());
  // Multi-line greetings end at the "NNN " line.
  EXPECT_EQ(parse("smtp", "220-mx.example\r\n220 ESMTP\r\n")["banner"],
            "220-mx.example\n220 ESMTP");
  EXPECT_FALSE(find_module("smtp")->complete("220-mx.example\r\n"));
  EXPECT_TRUE(find_module("smtp")->complete("220-mx.example\r\n220 ESMTP\r\n"));
}

TEST(TcpProbes, VncRdpSmb) {
  auto vnc = parse("vnc", fixture("vnc"));  // Xtigervnc -SecurityTypes VncAuth
  EXPECT_EQ(vnc["banner"], "RFB 003.008\nsecurity types: VNC Authentication");
  EXPECT_EQ(vnc["product"], "VNC");
  EXPECT_EQ(parse("vnc", "RFB 003.003\n\x00\x00\x00\x01"s)["banner"],
            "RFB 003.003\nsecurity types: None");
  EXPECT_EQ(parse("vnc", "RFB 003.889\n\x02\x1e\x02"s)["product"], "Apple Remote Desktop");
  EXPECT_EQ(parse("vnc", "RFB 003.889\n\x02\x1e\x02"s)["banner"],
            "RFB 003.889\nsecurity types: Apple Remote Desktop, VNC Authentication");
  EXPECT_FALSE(find_module("vnc")->parse("SSH-2.0-OpenSSH_9.2\r\n").ok());

  auto rdp = parse("rdp", fixture("rdp"));  // xrdp: PROTOCOL_SSL selected
  EXPECT_EQ(rdp["rdp_protocol"], "SSL");
  // Negotiation failure and a pre-5.2 server without a negotiation response.
  EXPECT_EQ(
      parse("rdp", "\x03\x00\x00\x13\x0e\xd0\x00\x00\x12\x34\x00\x03\x00\x08\x00\x05\x00\x00\x00"s)
          ["rdp_protocol"],
      "HYBRID_REQUIRED_BY_SERVER");
  EXPECT_EQ(parse("rdp", "\x03\x00\x00\x0b\x06\xd0\x00\x00\x12\x34\x00"s)["rdp_protocol"], "RDP");
  EXPECT_EQ(
      parse("rdp", "\x03\x00\x00\x13\x0e\xd0\x00\x00\x12\x34\x00\x02\x1f\x08\x00\x02\x00\x00\x00"s)
          ["rdp_protocol"],
      "HYBRID");
  EXPECT_FALSE(find_module("rdp")->parse("\x03\x00\x00\x0b\x06\xe0\x00\x00\x00\x00\x00"s).ok());

  auto smb = parse("smb", fixture("smb"));  // smbd 4.17: wildcard, then 3.1.1
  EXPECT_EQ(smb["smb_version_string"], "SMB 3.1.1");
  EXPECT_EQ(smb["smb_major_number"], "3");
  EXPECT_EQ(smb["smb_minor_number"], "1");
  EXPECT_EQ(smb["smb_revision"], "1");
  // An SMB1-only server answers in SMB1 with dialect index 0 ("NT LM 0.12").
  std::string smb1 = "\xffSMB\x72"s + std::string(4, '\0') + "\x98\x53\xc8"s +
                     std::string(20, '\0') + "\x11\x00\x00\x03"s + std::string(40, '\0');
  smb1 = "\x00\x00\x00"s + static_cast<char>(smb1.size()) + smb1;
  auto v1 = parse("smb", smb1);
  EXPECT_EQ(v1["smb_version_string"], "SMB 1.0");
  EXPECT_EQ(v1["smb_major_number"], "1");
  EXPECT_FALSE(find_module("smb")->parse("\x00\x00\x00\x04\xfeSMB"s).ok());
}

TEST(TcpProbes, LdapAmqpSipIpp) {
  auto ldap = parse("ldap", fixture("ldap"));  // slapd 2.5, empty mdb database
  EXPECT_EQ(ldap["naming_contexts"], "dc=vantage,dc=test");
  EXPECT_EQ(ldap["subschema_subentry"], "cn=Subschema");
  EXPECT_EQ(ldap["supported_ldap_version"], "3");
  EXPECT_EQ(
      ldap["supported_sasl_mechanisms"],
      "SCRAM-SHA-512|SCRAM-SHA-384|SCRAM-SHA-256|SCRAM-SHA-224|SCRAM-SHA-1|DIGEST-MD5|CRAM-MD5|"
      "NTLM");
  EXPECT_NE(ldap["supported_control"].get<std::string>().find("1.2.840.113556.1.4.319"),
            std::string::npos);
  EXPECT_GT(ldap["response_size"].get<int>(), 800);
  EXPECT_GT(ldap["amplification"].get<double>(), 10);

  auto amqp = parse("amqp", fixture("amqp"));  // rabbitmq-server 3.10.8
  EXPECT_EQ(amqp["product"], "RabbitMQ");
  EXPECT_EQ(amqp["product_version"], "3.10.8");
  EXPECT_EQ(amqp["platform"], "Erlang/OTP 25.2.3");
  EXPECT_EQ(amqp["version_major"], "0");
  EXPECT_EQ(amqp["version_minor"], "9");
  EXPECT_EQ(amqp["class"], "10");
  EXPECT_EQ(amqp["method"], "10");
  EXPECT_EQ(amqp["channel"], "0");
  EXPECT_EQ(amqp["message_length"], 497);
  EXPECT_EQ(amqp["mechanisms"], "AMQPLAIN PLAIN");
  EXPECT_EQ(amqp["locales"], "en_US");
  EXPECT_EQ(amqp["capabilities"].get<std::string>().substr(0, 38),
            "publisher_confirms|exchange_exchange_b");
  // A broker that speaks only AMQP 1.0 answers with its protocol header.
  EXPECT_EQ(parse("amqp", "AMQP\x00\x01\x00\x00"s)["version_major"], "1");
  EXPECT_FALSE(
      find_module("amqp")->parse("\x01\x00\x00\x00\x00\x00\x04\x00\x0a\x00\x0b\xce"s).ok());

  auto sip = parse("sip", fixture("sip"));  // kamailio 5.6 options_reply
  EXPECT_EQ(sip["sip_code"], "200");
  EXPECT_EQ(sip["server"], "kamailio (vantage test)");
  EXPECT_EQ(sip["cseq"], "1 OPTIONS");
  EXPECT_EQ(sip["content_length"], 0);
  EXPECT_EQ(sip["response_size"], 411);
  auto compact =
      parse("sip", "SIP/2.0 404 Not Found\r\nv: SIP/2.0/TCP x\r\ni: abc\r\nl: 0\r\n\r\n");
  EXPECT_EQ(compact["sip_via"], "SIP/2.0/TCP x");
  EXPECT_EQ(compact["call_id"], "abc");

  auto ipp = parse("ipp", fixture("ipp"));  // cupsd 2.4: /ipp/print not found, CUPS-Get-Default
  EXPECT_EQ(ipp["cups_version"], "2.4");
  EXPECT_EQ(ipp["ipp_version"], "2.0");
  EXPECT_EQ(ipp["printer_name"], "vantage");
  EXPECT_EQ(ipp["printer_info"], "Vantage test printer");
  EXPECT_EQ(ipp["printer_make_and_model"], "Local Raw Printer");
  EXPECT_EQ(ipp["printer_uuid"], "urn:uuid:0b1c5d6e-7a8b-4c9d-8e0f-123456789abc");
}

TEST(TcpProbes, HttpApisAndProxy) {
  auto etcd = parse("etcd", fixture("etcd"));
  EXPECT_EQ(etcd["version"], "3.4.23");
  EXPECT_EQ(etcd["http_code"], 200);
  auto proxy = parse("http_proxy", fixture("http_proxy"));  // tinyproxy refusing itself
  EXPECT_EQ(proxy["http_code"], 400);
  EXPECT_EQ(proxy["server"], "tinyproxy/1.11.1");
  EXPECT_NE(proxy["via"].get<std::string>().find("tinyproxy/1.11.1"), std::string::npos);
  EXPECT_FALSE(find_module("http_proxy")->parse("HTTP/1.1 200 OK\r\nServer: nginx\r\n\r\n").ok());
  EXPECT_TRUE(find_module("http_proxy")
                  ->parse("HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: "
                          "Basic realm=\"squid\"\r\nContent-Length: 0\r\n\r\n")
                  .ok());

  auto mongo = parse("mongodb", fixture("mongodb"));
  EXPECT_EQ(mongo["version"], "7.0.5");
  EXPECT_EQ(mongo["opensslversion"], "OpenSSL 3.0.2 15 Mar 2022");
  EXPECT_EQ(mongo["bits"], "64");
  EXPECT_EQ(mongo["maxbsonobjectsize"], "16777216");
  EXPECT_EQ(mongo["ok"], true);
  EXPECT_EQ(mongo["visible_databases"], "admin|config|local");
  EXPECT_EQ(parse("mssql_tds", fixture("mssql_tds"))["version"], "15.0.2000.5");
  auto couch = parse("couchdb", fixture("couchdb"));
  EXPECT_EQ(couch["couchdb_version"], "3.3.3");
  EXPECT_EQ(couch["error"], "unauthorized");
  EXPECT_EQ(couch["error_reason"], "You are not a server admin.");
  auto docker = parse("docker", fixture("docker"));
  EXPECT_EQ(docker["api_version"], "1.41");
  EXPECT_EQ(docker["version"], "20.10.24+dfsg1");
  EXPECT_EQ(docker["server"], "Docker/20.10.24+dfsg1 (linux)");
  auto k8s = parse("kubernetes", fixture("kubernetes"));
  EXPECT_EQ(k8s["git_version"], "v1.28.2");
  EXPECT_EQ(k8s["minor"], "28");
  EXPECT_TRUE(find_module("kubernetes")
                  ->parse("HTTP/1.1 401 Unauthorized\r\nContent-Type: application/json\r\n"
                          "Content-Length: 66\r\n\r\n{\"kind\":\"Status\",\"apiVersion\":\"v1\","
                          "\"status\":\"Failure\",\"code\":401}")
                  .ok());
  EXPECT_EQ(parse("ivanti", fixture("ivanti"))["version"], "22.3.1.1185");
  for (const char* edge : {"citrix", "fortinet", "paloalto"})
    EXPECT_EQ(parse(edge, fixture(edge))["http_code"], 200) << edge;
}

// Every module on every other module's recording: no event. FTP and SMTP servers both greet
// with "220 "; the answer to the first command tells them apart (the recordings hold the
// answers to the module's own commands, so this replays what each server said to the other
// module's command only where both send the same; the live cross-check is in
// probes_tcp_e2e.sh and bench/probe_tcp_bench.sh's matrix).
TEST(TcpProbes, NoModuleClaimsAnotherProtocol) {
  for (const char* m : kModules) {
    for (const char* other : kModules) {
      if (std::string(m) == other) continue;
      auto r = find_module(m)->parse(fixture(other));
      EXPECT_FALSE(r.ok()) << "module " << m << " accepted the recording of " << other << ": "
                           << (r.ok() ? r->dump() : "");
    }
  }
}

// Every prefix of every recording (a server that stops anywhere) parses without crashing.
TEST(TcpProbes, TruncatedRecordings) {
  for (const char* m : kModules) {
    const std::string b = fixture(m);
    for (size_t n = 0; n < b.size(); n += 1 + n / 16) {
      (void)find_module(m)->complete(std::string_view(b).substr(0, n));
      (void)find_module(m)->parse(std::string_view(b).substr(0, n));
    }
  }
}

}  // namespace
}  // namespace vantage::scanner

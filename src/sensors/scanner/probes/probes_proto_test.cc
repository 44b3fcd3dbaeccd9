// Unit tests for the SSH host-key, TLS, UDP (dns, ntp, ntpmonitor, snmp, ssdp) and database /
// broker (mysql, postgres, mqtt, elasticsearch) probes, on constructed replies laid out as the
// protocol documents say (and, for TLS, a real OpenSSL server driven in memory).
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <iterator>
#include <string>

#include "sensors/scanner/probes/engine.h"
#include "sensors/scanner/probes/probe.h"
#include "sensors/scanner/probes/ssh/ssh.h"
#include "sensors/scanner/probes/ssl/ssl.h"

namespace vantage::scanner {
namespace {

using namespace std::string_literals;

void put32(std::string& s, uint32_t v) {
  for (int i = 3; i >= 0; --i) s += static_cast<char>((v >> (8 * i)) & 0xff);
}
void put_str(std::string& s, std::string_view v) {
  put32(s, static_cast<uint32_t>(v.size()));
  s += v;
}
std::string ssh_packet(const std::string& payload) {
  const uint8_t pad = static_cast<uint8_t>(8 - ((5 + payload.size()) % 8) + 8);
  std::string pkt;
  put32(pkt, static_cast<uint32_t>(payload.size() + pad + 1));
  pkt += static_cast<char>(pad);
  return pkt + payload + std::string(pad, '\0');
}

std::string server_kexinit() {
  std::string p = "\x14"s + std::string(16, '\x01');
  for (auto l :
       {"curve25519-sha256,ecdh-sha2-nistp256", "rsa-sha2-512,ssh-ed25519",
        "aes256-gcm@openssh.com,aes128-ctr", "aes128-ctr,aes256-gcm@openssh.com",
        "hmac-sha2-512,hmac-sha2-256", "hmac-sha2-512,hmac-sha2-256", "none", "none", "", ""})
    put_str(p, l);
  return ssh_packet(p + std::string(5, '\0'));
}

TEST(SshHostKey, ClientHelloIsIdentKexinitAndEcdhInit) {
  const std::string a = ssh_client_hello(), b = ssh_client_hello();
  ASSERT_EQ(a.substr(0, 21), "SSH-2.0-Vantage_0.1\r\n");
  EXPECT_NE(a, b);  // fresh ephemeral key and cookie each time
  std::string_view rest = std::string_view(a).substr(21);
  // Two packets, each a multiple of 8 long; the second is SSH_MSG_KEX_ECDH_INIT with 32 bytes.
  const auto len1 =
      (uint32_t{static_cast<unsigned char>(rest[2])} << 8) | static_cast<unsigned char>(rest[3]);
  EXPECT_EQ((len1 + 4) % 8, 0u);
  EXPECT_EQ(rest[5], '\x14');
  rest.remove_prefix(4 + len1);
  EXPECT_EQ(rest[5], '\x1e');
  EXPECT_EQ(rest.substr(6, 4), "\x00\x00\x00\x20"s);
  // Our KEXINIT parses with our own parser (it is a valid KEXINIT).
  auto self = parse_ssh_server(a);
  ASSERT_TRUE(self.ok());
  ASSERT_TRUE(self->has_kexinit);
  EXPECT_EQ(self->lists[0], "curve25519-sha256,curve25519-sha256@libssh.org");
}

TEST(SshHostKey, EcdhReplyGivesKeyAndFingerprint) {
  std::string blob;
  put_str(blob, "ssh-ed25519");
  put_str(blob, std::string(32, '\x07'));
  std::string reply = "\x1f"s;
  put_str(reply, blob);
  put_str(reply, std::string(32, '\x09'));  // Q_S
  std::string sig;
  put_str(sig, "ssh-ed25519");
  put_str(sig, std::string(64, '\x05'));
  put_str(reply, sig);
  const std::string ident = "SSH-2.0-OpenSSH_9.2p1\r\n";
  const std::string all = ident + server_kexinit() + ssh_packet(reply);
  EXPECT_FALSE(ssh_reply_complete(ident + server_kexinit()));
  EXPECT_TRUE(ssh_reply_complete(all));
  auto f = ssh_module().parse(all);
  ASSERT_TRUE(f.ok());
  EXPECT_EQ((*f)["algorithm"], "ssh-ed25519");
  EXPECT_EQ((*f)["selected_kex"], "curve25519-sha256");
  EXPECT_EQ((*f)["selected_cipher"], "aes128-ctr");  // our preference order wins
  EXPECT_EQ((*f)["selected_mac"], "hmac-sha2-256");
  // sha256 of the blob, computed independently.
  unsigned char d[32];
  unsigned n = 0;
  EVP_Digest(blob.data(), blob.size(), d, &n, EVP_sha256(), nullptr);
  std::string hex;
  char buf[3];
  for (unsigned i = 0; i < n; ++i) {
    std::snprintf(buf, sizeof buf, "%02x", d[i]);
    hex += buf;
  }
  EXPECT_EQ((*f)["server_host_key_sha256"], hex);
  EXPECT_EQ((*f)["server_host_key"].get<std::string>().substr(0, 12), "ssh-ed25519 ");
  EXPECT_TRUE(f->contains("hassh"));
  // A reply whose host key length overruns the packet gives no key (and no crash).
  std::string bad = "\x1f"s;
  put32(bad, 1000);
  bad += "short";
  auto g = ssh_module().parse(ident + server_kexinit() + ssh_packet(bad));
  ASSERT_TRUE(g.ok());
  EXPECT_FALSE(g->contains("server_host_key_sha256"));
  // A disconnect ends the wait.
  std::string disc = "\x01"s;
  put32(disc, 3);
  put_str(disc, "no matching key exchange method found");
  put_str(disc, "");
  EXPECT_TRUE(ssh_reply_complete(ident + server_kexinit() + ssh_packet(disc)));
}

// A real OpenSSH 9.2 reply (fuzz/corpus/probe_ssh/ecdh_reply: ident, KEXINIT, ECDH reply,
// NEWKEYS) to a curve25519 exchange, host key ecdsa-sha2-nistp256.
TEST(SshHostKey, CapturedOpenSshReply) {
  std::ifstream in(std::string(VANTAGE_SOURCE_DIR) + "/fuzz/corpus/probe_ssh/ecdh_reply",
                   std::ios::binary);
  ASSERT_TRUE(in);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_TRUE(ssh_reply_complete(bytes));
  auto f = ssh_module().parse(bytes);
  ASSERT_TRUE(f.ok());
  EXPECT_EQ((*f)["serverid_software"], "OpenSSH_9.2p1");
  EXPECT_EQ((*f)["algorithm"], "ecdsa-sha2-nistp256");
  EXPECT_EQ((*f)["ecdsa_curve"], "nistp256");
  EXPECT_EQ((*f)["ecdsa_public_key_x"].get<std::string>().size(), 64u);
  EXPECT_EQ((*f)["server_host_key_sha256"].get<std::string>().size(), 64u);
}

TEST(SshHostKey, RsaKeyColumns) {
  std::string blob;
  put_str(blob, "ssh-rsa");
  put_str(blob, "\x01\x00\x01"s);
  put_str(blob, "\x00\xc1"s + std::string(255, '\x11'));  // 2048-bit modulus, sign byte
  std::string reply = "\x1f"s;
  put_str(reply, blob);
  put_str(reply, std::string(32, '\x09'));
  put_str(reply, "sig");
  auto f = ssh_module().parse("SSH-2.0-x\r\n" + server_kexinit() + ssh_packet(reply));
  ASSERT_TRUE(f.ok());
  EXPECT_EQ((*f)["rsa_exponent"], "010001");
  EXPECT_EQ((*f)["rsa_length"], "2048");
  EXPECT_EQ((*f)["rsa_modulus"].get<std::string>().substr(0, 4), "c111");
}

// A self-signed certificate made here, served by an in-memory OpenSSL server.
struct TestCert {
  EVP_PKEY* key = nullptr;
  X509* cert = nullptr;
  TestCert(long days_valid, long offset_days) {
    key = EVP_EC_gen("P-256");
    cert = X509_new();
    X509_set_version(cert, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(cert), 0x1234);
    X509_gmtime_adj(X509_getm_notBefore(cert), offset_days * 86400);
    X509_gmtime_adj(X509_getm_notAfter(cert), (offset_days + days_valid) * 86400);
    X509_set_pubkey(cert, key);
    X509_NAME* n = X509_get_subject_name(cert);
    X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>("vantage.test"), -1, -1, 0);
    X509_NAME_add_entry_by_txt(n, "O", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>("Vantage Test"), -1, -1, 0);
    X509_NAME_add_entry_by_txt(n, "C", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("NL"),
                               -1, -1, 0);
    X509_set_issuer_name(cert, n);
    X509_sign(cert, key, EVP_sha256());
  }
  ~TestCert() {
    X509_free(cert);
    EVP_PKEY_free(key);
  }
};

TEST(SslProbe, HandshakeWithInMemoryServer) {
  TestCert tc(30, -1);
  SSL_CTX* sctx = SSL_CTX_new(TLS_server_method());
  ASSERT_EQ(SSL_CTX_use_certificate(sctx, tc.cert), 1);
  ASSERT_EQ(SSL_CTX_use_PrivateKey(sctx, tc.key), 1);
  SSL* srv = SSL_new(sctx);
  BIO* srd = BIO_new(BIO_s_mem());
  BIO* swr = BIO_new(BIO_s_mem());
  SSL_set_bio(srv, srd, swr);
  SSL_set_accept_state(srv);

  auto x = make_tls_exchange("");
  std::string to_server = x->start();
  ASSERT_FALSE(to_server.empty());
  bool done = false;
  for (int round = 0; round < 10 && !done; ++round) {
    BIO_write(srd, to_server.data(), static_cast<int>(to_server.size()));
    SSL_do_handshake(srv);
    std::string to_client;
    char buf[4096];
    for (int n; (n = BIO_read(swr, buf, sizeof buf)) > 0;) to_client.append(buf, n);
    if (to_client.empty()) break;
    to_server = x->feed(to_client, &done);
  }
  ASSERT_TRUE(done);
  auto f = x->result();
  ASSERT_TRUE(f.ok()) << f.error().message;
  EXPECT_EQ((*f)["subject_common_name"], "vantage.test");
  EXPECT_EQ((*f)["issuer_organization_name"], "Vantage Test");
  EXPECT_EQ((*f)["subject_country"], "NL");
  EXPECT_EQ((*f)["cert_serial_number"], "1234");
  EXPECT_EQ((*f)["self_signed"], true);
  EXPECT_EQ((*f)["cert_expired"], false);
  EXPECT_EQ((*f)["key_algorithm"], "id-ecPublicKey");
  EXPECT_EQ((*f)["cert_length"], 256);
  EXPECT_EQ((*f)["signature_algorithm"], "ecdsa-with-SHA256");
  EXPECT_EQ((*f)["ssl_version"], 2);
  EXPECT_EQ((*f)["handshake"], "TLSv1.3");
  EXPECT_EQ((*f)["tlsv13_support"], "Y");
  EXPECT_EQ((*f)["sha256_fingerprint"].get<std::string>().size(), 32u * 3 - 1);
  unsigned char d[20];
  unsigned n = 0;
  X509_digest(tc.cert, EVP_sha1(), d, &n);
  char h[4];
  std::snprintf(h, sizeof h, "%02X:", d[0]);
  EXPECT_EQ((*f)["sha1_fingerprint"].get<std::string>().substr(0, 3), std::string(h));
  SSL_free(srv);
  SSL_CTX_free(sctx);
}

TEST(SslProbe, ExpiredAndGarbage) {
  TestCert old(10, -400);
  auto f = certificate_fields(old.cert, time(nullptr));
  EXPECT_EQ(f["cert_expired"], true);
  auto x = make_tls_exchange("");
  x->start();
  bool done = false;
  x->feed("HTTP/1.1 400 Bad Request\r\n\r\n", &done);
  EXPECT_TRUE(done);
  EXPECT_FALSE(x->result().ok());
  auto y = make_tls_exchange("");
  y->start();
  EXPECT_FALSE(y->result().ok());  // nothing arrived
}

TEST(UdpFraming, RoundTripAndTruncation) {
  const std::string f = udp_frames({"abc", "", "defg"});
  auto v = udp_unframe(f);
  ASSERT_EQ(v.size(), 3u);
  EXPECT_EQ(v[0], "abc");
  EXPECT_EQ(v[1], "");
  EXPECT_EQ(v[2], "defg");
  EXPECT_EQ(udp_unframe(f.substr(0, f.size() - 1)).size(), 2u);
}

std::string dns_reply(char id_lo, uint8_t flags2, const std::string& answers, uint16_t ancount) {
  std::string r = "\x56"s + id_lo + "\x81"s + static_cast<char>(flags2) + "\x00\x01\x00"s +
                  static_cast<char>(ancount) + "\x00\x00\x00\x00"s;
  if (id_lo == '\x42')
    r += "\x07version\x04"
         "bind\x00\x00\x10\x00\x03"s;
  else
    r += "\x07vantage\x07invalid\x00\x00\x01\x00\x01"s;
  return r + answers;
}

TEST(DnsProbe, OpenResolverAndVersion) {
  const auto& m = *find_module("dns");
  EXPECT_EQ(m.transport, Transport::udp);
  const std::string framed_q = m.request({});
  auto q = udp_unframe(framed_q);
  ASSERT_EQ(q.size(), 2u);
  // version.bind TXT "9.18.28" with a compression pointer to the question name.
  const std::string txt =
      "\xc0\x0c\x00\x10\x00\x03\x00\x00\x00\x00\x00\x08\x07"
      "9.18.28"s;
  const std::string v = dns_reply('\x42', 0x80, txt, 1);
  const std::string a = dns_reply('\x41', 0x83, "", 0);  // RA, NXDOMAIN
  EXPECT_FALSE(m.complete(udp_frames({v})));
  EXPECT_TRUE(m.complete(udp_frames({v, a})));
  auto f = m.parse(udp_frames({v, a}));
  ASSERT_TRUE(f.ok()) << f.error().message;
  EXPECT_EQ((*f)["dns_version"], "9.18.28");
  EXPECT_GT((*f)["min_amplification"].get<double>(), 0.9);
  // RA clear or REFUSED: not an open resolver.
  EXPECT_FALSE(m.parse(udp_frames({dns_reply('\x41', 0x03, "", 0)})).ok());
  EXPECT_FALSE(m.parse(udp_frames({dns_reply('\x41', 0x85, "", 0)})).ok());
  // A TXT length past the end is not read.
  const std::string bad_txt =
      "\xc0\x0c\x00\x10\x00\x03\x00\x00\x00\x00\x00\x40\x07"
      "9.1"s;
  auto g = m.parse(udp_frames({dns_reply('\x42', 0x80, bad_txt, 1), a}));
  ASSERT_TRUE(g.ok());
  EXPECT_FALSE(g->contains("dns_version"));
}

std::string mode6(uint16_t offset, bool more, std::string_view data) {
  std::string r =
      "\x16"s + static_cast<char>(0x82 | (more ? 0x20 : 0)) + "\x00\x01\x06\x15\x00\x00"s;
  r += static_cast<char>(offset >> 8);
  r += static_cast<char>(offset & 0xff);
  r += static_cast<char>(data.size() >> 8);
  r += static_cast<char>(data.size() & 0xff);
  r += data;
  return r;
}

TEST(NtpProbe, ReadvarFragmentsAndMode4) {
  const auto& m = *find_module("ntp");
  const std::string vars =
      "version=\"ntpd 4.2.6p5@1.2349-o Fri Jul 22 17:30:51 UTC 2016 (1)\", processor=\"x86_64\","
      " system=\"Linux/3.10.0\", leap=0, stratum=2, precision=-23, rootdelay=14.123, "
      "rootdisp=31.5, refid=192.0.2.1, reftime=0xe3b0c442.1a2b3c4d, peer=1234, tc=10, "
      "mintc=3, offset=-0.250, frequency=12.345, sys_jitter=0.5, clk_wander=0.002";
  const size_t half = vars.size() / 2;
  std::string mode4(48, '\0');
  mode4[0] = 0x24;  // LI 0, VN 4, mode 4
  mode4[1] = 2;
  mode4[2] = 6;
  mode4[3] = static_cast<char>(-23);
  mode4[12] = static_cast<char>(192);
  mode4[15] = 1;
  // Fragments out of order.
  const std::string framed =
      udp_frames({mode6(static_cast<uint16_t>(half), false, std::string_view(vars).substr(half)),
                  mode6(0, true, std::string_view(vars).substr(0, half)), mode4});
  EXPECT_TRUE(m.complete(framed));
  auto f = m.parse(framed);
  ASSERT_TRUE(f.ok()) << f.error().message;
  EXPECT_EQ((*f)["version"], "ntpd 4.2.6p5@1.2349-o Fri Jul 22 17:30:51 UTC 2016 (1)");
  EXPECT_EQ((*f)["system"], "Linux/3.10.0");
  EXPECT_EQ((*f)["stratum"], 2);
  EXPECT_EQ((*f)["precision"], -23);
  EXPECT_DOUBLE_EQ((*f)["rootdispersion"].get<double>(), 31.5);
  EXPECT_DOUBLE_EQ((*f)["jitter"].get<double>(), 0.5);
  EXPECT_EQ((*f)["refid"], "192.0.2.1");
  EXPECT_EQ((*f)["poll"], 6);  // only mode 4 has it
  EXPECT_GT((*f)["amplification"].get<double>(), 1.0);
  // Mode 4 only (mode 6 restricted).
  auto g = m.parse(udp_frames({mode4}));
  ASSERT_TRUE(g.ok());
  EXPECT_EQ((*g)["version"], "ntpv4");
  EXPECT_EQ((*g)["refid"], "192.0.0.1");
  // A fragment claiming more data than it carries is ignored.
  EXPECT_FALSE(m.parse(udp_frames({mode6(0, false, "").substr(0, 10) + "\x01\x00"s})).ok());
  EXPECT_FALSE(m.parse(udp_frames({"garbage"})).ok());
}

std::string monlist_packet(bool more, uint16_t items, uint16_t size) {
  std::string r = "\x97\x00\x03\x2a"s;
  if (more) r[0] = static_cast<char>(0xd7);
  r += static_cast<char>(items >> 8);
  r += static_cast<char>(items & 0xff);
  r += static_cast<char>(size >> 8);
  r += static_cast<char>(size & 0xff);
  return r + std::string(size_t{items} * size, '\x01');
}

TEST(NtpMonitorProbe, MonlistPackets) {
  const auto& m = *find_module("ntpmonitor");
  const std::string a = monlist_packet(true, 6, 72), b = monlist_packet(false, 2, 72);
  EXPECT_FALSE(m.complete(udp_frames({a})));
  EXPECT_TRUE(m.complete(udp_frames({a, b})));
  auto f = m.parse(udp_frames({a, b}));
  ASSERT_TRUE(f.ok());
  EXPECT_EQ((*f)["packets"], 2);
  EXPECT_EQ((*f)["response_size"], a.size() + b.size());
  EXPECT_NEAR((*f)["amplification"].get<double>(), (a.size() + b.size()) / 48.0, 1e-9);
  // Error reply (implementation not supported) and a lying item count.
  std::string err = monlist_packet(false, 0, 0);
  err[4] = 0x10;
  EXPECT_FALSE(m.parse(udp_frames({err})).ok());
  EXPECT_FALSE(m.parse(udp_frames({monlist_packet(false, 6, 72).substr(0, 100)})).ok());
}

std::string tlv(uint8_t tag, const std::string& body) {
  std::string out(1, static_cast<char>(tag));
  if (body.size() < 0x80) {
    out += static_cast<char>(body.size());
  } else {
    out += "\x81"s + static_cast<char>(body.size());
  }
  return out + body;
}

TEST(SnmpProbe, GetResponse) {
  const auto& m = *find_module("snmp");
  const std::string framed_req = m.request({});
  const auto req = udp_unframe(framed_req);
  ASSERT_EQ(req.size(), 1u);
  EXPECT_EQ(req[0][0], '\x30');
  const std::string descr = "Linux router 5.10.0 #1 SMP x86_64";
  std::string binds =
      tlv(0x30, tlv(0x06, "\x2b\x06\x01\x02\x01\x01\x01\x00"s) + tlv(0x04, descr)) +
      tlv(0x30, tlv(0x06, "\x2b\x06\x01\x02\x01\x01\x03\x00"s) + tlv(0x43, "\x01\x86\xa0"s)) +
      tlv(0x30, tlv(0x06, "\x2b\x06\x01\x02\x01\x01\x05\x00"s) + tlv(0x04, "gw1"));
  auto msg = [&](const std::string& reqid, const std::string& status) {
    return tlv(0x30, tlv(0x02, "\x01"s) + tlv(0x04, "public") +
                         tlv(0xa2, tlv(0x02, reqid) + tlv(0x02, status) + tlv(0x02, "\x00"s) +
                                       tlv(0x30, binds)));
  };
  const std::string ok = msg("VANT", "\x00"s);
  auto f = m.parse(udp_frames({ok}));
  ASSERT_TRUE(f.ok()) << f.error().message;
  EXPECT_EQ((*f)["sysdesc"], descr);
  EXPECT_EQ((*f)["sysname"], "gw1");
  EXPECT_EQ((*f)["uptime"], 1000);  // 100000 ticks
  EXPECT_EQ((*f)["version"], "2c");
  EXPECT_EQ((*f)["community"], "public");
  EXPECT_EQ((*f)["response_size"], ok.size());
  EXPECT_FALSE(m.parse(udp_frames({msg("XXXX", "\x00"s)})).ok());  // not our request id
  EXPECT_FALSE(m.parse(udp_frames({msg("VANT", "\x02"s)})).ok());  // noSuchName
  EXPECT_FALSE(m.parse(udp_frames({ok.substr(0, ok.size() - 3)})).ok());
  EXPECT_FALSE(m.parse(udp_frames({"\x30\x84\xff\xff\xff\xff"s})).ok());
}

TEST(SsdpProbe, HttpuHeaders) {
  const auto& m = *find_module("ssdp");
  const std::string r =
      "HTTP/1.1 200 OK\r\nCACHE-CONTROL: max-age=1800\r\nDATE: Mon, 23 Nov 2026 10:00:00 GMT\r\n"
      "EXT:\r\nLOCATION: http://192.168.1.1:1900/rootDesc.xml\r\nSERVER: Linux/3.14 UPnP/1.0 "
      "miniupnpd/2.0\r\nST: upnp:rootdevice\r\nUSN: uuid:1234::upnp:rootdevice\r\n\r\n";
  EXPECT_TRUE(m.complete(udp_frames({r})));
  auto f = m.parse(udp_frames({r}));
  ASSERT_TRUE(f.ok());
  EXPECT_EQ((*f)["header"], "HTTP/1.1 200 OK");
  EXPECT_EQ((*f)["server"], "Linux/3.14 UPnP/1.0 miniupnpd/2.0");
  EXPECT_EQ((*f)["search_target"], "upnp:rootdevice");
  EXPECT_EQ((*f)["unique_service_name"], "uuid:1234::upnp:rootdevice");
  EXPECT_EQ((*f)["location"], "http://192.168.1.1:1900/rootDesc.xml");
  EXPECT_FALSE(m.parse(udp_frames({"SSH-2.0-x\r\n"})).ok());
}

TEST(MysqlProbe, HandshakeAndError) {
  const auto& m = *find_module("mysql");
  // MariaDB 10.11 greeting (protocol 10), capabilities 0xf7fe / 0x81ff.
  std::string p = "\x0a"s + "5.5.5-10.11.6-MariaDB-0+deb12u1" + "\0"s + "\x05\x00\x00\x00"s +
                  "abcdefgh" + "\0"s + "\xfe\xf7"s + "\x2d" + "\x02\x00"s + "\xff\x81"s + "\x15" +
                  std::string(10, '\0') + "ijklmnopqrst" + "\0"s + "mysql_native_password" + "\0"s;
  std::string pkt = std::string(1, static_cast<char>(p.size())) + "\x00\x00\x00"s + p;
  EXPECT_FALSE(m.complete(pkt.substr(0, 10)));
  EXPECT_TRUE(m.complete(pkt));
  auto f = m.parse(pkt);
  ASSERT_TRUE(f.ok()) << f.error().message;
  EXPECT_EQ((*f)["server_version"], "5.5.5-10.11.6-MariaDB-0+deb12u1");
  EXPECT_EQ((*f)["mysql_protocol_version"], "10");
  EXPECT_EQ((*f)["client_ssl"], false);  // bit 11 clear: this server has no TLS
  EXPECT_EQ((*f)["client_protocol_41"], true);
  EXPECT_EQ((*f)["client_long_password"], false);  // bit 0 clear in 0xf7fe
  EXPECT_EQ((*f)["client_plugin_auth"], true);
  const std::string err_payload = "\xff\x6a\x04#HY000Host '10.0.0.1' is not allowed to connect"s;
  const std::string err =
      std::string(1, static_cast<char>(err_payload.size())) + "\x00\x00\x00"s + err_payload;
  auto e = m.parse(err);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ((*e)["error_code"], "1130");
  EXPECT_EQ((*e)["error_id"], "HY000");
  EXPECT_FALSE(m.parse("\xff\xff\xff\x00\x0a"s).ok());
  EXPECT_FALSE(m.parse("SSH-2.0-OpenSSH\r\n").ok());
}

std::string pg_error() {
  std::string body;
  for (auto [c, v] : {std::pair{'S', "FATAL"},
                      {'V', "FATAL"},
                      {'C', "0A000"},
                      {'M', "unsupported frontend protocol 0.0: server supports 3.0 to 3.0"},
                      {'F', "postmaster.c"},
                      {'L', "2138"},
                      {'R', "ProcessStartupPacket"}}) {
    body += c;
    body += v;
    body += '\0';
  }
  body += '\0';
  std::string r = "E";
  put32(r, static_cast<uint32_t>(body.size() + 4));
  return r + body;
}

TEST(PostgresProbe, SslAnswerThenProtocolError) {
  const auto& m = *find_module("postgres");
  ASSERT_TRUE(m.exchange);
  auto x = m.exchange({});
  EXPECT_EQ(x->start(), "\x00\x00\x00\x08\x04\xd2\x16\x2f"s);
  bool done = false;
  EXPECT_EQ(x->feed("N", &done), "\x00\x00\x00\x08\x00\x00\x00\x00"s);
  EXPECT_FALSE(done);
  const std::string e = pg_error();
  x->feed(e.substr(0, 10), &done);
  EXPECT_FALSE(done);
  x->feed(e.substr(10), &done);
  EXPECT_TRUE(done);
  auto f = x->result();
  ASSERT_TRUE(f.ok()) << f.error().message;
  EXPECT_EQ((*f)["client_ssl"], false);
  EXPECT_EQ((*f)["protocol_error_code"], "0A000");
  EXPECT_EQ((*f)["protocol_error_routine"], "ProcessStartupPacket");
  EXPECT_EQ((*f)["supported_protocols"], "3.0 to 3.0");
  // Whole-reply parse (used by the fuzzer) agrees.
  EXPECT_EQ(*m.parse("N" + e), *f);
  EXPECT_FALSE(m.parse("HTTP/1.1 400 Bad\r\n").ok());
  auto bad = "N" + e;
  bad[4] = '\x7f';  // length past the cap
  EXPECT_FALSE(m.parse(bad).ok());
}

TEST(MqttProbe, Connack) {
  const auto& m = *find_module("mqtt");
  const std::string req = m.request({});
  EXPECT_EQ(req[0], '\x10');
  EXPECT_EQ(static_cast<size_t>(req[1]), req.size() - 2);
  auto f = m.parse("\x20\x02\x00\x00"s);
  ASSERT_TRUE(f.ok());
  EXPECT_EQ((*f)["anonymous_access"], true);
  EXPECT_EQ((*f)["hex_code"], "00");
  EXPECT_EQ((*f)["raw_response"], "20020000");
  auto g = m.parse("\x20\x02\x00\x05"s);
  ASSERT_TRUE(g.ok());
  EXPECT_EQ((*g)["anonymous_access"], false);
  EXPECT_EQ((*g)["code"], "Connection Refused, not authorized");
  EXPECT_FALSE(m.parse("\x30\x02\x00\x00"s).ok());
}

TEST(ElasticsearchProbe, RootJson) {
  const auto& m = *find_module("elasticsearch");
  const std::string body =
      R"({"name":"node-1","cluster_name":"prod","cluster_uuid":"abc","version":{"number":"7.17.9",)"
      R"("build_flavor":"default","build_hash":"ef48222227ee6b9e70e502f0f0daa52435ee634d",)"
      R"("build_date":"2023-01-31T05:34:43.305517834Z","build_snapshot":false,)"
      R"("lucene_version":"8.11.1"},"tagline":"You Know, for Search"})";
  const std::string r = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: " +
                        std::to_string(body.size()) + "\r\n\r\n" + body;
  EXPECT_TRUE(m.complete(r));
  auto f = m.parse(r);
  ASSERT_TRUE(f.ok()) << f.error().message;
  EXPECT_EQ((*f)["version"], "7.17.9");
  EXPECT_EQ((*f)["cluster_name"], "prod");
  EXPECT_EQ((*f)["build_snapshot"], false);
  EXPECT_EQ((*f)["lucene_version"], "8.11.1");
  EXPECT_EQ((*f)["http_code"], 200);
  EXPECT_FALSE(m.parse("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}").ok());
  const std::string deep = std::string(10000, '[');
  EXPECT_FALSE(m.parse("HTTP/1.1 200 OK\r\ncontent-length: 10000\r\n\r\n" + deep).ok());
}

// UDP probes to a closed loopback port: every job ends "connection-refused" (ICMP port
// unreachable on a connected socket), and the pacing holds the start rate.
TEST(Engine, UdpRefusedAndPaced) {
  int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);  // the port is now closed (and was free a moment ago)
  std::vector<ProbeJob> jobs;
  for (int i = 0; i < 20; ++i)
    jobs.push_back({{*IpAddress::parse("127.0.0.1"), ntohs(a.sin_port)}, find_module("dns")});
  EngineOptions opt;
  opt.rate = 100;
  opt.read_timeout = std::chrono::milliseconds(2000);
  size_t refused = 0, n = 0;
  const auto t0 = std::chrono::steady_clock::now();
  run_probes(jobs, opt, [&](const ProbeOutcome& o) {
    ++n;
    refused += o.status == "connection-refused";
  });
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0)
          .count();
  EXPECT_EQ(n, 20u);
  EXPECT_EQ(refused, 20u);
  EXPECT_GE(ms, 185);  // job 19 may not start before 190 ms
}

TEST(Registry, PortsAndTransports) {
  EXPECT_EQ(module_for_port(443)->name, "ssl");
  EXPECT_EQ(module_for_port(123), nullptr);  // UDP only
  auto ntp = modules_for_port(123, Transport::udp);
  ASSERT_EQ(ntp.size(), 2u);
  EXPECT_EQ(modules_for_port(53, Transport::udp)[0]->name, "dns");
}

}  // namespace
}  // namespace vantage::scanner

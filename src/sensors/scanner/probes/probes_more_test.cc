// Unit tests of the scan types added on branch scan-more (issue #18, "scanner breadth"), on
// replies recorded from real Debian 12 servers (probes/testdata/<module>.bin: what the server
// sent to the module's own request, recorded with the same request bytes) or, for products
// Debian does not package, laid out from the protocol's specification the way
// tests/scanner/more_responders.py answers. Every value must convert to its catalogue column's
// type, every prefix of a recording must parse without crashing, and no module may claim
// another module's recording.
//
// Recorded from: rsync 3.2.7 (rsync --daemon), epmd of Erlang 25 with one node registered,
// ActiveMQ 5.17.2 (activemq), BIRD 2.0.12 (bird2, dynamic BGP neighbour), samba 4.17's
// samba-dcerpcd (msrpc) and AD DC (cldap, UDP: framed datagrams), dante 1.4.2 (socks),
// mosquitto 2.0.11 (mqtt_anon), kamailio 5.6 (sip_udp). From tests/scanner/more_responders.py
// (no Debian package): afp, adb, cisco_smart_install, radmin, cwmp, hadoop (+ a DataNode),
// exchange, db2, ard, rdpeudp, netis, and nginx_more (an ordinary web page, the negative).
#include <gtest/gtest.h>

#include <string>

#include "common/ip.h"
#include "sensors/scanner/probes/probe.h"
#include "sensors/scanner/probes/probe_test_util.h"

namespace vantage::scanner {
namespace {

using namespace std::string_literals;
using test_util::expect_typed;
using test_util::fixture;
using test_util::mod;

nlohmann::json parse(const std::string& name, std::string_view bytes) {
  auto r = mod(name).parse(bytes);
  EXPECT_TRUE(r.ok()) << name << ": " << (r.ok() ? "" : r.error().message);
  if (!r.ok()) return nlohmann::json::object();
  expect_typed(name, *r);
  return *r;
}

bool rejects(const std::string& name, std::string_view bytes) {
  return !mod(name).parse(bytes).ok();
}

// The modules with a recording in testdata/ (TCP: the server's bytes; UDP: framed datagrams).
const char* const kRecorded[] = {"epmd",     "rsync", "socks",   "mqtt_anon",
                                 "activemq", "bgp",   "msrpc",   "cldap",
                                 "sip_udp",  "afp",   "adb",     "cisco_smart_install",
                                 "radmin",   "cwmp",  "hadoop",  "exchange",
                                 "db2",      "ard",   "rdpeudp", "netis"};
// Recordings of the TCP modules that were here before (probes_tcp_test.cc), as other protocols.
const char* const kOlderRecordings[] = {
    "amqp", "ftp", "imap", "ldap", "mongodb", "pop3",    "rdp",        "sip",       "smb",
    "smtp", "vnc", "ipp",  "etcd", "docker",  "couchdb", "http_proxy", "mssql_tds", "nginx_more"};
// The same protocol over another transport: an LDAP search answer is CLDAP's too.
bool same_protocol(std::string_view a, std::string_view b) {
  auto pair = [&](std::string_view x, std::string_view y) {
    return (a == x && b == y) || (a == y && b == x);
  };
  return pair("sip_udp", "sip") || pair("cldap", "ldap");
}

TEST(MoreProbes, Epmd) {
  auto f = parse("epmd", fixture("epmd"));  // epmd with one node, "rabbit"
  EXPECT_EQ(f["nodes"], "rabbit:41279");
  EXPECT_EQ(mod("epmd").request({}), "\x00\x01n"s);
  // No node registered: only epmd's port number.
  EXPECT_EQ(parse("epmd", "\x00\x00\x11\x11"s)["nodes"], "");
  EXPECT_EQ(parse("epmd", "\x00\x00\x11\x11name a at port 1\nname b@h at port 25672\n"s)["nodes"],
            "a:1|b@h:25672");
  EXPECT_TRUE(rejects("epmd", "HTTP/1.1 400 Bad Request\r\n\r\n"));
  EXPECT_TRUE(rejects("epmd", "\x00\x00\x11\x11<html>\n"s));
  EXPECT_TRUE(rejects("epmd", "\x00\x00\x00"s));
}

TEST(MoreProbes, Rsync) {
  auto f = parse("rsync", fixture("rsync"));  // rsync 3.2.7, motd file, one unlisted module
  EXPECT_EQ(f["module"], "pub|backup");
  EXPECT_EQ(f["motd"], "Welcome to the Vantage test mirror\nSecond line");
  EXPECT_FALSE(f.contains("has_password"));
  // A daemon that refuses the listing still answers as rsync.
  auto denied = parse("rsync", "@RSYNCD: 31.0\n@ERROR: access denied to listing\n");
  EXPECT_EQ(denied["module"], "");
  EXPECT_FALSE(denied.contains("motd"));
  EXPECT_TRUE(rejects("rsync", "SSH-2.0-OpenSSH_9.2p1\r\n"));
  EXPECT_TRUE(rejects("rsync", "@RSYNCD: x\n"));
}

TEST(MoreProbes, SocksAndMqttAnon) {
  auto open = parse("socks", fixture("socks"));  // dante, socksmethod none
  EXPECT_EQ(open["tag"], "socks5");
  EXPECT_EQ(open["severity"], "high");
  auto auth = parse("socks", "\x05\x02"s);
  EXPECT_EQ(auth["tag"], "socks5");
  EXPECT_FALSE(auth.contains("severity"));
  EXPECT_EQ(parse("socks", "\x05\xff"s)["tag"], "socks5");
  EXPECT_EQ(parse("socks", "\x00\x5b"s)["tag"], "socks4");
  EXPECT_EQ(mod("socks").request({}), "\x05\x02\x00\x02"s);
  EXPECT_TRUE(rejects("socks", "\x05\x00\x00"s));  // more than the two bytes
  EXPECT_TRUE(rejects("socks", "\x05\x01"s));      // a method we did not offer
  EXPECT_TRUE(rejects("socks", "HT"));

  auto anon = parse("mqtt_anon", fixture("mqtt_anon"));  // mosquitto, allow_anonymous true
  EXPECT_EQ(anon["code"], "Connection Accepted");
  EXPECT_EQ(anon["hex_code"], "00");
  EXPECT_EQ(anon["raw_response"], "20020000");
  EXPECT_FALSE(anon.contains("anonymous_access"));
  EXPECT_TRUE(rejects("mqtt_anon", "\x20\x02\x00\x05"s));  // not authorized: scan_mqtt's
  EXPECT_TRUE(rejects("mqtt_anon", "\x20\x02\x00\x04"s));
  EXPECT_EQ(mod("mqtts_anon").report_type, "scan_mqtt_anon");
  EXPECT_EQ(mod("mqtts_anon").default_port, 8883);
}

TEST(MoreProbes, ActiveMq) {
  auto f = parse("activemq", fixture("activemq"));  // Debian's activemq 5.17.2
  EXPECT_EQ(f["command"], "WireFormatInfo");
  EXPECT_EQ(f["vendor"], "ActiveMQ");
  EXPECT_EQ(f["version"], "5.17.2");
  EXPECT_TRUE(mod("activemq").request({}).empty());
  // Before ProviderVersion (ActiveMQ < 5.12): the OpenWire version stands in.
  EXPECT_EQ(parse("activemq",
                  "\x00\x00\x00\x0e\x01"
                  "ActiveMQ\x00\x00\x00\x0a\x00"s)["version"],
            "10");
  EXPECT_TRUE(rejects("activemq",
                      "\x00\x00\x00\x0e\x02"
                      "ActiveMQ\x00\x00\x00\x0a\x00"s));
  EXPECT_TRUE(rejects("activemq", "AMQP\x00\x00\x09\x01"s));
}

TEST(MoreProbes, Bgp) {
  auto f = parse("bgp", fixture("bgp"));  // BIRD 2: its OPEN, then Bad Peer AS for ours
  EXPECT_EQ(f["message_type"], "OPEN");
  EXPECT_EQ(f["message_type_int"], 1);
  EXPECT_EQ(f["message_length"], 53);
  EXPECT_EQ(f["bgp_version"], 4);
  EXPECT_EQ(f["sender_asn"], 65010);  // from the 4-octet AS capability
  EXPECT_EQ(f["hold_time"], 240);
  EXPECT_EQ(f["bgp_identifier"], "192.0.2.179");
  EXPECT_EQ(f["message2_type"], "NOTIFICATION");
  EXPECT_EQ(f["message2_type_int"], 3);
  EXPECT_EQ(f["major_error_code"], "OPEN Message Error");
  EXPECT_EQ(f["major_error_code_int"], 2);
  EXPECT_EQ(f["minor_error_code"], "Bad Peer AS");
  EXPECT_EQ(f["minor_error_code_int"], 2);
  // The first connection waits for the speaker's OPEN and answers it with ours: version 4,
  // AS 64496 (documentation), hold time 90, identifier 192.0.2.1, no optional parameters.
  const std::string bird = fixture("bgp");
  auto x = mod("bgp").exchange({});
  EXPECT_EQ(x->start(), "");
  bool done = false;
  EXPECT_EQ(x->feed(std::string_view(bird).substr(0, 30), &done), "");
  const std::string open = x->feed(std::string_view(bird).substr(30, 23), &done);
  ASSERT_EQ(open.size(), 29u);
  EXPECT_EQ(open.substr(0, 19), std::string(16, '\xff') + "\x00\x1d\x01"s);
  EXPECT_EQ(open.substr(19), "\x04\xfb\xf0\x00\x5a\xc0\x00\x02\x01\x00"s);
  EXPECT_FALSE(done);
  EXPECT_EQ(x->feed(std::string_view(bird).substr(53), &done), "");
  EXPECT_TRUE(done);
  EXPECT_EQ((*x->result())["minor_error_code"], "Bad Peer AS");
  // A speaker silent on the first connection gets a second one on which our OPEN goes first.
  auto quiet = mod("bgp").exchange({});
  (void)quiet->start();
  ASSERT_TRUE(quiet->next_connection(ConnectionEnd::timeout));
  EXPECT_EQ(quiet->start(), open);
  EXPECT_FALSE(quiet->next_connection(ConnectionEnd::timeout));
  EXPECT_FALSE(quiet->result().ok());
  // A speaker that rejects us outright.
  auto cease = parse("bgp", std::string(16, '\xff') + "\x00\x15\x03\x06\x05"s);
  EXPECT_EQ(cease["message_type"], "NOTIFICATION");
  EXPECT_EQ(cease["major_error_code"], "Cease");
  EXPECT_EQ(cease["minor_error_code"], "Connection Rejected");
  EXPECT_FALSE(cease.contains("message2_type"));
  EXPECT_TRUE(rejects("bgp", std::string(16, '\xff') + "\x00\x15\x09\x06\x05"s));
  EXPECT_TRUE(rejects("bgp", std::string(15, '\xff') + "\x00\x00\x15\x03\x06\x05"s));
}

TEST(MoreProbes, Msrpc) {
  auto f = parse("msrpc", fixture("msrpc"));  // samba-dcerpcd's endpoint mapper
  EXPECT_DOUBLE_EQ(f["version"].get<double>(), 5.0);
  EXPECT_EQ(f["packet_type"], "bind_ack");
  EXPECT_EQ(f["packet_type_value"], 12);
  EXPECT_EQ(f["packet_flags"], "03");
  EXPECT_EQ(f["data_representation"], "10000000");
  EXPECT_EQ(f["fragment_length"], 60);
  EXPECT_EQ(f["auth_length"], "0");
  EXPECT_EQ(f["call_id"], "1");
  EXPECT_EQ(f["max_transmit"], 4280);
  EXPECT_EQ(f["max_receive"], 4280);
  EXPECT_EQ(f["association_group"], "55105");
  EXPECT_EQ(f["raw_response"].get<std::string>().substr(0, 8), "05000c03");
  const std::string bind = mod("msrpc").request({});
  ASSERT_EQ(bind.size(), 72u);
  EXPECT_EQ(bind.substr(0, 4), "\x05\x00\x0b\x03"s);
  EXPECT_TRUE(rejects("msrpc",
                      "\x05\x00\x02\x03\x10\x00\x00\x00\x18\x00\x00\x00"
                      "\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"s));  // response
}

TEST(MoreProbes, Cldap) {
  const auto& m = mod("cldap");
  EXPECT_EQ(m.transport, Transport::udp);
  auto f = parse("cldap", fixture("cldap"));  // samba 4.17 AD DC, realm VANTAGE.TEST
  EXPECT_EQ(f["default_naming_context"], "DC=vantage,DC=test");
  EXPECT_EQ(f["configuration_naming_context"], "CN=Configuration,DC=vantage,DC=test");
  EXPECT_EQ(f["dns_host_name"], "vdc.vantage.test");
  EXPECT_EQ(f["response_size"], 1792);
  EXPECT_GT(f["amplification"].get<double>(), 30);
  EXPECT_EQ(f["is_synchronized"], true);
  EXPECT_GE(f["domain_functionality"].get<int>(), 0);
  EXPECT_NE(f["supported_capabilities"].get<std::string>().find("1.2.840.113556.1.4.800"),
            std::string::npos);
  EXPECT_TRUE(m.complete(fixture("cldap")));
  EXPECT_TRUE(rejects("cldap", udp_frames({"\x30\x03\x02\x01\x01"s})));
}

TEST(MoreProbes, SipUdp) {
  auto f = parse("sip_udp", fixture("sip_udp"));  // kamailio options_reply over UDP
  EXPECT_EQ(f["sip_code"], "200");
  EXPECT_EQ(f["server"], "kamailio (vantage test)");
  EXPECT_NE(f["sip_via"].get<std::string>().find("received=127.0.0.1"), std::string::npos);
  EXPECT_EQ(f["cseq"], "1 OPTIONS");
  EXPECT_EQ(f["response_size"], fixture("sip_udp").size() - 2);
  EXPECT_GT(f["amplification"].get<double>(), 0.5);
  // udp_unframe returns views: the framed request must outlive them.
  const std::string framed = mod("sip_udp").request({*IpAddress::parse("192.0.2.7"), 5060});
  const auto req = udp_unframe(framed);
  ASSERT_EQ(req.size(), 1u);
  EXPECT_TRUE(req[0].starts_with("OPTIONS sip:192.0.2.7:5060;transport=udp SIP/2.0\r\n"));
  EXPECT_NE(req[0].find(";rport\r\n"), std::string_view::npos);
  EXPECT_EQ(mod("sip_udp").report_type, "scan_sip");
}

TEST(MoreProbes, AfpAdbSmartInstallRadmin) {
  auto afp = parse("afp", fixture("afp"));
  EXPECT_EQ(afp["machine_type"], "Xserve");
  EXPECT_EQ(afp["afp_versions"], "AFP3.4|AFP3.3|AFP3.2|AFP3.1|AFPX03");
  EXPECT_EQ(afp["uams"], "DHX2|Recon1|Client Krb v2");
  EXPECT_EQ(afp["flags"], "8ffb");
  EXPECT_EQ(afp["server_name"], "Vantage Mac");
  EXPECT_EQ(afp["signature"], "5641e8c1d09f4b2e8a1f6c3b2d4e5f60");
  EXPECT_EQ(afp["network_address"], "192.0.2.48:548|vantage-mac.local");
  EXPECT_EQ(afp["directory_service"], "afpserver/LKDC:SHA1.5641E8C1D09F@LKDC:SHA1.5641E8C1D09F");
  EXPECT_EQ(afp["utf8_servername"], "Vantage Mac");
  EXPECT_EQ(mod("afp").request({}), "\x00\x03\x00\x01"s + std::string(12, '\0'));

  auto adb = parse("adb", fixture("adb"));
  EXPECT_EQ(adb["name"], "sdk_gphone64_x86_64");
  EXPECT_EQ(adb["model"], "sdk_gphone64_x86_64");
  EXPECT_EQ(adb["device"], "emu64xa");
  EXPECT_TRUE(adb["features"].get<std::string>().starts_with("sendrecv_v2_brotli,"));
  // nmap's adbConnect probe is byte for byte the CNXN we send.
  EXPECT_EQ(mod("adb").request({}),
            "CNXN\0\0\0\x01\0\x10\0\0\x07\0\0\0\x32\x02\0\0\xbc\xb1\xa7\xb1host::\0"s);
  // A device that wants authorisation answers AUTH: not this report.
  EXPECT_TRUE(rejects(
      "adb", "AUTH\x01\0\0\0\0\0\0\0\x14\0\0\0\0\0\0\0\xbe\xaa\xab\xb7"s + std::string(20, 'x')));

  EXPECT_TRUE(mod("cisco_smart_install").parse(fixture("cisco_smart_install")).ok());
  EXPECT_TRUE(rejects("cisco_smart_install", std::string(24, '\0')));

  EXPECT_EQ(parse("radmin", fixture("radmin"))["version"], "3.x");
  EXPECT_EQ(parse("radmin", "\x01\x00\x00\x00\x25\x09\x00\x01\x10\x08\x01\x00\x09\x08"s)["version"],
            "2.x");
  EXPECT_FALSE(parse("radmin",
                     "\x01\x00\x00\x00\x09\x00\x00\x10\x4f\x2f\x10\x00\x00\x04\x00\x00"
                     "\x00\x1c"s)
                   .contains("version"));  // our address blocked: Radmin all the same
  EXPECT_TRUE(rejects("radmin", "\x01\x00\x00\x00\x25\x09\x00\x01\x10\x07\x01\x00\x09\x08"s));
}

TEST(MoreProbes, WebTypes) {
  auto cwmp = parse("cwmp", fixture("cwmp"));
  EXPECT_EQ(cwmp["http_code"], 401);
  EXPECT_EQ(cwmp["server"], "gSOAP/2.7");
  EXPECT_TRUE(cwmp["www_authenticate"].get<std::string>().starts_with(
      "Digest realm=\"HuaweiHomeGateway\""));
  EXPECT_EQ(cwmp["content_length"], "0");
  EXPECT_EQ(cwmp["connection"], "close");
  EXPECT_TRUE(rejects("cwmp", fixture("nginx_more")));  // says "cwmp" in its text only
  // A CPE that answers with a CWMP SOAP envelope instead of a challenge.
  EXPECT_EQ(parse("cwmp",
                  "HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: 61\r\n\r\n"
                  "<soap:Envelope xmlns:cwmp=\"urn:dslforum-org:cwmp-1-0\"/>      ")["http_code"],
            200);

  auto nn = parse("hadoop", fixture("hadoop"));
  EXPECT_EQ(nn["server_type"], "namenode");
  EXPECT_EQ(nn["version"], "3.3.6");
  EXPECT_EQ(nn["clusterid"], "CID-6a1b5c0e-3f0d-4c59-9a1e-7d2f0b8e4c11");
  EXPECT_EQ(nn["total_disk"], 1000LL << 30);
  EXPECT_EQ(nn["used_disk"], 25LL << 30);
  EXPECT_EQ(nn["free_disk"], 899LL << 30);
  EXPECT_EQ(nn["livenodes"], "vdn1.vantage.test:9866|vdn2.vantage.test:9866");
  EXPECT_EQ(nn["namenodeaddress"], "vnn.vantage.test:8020");
  auto dn = parse("hadoop", fixture("hadoop_datanode"));
  EXPECT_EQ(dn["server_type"], "datanode");
  EXPECT_EQ(dn["namenodeaddress"], "vnn.vantage.test");
  EXPECT_NE(dn["volumeinfo"].get<std::string>().find("/data/dfs/dn"), std::string::npos);
  EXPECT_TRUE(rejects("hadoop", fixture("nginx_more")));

  auto owa = parse("exchange", fixture("exchange"));
  EXPECT_EQ(owa["version"], "15.1.2507");
  EXPECT_EQ(owa["servername"], "VEXCH01");
  EXPECT_EQ(owa["url"], "/owa/auth/logon.aspx");
  EXPECT_EQ(parse("exchange",
                  "HTTP/1.1 200 OK\r\nX-OWA-Version: 15.2.1118.7\r\nContent-Length: "
                  "0\r\n\r\n")["version"],
            "15.2.1118.7");
  EXPECT_TRUE(rejects("exchange", fixture("nginx_more")));
}

TEST(MoreProbes, UdpAmplifiers) {
  auto db2 = parse("db2", fixture("db2"));
  EXPECT_EQ(db2["db2_hostname"], "VDB2HOST");
  EXPECT_EQ(db2["servername"], "SQL11058");
  EXPECT_EQ(db2["response_size"], 288);
  EXPECT_DOUBLE_EQ(db2["amplification"].get<double>(), 288.0 / 20);
  auto ard = parse("ard", fixture("ard"));
  EXPECT_EQ(ard["machine_name"], "Vantage iMac");
  EXPECT_DOUBLE_EQ(ard["amplification"].get<double>(), 1004.0 / 5);
  auto rdp = parse("rdpeudp", fixture("rdpeudp"));
  EXPECT_EQ(rdp["sessionid"], "1c2a3b4d");
  EXPECT_EQ(rdp["response_size"], 1232);
  const std::string framed_syn = mod("rdpeudp").request({});
  const auto syn = udp_unframe(framed_syn);
  ASSERT_EQ(syn.size(), 1u);
  EXPECT_EQ(syn[0].size(), 1232u);
  EXPECT_EQ(syn[0].substr(0, 8), "\xff\xff\xff\xff\x00\x40\x00\x01"s);
  auto netis = parse("netis", fixture("netis"));
  EXPECT_EQ(netis["response"], "Login:");
  EXPECT_DOUBLE_EQ(netis["amplification"].get<double>(), 7.0);
  EXPECT_TRUE(rejects("netis", udp_frames({"\nPassword:"})));
}

// No module claims another protocol's recording: neither the new modules each other's (and
// the older TCP recordings), nor the older TCP modules the new recordings.
TEST(MoreProbes, NoModuleClaimsAnotherProtocol) {
  for (const char* m : kRecorded) {
    const bool udp = mod(m).transport == Transport::udp;
    for (const char* other : kRecorded) {
      if (std::string(m) == other) continue;
      // mqtt_anon and mqtts_anon share a recording; socks' two bytes are checked below.
      const bool other_udp = mod(other).transport == Transport::udp;
      std::string bytes = fixture(other);
      if (udp && !other_udp) bytes = udp_frames({bytes});
      if (!udp && other_udp) continue;  // framing bytes are no TCP server's reply
      auto r = mod(m).parse(bytes);
      EXPECT_FALSE(r.ok()) << m << " accepted the recording of " << other << ": "
                           << (r.ok() ? r->dump() : "");
    }
    for (const char* other : kOlderRecordings) {
      if (same_protocol(m, other)) continue;
      std::string bytes = fixture(other);
      if (udp) bytes = udp_frames({bytes});
      auto r = mod(m).parse(bytes);
      EXPECT_FALSE(r.ok()) << m << " accepted the recording of " << other << ": "
                           << (r.ok() ? r->dump() : "");
    }
  }
  for (const char* older : kOlderRecordings) {
    if (!find_module(older)) continue;
    for (const char* other : kRecorded) {
      if (mod(other).transport == Transport::udp || same_protocol(older, other)) continue;
      auto r = mod(older).parse(fixture(other));
      EXPECT_FALSE(r.ok()) << older << " accepted the recording of " << other << ": "
                           << (r.ok() ? r->dump() : "");
    }
  }
}

// Every prefix of every recording parses to an event or an error, never a crash; the empty
// reply is never an event.
TEST(MoreProbes, TruncatedRecordings) {
  for (const char* m : kRecorded) {
    const std::string b = fixture(m);
    for (size_t n = 0; n < b.size(); n += 1 + n / 32) {
      (void)mod(m).complete(std::string_view(b).substr(0, n));
      (void)mod(m).parse(std::string_view(b).substr(0, n));
    }
    EXPECT_FALSE(mod(m).parse("").ok()) << m;
  }
}

}  // namespace
}  // namespace vantage::scanner

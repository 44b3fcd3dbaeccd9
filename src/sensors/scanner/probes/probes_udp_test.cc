// Unit tests of the UDP and ICS modules (issue #18): each parser on a reply laid out as the
// protocol's specification says (and as the real servers in tests/scanner/udp_ics_test.sh
// send), on junk, and on truncations of the good reply (never a crash, never an event).
#include <gtest/gtest.h>

#include <string>

#include "common/ip.h"
#include "sensors/scanner/probes/probe.h"
#include "sensors/scanner/probes/probe_test_util.h"
#include "sensors/scanner/probes/udp_util.h"

namespace vantage::scanner {
namespace {

using namespace std::string_literals;
using test_util::expect_typed;
using test_util::mod;

std::string request(const char* name) {
  return mod(name).request({*IpAddress::parse("127.0.0.1"), mod(name).default_port});
}

// Every prefix of a good reply parses to an event or an error, never crashes; the junk reply
// never yields an event.
void check_truncations(const char* name, const std::string& reply) {
  for (size_t n = 0; n < reply.size(); ++n) {
    (void)mod(name).parse(udp_frames({reply.substr(0, n)}));
    (void)mod(name).parse(reply.substr(0, n));
  }
  EXPECT_FALSE(mod(name).parse(udp_frames({"\x01\x02junk"s})).ok()) << name;
  EXPECT_FALSE(mod(name).parse("").ok()) << name;
}

TEST(UdpModules, ChargenAndQotd) {
  const std::string line =
      "!\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefgh\r\n";
  auto f = mod("chargen").parse(udp_frames({line}));
  ASSERT_TRUE(f.ok());
  expect_typed("chargen", *f);
  EXPECT_EQ((*f)["response_size"], line.size());
  EXPECT_DOUBLE_EQ((*f)["amplification"].get<double>(), static_cast<double>(line.size()));
  EXPECT_FALSE(mod("chargen").parse(udp_frames({"\x00\x01\x02"s})).ok());
  auto q = mod("qotd").parse(udp_frames({"\"Be yourself.\" - Oscar Wilde\r\n"}));
  ASSERT_TRUE(q.ok());
  expect_typed("qotd", *q);
  EXPECT_EQ((*q)["quote"], "\"Be yourself.\" - Oscar Wilde");
  EXPECT_FALSE(mod("qotd").parse(udp_frames({"\x05\x00binary"s})).ok());
}

TEST(UdpModules, Tftp) {
  EXPECT_TRUE(mod("tftp").reply_from_any_port);
  const std::string req_bytes = request("tftp");
  const auto req = udp_unframe(req_bytes);
  ASSERT_EQ(req.size(), 1u);
  EXPECT_EQ(req[0].substr(0, 2), "\x00\x01"s);  // RRQ
  const std::string err =
      "\x00\x05\x00\x01"
      "File not found\x00"s;
  auto f = mod("tftp").parse(udp_frames({err}));
  ASSERT_TRUE(f.ok());
  expect_typed("tftp", *f);
  EXPECT_EQ((*f)["opcode"], 5);
  EXPECT_EQ((*f)["errorcode"], 1);
  EXPECT_EQ((*f)["error"], "File not found");
  EXPECT_EQ((*f)["errormessage"], "File not found");
  check_truncations("tftp", err);
}

std::string rpc_dump_reply() {
  std::string s;
  for (uint32_t v : {0x56414e54u, 1u, 0u, 0u, 0u, 0u}) octets::put_be32(s, v);
  for (auto e : {std::array<uint32_t, 4>{100000, 2, 6, 111},
                 {100000, 2, 17, 111},
                 {100005, 3, 6, 20048},
                 {100005, 3, 17, 20049}}) {
    octets::put_be32(s, 1);
    for (uint32_t v : e) octets::put_be32(s, v);
  }
  octets::put_be32(s, 0);
  return s;
}

TEST(UdpModules, Portmapper) {
  const std::string req_bytes = request("portmapper");
  const auto req = udp_unframe(req_bytes);
  ASSERT_EQ(req.size(), 1u);
  EXPECT_EQ(octets::be32(req[0], 12), 100000u);
  EXPECT_EQ(octets::be32(req[0], 20), 4u);  // PMAPPROC_DUMP
  auto f = mod("portmapper").parse(udp_frames({rpc_dump_reply()}));
  ASSERT_TRUE(f.ok());
  expect_typed("portmapper", *f);
  EXPECT_EQ((*f)["programs"],
            "100000/2/tcp/111 portmapper; 100000/2/udp/111 portmapper; 100005/3/tcp/20048 "
            "mountd; 100005/3/udp/20049 mountd");
  EXPECT_EQ((*f)["mountd_port"], 20049);
  check_truncations("portmapper", rpc_dump_reply());
}

TEST(UdpModules, Netbios) {
  std::string r = "\x56\x41\x84\x00\x00\x00\x00\x01\x00\x00\x00\x00\x20"s;
  r += "CK" + std::string(30, 'A') + "\x00\x00\x21\x00\x01\x00\x00\x00\x00"s;
  std::string rd = "\x04"s;
  auto name = [](std::string n, char suffix, char flags) {
    n.resize(15, ' ');
    return n + suffix + flags + '\x00';
  };
  rd += name("HOST1", '\x00', '\x04') + name("WORKGROUP", '\x00', '\x84') +
        name("HOST1", '\x20', '\x04') + name("ALICE", '\x03', '\x04');
  rd += "\x52\x54\x00\x12\x34\x56"s + std::string(40, '\0');
  octets::put_be16(r, static_cast<unsigned>(rd.size()));
  r += rd;
  auto f = mod("netbios").parse(udp_frames({r}));
  ASSERT_TRUE(f.ok()) << f.error().message;
  expect_typed("netbios", *f);
  EXPECT_EQ((*f)["machine_name"], "HOST1");
  EXPECT_EQ((*f)["workgroup"], "WORKGROUP");
  EXPECT_EQ((*f)["username"], "ALICE");
  EXPECT_EQ((*f)["mac_address"], "52:54:00:12:34:56");
  check_truncations("netbios", r);
}

TEST(UdpModules, IsakmpNotify) {
  const std::string req_bytes = request("isakmp");
  const auto req = udp_unframe(req_bytes);
  ASSERT_EQ(req.size(), 1u);
  EXPECT_EQ(octets::be32(req[0], 24), req[0].size());  // header length field
  std::string r =
      "VANTAGE1"
      "\x11\x22\x33\x44\x55\x66\x77\x88"
      "\x0b\x10\x05\x00\x00\x00\x00\x00"s;
  octets::put_be32(r, 40);
  r += "\x00\x00\x00\x0c\x00\x00\x00\x01\x01\x00\x00\x0e"s;  // notify NO-PROPOSAL-CHOSEN
  auto f = mod("isakmp").parse(udp_frames({r}));
  ASSERT_TRUE(f.ok());
  expect_typed("isakmp", *f);
  EXPECT_EQ((*f)["responder_spi"], "1122334455667788");
  EXPECT_EQ((*f)["exchange_type"], 5);
  EXPECT_EQ((*f)["next_payload"], 11);
  EXPECT_EQ((*f)["notify_message_type"], 14);
  EXPECT_EQ((*f)["domain_of_interpretation"], 1);
  EXPECT_EQ((*f)["protocol_id"], 1);
  check_truncations("isakmp", r);
}

TEST(UdpModules, Stun) {
  std::string r = "\x01\x01\x00\x24\x21\x12\xa4\x42VANTAGEstun1"s;
  r += "\x00\x20\x00\x08\x00\x01"s;  // XOR-MAPPED-ADDRESS 127.0.0.1:40000
  octets::put_be16(r, 40000 ^ 0x2112);
  r += "\x5e\x12\xa4\x43"s;  // 127.0.0.1 ^ 0x2112a442
  r += "\x80\x22\x00\x06"
       "coturn\x00\x00"s;
  r += "\x80\x28\x00\x04\xde\xad\xbe\xef"s;
  auto f = mod("stun").parse(udp_frames({r}));
  ASSERT_TRUE(f.ok());
  expect_typed("stun", *f);
  EXPECT_EQ((*f)["xor_mapped_address"], "127.0.0.1");
  EXPECT_EQ((*f)["xor_mapped_port"], 40000);
  EXPECT_EQ((*f)["xor_mapped_family"], 1);
  EXPECT_EQ((*f)["software"], "coturn");
  EXPECT_EQ((*f)["fingerprint"], "deadbeef");
  EXPECT_EQ((*f)["message_type"], 0x0101);
  check_truncations("stun", r);
}

TEST(UdpModules, CoapIpmiXdmcpQuic) {
  const std::string coap = "\x60\x45\x56\x41\xc1\x28\xff</time>;ct=0"s;
  auto c = mod("coap").parse(udp_frames({coap}));
  ASSERT_TRUE(c.ok());
  expect_typed("coap", *c);
  EXPECT_EQ((*c)["version"], 1);
  EXPECT_EQ((*c)["response"], "</time>;ct=0");
  check_truncations("coap", coap);

  // Get Channel Authentication Capabilities: MD5 + none, IPMI 2.0, KG default, anonymous.
  const std::string caps =
      "\x06\x00\xff\x07\x00\x00\x00\x00\x00\x00\x00\x00\x00\x10"
      "\x81\x1c\x63\x20\x00\x38\x00\x01\x85\x03\x02\x00\x00\x00\x00\x00"s;
  auto i = mod("ipmi").parse(udp_frames({caps}));
  ASSERT_TRUE(i.ok());
  expect_typed("ipmi", *i);
  EXPECT_EQ((*i)["ipmi_version"], "2.0");
  EXPECT_EQ((*i)["md5_auth"], true);
  EXPECT_EQ((*i)["none_auth"], true);
  EXPECT_EQ((*i)["md2_auth"], false);
  EXPECT_EQ((*i)["anon_login"], true);
  EXPECT_EQ((*i)["defaultkg"], true);
  check_truncations("ipmi", caps);

  const std::string willing = "\x00\x01\x00\x05\x00\x16\x00\x00\x00\x05host1\x00\x0dLinux 6.1.0 x"s;
  auto x = mod("xdmcp").parse(udp_frames({willing}));
  ASSERT_TRUE(x.ok());
  expect_typed("xdmcp", *x);
  EXPECT_EQ((*x)["opcode"], "Willing");
  EXPECT_EQ((*x)["reported_hostname"], "host1");
  EXPECT_EQ((*x)["status"], "Linux 6.1.0 x");
  check_truncations("xdmcp", willing);

  const std::string q_bytes = request("quic");
  const auto q = udp_unframe(q_bytes);
  ASSERT_EQ(q.size(), 1u);
  EXPECT_EQ(q[0].size(), 1200u);
  const std::string vn =
      "\x80\x00\x00\x00\x00\x08vantage2\x08VANTAGE1\x00\x00\x00\x01\xff\x00\x00\x1d"s;
  auto v = mod("quic").parse(udp_frames({vn}));
  ASSERT_TRUE(v.ok());
  expect_typed("quic", *v);
  EXPECT_EQ((*v)["version_field_1"], "00000001");
  EXPECT_EQ((*v)["version_field_2"], "ff00001d");
  EXPECT_FALSE(v->contains("version_field_3"));
  check_truncations("quic", vn);
}

std::string dns_name(std::string_view n) {
  std::string s;
  while (!n.empty()) {
    const size_t dot = n.find('.');
    s += static_cast<char>(n.substr(0, dot).size());
    s += n.substr(0, dot);
    n = dot == std::string_view::npos ? "" : n.substr(dot + 1);
  }
  return s + '\0';
}
std::string rr(const std::string& owner, unsigned type, const std::string& rdata) {
  std::string s = dns_name(owner);
  octets::put_be16(s, type);
  octets::put_be16(s, 1);
  octets::put_be32(s, 120);
  octets::put_be16(s, static_cast<unsigned>(rdata.size()));
  return s + rdata;
}

TEST(UdpModules, Mdns) {
  const std::string qs_bytes = request("mdns");
  const auto qs = udp_unframe(qs_bytes);
  ASSERT_EQ(qs.size(), 5u);
  std::string http = "\x56\x02\x84\x00\x00\x00\x00\x01\x00\x00\x00\x03"s;
  http += rr("_http._tcp.local", 12, dns_name("Printer._http._tcp.local"));
  http += rr("Printer._http._tcp.local", 33, "\x00\x00\x00\x00\x1f\x90"s + dns_name("pr.local"));
  http += rr("Printer._http._tcp.local", 16, "\x07path=/x"s);
  http += rr("pr.local", 1, "\xc0\x00\x02\x07"s);
  std::string svc = "\x56\x05\x84\x00\x00\x00\x00\x02\x00\x00\x00\x00"s;
  svc += rr("_services._dns-sd._udp.local", 12, dns_name("_http._tcp.local"));
  svc += rr("_services._dns-sd._udp.local", 12, dns_name("_ssh._tcp.local"));
  EXPECT_FALSE(mod("mdns").complete(udp_frames({http})));
  EXPECT_TRUE(mod("mdns").complete(udp_frames({http, svc})));
  auto f = mod("mdns").parse(udp_frames({http, svc}));
  ASSERT_TRUE(f.ok());
  expect_typed("mdns", *f);
  EXPECT_EQ((*f)["services"], "_http._tcp.local;_ssh._tcp.local");
  EXPECT_EQ((*f)["http_name"], "Printer");
  EXPECT_EQ((*f)["http_target"], "pr.local");
  EXPECT_EQ((*f)["http_port"], 8080);
  EXPECT_EQ((*f)["http_ipv4"], "192.0.2.7");
  EXPECT_EQ((*f)["http_info"], "path=/x");
  EXPECT_EQ((*f)["mdns_name"], "pr.local");
  check_truncations("mdns", http);
  // A compression loop ends.
  std::string loop = "\x56\x05\x84\x00\x00\x00\x00\x01\x00\x00\x00\x00\xc0\x0c"s;
  (void)mod("mdns").parse(udp_frames({loop}));
}

TEST(IcsModules, ModbusDeviceIdentification) {
  EXPECT_EQ(request("modbus"), "\x56\x41\x00\x00\x00\x05\xff\x2b\x0e\x02\x00"s);
  std::string pdu = "\x2b\x0e\x02\x83\x00\x00\x04"s;
  for (auto [id, v] : std::initializer_list<std::pair<int, std::string>>{
           {0, "Pymodbus"}, {1, "PM"}, {2, "3.0.0"}, {5, "Pymodbus Server"}}) {
    pdu += static_cast<char>(id);
    pdu += static_cast<char>(v.size());
    pdu += v;
  }
  std::string r = "\x56\x41\x00\x00"s;
  octets::put_be16(r, static_cast<unsigned>(pdu.size() + 1));
  r += '\xff';
  r += pdu;
  EXPECT_FALSE(mod("modbus").complete(r.substr(0, r.size() - 1)));
  EXPECT_TRUE(mod("modbus").complete(r));
  auto f = mod("modbus").parse(r);
  ASSERT_TRUE(f.ok());
  expect_typed("modbus", *f);
  EXPECT_EQ((*f)["device_vendor"], "Pymodbus");
  EXPECT_EQ((*f)["device_id"], "PM");
  EXPECT_EQ((*f)["device_version"], "3.0.0");
  EXPECT_EQ((*f)["device_model"], "Pymodbus Server");
  EXPECT_EQ((*f)["device_sector"], "ics");
  EXPECT_EQ((*f)["raw_response"], octets::hex(r));
  for (size_t n = 0; n < r.size(); ++n) (void)mod("modbus").parse(r.substr(0, n));
  EXPECT_FALSE(mod("modbus").parse("HTTP/1.1 400 Bad Request\r\n\r\n").ok());
}

std::string bacnet_ack(int invoke, std::string value) {
  std::string apdu = "\x30"s + static_cast<char>(invoke) + "\x0c\x0c\x02\x00\x00\x07\x19\x79\x3e"s;
  apdu += value + "\x3f"s;
  std::string npdu = "\x01\x00"s + apdu;
  std::string b = "\x81\x0a"s;
  octets::put_be16(b, static_cast<unsigned>(4 + npdu.size()));
  return b + npdu;
}

TEST(IcsModules, Bacnet) {
  const std::string reqs_bytes = request("bacnet");
  const auto reqs = udp_unframe(reqs_bytes);
  ASSERT_EQ(reqs.size(), 6u);
  EXPECT_EQ(reqs[1].substr(0, 2), "\x81\x0a"s);
  EXPECT_EQ(static_cast<unsigned char>(reqs[1].back()), 121u);    // vendor-name
  const std::string id = bacnet_ack(1, "\xc4\x02\x00\x04\xd2"s);  // device,1234
  const std::string vendor = bacnet_ack(2, "\x75\x0e\x00Vantage Tests"s);
  const std::string model = bacnet_ack(3, "\x74\x00VT1"s);
  const std::string fw = bacnet_ack(4,
                                    "\x74\x00"
                                    "1.2"s);
  const std::string err = "\x81\x0a\x00\x0b\x01\x00\x50\x05\x0c\x91\x02"s;  // Error, invoke 5
  EXPECT_FALSE(mod("bacnet").complete(udp_frames({id, vendor})));
  auto f = mod("bacnet").parse(udp_frames({id, vendor, model, fw, err}));
  ASSERT_TRUE(f.ok()) << f.error().message;
  expect_typed("bacnet", *f);
  EXPECT_EQ((*f)["device_id"], "1234");
  EXPECT_EQ((*f)["device_vendor"], "Vantage Tests");
  EXPECT_EQ((*f)["device_model"], "VT1");
  EXPECT_EQ((*f)["device_version"], "1.2");
  check_truncations("bacnet", vendor);
}

TEST(IcsModules, EnipListIdentity) {
  std::string item;
  octets::put_le16(item, 1);
  item += std::string(16, '\0');  // socket address
  octets::put_le16(item, 1);      // Rockwell
  octets::put_le16(item, 0x0e);   // PLC
  octets::put_le16(item, 55);
  item += "\x14\x0b"s;  // revision 20.11
  octets::put_le16(item, 0x30);
  octets::put_le32(item, 0xc0ffee01);
  item +=
      "\x0e"
      "1756-L61/B LOG"s;
  item += '\x03';
  std::string items;
  octets::put_le16(items, 1);
  octets::put_le16(items, 0x0c);
  octets::put_le16(items, static_cast<unsigned>(item.size()));
  items += item;
  std::string r;
  octets::put_le16(r, 0x63);
  octets::put_le16(r, static_cast<unsigned>(items.size()));
  octets::put_le32(r, 0);
  octets::put_le32(r, 0);
  r += "VANTAGE\x00"s + std::string(4, '\0') + items;
  auto f = mod("enip").parse(udp_frames({r}));
  ASSERT_TRUE(f.ok()) << f.error().message;
  expect_typed("enip", *f);
  EXPECT_EQ((*f)["device_vendor"], "Rockwell Automation/Allen-Bradley");
  EXPECT_EQ((*f)["device_type"], "Programmable Logic Controller");
  EXPECT_EQ((*f)["device_model"], "1756-L61/B LOG");
  EXPECT_EQ((*f)["device_version"], "20.11");
  EXPECT_EQ((*f)["device_id"], "c0ffee01");
  check_truncations("enip", r);
}

// The S7 exchange against a CPU's replies: CC, setup ack, SZL 0x0011 and 0x001c.
TEST(IcsModules, S7Exchange) {
  auto ex = mod("s7").exchange({});
  EXPECT_EQ(ex->start().substr(0, 4), "\x03\x00\x00\x16"s);
  bool done = false;
  std::string out = ex->feed(
      "\x03\x00\x00\x16\x11\xd0\x00\x01\x00\x01\x00\xc0\x01\x0a\xc1\x02\x01\x00\xc2\x02\x01\x02"s,
      &done);
  EXPECT_EQ(static_cast<unsigned char>(out[8]), 0x01u);  // setup communication job
  out = ex->feed(
      "\x03\x00\x00\x1b\x02\xf0\x80\x32\x03\x00\x00\x00\x00\x00\x08\x00\x00\x00\x00\xf0\x00\x00\x01\x00\x01\x00\xf0"s,
      &done);
  EXPECT_EQ(static_cast<unsigned char>(out[8]), 0x07u);  // userdata: SZL read
  auto szl = [](unsigned id, const std::vector<std::string>& recs, size_t rec_len) {
    std::string data = "\xff\x09"s;
    std::string list;
    octets::put_be16(list, id);
    octets::put_be16(list, 0);
    octets::put_be16(list, static_cast<unsigned>(rec_len));
    octets::put_be16(list, static_cast<unsigned>(recs.size()));
    for (const auto& r : recs) list += r;
    octets::put_be16(data, static_cast<unsigned>(list.size()));
    data += list;
    const std::string param = "\x00\x01\x12\x08\x12\x84\x01\x01\x00\x00\x00\x00"s;
    std::string s7 = "\x32\x07\x00\x00\x00\x00"s;
    octets::put_be16(s7, static_cast<unsigned>(param.size()));
    octets::put_be16(s7, static_cast<unsigned>(data.size()));
    s7 += param + data;
    std::string pkt = "\x03\x00"s;
    octets::put_be16(pkt, static_cast<unsigned>(7 + s7.size()));
    return pkt + "\x02\xf0\x80"s + s7;
  };
  auto rec11 = [](unsigned index, std::string text, std::string tail) {
    std::string r;
    octets::put_be16(r, index);
    text.resize(20, ' ');
    return r + text + tail;
  };
  auto rec1c = [](unsigned index, std::string text) {
    std::string r;
    octets::put_be16(r, index);
    text.resize(32, '\0');
    return r + text;
  };
  out = ex->feed(szl(0x11,
                     {rec11(1, "6ES7 315-2EH14-0AB0", "\x00\x0c\x00\x01\x00\x01"s),
                      rec11(7, "", "\x00\x00V\x03\x02\x06"s)},
                     28),
                 &done);
  EXPECT_FALSE(done);
  out = ex->feed(
      szl(0x1c, {rec1c(1, "SNAME"), rec1c(5, "S C-X4U421302009"), rec1c(7, "CPU 315-2 PN/DP")}, 34),
      &done);
  EXPECT_TRUE(done);
  auto f = ex->result();
  ASSERT_TRUE(f.ok());
  expect_typed("s7", *f);
  EXPECT_EQ((*f)["device_vendor"], "Siemens");
  EXPECT_EQ((*f)["device_model"], "CPU 315-2 PN/DP");
  EXPECT_EQ((*f)["device_version"], "V3.2.6");
  EXPECT_EQ((*f)["device_id"], "S C-X4U421302009");
  EXPECT_EQ((*f)["device_type"], "SNAME");
  auto http = mod("s7").exchange({});
  (void)http->start();
  done = false;
  (void)http->feed("HTTP/1.1 400 Bad Request\r\n\r\n", &done);
  EXPECT_FALSE(http->result().ok());
}

TEST(IcsModules, Dnp3Iec104Fox) {
  const std::string req = request("dnp3");
  EXPECT_EQ(req.size(), 64u * 10);
  // The link status an outstation at address 10 sends back: the CRC is the one the module
  // put on request frame 10 with the addresses swapped -- take it from a known-good frame.
  const std::string status = "\x05\x64\x05\x0b\x00\x00\x0a\x00"s;
  std::string frame = status;
  {
    uint16_t crc = 0;
    for (unsigned char c : status) {
      crc ^= c;
      for (int i = 0; i < 8; ++i)
        crc = (crc & 1) ? static_cast<uint16_t>((crc >> 1) ^ 0xa6bc)
                        : static_cast<uint16_t>(crc >> 1);
    }
    octets::put_le16(frame, static_cast<uint16_t>(~crc));
  }
  EXPECT_TRUE(mod("dnp3").complete(frame));
  auto d = mod("dnp3").parse(frame);
  ASSERT_TRUE(d.ok());
  expect_typed("dnp3", *d);
  EXPECT_EQ((*d)["device_id"], "10");
  frame[9] ^= 1;
  EXPECT_FALSE(mod("dnp3").parse(frame).ok());  // bad CRC

  const std::string iec =
      "\x68\x04\x83\x00\x00\x00\x68\x04\x0b\x00\x00\x00"
      "\x68\x0e\x00\x00\x02\x00\x64\x01\x07\x00\x2a\x00\x00\x00\x00\x14"s;
  EXPECT_TRUE(mod("iec104").complete(iec));
  auto i = mod("iec104").parse(iec);
  ASSERT_TRUE(i.ok());
  expect_typed("iec104", *i);
  EXPECT_EQ((*i)["device_id"], "42");
  EXPECT_FALSE(mod("iec104").parse("\x68\x04\x07\x00\x00\x00"s).ok());  // our own STARTDT act

  const std::string fox =
      "fox a 0 -1 fox hello\n{\nfox.version=s:1.0\nid=i:171\nhostName=s:10.0.0.5\n"
      "app.name=s:Station\napp.version=s:3.8.311\nstation.name=s:JACE_1\nhostId=s:Qnx-JVLN-0000-"
      "05A1-7B93\n"
      "brandId=s:vykon\n};;\n";
  EXPECT_TRUE(mod("fox").complete(fox));
  auto x = mod("fox").parse(fox);
  ASSERT_TRUE(x.ok());
  expect_typed("fox", *x);
  EXPECT_EQ((*x)["device_vendor"], "vykon");
  EXPECT_EQ((*x)["device_version"], "3.8.311");
  EXPECT_EQ((*x)["device_id"], "Qnx-JVLN-0000-05A1-7B93");
  EXPECT_EQ((*x)["device_model"], "JACE_1");
  EXPECT_FALSE(mod("fox").parse("SSH-2.0-x\r\n").ok());
}

TEST(UdpModules, UbiquitiSlpMssqlNatpmpWsdGtpDvr) {
  std::string tl = "\x01\x00\x06\x24\xa4\x3c\x01\x02\x03"s +
                   "\x0b\x00\x05"
                   "ap-01"s +
                   "\x0c\x00\x03"
                   "LM5"s +
                   "\x0d\x00\x04"
                   "wifi"s +
                   "\x14\x00\x0e"
                   "NanoStation M5"s +
                   "\x03\x00\x0e"
                   "XM.ar7240.v6.3"s;
  std::string u = "\x01\x00"s;
  octets::put_be16(u, static_cast<unsigned>(tl.size()));
  u += tl;
  auto f = mod("ubiquiti").parse(udp_frames({u}));
  ASSERT_TRUE(f.ok());
  expect_typed("ubiquiti", *f);
  EXPECT_EQ((*f)["mac"], "24:a4:3c:01:02:03");
  EXPECT_EQ((*f)["radioname"], "ap-01");
  EXPECT_EQ((*f)["modelshort"], "LM5");
  EXPECT_EQ((*f)["essid"], "wifi");
  EXPECT_EQ((*f)["modelfull"], "NanoStation M5");
  EXPECT_EQ((*f)["firmware"], "XM.ar7240.v6.3");
  check_truncations("ubiquiti", u);

  const std::string slp_req_bytes = request("slp");
  const auto slp_req = udp_unframe(slp_req_bytes);
  ASSERT_EQ(slp_req.size(), 1u);
  EXPECT_EQ((octets::u8(slp_req[0], 2) << 16 | octets::be16(slp_req[0], 3)), slp_req[0].size());
  const std::string slp =
      "\x02\x0a\x00\x00\x1c\x00\x00\x00\x00\x00\x56\x41\x00\x02"
      "en\x00\x00\x00\x06"
      "abcdef"s;
  auto s = mod("slp").parse(udp_frames({slp}));
  ASSERT_TRUE(s.ok());
  expect_typed("slp", *s);
  EXPECT_EQ((*s)["function"], 10);
  EXPECT_EQ((*s)["function_text"], "SrvTypeRply");
  EXPECT_EQ((*s)["error_code"], 0);
  EXPECT_EQ((*s)["error_code_text"], "OK");
  EXPECT_EQ((*s)["language_tag"], "en");
  EXPECT_EQ((*s)["xid"], 0x5641);
  check_truncations("slp", slp);

  const std::string body =
      "ServerName;DB1;InstanceName;SQLEXPRESS;IsClustered;No;Version;15.0.2000.5;tcp;1433;np;"
      "\\\\DB1\\pipe\\MSSQL$SQLEXPRESS\\sql\\query;;";
  std::string ms = "\x05"s;
  octets::put_le16(ms, static_cast<unsigned>(body.size()));
  ms += body;
  auto m = mod("mssql").parse(udp_frames({ms}));
  ASSERT_TRUE(m.ok());
  expect_typed("mssql", *m);
  EXPECT_EQ((*m)["server_name"], "DB1");
  EXPECT_EQ((*m)["instance_name"], "SQLEXPRESS");
  EXPECT_EQ((*m)["version"], "15.0.2000.5");
  EXPECT_EQ((*m)["tcp_port"], "1433");
  EXPECT_EQ((*m)["named_pipe"], "\\\\DB1\\pipe\\MSSQL$SQLEXPRESS\\sql\\query");
  EXPECT_DOUBLE_EQ((*m)["amplification"].get<double>(), static_cast<double>(ms.size()));
  check_truncations("mssql", ms);

  const std::string np = "\x00\x80\x00\x00\x00\x01\x51\x80\xc6\x33\x64\x05"s;
  auto n = mod("nat_pmp").parse(udp_frames({np}));
  ASSERT_TRUE(n.ok());
  expect_typed("nat_pmp", *n);
  EXPECT_EQ((*n)["external_ip"], "198.51.100.5");
  EXPECT_EQ((*n)["uptime"], 86400);
  EXPECT_EQ((*n)["opcode"], 128);
  check_truncations("nat_pmp", np);

  const std::string fault =
      "<?xml version=\"1.0\"?><s:Envelope xmlns:s=\"x\"><s:Body><s:Fault><s:Code><s:Value>"
      "s:Sender</s:Value></s:Code><s:Reason><s:Text xml:lang=\"en\">Bad probe</s:Text>"
      "</s:Reason></s:Fault></s:Body></s:Envelope>";
  auto w = mod("ws_discovery").parse(udp_frames({fault}));
  ASSERT_TRUE(w.ok());
  expect_typed("ws_discovery", *w);
  EXPECT_EQ((*w)["error"], "Bad probe");
  EXPECT_EQ((*w)["raw_response"], octets::hex(fault, 1024));
  EXPECT_TRUE(
      mod("ws_discovery").parse(udp_frames({"<e:Envelope><d:ProbeMatches/></e:Envelope>"})).ok());
  check_truncations("ws_discovery", fault);

  const std::string echo = "\x32\x02\x00\x06\x00\x00\x00\x00\x56\x41\x00\x00\x0e\x07"s;
  auto g = mod("gtp").parse(udp_frames({echo}));
  ASSERT_TRUE(g.ok());
  expect_typed("gtp", *g);
  EXPECT_EQ((*g)["message_type_text"], "Echo Response");
  EXPECT_EQ((*g)["sequence"], 0x5641);
  EXPECT_EQ((*g)["recovery"], 7);
  EXPECT_EQ((*g)["teid"], 0);
  check_truncations("gtp", echo);

  const std::string dreq_bytes = request("dvr_dhcpdiscover");
  const auto dreq = udp_unframe(dreq_bytes);
  ASSERT_EQ(dreq.size(), 1u);
  EXPECT_EQ(dreq[0].substr(4, 4), "DHIP");
  EXPECT_EQ(octets::le32(dreq[0], 16), dreq[0].size() - 32);
  const std::string json =
      R"({"mac":"3c:ef:8c:00:00:01","method":"client.notifyDevInfo","params":{"deviceInfo":{)"
      R"("AlarmInputChannels":4,"AlarmOutputChannels":1,"DeviceClass":"DVR","DeviceType":"DH-XVR5104HS",)"
      R"("HttpPort":80,"IPv4Address":{"DefaultGateway":"192.168.1.1","DhcpEnable":false,)"
      R"("IPAddress":"192.168.1.108","SubnetMask":"255.255.255.0"},"IPv6Address":{"IPAddress":)"
      R"("2001:db8::108/64","LinkLocalAddress":"fe80::3eef:8cff:fe00:1/64","DefaultGateway":"",)"
      R"("DhcpEnable":true},"MachineName":"XVR","Manufacturer":"Private","Port":37777,)"
      R"("RemoteVideoInputChannels":0,"SerialNo":"4G0123PAZ00001","Vendor":"Dahua",)"
      R"("Version":"4.001.0000000.3","VideoInputChannels":4,"VideoOutputChannels":1}}})";
  std::string dvr =
      "\x20\x00\x00\x00"
      "DHIP"s +
      std::string(24, '\0') + json;
  auto v = mod("dvr_dhcpdiscover").parse(udp_frames({dvr}));
  ASSERT_TRUE(v.ok());
  expect_typed("dvr_dhcpdiscover", *v);
  EXPECT_EQ((*v)["device_vendor"], "Dahua");
  EXPECT_EQ((*v)["device_model"], "DH-XVR5104HS");
  EXPECT_EQ((*v)["device_serial"], "4G0123PAZ00001");
  EXPECT_EQ((*v)["ipv4_address"], "192.168.1.108");
  EXPECT_EQ((*v)["ipv4_dhcp_enable"], "false");
  EXPECT_EQ((*v)["ipv6_link_local"], "fe80::3eef:8cff:fe00:1/64");
  EXPECT_EQ((*v)["internal_port"], "37777");
  EXPECT_EQ((*v)["video_input_channels"], "4");
  EXPECT_EQ((*v)["mac_address"], "3c:ef:8c:00:00:01");
  check_truncations("dvr_dhcpdiscover", dvr);
}

}  // namespace
}  // namespace vantage::scanner

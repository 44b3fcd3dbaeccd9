// NTP (123/udp) as an old ntpd that still answers its private (mode 7) and control (mode 6)
// queries: MON_GETLIST(_1), "monlist", gets one packet of six clients (a real one sends up to
// 100 in many packets: the amplification that made it famous); mode 6 READVAR/READSTAT get
// the system variables / peer list; a mode 3 client request gets a mode 4 server reply.

#include <chrono>
#include <cstdint>

#include "sensors/honeypot/amp/protocols.h"
#include "sensors/honeypot/wire.h"

namespace vantage::honeypot::amp {

namespace {

constexpr uint64_t kNtpEpochOffset = 2208988800ull;  // 1900-01-01 to 1970-01-01, seconds

uint64_t ntp_now() {
  auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                std::chrono::system_clock::now().time_since_epoch())
                .count();
  uint64_t secs = static_cast<uint64_t>(ns / 1000000000) + kNtpEpochOffset;
  uint64_t frac = (static_cast<uint64_t>(ns % 1000000000) << 32) / 1000000000;
  return (secs << 32) | frac;
}

uint32_t local_v4(const sensors::Endpoint& local) {
  return local.ip.is_v4() ? local.ip.v4() : 0xc0000201;  // 192.0.2.1
}

// Mode 7 (private): MON_GETLIST_1 (42) / MON_GETLIST (20) -> six monitor entries.
bool mode7(std::string_view q, const sensors::Endpoint& local, std::string& reply,
           std::string& summary) {
  if (q.size() < 8) return false;
  auto b0 = static_cast<unsigned char>(q[0]);
  if (b0 & 0x80) return false;  // a response
  auto impl = static_cast<unsigned char>(q[2]);
  auto code = static_cast<unsigned char>(q[3]);
  bool monlist = code == 42 || code == 20;
  summary = monlist ? "monlist" : "mode7 request " + std::to_string(code);
  if (impl != 2 && impl != 3 && impl != 0) summary += " impl " + std::to_string(impl);
  reply.clear();
  reply.push_back(static_cast<char>(0x80 | (b0 & 0x38) | 7));  // response, version, mode 7
  reply.push_back('\0');                                       // sequence 0, no more
  reply.push_back(static_cast<char>(impl));
  reply.push_back(static_cast<char>(code));
  if (!monlist) {
    wire::put_be16(reply, 0x1000);  // err INFO_ERR_REQ, 0 items
    wire::put_be16(reply, 0);
    return true;
  }
  const uint32_t items = 6, size = code == 42 ? 72 : 32;
  wire::put_be16(reply, items);
  wire::put_be16(reply, size);
  uint32_t daddr = local_v4(local);
  for (uint32_t i = 0; i < items; ++i) {
    size_t start = reply.size();
    wire::put_be32(reply, 3 + i * 7);            // lasttime (s ago)
    wire::put_be32(reply, 86400 + i * 3600);     // firsttime
    if (size == 72) wire::put_be32(reply, 0);    // lastdrop
    wire::put_be32(reply, 40 + i * 13);          // count
    wire::put_be32(reply, 0xc6336400 + 10 + i);  // addr 198.51.100.10+i
    if (size == 72) wire::put_be32(reply, daddr);
    wire::put_be32(reply, 0);  // flags
    wire::put_be16(reply, 123);
    reply.push_back(3);                // mode
    reply.push_back(4);                // version
    reply.resize(start + size, '\0');  // v6 flag, unused, v6 addresses: zero
  }
  return true;
}

// Mode 6 (control): READSTAT (1) and READVAR (2).
bool mode6(std::string_view q, const sensors::Endpoint& local, std::string& reply,
           std::string& summary) {
  if (q.size() < 12) return false;
  auto b1 = static_cast<unsigned char>(q[1]);
  if (b1 & 0x80) return false;  // a response
  unsigned opcode = b1 & 0x1f;
  std::string data;
  if (opcode == 1) {
    summary = "mode6 readstat";
    for (uint32_t assoc : {31451u, 31452u, 31453u}) {
      wire::put_be16(data, assoc);
      wire::put_be16(data, 0x9614);  // reachable, sys.peer candidate
    }
  } else if (opcode == 2) {
    summary = "mode6 readvar";
    uint32_t ref = local_v4(local);
    data =
        "version=\"ntpd 4.2.6p5@1.2349-o Fri Jul 22 17:30:52 UTC 2016 (1)\", "
        "processor=\"x86_64\", system=\"Linux/3.10.0-1160.el7.x86_64\", leap=0, stratum=2, "
        "precision=-23, rootdelay=18.426, rootdisp=42.871, refid=" +
        std::to_string(ref >> 24) + "." + std::to_string((ref >> 16) & 0xff) + "." +
        std::to_string((ref >> 8) & 0xff) + "." + std::to_string(ref & 0xff) +
        ",\r\nreftime=0xe8a1c3f2.1c6a7ef9, clock=0xe8a1c5b0.8d4fdf3b, peer=31452, tc=10, "
        "mintc=3, offset=0.412, frequency=-12.873, sys_jitter=1.037, clk_jitter=0.514, "
        "clk_wander=0.028";
  } else {
    summary = "mode6 opcode " + std::to_string(opcode);
  }
  reply.clear();
  reply.push_back(static_cast<char>((q[0] & 0x38) | 6));  // version as asked, mode 6
  reply.push_back(static_cast<char>(0x80 | opcode));      // response
  reply.append(q.substr(2, 2));                           // sequence
  wire::put_be16(reply, 0x0618);                          // system status word
  reply.append(q.substr(6, 2));                           // association id
  wire::put_be16(reply, 0);                               // offset
  wire::put_be16(reply, static_cast<uint32_t>(data.size()));
  reply += data;
  while (reply.size() % 4) reply.push_back('\0');
  return true;
}

// Mode 3 (client) -> mode 4 (server), 48 bytes.
bool mode3(std::string_view q, const sensors::Endpoint& local, std::string& reply,
           std::string& summary) {
  if (q.size() < 48) return false;
  summary = "mode3 client";
  uint64_t now = ntp_now();
  reply.clear();
  reply.push_back(static_cast<char>((q[0] & 0x38) | 4));
  reply.push_back(2);                      // stratum
  reply.push_back(q[2]);                   // poll
  reply.push_back('\xe9');                 // precision -23
  wire::put_be32(reply, 0x00000480);       // root delay
  wire::put_be32(reply, 0x00000b00);       // root dispersion
  wire::put_be32(reply, local_v4(local));  // reference id
  for (uint64_t t : {now - (uint64_t{64} << 32), uint64_t{0}, now, now}) {
    wire::put_be32(reply, static_cast<uint32_t>(t >> 32));
    wire::put_be32(reply, static_cast<uint32_t>(t));
  }
  // Originate = the client's transmit time.
  reply.replace(24, 8, q.substr(40, 8));
  return true;
}

}  // namespace

bool respond_ntp(std::string_view q, const sensors::Endpoint& local, std::string& reply,
                 std::string& summary) {
  if (q.empty()) return false;
  unsigned version = (static_cast<unsigned char>(q[0]) >> 3) & 7;
  if (version == 0 || version > 4) return false;
  switch (q[0] & 7) {
    case 7: return mode7(q, local, reply, summary);
    case 6: return mode6(q, local, reply, summary);
    case 3: return mode3(q, local, reply, summary);
    default: return false;
  }
}

}  // namespace vantage::honeypot::amp

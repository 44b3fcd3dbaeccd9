#pragma once
// The darknet: unsolicited packets to ports no honeypot service serves -- TCP SYNs and UDP
// datagrams -- seen on a packet socket (AF_PACKET, cooked, all interfaces, a classic BPF
// filter keeping inbound IPv4/IPv6 TCP SYN and UDP), counted per source address, destination
// port and protocol over an interval, and reported once per interval as
// event4_honeypot_darknet rows (count). The packet socket is opened when the service is
// installed (needs CAP_NET_RAW: root before privileges drop); it only reads.
//
// Not counted: ports a honeypot service listens on (their own events cover them), and UDP to
// the local ephemeral port range (net.ipv4.ip_local_port_range) -- replies to the host's own
// clients (DNS, NTP) land there.

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

#include "common/ip.h"
#include "common/time.h"
#include "sensors/common/tcp_reactor.h"
#include "sensors/honeypot/service.h"

namespace vantage::honeypot::darknet {

// One packet as the counter sees it.
struct Packet {
  uint8_t protocol = 0;  // 6 TCP, 17 UDP
  sensors::Endpoint src, dst;
};

// Reads an IPv4/IPv6 packet (from its network header: a cooked packet socket's view); false
// for what is neither a TCP SYN nor a UDP datagram, or is cut or malformed.
bool parse_packet(std::string_view bytes, Packet& out);

struct CounterStats {
  int64_t packets = 0;        // parsed packets offered
  int64_t counted = 0;        // counted towards an event
  int64_t served = 0;         // to a port a service serves: not darknet traffic
  int64_t ephemeral = 0;      // UDP to the ephemeral port range
  int64_t other_address = 0;  // to an address the darknet does not watch
  int64_t untracked = 0;      // beyond max_tracked counters in one interval
  int64_t events = 0;
};

// Counts packets per (source, destination port, protocol) over one interval. Not thread-safe
// (the darknet's reader thread owns it).
class Counter {
 public:
  struct Served {
    std::unordered_set<uint16_t> tcp, udp;
  };
  Counter(IpAddress watched, Served served, uint16_t ephemeral_low, uint16_t ephemeral_high,
          size_t max_tracked);
  void add(const Packet& p, UnixSeconds now);
  // Appends one event4_honeypot_darknet record per counter to `out` and starts a new
  // interval; returns how many.
  int64_t flush(std::string& out, const HoneypotSettings& settings);
  const CounterStats& stats() const { return stats_; }
  size_t tracked() const { return counts_.size(); }

 private:
  struct Key {
    IpAddress src;
    uint16_t port;
    uint8_t protocol;
    bool operator==(const Key&) const = default;
  };
  struct KeyHash {
    size_t operator()(const Key& k) const {
      return static_cast<size_t>((k.src.hi() * 0x9E3779B97F4A7C15ull) ^
                                 (k.src.lo() * 0xC2B2AE3D27D4EB4Full) ^
                                 (uint64_t{k.port} << 8 | k.protocol));
    }
  };
  struct Count {
    int64_t count = 0;
    uint16_t src_port = 0;  // the first packet's
    IpAddress dst;          // the first packet's
    UnixSeconds first = 0;
  };
  IpAddress watched_;
  bool watch_all_;
  Served served_;
  uint16_t eph_low_, eph_high_;
  size_t max_tracked_;
  std::unordered_map<Key, Count, KeyHash> counts_;
  CounterStats stats_;
};

}  // namespace vantage::honeypot::darknet

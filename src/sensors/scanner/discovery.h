#pragma once
// Stateless discovery scan (ZMap's design, see docs/sensors.md A.1), IPv4 or IPv6 (the family
// of the targets; IPv6 targets come from hit lists, see docs/scanner.md): sender threads walk
// their sub-shard of the cyclic permutation and push prebuilt frames through an AF_PACKET
// socket with sendmmsg batches, paced by a token bucket; one receiver thread reads an
// AF_PACKET socket under a classic BPF filter (IPv4 + protocol + our source address) and
// validates replies from the packet alone. Nothing is remembered per target; the only state
// is the set of hits (for duplicate suppression).
//
// RST for SYN-ACKs is left to the kernel: with --src-ip an address of the host, the kernel
// has no socket for the probe's source port and answers the SYN-ACK with RST, closing the
// half-open connection on the target. (With a source address the kernel does not own, the
// target retransmits its SYN-ACK a few times and gives up; the scan result is the same.)
//
// Sharding: `shard i of n` across machines; inside one process sender thread t of T takes
// sub-shard i*T+t of n*T, as ZMap does, so no lock is on the hot path.

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "common/result.h"
#include "sensors/scanner/packet.h"
#include "sensors/scanner/targets.h"

namespace vantage::scanner {

struct ScanConfig {
  TargetSpace targets;             // addresses after the blocklist, all of one family
  std::vector<uint16_t> ports;     // at least one
  std::string iface;               // required unless dry_run
  std::optional<Mac> gateway_mac;  // default: 00:..:00 on loopback, required elsewhere
  std::optional<uint32_t> src_ip;  // network order; default: the interface's address
  // IPv6 scans (every target IPv6; a scan is one family): the source address, default the
  // interface's first global address.
  std::optional<std::array<uint8_t, 16>> src_ip6;
  uint64_t rate = 10000;  // packets/s in total; 0 = unlimited
  uint32_t shard = 0, shards = 1;
  uint32_t threads = 1;                    // sender threads
  uint64_t seed = 0;                       // 0: random
  int probes = 1;                          // copies of each probe
  double cooldown_s = 8;                   // wait for late replies after the last send
  uint32_t batch = 64;                     // frames per sendmmsg
  uint64_t max_targets = 0;                // 0: all
  std::string udp_module;                  // empty: TCP SYN
  bool dry_run = false;                    // print "ip,port" of each probe to stdout, send nothing
  bool progress = true;                    // one status line a second on stderr
  std::function<void(const Hit&)> on_hit;  // called from the receiver thread, once per hit
};

struct ScanStats {
  uint64_t sent = 0;
  uint64_t hits = 0;
  uint64_t closed = 0;
  double seconds = 0;
};

Result<ScanStats> run_discovery(const ScanConfig& config);

}  // namespace vantage::scanner

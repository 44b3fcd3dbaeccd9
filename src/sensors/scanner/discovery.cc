#include "sensors/scanner/discovery.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <linux/filter.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <mutex>
#include <random>
#include <set>
#include <span>
#include <thread>
#include <unordered_set>

#include "sensors/scanner/cyclic.h"
#include "sensors/scanner/rx_ring.h"

namespace vantage::scanner {
namespace {

using Clock = std::chrono::steady_clock;

struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) close(fd);
  }
};

Result<int> iface_index(const std::string& name) {
  const unsigned idx = if_nametoindex(name.c_str());
  if (idx == 0) return Error::invalid("no such interface: " + name);
  return static_cast<int>(idx);
}

Result<Mac> iface_mac(int fd, const std::string& name) {
  ifreq ifr{};
  std::snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name.c_str());
  if (ioctl(fd, SIOCGIFHWADDR, &ifr) < 0) return Error::io("SIOCGIFHWADDR " + name);
  Mac m;
  std::memcpy(m.data(), ifr.ifr_hwaddr.sa_data, 6);
  return m;
}

Result<uint32_t> iface_ipv4(const std::string& name) {
  Fd s{socket(AF_INET, SOCK_DGRAM, 0)};
  ifreq ifr{};
  std::snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name.c_str());
  if (s.fd < 0 || ioctl(s.fd, SIOCGIFADDR, &ifr) < 0)
    return Error::io("no IPv4 address on " + name + "; give --src-ip");
  sockaddr_in sin;
  std::memcpy(&sin, &ifr.ifr_addr, sizeof sin);
  return sin.sin_addr.s_addr;
}

// The interface's first global IPv6 address (link-local ones cannot be scanned from).
Result<std::array<uint8_t, 16>> iface_ipv6(const std::string& name) {
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return Error::io("getifaddrs failed");
  std::optional<std::array<uint8_t, 16>> found;
  for (ifaddrs* i = list; i && !found; i = i->ifa_next) {
    if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET6 || name != i->ifa_name) continue;
    const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(i->ifa_addr);
    const uint8_t* b = sin6->sin6_addr.s6_addr;
    if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) continue;
    std::array<uint8_t, 16> a;
    std::memcpy(a.data(), b, 16);
    found = a;
  }
  freeifaddrs(list);
  if (!found) return Error::io("no global IPv6 address on " + name + "; give --src-ip");
  return *found;
}

// Accept only IPv6 frames whose next header is our protocol, addressed to our source address.
Status attach_filter6(int fd, uint8_t proto, const std::array<uint8_t, 16>& src) {
  auto word = [&](int i) {
    return (uint32_t{src[static_cast<size_t>(4 * i)]} << 24) |
           (uint32_t{src[static_cast<size_t>(4 * i + 1)]} << 16) |
           (uint32_t{src[static_cast<size_t>(4 * i + 2)]} << 8) |
           src[static_cast<size_t>(4 * i + 3)];
  };
  sock_filter code[] = {
      BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 12), BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0x86dd, 0, 11),
      BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 20), BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, proto, 0, 9),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 38), BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, word(0), 0, 7),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 42), BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, word(1), 0, 5),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 46), BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, word(2), 0, 3),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 50), BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, word(3), 0, 1),
      BPF_STMT(BPF_RET | BPF_K, 256),         BPF_STMT(BPF_RET | BPF_K, 0),
  };
  sock_fprog prog{static_cast<unsigned short>(sizeof code / sizeof code[0]), code};
  if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof prog) < 0)
    return Error::io("SO_ATTACH_FILTER failed");
  return {};
}

// Accept only IPv4 frames of our protocol addressed to our source address.
Status attach_filter(int fd, uint8_t proto, uint32_t src_ip_net) {
  const uint32_t dst = ntohl(src_ip_net);
  sock_filter code[] = {
      BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 12),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ETHERTYPE_IP, 0, 5),
      BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 23),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, proto, 0, 3),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 30),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, dst, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, 256),
      BPF_STMT(BPF_RET | BPF_K, 0),
  };
  sock_fprog prog{static_cast<unsigned short>(sizeof code / sizeof code[0]), code};
  if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof prog) < 0)
    return Error::io("SO_ATTACH_FILTER failed");
  return {};
}

// Token bucket in packets: the sender may be at most `burst` packets ahead of the schedule.
class Pacer {
 public:
  Pacer(double rate) : rate_(rate), start_(Clock::now()) {}
  void wait_for(uint64_t sent_so_far) {
    if (rate_ <= 0) return;
    const auto due =
        start_ + std::chrono::duration<double>(static_cast<double>(sent_so_far) / rate_);
    const auto now = Clock::now();
    if (due > now) std::this_thread::sleep_for(due - now);
  }

 private:
  double rate_;
  Clock::time_point start_;
};

}  // namespace

Result<ScanStats> run_discovery(const ScanConfig& cfg) {
  if (cfg.ports.empty()) return Error::invalid("no ports to scan");
  if (cfg.targets.size() == 0) return Error::invalid("no targets left after the blocklist");
  if (cfg.threads == 0 || cfg.batch == 0 || cfg.probes < 1) return Error::invalid("bad tuning");
  ProbeParams params;
  if (!cfg.udp_module.empty()) {
    auto m = udp_module(cfg.udp_module);
    if (!m) return Error::invalid("unknown UDP module: " + cfg.udp_module);
    params.protocol = 17;
    params.udp_payload = m->payload;
  }
  uint64_t seed = cfg.seed;
  if (seed == 0) seed = std::random_device{}() | (uint64_t{std::random_device{}()} << 32);
  std::mt19937_64 keygen(seed ^ 0x9e3779b97f4a7c15ull);
  SipKey key{keygen(), keygen()};
  // Sender and receiver agree on the key; the source port base is drawn from it too.
  params.sport_base = static_cast<uint16_t>(32768 + keygen() % (61000 - 32768 - 256));

  // One family per scan: the targets' (cmd_scan splits a mixed list into two scans).
  const bool v6 = !cfg.targets.at(0).is_v4();
  const uint16_t ethertype = v6 ? ETH_P_IPV6 : ETH_P_IP;
  const uint64_t nports = cfg.ports.size();
  const uint64_t space = cfg.targets.size() * nports;
  const uint64_t total_sub = uint64_t{cfg.shards} * cfg.threads;
  const uint64_t expected =
      (cfg.max_targets ? std::min(cfg.max_targets, space) : space) / cfg.shards;

  int ifindex = 0;
  Fd tx, rx;
  std::unique_ptr<RxRing> ring;  // destroyed before rx (declared after it)
  if (!cfg.dry_run) {
    if (cfg.iface.empty()) return Error::invalid("--iface is required");
    auto idx = iface_index(cfg.iface);
    if (!idx) return idx.error();
    ifindex = *idx;
    // The sending socket has protocol 0: it receives nothing, so the replies (every target
    // answers in an RST-heavy scan) are not also cloned onto a queue nobody reads.
    tx.fd = socket(AF_PACKET, SOCK_RAW, 0);
    rx.fd = socket(AF_PACKET, SOCK_RAW, htons(ethertype));
    if (tx.fd < 0 || rx.fd < 0)
      return Error::io("AF_PACKET socket: " + std::string(std::strerror(errno)) +
                       " (needs root or CAP_NET_RAW)");
    auto mac = iface_mac(tx.fd, cfg.iface);
    if (!mac) return mac.error();
    params.src_mac = *mac;
    const bool loopback = *mac == Mac{};
    if (cfg.gateway_mac) {
      params.dst_mac = *cfg.gateway_mac;
    } else if (!loopback) {
      return Error::invalid("--gateway-mac is required on " + cfg.iface);
    }
    if (v6) {
      auto a = cfg.src_ip6 ? Result<std::array<uint8_t, 16>>(*cfg.src_ip6) : iface_ipv6(cfg.iface);
      if (!a) return a.error();
      params.src_ip6 = *a;
    } else if (cfg.src_ip) {
      params.src_ip = *cfg.src_ip;
    } else {
      auto a = iface_ipv4(cfg.iface);
      if (!a) return a.error();
      params.src_ip = *a;
    }
    sockaddr_ll sll{};
    sll.sll_family = AF_PACKET;
    sll.sll_protocol = 0;  // transmit only (the kernel takes the protocol from the frame)
    sll.sll_ifindex = ifindex;
    if (bind(tx.fd, reinterpret_cast<sockaddr*>(&sll), sizeof sll) < 0)
      return Error::io("bind tx: " + std::string(std::strerror(errno)));
    // Straight to the driver: probes need no queueing discipline (Linux >= 3.14; harmless
    // where unsupported).
    const int bypass = 1;
    setsockopt(tx.fd, SOL_PACKET, PACKET_QDISC_BYPASS, &bypass, sizeof bypass);
    sll.sll_protocol = htons(ethertype);
    if (auto st = v6 ? attach_filter6(rx.fd, params.protocol, params.src_ip6)
                     : attach_filter(rx.fd, params.protocol, params.src_ip);
        !st)
      return st.error();
    // Our own probes never reach the receiver's filter (Linux >= 4.20; older kernels still
    // deliver them as PACKET_OUTGOING and the receiver skips them).
    const int one = 1;
    setsockopt(rx.fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof one);
    int rcvbuf = 64 << 20;  // for the recvfrom() fallback when no ring can be mapped
    setsockopt(rx.fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof rcvbuf);
    ring = std::make_unique<RxRing>(rx.fd);
    if (bind(rx.fd, reinterpret_cast<sockaddr*>(&sll), sizeof sll) < 0)
      return Error::io("bind rx: " + std::string(std::strerror(errno)));
  } else if (cfg.src_ip) {
    params.src_ip = *cfg.src_ip;
  }

  std::atomic<uint64_t> sent{0}, hits{0}, closed{0};
  std::atomic<bool> stop_rx{false};
  std::atomic<uint32_t> senders_left{cfg.threads};
  std::string error;
  std::mutex error_mu, print_mu;
  const auto t0 = Clock::now();

  std::thread receiver;
  if (!cfg.dry_run) {
    receiver = std::thread([&] {
      std::unordered_set<uint64_t> seen;
      std::set<std::pair<IpAddress, uint16_t>> seen6;
      // Counted locally and published once per poll: no atomic read-modify-write per reply.
      uint64_t my_hits = 0, my_closed = 0;
      const auto on_frame = [&](std::span<const uint8_t> f, uint8_t pkttype) {
        if (pkttype == PACKET_OUTGOING || f.size() <= kEthHeader) return;
        Hit hit;
        const auto packet = f.subspan(kEthHeader);
        const auto kind = v6 ? classify_reply6(params, key, packet, &hit)
                             : classify_reply(params, key, packet, &hit);
        if (kind == ReplyKind::kClosed) ++my_closed;
        if (kind != ReplyKind::kOpen) return;
        if (v6 ? !seen6.insert({hit.addr, hit.port}).second
               : !seen.insert((uint64_t{hit.ip} << 16) | hit.port).second)
          return;
        ++my_hits;
        if (cfg.on_hit) cfg.on_hit(hit);
      };
      while (!stop_rx.load(std::memory_order_relaxed)) {
        if (ring->poll(100, on_frame) == 0) continue;
        hits.store(my_hits, std::memory_order_relaxed);
        closed.store(my_closed, std::memory_order_relaxed);
      }
      hits.store(my_hits, std::memory_order_relaxed);
      closed.store(my_closed, std::memory_order_relaxed);
    });
  }

  std::vector<std::thread> senders;
  const double per_thread_rate = static_cast<double>(cfg.rate) / cfg.threads;
  for (uint32_t t = 0; t < cfg.threads; ++t) {
    senders.emplace_back([&, t] {
      auto perm = CyclicPermutation::make(space, seed, cfg.shard * cfg.threads + t,
                                          static_cast<uint32_t>(total_sub));
      if (!perm) {
        std::lock_guard lk(error_mu);
        error = perm.error().message;
        senders_left.fetch_sub(1);
        return;
      }
      const uint64_t my_limit =
          cfg.max_targets ? (cfg.max_targets + total_sub - 1) / total_sub : UINT64_MAX;
      uint64_t mine = 0, my_sent = 0;
      std::mt19937 idgen(static_cast<uint32_t>(seed + t));
      std::vector<uint8_t> frames(size_t{cfg.batch} * kMaxFrame);
      std::vector<mmsghdr> msgs(cfg.batch);
      std::vector<iovec> iov(cfg.batch);
      Pacer pacer(per_thread_rate);
      bool done = false;
      while (!done) {
        uint32_t n = 0;
        while (n < cfg.batch) {
          if (mine >= my_limit) {
            done = true;
            break;
          }
          auto idx = perm->next();
          if (!idx) {
            done = true;
            break;
          }
          ++mine;
          const IpAddress addr = cfg.targets.at(*idx / nports);
          const uint16_t port = cfg.ports[*idx % nports];
          const uint32_t dst = htonl(addr.v4());
          if (cfg.dry_run) {
            std::lock_guard lk(print_mu);
            for (int r = 0; r < cfg.probes; ++r)
              std::printf("%s,%u\n", addr.to_string().c_str(), port);
            my_sent += static_cast<uint64_t>(cfg.probes);
            continue;
          }
          for (int r = 0; r < cfg.probes && n < cfg.batch; ++r) {
            uint8_t* f = frames.data() + size_t{n} * kMaxFrame;
            size_t len;
            if (v6) {
              uint8_t dst6[16];
              addr.to_bytes(dst6);
              len = build_probe6(params, key, dst6, port, idgen() & 0xfffff, f);
            } else {
              len = build_probe(params, key, dst, port, static_cast<uint16_t>(idgen()), f);
            }
            iov[n] = {f, len};
            msgs[n] = {};
            msgs[n].msg_hdr.msg_iov = &iov[n];
            msgs[n].msg_hdr.msg_iovlen = 1;
            ++n;
          }
        }
        uint32_t off = 0;
        while (off < n) {
          pacer.wait_for(my_sent + off);
          const int r = sendmmsg(tx.fd, msgs.data() + off, n - off, 0);
          if (r < 0) {
            if (errno == ENOBUFS || errno == EAGAIN || errno == EINTR) {
              std::this_thread::sleep_for(std::chrono::microseconds(50));
              continue;
            }
            std::lock_guard lk(error_mu);
            error = std::string("sendmmsg: ") + std::strerror(errno);
            done = true;
            break;
          }
          off += static_cast<uint32_t>(r);
          sent.fetch_add(static_cast<uint64_t>(r), std::memory_order_relaxed);
        }
        my_sent += n;
      }
      if (cfg.dry_run) sent.fetch_add(my_sent);
      senders_left.fetch_sub(1);
    });
  }

  // Progress, then cooldown.
  auto last = Clock::now();
  uint64_t last_sent = 0;
  auto report = [&](const char* phase) {
    if (!cfg.progress) return;
    const auto now = Clock::now();
    const double dt = std::chrono::duration<double>(now - last).count();
    const uint64_t s = sent.load();
    const double pps = dt > 0 ? static_cast<double>(s - last_sent) / dt : 0;
    const double el = std::chrono::duration<double>(now - t0).count();
    const uint64_t todo = expected * static_cast<uint64_t>(cfg.probes);
    const double eta = pps > 0 && todo > s ? static_cast<double>(todo - s) / pps : 0;
    std::fprintf(stderr, "scan %s: %.0fs sent %llu (%.0f pps) hits %llu closed %llu ETA %.0fs\n",
                 phase, el, static_cast<unsigned long long>(s), pps,
                 static_cast<unsigned long long>(hits.load()),
                 static_cast<unsigned long long>(closed.load()), eta);
    last = now;
    last_sent = s;
  };
  while (senders_left.load() > 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    if (Clock::now() - last >= std::chrono::seconds(1)) report("sending");
  }
  for (auto& s : senders) s.join();
  if (!cfg.dry_run) {
    const auto end = Clock::now() + std::chrono::duration<double>(cfg.cooldown_s);
    while (Clock::now() < end) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      if (Clock::now() - last >= std::chrono::seconds(1)) report("cooldown");
    }
    stop_rx = true;
    receiver.join();
  }
  if (!error.empty()) return Error::io(error);
  ScanStats st;
  st.sent = sent.load();
  st.hits = hits.load();
  st.closed = closed.load();
  st.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  return st;
}

}  // namespace vantage::scanner

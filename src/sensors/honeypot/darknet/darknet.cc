#include "sensors/honeypot/darknet/darknet.h"

#include <arpa/inet.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <mutex>
#include <thread>

#include "sensors/honeypot/wire.h"

namespace vantage::honeypot {

namespace darknet {

namespace {

bool transport(std::string_view l4, uint8_t proto, Packet& out) {
  if (proto == 17) {
    if (l4.size() < 4) return false;
  } else if (proto == 6) {
    // A SYN without ACK: someone opening a connection.
    if (l4.size() < 14 || (static_cast<unsigned char>(l4[13]) & 0x12) != 0x02) return false;
  } else {
    return false;
  }
  out.protocol = proto;
  out.src.port = wire::be16(l4, 0);
  out.dst.port = wire::be16(l4, 2);
  return true;
}

}  // namespace

bool parse_packet(std::string_view b, Packet& out) {
  out = {};
  if (b.empty()) return false;
  unsigned version = static_cast<unsigned char>(b[0]) >> 4;
  if (version == 4) {
    if (b.size() < 20) return false;
    size_t ihl = (static_cast<unsigned char>(b[0]) & 0x0f) * 4u;
    if (ihl < 20 || b.size() < ihl) return false;
    if ((wire::be16(b, 6) & 0x1fff) != 0) return false;  // a later fragment: no ports
    uint32_t src = 0, dst = 0;
    for (int i = 0; i < 4; ++i) {
      src = (src << 8) | static_cast<unsigned char>(b[12 + i]);
      dst = (dst << 8) | static_cast<unsigned char>(b[16 + i]);
    }
    out.src.ip = IpAddress::from_v4(src);
    out.dst.ip = IpAddress::from_v4(dst);
    return transport(b.substr(ihl), static_cast<uint8_t>(b[9]), out);
  }
  if (version == 6) {
    if (b.size() < 40) return false;
    out.src.ip = IpAddress::from_bytes(reinterpret_cast<const uint8_t*>(b.data() + 8), 16);
    out.dst.ip = IpAddress::from_bytes(reinterpret_cast<const uint8_t*>(b.data() + 24), 16);
    return transport(b.substr(40), static_cast<uint8_t>(b[6]), out);
  }
  return false;
}

Counter::Counter(IpAddress watched, Served served, uint16_t ephemeral_low, uint16_t ephemeral_high,
                 size_t max_tracked)
    : watched_(watched),
      watch_all_(watched == IpAddress{} || watched == IpAddress::from_v4(0)),
      served_(std::move(served)),
      eph_low_(ephemeral_low),
      eph_high_(ephemeral_high),
      max_tracked_(max_tracked) {}

void Counter::add(const Packet& p, UnixSeconds now) {
  ++stats_.packets;
  if (!watch_all_ && p.dst.ip != watched_) {
    ++stats_.other_address;
    return;
  }
  const auto& served = p.protocol == 6 ? served_.tcp : served_.udp;
  if (served.count(p.dst.port)) {
    ++stats_.served;
    return;
  }
  if (p.protocol == 17 && p.dst.port >= eph_low_ && p.dst.port <= eph_high_) {
    ++stats_.ephemeral;
    return;
  }
  Key k{p.src.ip, p.dst.port, p.protocol};
  auto it = counts_.find(k);
  if (it == counts_.end()) {
    if (counts_.size() >= max_tracked_) {
      ++stats_.untracked;
      return;
    }
    it = counts_.emplace(k, Count{0, p.src.port, p.dst.ip, now}).first;
  }
  ++it->second.count;
  ++stats_.counted;
}

int64_t Counter::flush(std::string& out, const HoneypotSettings& settings) {
  int64_t n = 0;
  for (const auto& [k, c] : counts_) {
    sensors::Endpoint src{k.src, c.src_port}, dst{c.dst, k.port};
    begin_event(out, "event4_honeypot_darknet", settings, src, dst, k.protocol == 6 ? "tcp" : "udp",
                c.first)
        .str("tag", k.protocol == 6 ? "tcp-syn" : "udp")
        .num("count", c.count)
        .finish();
    ++n;
  }
  counts_.clear();
  stats_.events += n;
  return n;
}

}  // namespace darknet

namespace {

using namespace darknet;

std::pair<uint16_t, uint16_t> ephemeral_range() {
  std::ifstream in("/proc/sys/net/ipv4/ip_local_port_range");
  int low = 32768, high = 60999;
  in >> low >> high;
  if (low < 1 || high > 65535 || low > high) return {32768, 60999};
  return {static_cast<uint16_t>(low), static_cast<uint16_t>(high)};
}

class DarknetService : public sensors::StandaloneService {
 public:
  DarknetService(ServiceContext ctx, sensors::Endpoint at, int fd)
      : ctx_(ctx), at_(at), fd_(fd), buffer_(&ctx.host->journal()) {}
  ~DarknetService() override {
    stop();
    if (fd_ >= 0) ::close(fd_);
  }

  std::string name() const override { return "darknet"; }

  Status start() override {
    Counter::Served served;
    for (const auto& [name, ep] : *ctx_.bound) {
      const ServiceModule* s = find_service(name);
      if (!s || s->name == "darknet") continue;
      (s->transport == Transport::kUdp ? served.udp : served.tcp).insert(ep.port);
    }
    auto [low, high] = ephemeral_range();
    counter_ = std::make_unique<Counter>(at_.ip, std::move(served), low, high,
                                         ctx_.settings->scan.darknet.max_tracked);
    thread_ = std::thread([this] { run(); });
    return {};
  }

  void stop() override {
    stopping_.store(true);
    if (thread_.joinable()) thread_.join();
  }

  nlohmann::json status() const override {
    std::lock_guard lock(mu_);
    return {{"packets", stats_.packets},
            {"counted", stats_.counted},
            {"served", stats_.served},
            {"ephemeral", stats_.ephemeral},
            {"other_address", stats_.other_address},
            {"untracked", stats_.untracked},
            {"not_syn_or_udp", not_parsed_},
            {"events", stats_.events}};
  }

 private:
  void run() {
    constexpr int kBatch = 64;
    constexpr size_t kSnap = 128;
    std::vector<char> buf(kBatch * kSnap);
    mmsghdr msgs[kBatch];
    iovec iov[kBatch];
    auto interval = ctx_.settings->scan.darknet.interval;
    auto next = std::chrono::steady_clock::now() + interval;
    while (!stopping_.load()) {
      pollfd p{fd_, POLLIN, 0};
      int ready = ::poll(&p, 1, 50);
      if (ready > 0) {
        std::memset(msgs, 0, sizeof msgs);
        for (int i = 0; i < kBatch; ++i) {
          iov[i] = {buf.data() + i * kSnap, kSnap};
          msgs[i].msg_hdr.msg_iov = &iov[i];
          msgs[i].msg_hdr.msg_iovlen = 1;
        }
        int n = ::recvmmsg(fd_, msgs, kBatch, MSG_DONTWAIT, nullptr);
        UnixSeconds now = now_seconds();
        for (int i = 0; i < n; ++i) {
          Packet pk;
          std::string_view bytes(buf.data() + i * kSnap, std::min<size_t>(msgs[i].msg_len, kSnap));
          if (parse_packet(bytes, pk)) {
            counter_->add(pk, now);
          } else {
            ++not_parsed_;
          }
        }
      }
      if (std::chrono::steady_clock::now() >= next) {
        next += interval;
        emit();
      }
      publish();
    }
    emit();  // what the last interval counted so far
    publish();
  }

  void emit() {
    if (counter_->tracked() == 0) return;
    counter_->flush(buffer_.text(), *ctx_.settings);
    // One commit per record: JournalBuffer counts records for its loss accounting.
    for (int64_t i = 0, n = counter_->stats().events - committed_; i < n; ++i) buffer_.commit();
    committed_ = counter_->stats().events;
    (void)buffer_.flush();
  }

  void publish() {
    std::lock_guard lock(mu_);
    stats_ = counter_->stats();
  }

  ServiceContext ctx_;
  sensors::Endpoint at_;
  int fd_;
  sensors::JournalBuffer buffer_;
  std::unique_ptr<Counter> counter_;
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  mutable std::mutex mu_;
  CounterStats stats_;
  int64_t not_parsed_ = 0, committed_ = 0;
};

// Inbound (PACKET_HOST) IPv4/IPv6 TCP SYN (no ACK) and UDP, first 128 bytes; the rest
// is dropped in the kernel.
Status attach_filter(int fd) {
  sock_filter code[] = {
      /* 0*/ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, static_cast<__u32>(SKF_AD_OFF + SKF_AD_PKTTYPE)),
      /* 1*/ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, PACKET_HOST, 0, 19),
      /* 2*/ BPF_STMT(BPF_LD | BPF_H | BPF_ABS, static_cast<__u32>(SKF_AD_OFF + SKF_AD_PROTOCOL)),
      /* 3*/ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ETH_P_IP, 0, 9),
      /* 4*/ BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 6),
      /* 5*/ BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, 0x1fff, 15, 0),
      /* 6*/ BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 9),
      /* 7*/ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 17, 12, 0),
      /* 8*/ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 6, 0, 12),
      /* 9*/ BPF_STMT(BPF_LDX | BPF_B | BPF_MSH, 0),
      /*10*/ BPF_STMT(BPF_LD | BPF_B | BPF_IND, 13),
      /*11*/ BPF_STMT(BPF_ALU | BPF_AND | BPF_K, 0x12),
      /*12*/ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0x02, 7, 8),
      /*13*/ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ETH_P_IPV6, 0, 7),
      /*14*/ BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 6),
      /*15*/ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 17, 4, 0),
      /*16*/ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 6, 0, 4),
      /*17*/ BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 53),
      /*18*/ BPF_STMT(BPF_ALU | BPF_AND | BPF_K, 0x12),
      /*19*/ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0x02, 0, 1),
      /*20*/ BPF_STMT(BPF_RET | BPF_K, 128),
      /*21*/ BPF_STMT(BPF_RET | BPF_K, 0),
  };
  sock_fprog prog{static_cast<unsigned short>(std::size(code)), code};
  if (::setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof prog) != 0) {
    return Error::io(std::string("darknet: attaching the packet filter: ") + std::strerror(errno));
  }
  return {};
}

}  // namespace

ServiceModule darknet_service() {
  ServiceModule m;
  m.name = "darknet";
  m.transport = Transport::kOwn;
  m.standard_port = 0;
  m.loopback_port = 0;
  m.default_on = false;  // a packet socket needs root: only when asked for
  m.report_types = {"event4_honeypot_darknet"};
  m.description =
      "Unsolicited TCP SYN/UDP to ports no service serves, counted per source and port "
      "(darknet=ADDRESS:0, 0.0.0.0 for every address; a packet socket: needs root)";
  m.install = [](ServiceContext& ctx, const sensors::Endpoint& at) -> Result<sensors::Endpoint> {
    if (at.port != 0) {
      return Error::invalid("darknet watches an address, not a port: darknet=ADDRESS:0");
    }
    int fd = ::socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC, htons(ETH_P_ALL));
    if (fd < 0) {
      return Error::io(std::string("darknet: cannot open a packet socket (needs root or "
                                   "CAP_NET_RAW): ") +
                       std::strerror(errno));
    }
    if (auto st = attach_filter(fd); !st) {
      ::close(fd);
      return st.error();
    }
    // What arrived before the filter was attached is not filtered: drop it.
    char drain[64];
    while (::recv(fd, drain, sizeof drain, MSG_DONTWAIT) >= 0) {
    }
    ctx.host->add_standalone(std::make_unique<DarknetService>(ctx, at, fd));
    return at;
  };
  return m;
}

}  // namespace vantage::honeypot

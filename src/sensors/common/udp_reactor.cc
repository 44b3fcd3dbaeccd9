#include "sensors/common/udp_reactor.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>

namespace vantage::sensors {

namespace {

constexpr int kBatch = 64;
// Per slot of a batch: a DNS query with EDNS, an amplification request or a first packet fits;
// anything longer is handed over cut, flagged `truncated`.
constexpr size_t kMaxDatagram = 9216;
constexpr size_t kControlBytes = 64;

std::string errno_text() {
  return std::strerror(errno);
}

}  // namespace

struct UdpReactor::Listener {
  UdpListenerOptions options;
  Endpoint bound;
  int family = AF_INET;
  std::vector<int> fds;
};

struct UdpReactor::Loop : UdpReplies {
  struct Socket {
    const Listener* listener = nullptr;
    int fd = -1;
  };

  UdpReactor* reactor = nullptr;
  int index = 0;
  int epfd = -1;
  int wakefd = -1;
  std::vector<Socket> sockets;
  // Receive side of one batch.
  std::vector<char> buffers;
  std::array<mmsghdr, kBatch> in_msgs{};
  std::array<iovec, kBatch> in_iov{};
  std::array<sockaddr_storage, kBatch> in_addr{};
  std::array<std::array<char, kControlBytes>, kBatch> in_ctrl{};
  // Send side: replies of the batch being handled.
  struct Reply {
    std::string payload;
    sockaddr_storage to{};
    socklen_t to_len = 0;
    Endpoint from;
  };
  std::vector<Reply> replies;
  size_t reply_count = 0;
  const Datagram* current = nullptr;
  sockaddr_storage current_peer{};
  socklen_t current_peer_len = 0;
  std::atomic<int64_t> datagrams_in{0}, bytes_in{0}, replies_out{0}, bytes_out{0}, send_errors{0};

  void reply(std::string_view payload) override {
    if (!current) return;
    if (reply_count == replies.size()) replies.emplace_back();
    Reply& r = replies[reply_count++];
    r.payload.assign(payload);
    r.to = current_peer;
    r.to_len = current_peer_len;
    r.from = current->local;
  }

  void send_replies(int fd, int family) {
    std::array<mmsghdr, kBatch> msgs{};
    std::array<iovec, kBatch> iov{};
    std::array<std::array<char, kControlBytes>, kBatch> ctrl{};
    size_t done = 0;
    while (done < reply_count) {
      size_t n = std::min<size_t>(kBatch, reply_count - done);
      for (size_t i = 0; i < n; ++i) {
        Reply& r = replies[done + i];
        iov[i].iov_base = r.payload.data();
        iov[i].iov_len = r.payload.size();
        msghdr& h = msgs[i].msg_hdr;
        h = msghdr{};
        h.msg_name = &r.to;
        h.msg_namelen = r.to_len;
        h.msg_iov = &iov[i];
        h.msg_iovlen = 1;
        // Answer from the address the request went to.
        std::memset(ctrl[i].data(), 0, kControlBytes);
        h.msg_control = ctrl[i].data();
        if (family == AF_INET && r.from.ip.is_v4()) {
          h.msg_controllen = CMSG_SPACE(sizeof(in_pktinfo));
          cmsghdr* cm = CMSG_FIRSTHDR(&h);
          cm->cmsg_level = IPPROTO_IP;
          cm->cmsg_type = IP_PKTINFO;
          cm->cmsg_len = CMSG_LEN(sizeof(in_pktinfo));
          in_pktinfo pi{};
          pi.ipi_spec_dst.s_addr = htonl(r.from.ip.v4());
          std::memcpy(CMSG_DATA(cm), &pi, sizeof pi);
        } else if (family == AF_INET6) {
          h.msg_controllen = CMSG_SPACE(sizeof(in6_pktinfo));
          cmsghdr* cm = CMSG_FIRSTHDR(&h);
          cm->cmsg_level = IPPROTO_IPV6;
          cm->cmsg_type = IPV6_PKTINFO;
          cm->cmsg_len = CMSG_LEN(sizeof(in6_pktinfo));
          in6_pktinfo pi{};
          r.from.ip.to_bytes(pi.ipi6_addr.s6_addr);
          std::memcpy(CMSG_DATA(cm), &pi, sizeof pi);
        } else {
          h.msg_control = nullptr;
        }
      }
      int sent = ::sendmmsg(fd, msgs.data(), static_cast<unsigned>(n), 0);
      if (sent < 0) {
        if (errno == EINTR) continue;
        // Count the first as failed and go on with the rest (one bad peer must not stall all).
        send_errors.fetch_add(1, std::memory_order_relaxed);
        sent = 1;
      } else {
        for (int i = 0; i < sent; ++i) bytes_out.fetch_add(msgs[static_cast<size_t>(i)].msg_len);
        replies_out.fetch_add(sent, std::memory_order_relaxed);
      }
      done += static_cast<size_t>(sent);
    }
    reply_count = 0;
  }

  void drain(const Socket& s) {
    for (int round = 0; round < 16; ++round) {
      for (int i = 0; i < kBatch; ++i) {
        in_iov[i].iov_base = buffers.data() + static_cast<size_t>(i) * kMaxDatagram;
        in_iov[i].iov_len = kMaxDatagram;
        msghdr& h = in_msgs[i].msg_hdr;
        h = msghdr{};
        h.msg_name = &in_addr[i];
        h.msg_namelen = sizeof(sockaddr_storage);
        h.msg_iov = &in_iov[i];
        h.msg_iovlen = 1;
        h.msg_control = in_ctrl[i].data();
        h.msg_controllen = kControlBytes;
      }
      int n = ::recvmmsg(s.fd, in_msgs.data(), kBatch, MSG_DONTWAIT, nullptr);
      if (n <= 0) return;
      for (int i = 0; i < n; ++i) {
        const msghdr& h = in_msgs[i].msg_hdr;
        Datagram d;
        d.thread = index;
        d.peer = from_sockaddr(in_addr[i]);
        d.local = s.listener->bound;
        for (cmsghdr* cm = CMSG_FIRSTHDR(const_cast<msghdr*>(&h)); cm;
             cm = CMSG_NXTHDR(const_cast<msghdr*>(&h), cm)) {
          if (cm->cmsg_level == IPPROTO_IP && cm->cmsg_type == IP_PKTINFO) {
            in_pktinfo pi{};
            std::memcpy(&pi, CMSG_DATA(cm), sizeof pi);
            d.local.ip = IpAddress::from_v4(ntohl(pi.ipi_addr.s_addr));
          } else if (cm->cmsg_level == IPPROTO_IPV6 && cm->cmsg_type == IPV6_PKTINFO) {
            in6_pktinfo pi{};
            std::memcpy(&pi, CMSG_DATA(cm), sizeof pi);
            d.local.ip = IpAddress::from_bytes(pi.ipi6_addr.s6_addr, 16);
          }
        }
        d.truncated = (h.msg_flags & MSG_TRUNC) != 0;
        d.payload = std::string_view(static_cast<const char*>(in_iov[i].iov_base),
                                     std::min<size_t>(in_msgs[i].msg_len, kMaxDatagram));
        datagrams_in.fetch_add(1, std::memory_order_relaxed);
        bytes_in.fetch_add(static_cast<int64_t>(in_msgs[i].msg_len), std::memory_order_relaxed);
        current = &d;
        current_peer = in_addr[i];
        current_peer_len = h.msg_namelen;
        s.listener->options.handler(d, *this);
        current = nullptr;
      }
      if (s.listener->options.before_replies) s.listener->options.before_replies(index);
      if (reply_count > 0) send_replies(s.fd, s.listener->family);
      if (n < kBatch) return;
    }
  }

  void run() {
    buffers.resize(static_cast<size_t>(kBatch) * kMaxDatagram);
    epoll_event events[64];
    auto next_tick = std::chrono::steady_clock::now();
    while (!reactor->stopping_.load(std::memory_order_relaxed)) {
      int n = ::epoll_wait(epfd, events, 64, static_cast<int>(reactor->options_.tick.count()));
      for (int i = 0; i < n; ++i) {
        auto idx = events[i].data.u64;
        if (idx < sockets.size()) drain(sockets[idx]);
      }
      auto now = std::chrono::steady_clock::now();
      if (now >= next_tick) {
        if (reactor->options_.on_tick) reactor->options_.on_tick(index);
        next_tick = now + reactor->options_.tick;
      }
    }
    if (reactor->options_.on_tick) reactor->options_.on_tick(index);
  }

  ~Loop() {
    if (epfd >= 0) ::close(epfd);
    if (wakefd >= 0) ::close(wakefd);
  }
};

UdpReactor::UdpReactor(UdpReactorOptions options) : options_(std::move(options)) {
  if (options_.threads < 1) options_.threads = 1;
}

UdpReactor::~UdpReactor() {
  stop();
  for (auto& l : listeners_)
    for (int fd : l->fds) ::close(fd);
}

Result<Endpoint> UdpReactor::listen(UdpListenerOptions options) {
  if (started_) return Error::internal("listen() after start()");
  auto l = std::make_unique<Listener>();
  l->options = std::move(options);
  Endpoint want = l->options.bind;
  int sockets = l->options.one_socket ? 1 : options_.threads;
  for (int i = 0; i < sockets; ++i) {
    sockaddr_storage ss{};
    socklen_t len = to_sockaddr(want, ss);
    l->family = ss.ss_family;
    int fd = ::socket(ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return Error::io("socket: " + errno_text());
    int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
    ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &l->options.receive_buffer_bytes,
                 sizeof l->options.receive_buffer_bytes);
    if (ss.ss_family == AF_INET) {
      ::setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof one);
    } else {
      ::setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof one);
    }
    if (::bind(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0) {
      std::string why = errno_text();
      ::close(fd);
      for (int f : l->fds) ::close(f);
      return Error::io("cannot listen on udp " + l->options.bind.to_string() + " (" +
                       l->options.name + "): " + why);
    }
    if (i == 0) {
      sockaddr_storage bound{};
      socklen_t blen = sizeof bound;
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &blen);
      want.port = from_sockaddr(bound).port;
      l->bound = want;
    }
    l->fds.push_back(fd);
  }
  Endpoint bound = l->bound;
  listeners_.push_back(std::move(l));
  return bound;
}

Status UdpReactor::start() {
  if (started_) return {};
  for (int i = 0; i < options_.threads; ++i) {
    auto loop = std::make_unique<Loop>();
    loop->reactor = this;
    loop->index = i;
    loop->epfd = ::epoll_create1(EPOLL_CLOEXEC);
    loop->wakefd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (loop->epfd < 0 || loop->wakefd < 0) return Error::io("epoll: " + errno_text());
    epoll_event wev{};
    wev.events = EPOLLIN;
    wev.data.u64 = UINT64_MAX;
    ::epoll_ctl(loop->epfd, EPOLL_CTL_ADD, loop->wakefd, &wev);
    for (auto& l : listeners_) {
      Loop::Socket s;
      s.listener = l.get();
      s.fd = l->fds[std::min(static_cast<size_t>(i), l->fds.size() - 1)];
      epoll_event ev{};
      ev.events = EPOLLIN | (l->options.one_socket ? EPOLLEXCLUSIVE : 0u);
      ev.data.u64 = loop->sockets.size();
      if (::epoll_ctl(loop->epfd, EPOLL_CTL_ADD, s.fd, &ev) != 0) {
        return Error::io("epoll_ctl: " + errno_text());
      }
      loop->sockets.push_back(s);
    }
    loops_.push_back(std::move(loop));
  }
  started_ = true;
  for (auto& loop : loops_) threads_.emplace_back([l = loop.get()] { l->run(); });
  return {};
}

void UdpReactor::stop() {
  stopping_.store(true);
  for (auto& loop : loops_) {
    uint64_t one = 1;
    if (loop->wakefd >= 0) (void)!::write(loop->wakefd, &one, sizeof one);
  }
  for (auto& t : threads_)
    if (t.joinable()) t.join();
  threads_.clear();
}

UdpReactorStats UdpReactor::stats() const {
  UdpReactorStats s;
  for (const auto& l : loops_) {
    s.datagrams_in += l->datagrams_in.load(std::memory_order_relaxed);
    s.bytes_in += l->bytes_in.load(std::memory_order_relaxed);
    s.replies_out += l->replies_out.load(std::memory_order_relaxed);
    s.bytes_out += l->bytes_out.load(std::memory_order_relaxed);
    s.send_errors += l->send_errors.load(std::memory_order_relaxed);
  }
  return s;
}

}  // namespace vantage::sensors

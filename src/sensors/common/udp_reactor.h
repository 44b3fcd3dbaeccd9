#pragma once
// The sensors' UDP front end: a few threads, each with its own SO_REUSEPORT socket per
// listener, reading datagrams in batches (recvmmsg), handing each to the listener's handler,
// and sending the handler's replies in batches (sendmmsg) from the address the datagram was
// sent to (IP_PKTINFO), so a sensor bound to a wildcard address answers from the right one.
// For the DNS sinkhole and the amplification honeypot: per-datagram cost is what counts.
//
// No datagram is ever sent except as a reply to the peer of a received one (the handler
// decides whether to answer, and how much: amplification budgets are the handler's job).
//
// Threading: handlers run on the loop threads, possibly concurrently on different threads
// (Datagram::thread says which); sockets are bound in listen(), before start().

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "common/result.h"
#include "sensors/common/tcp_reactor.h"

namespace vantage::sensors {

struct Datagram {
  Endpoint peer;
  Endpoint local;  // the address the peer sent to, and the listener's port
  std::string_view payload;
  int thread = 0;
  bool truncated = false;  // longer than 9,216 bytes: payload is its start
};

class UdpReplies {
 public:
  virtual ~UdpReplies() = default;
  // Queues one datagram back to the peer, from Datagram::local. Sent with the batch.
  virtual void reply(std::string_view payload) = 0;
};

using DatagramHandler = std::function<void(const Datagram&, UdpReplies&)>;

struct UdpListenerOptions {
  std::string name;
  Endpoint bind;  // port 0: any free port (the same on every loop)
  DatagramHandler handler;
  // Called on the loop thread after the handler has seen every datagram of a batch and before
  // the batch's replies are sent (also when there are none): a handler that must make
  // something durable before it answers -- the DNS sinkhole's query counts -- does it here,
  // once per batch instead of once per datagram. May be empty.
  std::function<void(int thread)> before_replies;
  // One socket read by every loop (EPOLLEXCLUSIVE) instead of one SO_REUSEPORT socket per
  // loop: the kernel pins each flow to one reuseport socket, so a few heavy flows (a handful
  // of busy resolvers) can load one loop while another idles; a shared socket balances them.
  bool one_socket = false;
  int receive_buffer_bytes = 4 << 20;  // SO_RCVBUF asked for (the kernel may cap it)
};

struct UdpReactorOptions {
  int threads = 2;
  std::function<void(int thread)> on_tick;  // as TcpReactor's
  std::chrono::milliseconds tick{50};
};

struct UdpReactorStats {
  int64_t datagrams_in = 0;
  int64_t bytes_in = 0;
  int64_t replies_out = 0;
  int64_t bytes_out = 0;
  int64_t send_errors = 0;  // replies the kernel refused (counted, not retried)
};

class UdpReactor {
 public:
  explicit UdpReactor(UdpReactorOptions options);
  ~UdpReactor();
  UdpReactor(const UdpReactor&) = delete;
  UdpReactor& operator=(const UdpReactor&) = delete;

  Result<Endpoint> listen(UdpListenerOptions options);
  Status start();
  void stop();  // idempotent; joins the loops
  UdpReactorStats stats() const;

 private:
  struct Loop;
  struct Listener;
  UdpReactorOptions options_;
  std::vector<std::unique_ptr<Listener>> listeners_;
  std::vector<std::unique_ptr<Loop>> loops_;
  std::vector<std::thread> threads_;
  std::atomic<bool> stopping_{false};
  bool started_ = false;
};

}  // namespace vantage::sensors

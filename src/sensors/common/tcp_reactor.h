#pragma once
// The sensors' TCP front end: epoll event loops on a few threads that accept connections,
// read what the peer sends, hand it to a per-connection Session, write what the session
// answers, and enforce the bounds a listener facing hostile traffic needs:
//
//   * a global cap on open connections (beyond it a connection is accepted and closed at
//     once, counted: the kernel's SYN cookies deal with half-open floods);
//   * per connection: an idle timeout, a total session time, a cap on unconsumed input (a
//     request line or header that never ends: slowloris), a cap on all bytes read, and a cap
//     on output the peer does not read;
//   * no buffer held by an idle connection: input is handed to the session straight from the
//     thread's read buffer, and only what the session leaves unconsumed is kept.
// Optionally TLS (OpenSSL over memory BIOs, so the same loop serves both): the session sees
// plaintext, the server name the client asked for (SNI), the negotiated cipher, and the raw
// ClientHello bytes (for JA3 fingerprints).
//
// No connection is ever made outward: the reactor only accepts.
//
// Threading: each thread has its own epoll and its own SO_REUSEPORT socket per listener, so a
// connection lives on one thread from accept to close, and its Session is never called
// concurrently. Factories are called on the loop threads (they must be thread-safe);
// ConnectionInfo::thread says which loop, so per-thread resources (journal buffers) need no
// locks. Sockets are bound in listen(), before start(), so a sensor can bind privileged ports
// and then drop privileges (privileges.h) before serving anything.

#include <openssl/ssl.h>
#include <sys/socket.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "common/ip.h"
#include "common/result.h"
#include "common/time.h"

namespace vantage::sensors {

struct Endpoint {
  IpAddress ip;
  uint16_t port = 0;
  std::string to_string() const;  // "1.2.3.4:80", "[::1]:80"
};
// Parses "HOST:PORT" / "[V6]:PORT" with a numeric host.
Result<Endpoint> parse_endpoint(std::string_view text);

// Conversions to and from the socket API's address form.
socklen_t to_sockaddr(const Endpoint& e, sockaddr_storage& ss);
Endpoint from_sockaddr(const sockaddr_storage& ss);

// `count` non-blocking listening sockets on `at`, all with SO_REUSEPORT (one per loop thread,
// so the kernel spreads connections over the loops); with port 0, all on the port the kernel
// gave the first, set in `bound`. For services with loops of their own (StandaloneService).
Result<std::vector<int>> listen_reuseport(const Endpoint& at, int count, int backlog,
                                          Endpoint& bound);

struct TlsInfo {
  bool enabled = false;      // the listener speaks TLS
  bool established = false;  // the handshake completed
  std::string server_name;   // SNI, "" when the client sent none
  std::string cipher;        // negotiated suite (OpenSSL name)
  std::string version;       // "TLSv1.3"
  std::string client_hello;  // raw bytes the client sent before the handshake completed
};

struct ConnectionInfo {
  std::string listener;  // the listener's name
  Endpoint peer;
  Endpoint local;
  UnixSeconds opened = 0;
  int thread = 0;  // index of the loop serving it, 0 .. threads-1
  TlsInfo tls;
};

enum class CloseReason : uint8_t {
  kPeerClosed,
  kClosedBySession,
  kIdleTimeout,
  kSessionTimeout,
  kInputLimit,   // unconsumed input or total input over the listener's bound
  kOutputLimit,  // the peer does not read what we send
  kTlsFailed,    // handshake failed (not TLS, or no common cipher)
  kError,        // socket error (reset)
  kShutdown,
  kCount
};
const char* close_reason_name(CloseReason r);

// What a session may do with its connection. Valid only during a callback.
class SessionIo {
 public:
  virtual ~SessionIo() = default;
  virtual void send(std::string_view bytes) = 0;  // queued, written as the socket allows
  virtual void close() = 0;                       // once the queued output is written
  virtual void set_idle_timeout(std::chrono::milliseconds t) = 0;
  virtual const ConnectionInfo& info() const = 0;
  virtual uint64_t bytes_in() const = 0;   // application bytes received so far
  virtual uint64_t bytes_out() const = 0;  // application bytes queued so far
};

class Session {
 public:
  virtual ~Session() = default;
  // The connection is up (for TLS: the handshake completed). A banner goes out from here.
  virtual void on_open(SessionIo& /*io*/) {}
  // `input` is everything received and not yet consumed. Returns how many bytes it consumed;
  // the rest comes back, with more, next time.
  virtual size_t on_data(std::string_view input, SessionIo& io) = 0;
  // Called exactly once, last, whatever happened (also when on_open never ran: a failed TLS
  // handshake). `unconsumed` is input left over (a partial request worth logging).
  virtual void on_close(CloseReason /*why*/, std::string_view /*unconsumed*/, SessionIo& /*io*/) {}
};

using SessionFactory = std::function<std::unique_ptr<Session>(const ConnectionInfo&)>;

// An SSL_CTX shared by the loops (OpenSSL contexts are safe to share once configured).
using TlsContext = std::shared_ptr<SSL_CTX>;
// From PEM files.
Result<TlsContext> tls_context_from_files(const std::string& cert_file,
                                          const std::string& key_file);
// A fresh P-256 key and a self-signed certificate for `common_name`, made in memory: what a
// honeypot or sinkhole presents when the operator configured no certificate.
Result<TlsContext> tls_context_self_signed(const std::string& common_name);

struct ListenerOptions {
  std::string name;  // for stats and ConnectionInfo
  Endpoint bind;     // port 0: any free port (the same one on every loop)
  SessionFactory factory;
  TlsContext tls;  // null: plain TCP
  std::chrono::milliseconds idle_timeout{30000};
  std::chrono::milliseconds session_timeout{120000};
  size_t max_unconsumed_bytes = 64 * 1024;
  uint64_t max_input_bytes = 1024 * 1024;  // per connection, all of it
  size_t max_output_bytes = 256 * 1024;
  int backlog = 4096;
  // The client speaks first (HTTP, RDP, SMB, ...): the kernel hands over a connection only
  // once its first bytes arrived (TCP_DEFER_ACCEPT), and they are read at accept, which
  // saves a wake-up per connection. Never for protocols where the server greets first.
  bool client_speaks_first = false;
};

struct ReactorOptions {
  int threads = 2;
  size_t max_connections = 20000;  // all listeners, all loops
  // Called on every loop about every `tick` (and when it stops), e.g. to flush a per-thread
  // journal buffer. May be empty.
  std::function<void(int thread)> on_tick;
  std::chrono::milliseconds tick{50};
};

struct ReactorStats {
  int64_t accepted = 0;
  int64_t refused_over_cap = 0;  // accepted and closed at once: the global cap (or the
                                 // process's descriptor limit) was reached
  int64_t active = 0;
  int64_t bytes_in = 0;
  int64_t bytes_out = 0;
  std::array<int64_t, static_cast<size_t>(CloseReason::kCount)> closed{};
};

class TcpReactor {
 public:
  explicit TcpReactor(ReactorOptions options);
  ~TcpReactor();  // stop()s
  TcpReactor(const TcpReactor&) = delete;
  TcpReactor& operator=(const TcpReactor&) = delete;

  // Binds the listener's sockets now. Returns the bound endpoint (the port when 0 was asked).
  // Only before start().
  Result<Endpoint> listen(ListenerOptions options);
  Status start();
  // Closes every connection (sessions see kShutdown) and joins the loops. Idempotent.
  void stop();
  ReactorStats stats() const;
  int threads() const { return options_.threads; }

 private:
  struct Loop;
  struct Listener;
  ReactorOptions options_;
  std::vector<std::unique_ptr<Listener>> listeners_;
  std::vector<std::unique_ptr<Loop>> loops_;
  std::vector<std::thread> threads_;
  std::atomic<int64_t> active_{0};
  std::atomic<bool> stopping_{false};
  bool started_ = false;
};

}  // namespace vantage::sensors

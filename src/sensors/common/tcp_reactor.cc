#include "sensors/common/tcp_reactor.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <queue>

#include "common/strings.h"

namespace vantage::sensors {

// ---------------------------------------------------------------------------------------
// Endpoints

std::string Endpoint::to_string() const {
  if (ip.is_v4()) return ip.to_string() + ":" + std::to_string(port);
  return "[" + ip.to_string() + "]:" + std::to_string(port);
}

Result<Endpoint> parse_endpoint(std::string_view text) {
  std::string_view host, port;
  if (text.starts_with("[")) {
    auto close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return Error::invalid("bad endpoint '" + std::string(text) + "': want [V6]:PORT");
    }
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    auto colon = text.rfind(':');
    if (colon == std::string_view::npos) {
      return Error::invalid("bad endpoint '" + std::string(text) + "': want HOST:PORT");
    }
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
  }
  auto ip = IpAddress::parse(host);
  if (!ip) return Error::invalid("bad endpoint '" + std::string(text) + "': " + ip.error().message);
  auto p = parse_uint(port);
  if (!p || *p > 65535) return Error::invalid("bad port in endpoint '" + std::string(text) + "'");
  return Endpoint{*ip, static_cast<uint16_t>(*p)};
}

socklen_t to_sockaddr(const Endpoint& e, sockaddr_storage& ss) {
  std::memset(&ss, 0, sizeof ss);
  if (e.ip.is_v4()) {
    auto* sin = reinterpret_cast<sockaddr_in*>(&ss);
    sin->sin_family = AF_INET;
    sin->sin_port = htons(e.port);
    sin->sin_addr.s_addr = htonl(e.ip.v4());
    return sizeof(sockaddr_in);
  }
  auto* sin6 = reinterpret_cast<sockaddr_in6*>(&ss);
  sin6->sin6_family = AF_INET6;
  sin6->sin6_port = htons(e.port);
  e.ip.to_bytes(sin6->sin6_addr.s6_addr);
  return sizeof(sockaddr_in6);
}

Endpoint from_sockaddr(const sockaddr_storage& ss) {
  Endpoint e;
  if (ss.ss_family == AF_INET) {
    const auto* sin = reinterpret_cast<const sockaddr_in*>(&ss);
    e.ip = IpAddress::from_v4(ntohl(sin->sin_addr.s_addr));
    e.port = ntohs(sin->sin_port);
  } else if (ss.ss_family == AF_INET6) {
    const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(&ss);
    // IPv4-mapped peers of a dual-stack socket come out as IPv4 (IpAddress's own form).
    e.ip = IpAddress::from_bytes(sin6->sin6_addr.s6_addr, 16);
    e.port = ntohs(sin6->sin6_port);
  }
  return e;
}

namespace {

std::string errno_text() {
  return std::strerror(errno);
}

std::string openssl_error() {
  unsigned long e = ERR_get_error();
  if (e == 0) return "unknown OpenSSL error";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  ERR_clear_error();
  return buf;
}

TlsContext new_server_context() {
  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  if (!ctx) return nullptr;
  // Attackers and bots speak old TLS: accept what OpenSSL can, the point is to listen.
  SSL_CTX_set_min_proto_version(ctx, TLS1_VERSION);
  SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
  SSL_CTX_set_security_level(ctx, 0);
  SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_RELEASE_BUFFERS);
  return TlsContext(ctx, SSL_CTX_free);
}

}  // namespace

const char* close_reason_name(CloseReason r) {
  switch (r) {
    case CloseReason::kPeerClosed: return "peer_closed";
    case CloseReason::kClosedBySession: return "closed";
    case CloseReason::kIdleTimeout: return "idle_timeout";
    case CloseReason::kSessionTimeout: return "session_timeout";
    case CloseReason::kInputLimit: return "input_limit";
    case CloseReason::kOutputLimit: return "output_limit";
    case CloseReason::kTlsFailed: return "tls_failed";
    case CloseReason::kError: return "error";
    case CloseReason::kShutdown: return "shutdown";
    case CloseReason::kCount: break;
  }
  return "?";
}

Result<TlsContext> tls_context_from_files(const std::string& cert_file,
                                          const std::string& key_file) {
  auto ctx = new_server_context();
  if (!ctx) return Error::internal("SSL_CTX_new: " + openssl_error());
  if (SSL_CTX_use_certificate_chain_file(ctx.get(), cert_file.c_str()) != 1) {
    return Error::invalid("TLS certificate " + cert_file + ": " + openssl_error());
  }
  if (SSL_CTX_use_PrivateKey_file(ctx.get(), key_file.c_str(), SSL_FILETYPE_PEM) != 1 ||
      SSL_CTX_check_private_key(ctx.get()) != 1) {
    return Error::invalid("TLS key " + key_file + ": " + openssl_error());
  }
  return ctx;
}

Result<TlsContext> tls_context_self_signed(const std::string& common_name) {
  auto ctx = new_server_context();
  if (!ctx) return Error::internal("SSL_CTX_new: " + openssl_error());
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(EVP_EC_gen("P-256"), EVP_PKEY_free);
  std::unique_ptr<X509, decltype(&X509_free)> cert(X509_new(), X509_free);
  if (!key || !cert) return Error::internal("self-signed certificate: " + openssl_error());
  X509_set_version(cert.get(), 2);
  unsigned char serial[16];
  RAND_bytes(serial, sizeof serial);
  serial[0] &= 0x7f;
  BIGNUM* bn = BN_bin2bn(serial, sizeof serial, nullptr);
  BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert.get()));
  BN_free(bn);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -86400);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 86400L * 365);
  X509_set_pubkey(cert.get(), key.get());
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(common_name.c_str()), -1, -1,
                             0);
  X509_set_issuer_name(cert.get(), name);
  if (X509_sign(cert.get(), key.get(), EVP_sha256()) == 0 ||
      SSL_CTX_use_certificate(ctx.get(), cert.get()) != 1 ||
      SSL_CTX_use_PrivateKey(ctx.get(), key.get()) != 1) {
    return Error::internal("self-signed certificate: " + openssl_error());
  }
  return ctx;
}

// ---------------------------------------------------------------------------------------
// The loops

struct TcpReactor::Listener {
  ListenerOptions options;
  Endpoint bound;
  std::vector<int> fds;  // one per loop (SO_REUSEPORT)
};

namespace {

enum class Kind : uint8_t { kListen, kConn, kWake };

struct Tag {
  Kind kind;
};

struct ListenTag : Tag {
  const ListenerOptions* options = nullptr;
  int fd = -1;
  Endpoint bound;
  bool wildcard = false;  // bound to 0.0.0.0 / ::: the local address differs per connection
};

constexpr size_t kReadChunk = 64 * 1024;
constexpr size_t kMaxClientHello = 16 * 1024;

}  // namespace

struct TcpReactor::Loop {
  struct Conn : Tag, SessionIo {
    Loop* loop = nullptr;
    const ListenerOptions* options = nullptr;
    int fd = -1;
    uint32_t slot = 0;
    uint32_t generation = 0;
    ConnectionInfo ci;
    std::unique_ptr<Session> session;
    std::string in;   // unconsumed input (plaintext)
    std::string out;  // raw bytes waiting for the socket
    size_t out_sent = 0;
    uint64_t app_in = 0, app_out = 0;
    std::chrono::steady_clock::time_point opened, last_activity;
    std::chrono::milliseconds idle_timeout{0};
    SSL* ssl = nullptr;
    BIO* rbio = nullptr;  // owned by ssl
    BIO* wbio = nullptr;  // owned by ssl
    bool opened_session = false;
    bool closing = false;   // close once `out` is written
    bool want_out = false;  // EPOLLOUT registered
    bool dead = false;
    CloseReason close_reason = CloseReason::kClosedBySession;

    void send(std::string_view bytes) override {
      if (dead || bytes.empty()) return;
      app_out += bytes.size();
      if (ssl) {
        while (!bytes.empty()) {
          int n = SSL_write(ssl, bytes.data(),
                            static_cast<int>(std::min<size_t>(bytes.size(), 1 << 30)));
          if (n <= 0) break;
          bytes.remove_prefix(static_cast<size_t>(n));
        }
        loop->drain_tls(*this);
      } else {
        out.append(bytes);
      }
    }
    void close() override { closing = true; }
    void set_idle_timeout(std::chrono::milliseconds t) override { idle_timeout = t; }
    const ConnectionInfo& info() const override { return ci; }
    uint64_t bytes_in() const override { return app_in; }
    uint64_t bytes_out() const override { return app_out; }
  };

  struct Timer {
    std::chrono::steady_clock::time_point due;
    uint32_t slot;
    uint32_t generation;
    bool operator>(const Timer& o) const { return due > o.due; }
  };

  TcpReactor* reactor = nullptr;
  int index = 0;
  int epfd = -1;
  int wakefd = -1;
  // Held open so that, out of descriptors (EMFILE), a pending connection can still be accepted
  // and closed: otherwise it stays in the backlog and the level-triggered listener wakes the
  // loop again at once, forever.
  int reserve_fd = -1;
  Tag wake_tag{Kind::kWake};
  std::vector<std::unique_ptr<ListenTag>> listen_tags;
  std::vector<Conn*> slots;
  std::vector<uint32_t> free_slots;
  std::vector<uint32_t> generations;
  std::priority_queue<Timer, std::vector<Timer>, std::greater<>> timers;
  std::string read_buf;
  std::string plain_buf;
  std::atomic<int64_t> accepted{0}, refused{0}, bytes_in{0}, bytes_out{0};
  std::array<std::atomic<int64_t>, static_cast<size_t>(CloseReason::kCount)> closed{};

  ~Loop() {
    for (Conn* c : slots) {
      if (c) finish(c, CloseReason::kShutdown);
    }
    if (epfd >= 0) ::close(epfd);
    if (wakefd >= 0) ::close(wakefd);
    if (reserve_fd >= 0) ::close(reserve_fd);
  }

  std::chrono::steady_clock::time_point deadline(const Conn& c) const {
    auto idle = c.last_activity + c.idle_timeout;
    auto whole = c.opened + c.options->session_timeout;
    return std::min(idle, whole);
  }

  void arm_timer(Conn& c) { timers.push({deadline(c), c.slot, c.generation}); }

  void drain_tls(Conn& c) {
    char buf[16384];
    while (BIO_ctrl_pending(c.wbio) > 0) {
      int n = BIO_read(c.wbio, buf, sizeof buf);
      if (n <= 0) break;
      c.out.append(buf, static_cast<size_t>(n));
    }
  }

  void accept_from(const ListenTag& lt) {
    for (int i = 0; i < 64; ++i) {
      sockaddr_storage peer{};
      socklen_t plen = sizeof peer;
      int fd =
          ::accept4(lt.fd, reinterpret_cast<sockaddr*>(&peer), &plen, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0 && (errno == EMFILE || errno == ENFILE) && reserve_fd >= 0) {
        // Out of descriptors: take the connection with the reserve one and close it (counted
        // as refused, like one over the connection cap).
        ::close(reserve_fd);
        int victim = ::accept4(lt.fd, nullptr, nullptr, SOCK_CLOEXEC);
        if (victim >= 0) ::close(victim);
        reserve_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
        refused.fetch_add(1, std::memory_order_relaxed);
        if (victim < 0) return;
        continue;
      }
      if (fd < 0) return;  // EAGAIN, or an error of one connection (ECONNABORTED): go on later
      if (static_cast<size_t>(reactor->active_.load(std::memory_order_relaxed)) >=
          reactor->options_.max_connections) {
        ::close(fd);
        refused.fetch_add(1, std::memory_order_relaxed);
        continue;
      }
      reactor->active_.fetch_add(1, std::memory_order_relaxed);
      accepted.fetch_add(1, std::memory_order_relaxed);
      int one = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      auto* c = new Conn();
      c->kind = Kind::kConn;
      c->loop = this;
      c->options = lt.options;
      c->fd = fd;
      c->ci.listener = lt.options->name;
      c->ci.peer = from_sockaddr(peer);
      if (lt.wildcard) {
        // Which of the host's addresses the peer connected to.
        sockaddr_storage local{};
        socklen_t llen = sizeof local;
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &llen);
        c->ci.local = from_sockaddr(local);
      } else {
        c->ci.local = lt.bound;
      }
      c->ci.opened = now_seconds();
      c->ci.thread = index;
      c->opened = c->last_activity = std::chrono::steady_clock::now();
      c->idle_timeout = lt.options->idle_timeout;
      if (free_slots.empty()) {
        free_slots.push_back(static_cast<uint32_t>(slots.size()));
        slots.push_back(nullptr);
        generations.push_back(0);
      }
      c->slot = free_slots.back();
      free_slots.pop_back();
      c->generation = ++generations[c->slot];
      slots[c->slot] = c;
      epoll_event ev{};
      ev.events = EPOLLIN | EPOLLRDHUP;
      ev.data.ptr = static_cast<Tag*>(c);
      ::epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
      c->session = lt.options->factory ? lt.options->factory(c->ci) : nullptr;
      if (!c->session) {
        finish(c, CloseReason::kClosedBySession);
        continue;
      }
      if (lt.options->tls) {
        c->ci.tls.enabled = true;
        c->ssl = SSL_new(lt.options->tls.get());
        c->rbio = BIO_new(BIO_s_mem());
        c->wbio = BIO_new(BIO_s_mem());
        SSL_set_bio(c->ssl, c->rbio, c->wbio);
        SSL_set_accept_state(c->ssl);
      } else {
        c->opened_session = true;
        c->session->on_open(*c);
        if (!after_callback(c)) continue;
      }
      arm_timer(*c);
      // With TCP_DEFER_ACCEPT the first bytes are already here.
      if (lt.options->client_speaks_first) on_readable(c);
    }
  }

  // Writes what can be written; settles closing. False when the connection is gone.
  bool after_callback(Conn* c) {
    if (!flush_out(c)) return false;
    if (c->closing && c->out_sent == c->out.size()) {
      finish(c, CloseReason::kClosedBySession);
      return false;
    }
    return true;
  }

  bool flush_out(Conn* c) {
    while (c->out_sent < c->out.size()) {
      ssize_t n =
          ::send(c->fd, c->out.data() + c->out_sent, c->out.size() - c->out_sent, MSG_NOSIGNAL);
      if (n > 0) {
        c->out_sent += static_cast<size_t>(n);
        bytes_out.fetch_add(n, std::memory_order_relaxed);
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
      finish(c, CloseReason::kError);
      return false;
    }
    if (c->out_sent == c->out.size()) {
      c->out.clear();
      c->out_sent = 0;
      if (c->out.capacity() > 16 * 1024) c->out.shrink_to_fit();
    } else if (c->out.size() - c->out_sent > c->options->max_output_bytes) {
      finish(c, CloseReason::kOutputLimit);
      return false;
    }
    bool want = c->out_sent < c->out.size();
    if (want != c->want_out) {
      epoll_event ev{};
      ev.events = EPOLLIN | EPOLLRDHUP | (want ? EPOLLOUT : 0u);
      ev.data.ptr = static_cast<Tag*>(c);
      ::epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
      c->want_out = want;
    }
    return true;
  }

  // Hands plaintext to the session. False when the connection is gone.
  bool deliver(Conn* c, std::string_view data) {
    c->app_in += data.size();
    if (c->app_in > c->options->max_input_bytes) {
      c->in.append(data.substr(0, std::min(data.size(), c->options->max_unconsumed_bytes)));
      finish(c, CloseReason::kInputLimit);
      return false;
    }
    size_t used;
    if (c->in.empty()) {
      used = c->session->on_data(data, *c);
      if (used < data.size()) c->in.assign(data.substr(used));
    } else {
      c->in.append(data);
      used = c->session->on_data(c->in, *c);
      c->in.erase(0, std::min(used, c->in.size()));
    }
    if (c->in.empty() && c->in.capacity() > 16 * 1024) c->in.shrink_to_fit();
    if (c->in.size() > c->options->max_unconsumed_bytes) {
      finish(c, CloseReason::kInputLimit);
      return false;
    }
    return after_callback(c);
  }

  void on_readable(Conn* c) {
    for (int round = 0; round < 4; ++round) {
      ssize_t n = ::recv(c->fd, read_buf.data(), read_buf.size(), 0);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
      if (n < 0) {
        finish(c, CloseReason::kError);
        return;
      }
      if (n == 0) {
        // The peer is done sending; what we still owe it goes out first if the socket takes it.
        if (flush_out(c)) finish(c, CloseReason::kPeerClosed);
        return;
      }
      bytes_in.fetch_add(n, std::memory_order_relaxed);
      c->last_activity = std::chrono::steady_clock::now();
      std::string_view raw(read_buf.data(), static_cast<size_t>(n));
      if (!c->ssl) {
        if (!deliver(c, raw)) return;
      } else if (!on_tls_bytes(c, raw)) {
        return;
      }
      if (static_cast<size_t>(n) < read_buf.size()) return;
    }
  }

  bool on_tls_bytes(Conn* c, std::string_view raw) {
    auto& tls = c->ci.tls;
    if (!tls.established && tls.client_hello.size() < kMaxClientHello) {
      tls.client_hello.append(raw.substr(0, kMaxClientHello - tls.client_hello.size()));
    }
    BIO_write(c->rbio, raw.data(), static_cast<int>(raw.size()));
    if (!tls.established) {
      int r = SSL_do_handshake(c->ssl);
      drain_tls(*c);
      if (r != 1) {
        int err = SSL_get_error(c->ssl, r);
        ERR_clear_error();
        if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) return flush_out(c);
        flush_out(c);  // the alert, if any
        if (slots[c->slot] == c) finish(c, CloseReason::kTlsFailed);
        return false;
      }
      tls.established = true;
      if (const char* sni = SSL_get_servername(c->ssl, TLSEXT_NAMETYPE_host_name)) {
        tls.server_name = sni;
      }
      tls.cipher = SSL_get_cipher_name(c->ssl);
      tls.version = SSL_get_version(c->ssl);
      c->opened_session = true;
      c->session->on_open(*c);
      if (!after_callback(c)) return false;
    }
    while (true) {
      int n = SSL_read(c->ssl, plain_buf.data(), static_cast<int>(plain_buf.size()));
      if (n <= 0) {
        int err = SSL_get_error(c->ssl, n);
        ERR_clear_error();
        drain_tls(*c);
        if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) return flush_out(c);
        if (err == SSL_ERROR_ZERO_RETURN) {
          finish(c, CloseReason::kPeerClosed);
        } else {
          finish(c, CloseReason::kError);
        }
        return false;
      }
      if (!deliver(c, std::string_view(plain_buf.data(), static_cast<size_t>(n)))) return false;
    }
  }

  void finish(Conn* c, CloseReason why) {
    if (c->dead) return;
    c->dead = true;
    closed[static_cast<size_t>(why)].fetch_add(1, std::memory_order_relaxed);
    if (c->session) c->session->on_close(why, c->in, *c);
    if (c->ssl) SSL_free(c->ssl);
    ::close(c->fd);  // also leaves the epoll set (the descriptor is never duplicated)
    slots[c->slot] = nullptr;
    free_slots.push_back(c->slot);
    reactor->active_.fetch_sub(1, std::memory_order_relaxed);
    delete c;
  }

  void expire_timers() {
    auto now = std::chrono::steady_clock::now();
    while (!timers.empty() && timers.top().due <= now) {
      Timer t = timers.top();
      timers.pop();
      Conn* c = t.slot < slots.size() ? slots[t.slot] : nullptr;
      if (!c || c->generation != t.generation) continue;  // closed since
      auto due = deadline(*c);
      if (due > now) {
        timers.push({due, t.slot, t.generation});  // activity moved it on
        continue;
      }
      bool whole = c->opened + c->options->session_timeout <= now;
      finish(c, whole ? CloseReason::kSessionTimeout : CloseReason::kIdleTimeout);
    }
  }

  void run() {
    read_buf.resize(kReadChunk);
    plain_buf.resize(kReadChunk);
    epoll_event events[256];
    auto next_tick = std::chrono::steady_clock::now();
    while (!reactor->stopping_.load(std::memory_order_relaxed)) {
      int n = ::epoll_wait(epfd, events, 256, static_cast<int>(reactor->options_.tick.count()));
      for (int i = 0; i < n; ++i) {
        auto* tag = static_cast<Tag*>(events[i].data.ptr);
        if (tag->kind == Kind::kListen) {
          accept_from(*static_cast<ListenTag*>(tag));
        } else if (tag->kind == Kind::kConn) {
          auto* c = static_cast<Conn*>(tag);
          uint32_t ev = events[i].events;
          if (ev & EPOLLOUT) {
            if (!flush_out(c)) continue;
            if (c->closing && c->out.empty()) {
              finish(c, CloseReason::kClosedBySession);
              continue;
            }
          }
          if (ev & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) on_readable(c);
        }
      }
      expire_timers();
      auto now = std::chrono::steady_clock::now();
      if (now >= next_tick) {
        if (reactor->options_.on_tick) reactor->options_.on_tick(index);
        next_tick = now + reactor->options_.tick;
      }
    }
    for (Conn* c : slots) {
      if (c) finish(c, CloseReason::kShutdown);
    }
    if (reactor->options_.on_tick) reactor->options_.on_tick(index);
  }
};

// ---------------------------------------------------------------------------------------

TcpReactor::TcpReactor(ReactorOptions options) : options_(std::move(options)) {
  if (options_.threads < 1) options_.threads = 1;
}

TcpReactor::~TcpReactor() {
  stop();
  for (auto& l : listeners_)
    for (int fd : l->fds) ::close(fd);
}

Result<std::vector<int>> listen_reuseport(const Endpoint& at, int count, int backlog,
                                          Endpoint& bound) {
  std::vector<int> fds;
  Endpoint want = at;
  for (int i = 0; i < count; ++i) {
    sockaddr_storage ss{};
    socklen_t len = to_sockaddr(want, ss);
    int fd = ::socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      for (int f : fds) ::close(f);
      return Error::io("socket: " + errno_text());
    }
    int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0 || ::listen(fd, backlog) != 0) {
      std::string why = errno_text();
      ::close(fd);
      for (int f : fds) ::close(f);
      return Error::io(why);
    }
    if (i == 0) {
      // Port 0: the others take the port the kernel gave the first.
      sockaddr_storage got{};
      socklen_t glen = sizeof got;
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&got), &glen);
      want = from_sockaddr(got);
      want.ip = at.ip;
      bound = want;
    }
    fds.push_back(fd);
  }
  return fds;
}

Result<Endpoint> TcpReactor::listen(ListenerOptions options) {
  if (started_) return Error::internal("listen() after start()");
  auto l = std::make_unique<Listener>();
  l->options = std::move(options);
  auto fds = listen_reuseport(l->options.bind, options_.threads, l->options.backlog, l->bound);
  if (!fds) {
    return Error::io("cannot listen on " + l->options.bind.to_string() + " (" + l->options.name +
                     "): " + fds.error().message);
  }
  l->fds = std::move(*fds);
  if (l->options.client_speaks_first) {
    // The kernel holds the connection until the client's first bytes arrive (or the idle
    // timeout passes), so silent half-open connections never wake a loop.
    int secs = static_cast<int>(std::max<int64_t>(
        1, std::chrono::duration_cast<std::chrono::seconds>(l->options.idle_timeout).count()));
    for (int fd : l->fds) ::setsockopt(fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, &secs, sizeof secs);
  }
  Endpoint bound = l->bound;
  listeners_.push_back(std::move(l));
  return bound;
}

Status TcpReactor::start() {
  if (started_) return {};
  for (int i = 0; i < options_.threads; ++i) {
    auto loop = std::make_unique<Loop>();
    loop->reactor = this;
    loop->index = i;
    loop->epfd = ::epoll_create1(EPOLL_CLOEXEC);
    loop->wakefd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    loop->reserve_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (loop->epfd < 0 || loop->wakefd < 0) return Error::io("epoll: " + errno_text());
    epoll_event wev{};
    wev.events = EPOLLIN;
    wev.data.ptr = &loop->wake_tag;
    ::epoll_ctl(loop->epfd, EPOLL_CTL_ADD, loop->wakefd, &wev);
    for (auto& l : listeners_) {
      auto tag = std::make_unique<ListenTag>();
      tag->kind = Kind::kListen;
      tag->options = &l->options;
      tag->fd = l->fds[static_cast<size_t>(i)];
      tag->bound = l->bound;
      tag->wildcard = l->bound.ip == IpAddress::from_v4(0) || l->bound.ip == IpAddress() ||
                      l->bound.ip == IpAddress::from_v6(0, 0);
      epoll_event ev{};
      ev.events = EPOLLIN;
      ev.data.ptr = static_cast<Tag*>(tag.get());
      if (::epoll_ctl(loop->epfd, EPOLL_CTL_ADD, tag->fd, &ev) != 0) {
        return Error::io("epoll_ctl: " + errno_text());
      }
      loop->listen_tags.push_back(std::move(tag));
    }
    loops_.push_back(std::move(loop));
  }
  started_ = true;
  for (auto& loop : loops_) threads_.emplace_back([l = loop.get()] { l->run(); });
  return {};
}

void TcpReactor::stop() {
  stopping_.store(true);
  for (auto& loop : loops_) {
    uint64_t one = 1;
    if (loop->wakefd >= 0) (void)!::write(loop->wakefd, &one, sizeof one);
  }
  for (auto& t : threads_)
    if (t.joinable()) t.join();
  threads_.clear();
}

ReactorStats TcpReactor::stats() const {
  ReactorStats s;
  for (const auto& loop : loops_) {
    s.accepted += loop->accepted.load(std::memory_order_relaxed);
    s.refused_over_cap += loop->refused.load(std::memory_order_relaxed);
    s.bytes_in += loop->bytes_in.load(std::memory_order_relaxed);
    s.bytes_out += loop->bytes_out.load(std::memory_order_relaxed);
    for (size_t i = 0; i < s.closed.size(); ++i)
      s.closed[i] += loop->closed[i].load(std::memory_order_relaxed);
  }
  s.active = active_.load(std::memory_order_relaxed);
  return s;
}

}  // namespace vantage::sensors

#include "integrations/stream_client.h"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/ip.h"
#include "common/strings.h"

namespace vantage::integrations {

namespace {

std::string ssl_error_text() {
  unsigned long e = ERR_get_error();
  if (e == 0) return "TLS error";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  ERR_clear_error();
  return buf;
}

// Waits until `fd` is ready for `events`; false on timeout or error.
bool wait_fd(int fd, short events, std::chrono::milliseconds timeout) {
  pollfd p{fd, events, 0};
  int rc;
  do {
    rc = ::poll(&p, 1, static_cast<int>(timeout.count()));
  } while (rc < 0 && errno == EINTR);
  return rc > 0;
}

// OpenSSL writes with write(2): a peer that has gone away would raise SIGPIPE and end the
// process. Blocked on this thread while writing; a SIGPIPE raised meanwhile is consumed.
class SigpipeGuard {
 public:
  SigpipeGuard() {
    sigemptyset(&pipe_);
    sigaddset(&pipe_, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_, &old_);
  }
  ~SigpipeGuard() {
    timespec zero{0, 0};
    while (sigtimedwait(&pipe_, nullptr, &zero) > 0) {
    }
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }

 private:
  sigset_t pipe_, old_;
};

}  // namespace

StreamClient::StreamClient(StreamOptions options) : options_(std::move(options)) {}

StreamClient::~StreamClient() {
  close();
  if (ctx_) SSL_CTX_free(static_cast<SSL_CTX*>(ctx_));
}

Result<std::pair<std::string, uint16_t>> StreamClient::split_address(std::string_view address) {
  size_t colon = address.rfind(':');
  if (colon == address.npos || colon == 0) return Error::invalid("address must be HOST:PORT");
  std::string_view host = address.substr(0, colon);
  auto port = parse_uint(address.substr(colon + 1));
  if (!port || *port == 0 || *port > 65535) return Error::invalid("port must be 1..65535");
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  return std::make_pair(std::string(host), static_cast<uint16_t>(*port));
}

void StreamClient::close() {
  if (ssl_) {
    SSL_free(static_cast<SSL*>(ssl_));  // no close_notify: the peer may be gone already
    ssl_ = nullptr;
  }
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
}

bool StreamClient::peer_closed() const {
  // A syslog collector never writes to us: anything readable -- EOF, a reset, a TLS alert or
  // close_notify -- means the connection is over. Writing into it would "succeed" into the
  // kernel buffer and be lost.
  pollfd p{fd_, POLLIN | POLLRDHUP, 0};
  if (::poll(&p, 1, 0) <= 0) return false;
  return (p.revents & (POLLIN | POLLRDHUP | POLLHUP | POLLERR)) != 0;
}

Status StreamClient::connect_tcp() {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  std::string port = std::to_string(options_.port);
  int rc = ::getaddrinfo(options_.host.c_str(), port.c_str(), &hints, &res);
  if (rc != 0)
    return Error{ErrorCode::kUnavailable,
                 "cannot resolve " + options_.host + ": " + ::gai_strerror(rc)};
  std::string last = "no address";
  for (addrinfo* a = res; a; a = a->ai_next) {
    int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, a->ai_protocol);
    if (fd < 0) continue;
    int r = ::connect(fd, a->ai_addr, a->ai_addrlen);
    if (r != 0 && errno == EINPROGRESS) {
      if (wait_fd(fd, POLLOUT, options_.connect_timeout)) {
        int err = 0;
        socklen_t len = sizeof err;
        ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
        r = err == 0 ? 0 : -1;
        errno = err;
      } else {
        errno = ETIMEDOUT;
      }
    }
    if (r == 0) {
      // Blocking from here on, with timeouts: a stalled collector cannot hold a sender forever.
      ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
      timeval tv{static_cast<time_t>(options_.io_timeout.count() / 1000),
                 static_cast<suseconds_t>((options_.io_timeout.count() % 1000) * 1000)};
      ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
      ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
      int one = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      fd_ = fd;
      ::freeaddrinfo(res);
      return {};
    }
    last = std::strerror(errno);
    ::close(fd);
  }
  ::freeaddrinfo(res);
  return Error{ErrorCode::kUnavailable,
               "cannot connect to " + options_.host + ":" + port + ": " + last};
}

Status StreamClient::start_tls() {
  SigpipeGuard no_sigpipe;
  if (!ctx_) {
    SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
    if (!ctx) return Error::internal("SSL_CTX_new: " + ssl_error_text());
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
    int ok = options_.ca_file.empty()
                 ? SSL_CTX_set_default_verify_paths(ctx)
                 : SSL_CTX_load_verify_locations(ctx, options_.ca_file.c_str(), nullptr);
    if (ok != 1) {
      SSL_CTX_free(ctx);
      return Error::invalid("TLS CA file " + options_.ca_file + ": " + ssl_error_text());
    }
    if (!options_.cert_file.empty()) {
      if (SSL_CTX_use_certificate_chain_file(ctx, options_.cert_file.c_str()) != 1 ||
          SSL_CTX_use_PrivateKey_file(ctx, options_.key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
        SSL_CTX_free(ctx);
        return Error::invalid("TLS client certificate: " + ssl_error_text());
      }
    }
    ctx_ = ctx;
  }
  SSL* ssl = SSL_new(static_cast<SSL_CTX*>(ctx_));
  if (!ssl) return Error::internal("SSL_new: " + ssl_error_text());
  ssl_ = ssl;
  const std::string& name = options_.server_name.empty() ? options_.host : options_.server_name;
  X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
  if (IpAddress::parse(name)) {
    X509_VERIFY_PARAM_set1_ip_asc(param, name.c_str());
  } else {
    SSL_set_tlsext_host_name(ssl, name.c_str());
    X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    SSL_set1_host(ssl, name.c_str());
  }
  SSL_set_fd(ssl, fd_);
  if (SSL_connect(ssl) != 1) {
    long verify = SSL_get_verify_result(ssl);
    std::string why = verify != X509_V_OK ? std::string("certificate verification failed: ") +
                                                X509_verify_cert_error_string(verify)
                                          : ssl_error_text();
    close();
    return Error{ErrorCode::kUnavailable, "TLS handshake with " + name + ": " + why};
  }
  return {};
}

Status StreamClient::ensure_connected() {
  if (fd_ >= 0 && !peer_closed()) return {};
  close();
  if (auto st = connect_tcp(); !st) return st;
  if (options_.tls) {
    if (auto st = start_tls(); !st) {
      close();
      return st;
    }
  }
  return {};
}

Status StreamClient::write_all(std::string_view bytes) {
  if (fd_ < 0) return Error{ErrorCode::kUnavailable, "not connected"};
  SigpipeGuard no_sigpipe;
  size_t done = 0;
  while (done < bytes.size()) {
    if (ssl_) {
      size_t wrote = 0;
      int r =
          SSL_write_ex(static_cast<SSL*>(ssl_), bytes.data() + done, bytes.size() - done, &wrote);
      if (r != 1) {
        std::string why = ssl_error_text();
        close();
        return Error{ErrorCode::kUnavailable, "TLS write failed: " + why};
      }
      done += wrote;
    } else {
      ssize_t n = ::send(fd_, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        std::string why = n < 0 ? std::strerror(errno) : "connection closed";
        close();
        return Error{ErrorCode::kUnavailable, "write failed: " + why};
      }
      done += static_cast<size_t>(n);
    }
  }
  return {};
}

}  // namespace vantage::integrations

#pragma once
// A client byte stream over TCP, optionally TLS (OpenSSL, TLS 1.2+), for the syslog
// subscription kind: connect with a deadline, write everything or fail, and notice a peer that
// has gone away before writing into a dead connection.
//
// TLS: the peer's certificate is verified against `ca_file` (or the system store) and its name
// against `server_name` (default: the host of the address; an IP literal is matched against
// the certificate's IP addresses). A client certificate is sent when `cert_file`/`key_file`
// are set (mutual TLS, e.g. rsyslog's x509/certvalid).
//
// Thread-safety: one StreamClient per thread.

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"

namespace vantage::integrations {

struct StreamOptions {
  std::string host;  // name or IP literal (no brackets)
  uint16_t port = 0;
  bool tls = false;
  std::string ca_file;
  std::string cert_file;
  std::string key_file;
  std::string server_name;  // empty: `host`
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds io_timeout{10000};
};

class StreamClient {
 public:
  explicit StreamClient(StreamOptions options);
  ~StreamClient();
  StreamClient(const StreamClient&) = delete;
  StreamClient& operator=(const StreamClient&) = delete;

  // Connects unless connected (a connection the peer closed is replaced).
  // kUnavailable: refused, unreachable, timed out, TLS handshake or verification failed.
  Status ensure_connected();
  // Writes all of `bytes`; on failure the connection is closed (the next call reconnects).
  Status write_all(std::string_view bytes);
  void close();
  bool connected() const { return fd_ >= 0; }

  // "HOST:PORT" / "[V6]:PORT" split; nullopt-like error for a bad address.
  static Result<std::pair<std::string, uint16_t>> split_address(std::string_view address);

 private:
  bool peer_closed() const;
  Status connect_tcp();
  Status start_tls();

  StreamOptions options_;
  int fd_ = -1;
  void* ctx_ = nullptr;  // SSL_CTX*
  void* ssl_ = nullptr;  // SSL*
};

}  // namespace vantage::integrations

#pragma once
// A TLS client over memory BIOs, for exchanges that speak an application protocol inside TLS
// (HTTPS vulnerability checks, implicit-TLS banners). The caller moves bytes: ciphertext from
// the socket goes in through feed(), ciphertext to send comes back from start()/feed()/
// write(), plaintext from the server accumulates in plaintext(). No certificate verification
// (the check judges the application, not the certificate). Not thread-safe; one per connection.

#include <openssl/ssl.h>

#include <string>
#include <string_view>

namespace vantage::scanner {

class TlsClientPipe {
 public:
  // `sni` may be empty (addresses are never sent as SNI).
  explicit TlsClientPipe(const std::string& sni);
  ~TlsClientPipe();
  TlsClientPipe(const TlsClientPipe&) = delete;
  TlsClientPipe& operator=(const TlsClientPipe&) = delete;

  // The ClientHello.
  std::string start();
  // Ciphertext from the server; returns ciphertext to send (handshake replies, and `pending`
  // plaintext queued by write() once the handshake is done).
  std::string feed(std::string_view ciphertext);
  // Queues plaintext for the server; returns ciphertext at once when the handshake is done.
  std::string write(std::string_view plaintext);

  bool established() const { return established_; }
  // The connection (peer certificate, version, cipher); null when no context could be made.
  SSL* handle() const { return ssl_; }
  bool failed() const { return failed_; }
  const std::string& error() const { return error_; }
  // Everything the server has sent inside TLS so far.
  const std::string& plaintext() const { return plain_; }
  std::string take_plaintext() { return std::move(plain_); }

 private:
  std::string drain();
  void pump();
  SSL* ssl_ = nullptr;
  BIO* rbio_ = nullptr;  // owned by ssl_
  BIO* wbio_ = nullptr;  // owned by ssl_
  std::string pending_, plain_, error_;
  bool established_ = false, failed_ = false;
};

}  // namespace vantage::scanner

#pragma once
// TLS certificate grab (scan_ssl): a TLS handshake through OpenSSL with memory BIOs, driven
// by the probe engine's bytes, no certificate verification (we report what is served, not
// whether it is trusted), up to TLS 1.3 and down to what OpenSSL still speaks at security
// level 0. Nothing is sent after the handshake.

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"
#include "sensors/scanner/probes/probe.h"
#include "sensors/scanner/probes/ssl/tls_pipe.h"

namespace vantage::scanner {

// The scanner's one client context: no verification during the handshake (we report what is
// served and judge trust afterwards), every protocol version and cipher OpenSSL still has.
SSL_CTX* tls_client_context();

// The certificate columns shared by scan_ssl, scan_mysql, scan_postgres, scan_mqtt:
// subject_*/issuer_* names, dates, serial, fingerprints, key and signature algorithms,
// cert_length (key bits), ssl_version (X.509 version, 0-based as Shadowserver's), self_signed,
// cert_expired (against `now`).
nlohmann::json certificate_fields(X509* cert, int64_t now);

// The handshake as an Exchange (also used in-band by the PostgreSQL probe after 'S').
// `sni` may be empty (addresses cannot be SNI names).
std::unique_ptr<Exchange> make_tls_exchange(std::string sni);

// What the scan_ssl module does besides the handshake.
struct TlsProbeOptions {
  std::string ca_file;  // trust store for cert_valid/browser_trusted; "" = the system store
  bool jarm = true;     // ten more connections for the JARM fingerprint (jarm.h)
};
// scan_ssl with these options (ssl_module() in probe.h is the default: system store, JARM).
// An Error when the CA file cannot be loaded.
Result<ProbeModule> ssl_module(const TlsProbeOptions& options);

// A TLS handshake exchange that can also report its connection-level columns.
class TlsExchange : public Exchange {
 public:
  explicit TlsExchange(std::string sni);
  ~TlsExchange() override;
  std::string start() override;
  std::string feed(std::string_view chunk, bool* done) override;
  Result<nlohmann::json> result() override;
  bool handshake_done() const { return done_ok_; }
  // The connection (for the peer's certificate chain); null when the context failed.
  SSL* handle() const { return pipe_->handle(); }

  // Application data after a completed handshake (HTTPS probes). wrap() encrypts `plain` and
  // returns the bytes to send, preceded by any handshake bytes feed() held back (TLS 1.3's
  // client Finished); unwrap() takes received bytes and returns the plaintext they complete.
  // Both return "" before the handshake is done or after a failure.
  std::string wrap(std::string_view plain);
  std::string unwrap(std::string_view chunk);

  // For a probe whose protocol runs inside this TLS connection (https, mqtts): the plaintext
  // the received `chunk` completes, once the handshake is done. While it runs: nullopt, and
  // *send holds what to send -- the handshake's bytes and, the moment it completes,
  // first_request() encrypted; a failed handshake sets *done (nothing more to say).
  std::optional<std::string> carry(std::string_view chunk,
                                   const std::function<std::string()>& first_request,
                                   std::string* send, bool* done);

 private:
  std::string held_;  // our last handshake flight, not sent when feed() reported done
  std::string sni_, error_;
  std::unique_ptr<TlsClientPipe> pipe_;
  bool done_ok_ = false, failed_ = false, got_bytes_ = false;
};

}  // namespace vantage::scanner

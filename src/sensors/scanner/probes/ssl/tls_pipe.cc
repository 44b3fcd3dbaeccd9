#include "sensors/scanner/probes/ssl/tls_pipe.h"

#include <openssl/err.h>

#include "sensors/scanner/probes/ssl/ssl.h"

namespace vantage::scanner {
namespace {

constexpr size_t kMaxPlaintext = 1 << 20;  // the engine caps replies far below this anyway

}  // namespace

TlsClientPipe::TlsClientPipe(const std::string& sni) {
  ssl_ = SSL_new(tls_client_context());
  if (!ssl_) {
    failed_ = true;
    error_ = "TLS context unavailable";
    return;
  }
  rbio_ = BIO_new(BIO_s_mem());
  wbio_ = BIO_new(BIO_s_mem());
  SSL_set_bio(ssl_, rbio_, wbio_);
  SSL_set_connect_state(ssl_);
  if (!sni.empty()) SSL_set_tlsext_host_name(ssl_, sni.c_str());
}

TlsClientPipe::~TlsClientPipe() {
  if (ssl_) SSL_free(ssl_);
}

std::string TlsClientPipe::drain() {
  std::string out;
  char buf[4096];
  for (int i = 0; i < 256; ++i) {  // bounded; a flight or a request is a few KiB
    const int n = BIO_read(wbio_, buf, sizeof buf);
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

// Advances the handshake, then moves queued plaintext out and received plaintext in.
void TlsClientPipe::pump() {
  if (failed_) return;
  if (!established_) {
    const int r = SSL_do_handshake(ssl_);
    if (r == 1) {
      established_ = true;
    } else {
      const int e = SSL_get_error(ssl_, r);
      if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
        failed_ = true;
        const unsigned long code = ERR_peek_error();
        char buf[256];
        ERR_error_string_n(code, buf, sizeof buf);
        error_ = code ? buf : "TLS handshake failed";
      }
    }
  }
  if (established_ && !pending_.empty()) {
    const int n = SSL_write(ssl_, pending_.data(), static_cast<int>(pending_.size()));
    if (n > 0) pending_.erase(0, static_cast<size_t>(n));
  }
  if (established_) {
    char buf[4096];
    for (int i = 0; i < 1024 && plain_.size() < kMaxPlaintext; ++i) {
      const int n = SSL_read(ssl_, buf, sizeof buf);
      if (n <= 0) break;
      plain_.append(buf, static_cast<size_t>(n));
    }
  }
  ERR_clear_error();
}

std::string TlsClientPipe::start() {
  pump();
  return drain();
}

std::string TlsClientPipe::feed(std::string_view ciphertext) {
  if (!ssl_ || failed_) return {};
  if (!ciphertext.empty()) BIO_write(rbio_, ciphertext.data(), static_cast<int>(ciphertext.size()));
  pump();
  return drain();
}

std::string TlsClientPipe::write(std::string_view plaintext) {
  if (!ssl_ || failed_) return {};
  pending_.append(plaintext);
  pump();
  return drain();
}

}  // namespace vantage::scanner

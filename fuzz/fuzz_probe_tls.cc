// libFuzzer: the TLS probe on untrusted bytes. The input is split at its first byte: one part
// is parsed as a DER certificate and run through certificate_fields (our extraction of names,
// dates, serial, fingerprints, key), the rest is fed as a server's reply to our ClientHello
// (OpenSSL parses it; we check the exchange never misbehaves and result() copes).
#include <openssl/x509.h>

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "sensors/scanner/probes/probe.h"
#include "sensors/scanner/probes/ssl/ssl.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace vantage::scanner;
  if (size == 0) return 0;
  const size_t split = std::min<size_t>(data[0] * 16u, size - 1);
  const unsigned char* p = data + 1;
  if (X509* cert = d2i_X509(nullptr, &p, static_cast<long>(split))) {
    (void)certificate_fields(cert, 1700000000);
    X509_free(cert);
  }
  const std::string_view reply(reinterpret_cast<const char*>(data + 1 + split), size - 1 - split);
  auto x = make_tls_exchange("");
  (void)x->start();
  bool done = false;
  // Fed in two chunks, as a socket might deliver it.
  (void)x->feed(reply.substr(0, reply.size() / 2), &done);
  if (!done) (void)x->feed(reply.substr(reply.size() / 2), &done);
  (void)x->result();
  return 0;
}

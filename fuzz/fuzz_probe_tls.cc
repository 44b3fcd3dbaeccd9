// libFuzzer: the TLS probe on untrusted bytes. The input is split at its first byte: one part
// is parsed as a DER certificate and run through certificate_fields (our extraction of names,
// dates, serial, fingerprints, key) and the trust columns (chain verification, policy OIDs),
// the rest is fed as a server's reply to our ClientHello (OpenSSL parses it; we check the
// exchange never misbehaves and result() copes), to the JARM ServerHello reader (our own
// parser of the reply) and to the TLS pipe the HTTPS checks use.
#include <openssl/x509.h>

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "sensors/scanner/probes/probe.h"
#include "sensors/scanner/probes/ssl/jarm.h"
#include "sensors/scanner/probes/ssl/ssl.h"
#include "sensors/scanner/probes/ssl/tls_pipe.h"
#include "sensors/scanner/probes/ssl/trust.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace vantage::scanner;
  if (size == 0) return 0;
  const size_t split = std::min<size_t>(data[0] * 16u, size - 1);
  const unsigned char* p = data + 1;
  if (X509* cert = d2i_X509(nullptr, &p, static_cast<long>(split))) {
    (void)certificate_fields(cert, 1700000000);
    static X509_STORE* store = X509_STORE_new();  // empty: nothing is trusted
    (void)trust_fields(cert, nullptr, store, "fuzz.example", "192.0.2.1");
    (void)trust_fields(cert, nullptr, store, "", "192.0.2.1");
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
  // JARM: one probe's reply, and a fingerprint from ten results built from it.
  (void)jarm::reply_complete(reply);
  const std::string one = jarm::read_server_hello(reply);
  (void)jarm::fuzzy_hash(std::vector<std::string>(jarm::kProbes, one));
  TlsClientPipe pipe("fuzz.example");
  (void)pipe.start();
  (void)pipe.feed(reply);
  (void)pipe.write("GET / HTTP/1.1\r\n\r\n");
  return 0;
}

#pragma once
// Certificate trust for scan_ssl: the served chain verified with OpenSSL (X509_verify_cert)
// against a trust store -- the system CA bundle (/etc/ssl/certs, Debian's ca-certificates,
// i.e. Mozilla's root programme) by default, or an explicit CA file -- and the validation
// level read from the leaf's certificate policies.
//
//   cert_valid        the chain verifies to a trusted root (signatures, validity dates, CA
//                     flags, server-auth purpose), the name not considered;
//   browser_trusted   cert_valid and the certificate names the host (the target's host name,
//                     else its IP address), as a browser visiting https://<host>/ would check;
//   browser_error     OpenSSL's reason when browser_trusted is false ("self-signed
//                     certificate", "certificate has expired", "hostname mismatch", ...);
//   validation_level  EV, OV, DV or IV from the CA/Browser Forum policy OIDs (2.23.140.1.1,
//                     .2.2, .2.1, .2.3); without one: OV when a trusted certificate names an
//                     organisation, DV when it does not, "unknown" when it is not trusted.
//
// Stores are loaded once per path and shared (X509_STORE is safe to share once built).

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <nlohmann/json.hpp>
#include <string>

#include "common/result.h"

namespace vantage::scanner {

// The trust store for `ca_file` ("" = the system store). An Error when the file cannot be
// read or holds no certificate.
Result<X509_STORE*> trust_store(const std::string& ca_file);

// The trust columns for a handshake's leaf and the chain the server sent (`chain` may be
// null; the leaf need not be in it). `host` empty: the name checked is `ip_text`.
nlohmann::json trust_fields(X509* leaf, STACK_OF(X509) * chain, X509_STORE* store,
                            const std::string& host, const std::string& ip_text);

// "EV", "OV", "DV", "IV" from the policy OIDs, or "" when the certificate has none of them.
std::string policy_validation_level(X509* cert);

}  // namespace vantage::scanner

// FTP (scan_ftp): the greeting (RFC 959 section 4.2), a reply code and text, possibly
// multi-line ("220-" ... "220 "), then AUTH TLS (or AUTH SSL, RFC 4217) for the certificate
// (starttls/starttls.h). No USER, no PASS.
#include "sensors/scanner/probes/starttls/starttls.h"

namespace vantage::scanner {

ProbeModule ftp_module() {
  return starttls_module(
      "ftp", "scan_ftp", 21, TextDialect::ftp,
      {"auth_tls_response", "auth_ssl_response", "tlsv13_support", "tlsv13_cipher"});
}

}  // namespace vantage::scanner

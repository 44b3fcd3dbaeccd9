// SMTP (scan_smtp): the 220 greeting, then EHLO and STARTTLS (RFC 3207) when offered, for the
// certificate (starttls/starttls.h). No MAIL FROM, no AUTH.
#include "sensors/scanner/probes/starttls/starttls.h"

namespace vantage::scanner {

ProbeModule smtp_module() {
  return starttls_module("smtp", "scan_smtp", 25, TextDialect::smtp,
                         {"auth_tls_response", "tlsv13_support", "tlsv13_cipher"});
}

}  // namespace vantage::scanner

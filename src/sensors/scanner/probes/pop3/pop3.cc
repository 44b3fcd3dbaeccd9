// POP3 (scan_pop3): the "+OK" greeting, then STLS (RFC 2595 section 4) for the certificate
// (starttls/starttls.h). No USER, no APOP.
#include "sensors/scanner/probes/starttls/starttls.h"

namespace vantage::scanner {

ProbeModule pop3_module() {
  return starttls_module("pop3", "scan_pop3", 110, TextDialect::pop3, {});
}

}  // namespace vantage::scanner

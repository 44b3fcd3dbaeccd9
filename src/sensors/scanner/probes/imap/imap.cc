// IMAP (scan_imap): the "* OK" greeting, then "a1 STARTTLS" (RFC 3501 section 6.2.1) for the
// certificate (starttls/starttls.h). No LOGIN, no AUTHENTICATE.
#include "sensors/scanner/probes/starttls/starttls.h"

namespace vantage::scanner {

ProbeModule imap_module() {
  return starttls_module("imap", "scan_imap", 143, TextDialect::imap, {});
}

}  // namespace vantage::scanner

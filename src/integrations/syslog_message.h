#pragma once
// RFC 5424 syslog messages and RFC 5425/6587 octet-counting framing, as the syslog
// subscription kind writes them:
//
//   <PRI>1 TIMESTAMP HOSTNAME APP-NAME - MSGID [vantage@32473 event="42" org="X" sub="soc"
//   seq="7"] CEF:0|Vantage|...
//
// framed on the stream as "<length> <message>". MSGID is the report type (truncated to
// RFC 5424's 32 characters); 32473 is the private enterprise number RFC 5612 reserves for
// documentation -- an operator with its own number sets it with the `sd_id` option.
//
// Pure functions, thread-safe.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/time.h"

namespace vantage::integrations {

struct SyslogHeader {
  int facility = 16;                    // local0
  std::string hostname = "-";           // this host, printable ASCII, <= 255
  std::string app_name = "vantage";     // <= 48
  std::string sd_id = "vantage@32473";  // SD-ID of the structured-data element
};

// Vantage's info..critical (0..4) as syslog severities: info 6, low 5 (notice),
// medium 4 (warning), high 3 (err), critical 2 (crit).
int syslog_severity(uint8_t severity);

// One message (no framing, no trailing newline). `sd` are the structured-data parameters in
// order; names must be SD-NAMEs (printable ASCII without '=', ' ', ']', '"'), values are escaped.
std::string syslog_message(const SyslogHeader& h, uint8_t severity, UnixSeconds at,
                           std::string_view msgid,
                           const std::vector<std::pair<std::string, std::string>>& sd,
                           std::string_view msg);

// Appends "<octets> <message>" (RFC 6587 section 3.4.1, the framing RFC 5425 mandates for TLS).
void append_octet_counted(std::string& out, std::string_view message);

// Printable US-ASCII (33..126) of at most `max` characters, '-' when nothing is left: what
// RFC 5424 allows in HOSTNAME, APP-NAME and MSGID.
std::string printable_ascii(std::string_view s, size_t max);

}  // namespace vantage::integrations

#pragma once
// SIP OPTIONS (RFC 3261 section 11) shared by SIP over TCP (sip.cc) and over UDP
// (sip_udp/): the request, the test for a whole answer, and the answer's columns.

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "common/result.h"
#include "sensors/scanner/probes/probe.h"

namespace vantage::scanner {

// OPTIONS to sip:<target>, transport "tcp" or "udp" (UDP adds ";rport", RFC 3581, so the
// answer comes back to our port rather than to 5060).
std::string sip_options_request(const ProbeTarget& t, std::string_view transport);

// True once `b` holds a whole answer (headers plus Content-Length body), or cannot be SIP.
bool sip_answer_complete(std::string_view b);

// The scan_sip columns of one answer; response_size = its bytes, amplification = that over
// `request_size`. Error when `b` is not a SIP response.
Result<nlohmann::json> sip_parse_answer(std::string_view b, size_t request_size);

}  // namespace vantage::scanner

#pragma once
// The non-intrusion rules every check request must pass, at load time (the template as
// written) and again at run time (after {{variables}} from earlier replies are substituted),
// so that a check can only observe: read a page, a header, a banner, a greeting's answer.
// A check never sends an exploit, a login, a write or a body. The rules:
//
// HTTP
//   H1 method is GET, HEAD or OPTIONS (no POST/PUT/DELETE/PATCH/TRACE/CONNECT, no body at all);
//   H2 the path is origin-form ("/..."), printable ASCII without spaces, at most 1024 bytes;
//   H3 no path traversal or encoding tricks: "..", "\", and the escapes %2e %2f %5c %00 %0a
//      %0d %25 (any case) are refused;
//   H4 no injection payloads anywhere in path or header values: "${" (Log4Shell/EL), "#{",
//      "$(", "`", "<", ">", "'", '"', "|", "jndi:", "{{" left after substitution;
//   H5 request headers only from an allow-list of harmless ones (accept, accept-language,
//      user-agent, referer, cookie, x-requested-with, cache-control, origin, if-none-match,
//      if-modified-since); never authorization, content-*, transfer-encoding, expect, upgrade,
//      connection or host (the engine sets Host); values printable ASCII, at most 512 bytes.
// Raw TCP/UDP payloads
//   R1 at most 512 bytes per step and 8 steps per check;
//   R2 a text payload (printable ASCII, CR, LF, TAB only) must begin with a greeting or
//      read-only verb from the allow-list (EHLO HELO LHLO NOOP QUIT RSET HELP CAPA CAPABILITY
//      ID LOGOUT STARTTLS SYST FEAT STAT PING INFO VERSION STATS OPTIONS t3), optionally
//      after an IMAP-style tag; its other lines must be empty or "Name: value"/"Name:value"
//      header lines; no line may start with a state-changing verb;
//   R3 a binary payload (any other byte) is allowed -- binary protocol greetings (IPMI,
//      SLP, Smart Install, SMB negotiate) cannot be judged by a machine -- but must not carry
//      the H4 injection markers, and is capped by R1; reviewers read every binary payload.
// These are conservative on purpose: a rule that refuses a harmless check costs a rewrite,
// a rule that lets an exploit through costs someone's server.

#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace vantage::scanner::check_safety {

inline constexpr size_t kMaxPayload = 512;
inline constexpr size_t kMaxSteps = 8;

Status http_method(std::string_view method);
Status http_path(std::string_view path);
Status http_header(std::string_view name, std::string_view value);
Status raw_payload(std::string_view bytes);

}  // namespace vantage::scanner::check_safety

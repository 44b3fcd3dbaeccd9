#pragma once
// The VNC honeypot's protocol pieces (RFB, RFC 6143), apart from the service so that they can
// be tested and fuzzed on their own.

#include <string>
#include <string_view>

namespace vantage::honeypot::vnc {

// What the server says first.
constexpr std::string_view kServerVersion = "RFB 003.008\n";

// The client's ProtocolVersion ("RFB 003.008\n", exactly 12 bytes). False if malformed.
bool parse_version(std::string_view message, int& major, int& minor);

// What the password column holds for VNC authentication: the 16-byte challenge and the
// client's DES-encrypted answer, in John the Ripper's notation ("$vnc$*<challenge>*<response>",
// upper-case hex). The password itself never crosses the wire; it is not recovered here.
std::string john_notation(std::string_view challenge, std::string_view response);

}  // namespace vantage::honeypot::vnc

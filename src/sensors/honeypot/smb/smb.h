#pragma once
// The SMB honeypot's protocol reader and writer: NetBIOS session framing (RFC 1002), SMB1
// ([MS-CIFS]) and SMB2/3 ([MS-SMB2]) headers, the dialects a NEGOTIATE offers, and the
// few SMB1 requests an MS17-010 (EternalBlue) check or exploit sends. Pure functions of their
// input; fuzzed.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace vantage::honeypot::smb {

enum class Parse { kComplete, kIncomplete, kMalformed };

constexpr size_t kMaxFrame = 128 * 1024;

// One NetBIOS session message: type (0x00 session message, 0x81 session request, 0x85
// keep-alive) and payload. `used`: bytes taken from `in`.
Parse parse_frame(std::string_view in, uint8_t& type, std::string_view& payload, size_t& used);

struct Message {
  int version = 0;       // 1: SMB1, 2: SMB2/3
  uint16_t command = 0;  // SMB1: one byte; SMB2: two
  uint32_t flags = 0;    // SMB1 Flags (and Flags2 in the upper half), SMB2 Flags
  // SMB1 header fields echoed in replies.
  uint16_t tid = 0, pid = 0, uid = 0, mid = 0;
  uint64_t message_id = 0;              // SMB2
  uint64_t session_id = 0;              // SMB2
  std::vector<std::string> dialects;    // offered by a NEGOTIATE: "NT LM 0.12", "3.1.1"...
  std::vector<uint16_t> dialect_codes;  // SMB2 NEGOTIATE's dialect revisions
  // SMB1 Trans (0x25): first setup word and its FID (PeekNamedPipe = 0x23 on FID 0 is the
  // MS17-010 check); Trans2 (0x32): its subcommand (0x0e SESSION_SETUP = DoublePulsar).
  uint16_t setup0 = 0, setup1 = 0;
  bool has_setup = false;
};

Parse parse_message(std::string_view payload, Message& out);

const char* command_name(int version, uint16_t command);
std::string dialect_name(uint16_t revision);  // 0x0311 -> "3.1.1"

// Replies (NetBIOS framed). SMB2 NEGOTIATE response for `dialect` (0x02ff: the SMB1-to-SMB2
// upgrade); SMB1 NEGOTIATE response choosing dialect `index`; SMB1/SMB2 replies with a status
// only; the SMB1 successes an MS17-010 scanner needs to reach its check.
std::string smb2_negotiate_response(const Message& request, uint16_t dialect);
std::string smb1_negotiate_response(const Message& request, uint16_t index);
std::string smb1_status(const Message& request, uint32_t status);
std::string smb2_status(const Message& request, uint32_t status);
std::string smb1_session_setup_response(const Message& request);
std::string smb1_tree_connect_response(const Message& request);

constexpr uint32_t kStatusAccessDenied = 0xc0000022, kStatusNotImplemented = 0xc0000002,
                   kStatusInsuffServerResources = 0xc0000205, kStatusNotSupported = 0xc00000bb;

}  // namespace vantage::honeypot::smb

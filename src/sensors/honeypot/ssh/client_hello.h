#pragma once
// What an SSH client sends first, in the clear, read from the bytes it sent so far: its
// identification string (RFC 4253 4.2) and its SSH_MSG_KEXINIT (7.1), from which the HASSH
// fingerprint is made. Apart from the service so that it can be tested and fuzzed on its own.
//
// HASSH (Salesforce, github.com/salesforce/hassh): the md5, in hex, of
//   kex_algorithms;encryption_algorithms_client_to_server;mac_algorithms_client_to_server;
//   compression_algorithms_client_to_server
// taken from the client's KEXINIT, so that one client implementation (a bot's SSH library)
// gives one value whatever it claims in its identification string.

#include <array>
#include <string>
#include <string_view>

namespace vantage::honeypot::ssh {

// The most a client's hello may take: the identification line (255 bytes by the RFC; some
// send other lines first) and one packet of at most 35000 bytes (RFC 4253 6.1).
constexpr size_t kMaxIdentLine = 1024;
constexpr size_t kMaxLinesBefore = 8;
constexpr size_t kMaxPacket = 35000;

struct ClientHello {
  std::string ident;                  // "SSH-2.0-OpenSSH_9.2p1 Debian-2", without CR LF
  std::array<std::string, 10> lists;  // KEXINIT's name-lists, in wire order
  std::string hassh;                  // 32 hex digits
  std::string hassh_algorithms;       // the string it is the md5 of
  const std::string& kex_algorithms() const { return lists[0]; }
};

enum class HelloParse {
  kIncomplete,  // more bytes are needed
  kIdentOnly,   // the identification line is there, the KEXINIT not yet (ident is set)
  kComplete,    // both (every field is set)
  kInvalid,     // not an SSH client's hello (ident is set if it got that far)
};

// Reads the hello from `sent`, every byte the client has sent from the start of the
// connection (call again with more as it arrives). Looks at no more than the bounds above.
HelloParse parse_client_hello(std::string_view sent, ClientHello& out);

}  // namespace vantage::honeypot::ssh

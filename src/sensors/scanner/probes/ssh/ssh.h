#pragma once
// SSH: identification string (RFC 4253 section 4.2) and the server's SSH_MSG_KEXINIT
// (section 7.1), which every server sends unprompted right after its identification. We
// send our own identification and nothing more: no key exchange, no authentication.

#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace vantage::scanner {

struct SshServerInfo {
  std::string ident;     // the raw identification line, without CR LF
  std::string proto;     // "2.0"
  std::string software;  // "OpenSSH_9.2p1"
  std::string comment;   // "Debian-2+deb12u3"
  bool has_kexinit = false;
  std::string cookie_hex;
  std::vector<std::string> lists;  // the ten name-lists of KEXINIT, in wire order
  std::string hassh_server;        // md5 of kex;enc_s2c;mac_s2c;comp_s2c (HASSH, Salesforce 2018)
  std::string hassh_server_algorithms;
};

// Parses what arrived: the identification line (required) and, when complete, KEXINIT.
Result<SshServerInfo> parse_ssh_server(std::string_view bytes);

// True when the identification line and the whole first binary packet have arrived.
bool ssh_reply_complete(std::string_view bytes);

}  // namespace vantage::scanner

#pragma once
// SSH: identification string (RFC 4253 section 4.2), the server's SSH_MSG_KEXINIT (section
// 7.1) and its host key. We send, in one write, our identification, a KEXINIT offering only
// curve25519-sha256 and SSH_MSG_KEX_ECDH_INIT with a fresh X25519 public key (RFC 8731).
// first_kex_packet_follows stays 0 because the ECDH_INIT is not a guess: with curve25519 the
// only kex we offer, a server either negotiates it (and then reads our ECDH_INIT as the next
// packet) or disconnects. Its SSH_MSG_KEX_ECDH_REPLY carries the host key blob K_S; we take
// that, fingerprint it (SHA-256, as `ssh-keygen -l` prints it) and hang up. No shared secret
// is derived, nothing is ever authenticated.

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
  // From SSH_MSG_KEX_ECDH_REPLY, when the server sent one.
  bool has_host_key = false;
  std::string host_key_type;              // "ssh-ed25519", "ecdsa-sha2-nistp256", "ssh-rsa"
  std::string host_key_base64;            // the blob as in known_hosts
  std::string host_key_sha256;            // "SHA256:<base64, no padding>"
  std::string signature_type;             // signature blob's algorithm name
  std::string signature_base64;           // the signature blob
  std::string rsa_exponent, rsa_modulus;  // hex, for ssh-rsa keys
  size_t rsa_bits = 0;
  std::string ecdsa_curve, ecdsa_point_hex;  // for ecdsa-sha2-* keys
  std::string ed25519_key_hex;               // for ssh-ed25519 keys
  // Negotiated (RFC 4253 7.1: the first of the client's list the server also has), s2c.
  std::string selected_kex, selected_host_key, selected_cipher, selected_mac, selected_compression;
  std::string disconnect_reason;  // SSH_MSG_DISCONNECT text, if the server sent one
};

// Our side of the exchange: identification, KEXINIT and ECDH_INIT (fresh key per call).
std::string ssh_client_hello();

// Parses what arrived: the identification line (required) and, when complete, KEXINIT.
Result<SshServerInfo> parse_ssh_server(std::string_view bytes);

// True when the identification line and the key exchange reply (or a disconnect) have
// arrived, or when what arrived cannot lead to one.
bool ssh_reply_complete(std::string_view bytes);

}  // namespace vantage::scanner

#pragma once
// The MySQL honeypot's protocol pieces, apart from the service so that they can be tested and
// fuzzed on their own: the packet framing, the server greeting (HandshakeV10), the client's
// HandshakeResponse (4.1 and the old 3.20 form) and the server's replies.
// Reference: the MySQL client/server protocol, "Connection Phase" (dev.mysql.com).

#include <cstdint>
#include <string>
#include <string_view>

namespace vantage::honeypot::mysql {

enum class Parse { kComplete, kIncomplete, kMalformed };

constexpr uint32_t kClientConnectWithDb = 0x8;
constexpr uint32_t kClientProtocol41 = 0x200;
constexpr uint32_t kClientSsl = 0x800;
constexpr uint32_t kClientSecureConnection = 0x8000;
constexpr uint32_t kClientPluginAuth = 0x80000;
constexpr uint32_t kClientConnectAttrs = 0x100000;
constexpr uint32_t kClientPluginAuthLenencData = 0x200000;

// One packet at the start of `in`: kComplete sets `payload` (a view into `in`), `seq` and
// `used`. A payload longer than `max_payload` is kMalformed (a login is far shorter).
Parse read_packet(std::string_view in, std::string_view& payload, uint8_t& seq, size_t& used,
                  size_t max_payload = 16 * 1024);

// Frames `payload` as packet number `seq`.
std::string packet(uint8_t seq, std::string_view payload);

// The server's first packet: protocol 10, `server_version`, the connection id, the 20-byte
// `salt` (scramble) and mysql_native_password as the authentication method.
std::string greeting(std::string_view server_version, uint32_t connection_id,
                     std::string_view salt);

struct HandshakeResponse {
  uint32_t capabilities = 0;
  bool ssl_request = false;  // an SSLRequest (the client wants TLS first)
  std::string username;
  std::string auth_response;  // raw bytes
  std::string database;
  std::string plugin;  // the method the response was made with; "" when not said
  // From the connection attributes (CLIENT_CONNECT_ATTRS), when sent.
  std::string client_name, client_version, program_name;
};

// Parses the client's answer to the greeting. False when it is not one.
bool parse_handshake_response(std::string_view payload, HandshakeResponse& out);

// An ERR packet (0xff, code, '#', SQL state, message).
std::string error_packet(uint8_t seq, uint16_t code, std::string_view sql_state,
                         std::string_view message);
// An AuthSwitchRequest: asks the client to answer again with `plugin` and `salt`.
std::string auth_switch_request(uint8_t seq, std::string_view plugin, std::string_view salt);

// What the password column holds for a mysql_native_password answer: the salt and the
// client's SHA1-based response, in John the Ripper's "mysqlna" notation
// ("$mysqlna$<salt hex>*<response hex>"); the password itself never crosses the wire.
std::string native_notation(std::string_view salt, std::string_view response);

}  // namespace vantage::honeypot::mysql

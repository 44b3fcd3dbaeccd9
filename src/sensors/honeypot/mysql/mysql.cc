// The MySQL honeypot: greets like MySQL 5.7 (mysql_native_password), reads the client's
// login and logs it as an event4_honeypot_brute_force row, then refuses it with the error a
// real server gives (1045, "Access denied"). mysql_native_password never sends the password:
// the row holds the salt we sent and the client's scrambled answer (mysql::native_notation).
// A client that answers with mysql_clear_password sends the password itself, which is logged
// as is; one that answers with another method (caching_sha2_password) is asked to switch to
// mysql_native_password first, as a real server does for an account using it.

#include "sensors/honeypot/mysql/mysql.h"

#include <openssl/rand.h>

#include <atomic>

#include "common/strings.h"
#include "sensors/honeypot/login.h"

namespace vantage::honeypot {

namespace mysql {

namespace {

// A bounded reader over a packet's payload.
struct Cursor {
  std::string_view in;
  size_t pos = 0;
  bool ok = true;

  size_t left() const { return pos <= in.size() ? in.size() - pos : 0; }
  uint64_t fixed(size_t n) {
    if (left() < n) {
      ok = false;
      return 0;
    }
    uint64_t v = 0;
    for (size_t k = 0; k < n; ++k) v |= uint64_t{static_cast<uint8_t>(in[pos + k])} << (8 * k);
    pos += n;
    return v;
  }
  std::string_view bytes(uint64_t n) {
    if (left() < n) {
      ok = false;
      return {};
    }
    std::string_view s = in.substr(pos, static_cast<size_t>(n));
    pos += static_cast<size_t>(n);
    return s;
  }
  // NUL-terminated; the end of the payload ends it too (clients that omit the last NUL).
  std::string_view cstring() {
    if (pos >= in.size()) {
      ok = false;
      return {};
    }
    size_t nul = in.find('\0', pos);
    size_t end = nul == std::string_view::npos ? in.size() : nul;
    std::string_view s = in.substr(pos, end - pos);
    pos = nul == std::string_view::npos ? in.size() : nul + 1;
    return s;
  }
  uint64_t lenenc() {
    uint64_t first = fixed(1);
    if (!ok) return 0;
    if (first < 0xfb) return first;
    if (first == 0xfc) return fixed(2);
    if (first == 0xfd) return fixed(3);
    if (first == 0xfe) return fixed(8);
    ok = false;  // 0xfb (NULL) and 0xff are not lengths
    return 0;
  }
};

void put_le(std::string& out, uint64_t v, size_t n) {
  for (size_t k = 0; k < n; ++k) out.push_back(static_cast<char>((v >> (8 * k)) & 0xff));
}

void read_attributes(Cursor& c, HandshakeResponse& out) {
  uint64_t total = c.lenenc();
  if (!c.ok || total > c.left()) return;
  Cursor a{c.bytes(total)};
  for (int k = 0; k < 64 && a.left() > 0; ++k) {
    std::string_view key = a.bytes(a.lenenc());
    std::string_view value = a.bytes(a.lenenc());
    if (!a.ok) return;
    value = value.substr(0, 64);
    if (key == "_client_name") out.client_name.assign(value);
    if (key == "_client_version") out.client_version.assign(value);
    if (key == "program_name") out.program_name.assign(value);
  }
}

}  // namespace

Parse read_packet(std::string_view in, std::string_view& payload, uint8_t& seq, size_t& used,
                  size_t max_payload) {
  if (in.size() < 4) return Parse::kIncomplete;
  Cursor c{in};
  size_t len = static_cast<size_t>(c.fixed(3));
  seq = static_cast<uint8_t>(c.fixed(1));
  if (len > max_payload) return Parse::kMalformed;
  if (in.size() < 4 + len) return Parse::kIncomplete;
  payload = in.substr(4, len);
  used = 4 + len;
  return Parse::kComplete;
}

std::string packet(uint8_t seq, std::string_view payload) {
  std::string out;
  put_le(out, payload.size(), 3);
  out.push_back(static_cast<char>(seq));
  out.append(payload);
  return out;
}

std::string greeting(std::string_view server_version, uint32_t connection_id,
                     std::string_view salt) {
  // What a stock 5.7 offers, less SSL, compression and LOAD DATA LOCAL.
  constexpr uint32_t kCapabilities = 0x1 | 0x2 | 0x4 | kClientConnectWithDb | 0x10 | 0x40 | 0x100 |
                                     kClientProtocol41 | 0x400 | 0x1000 | 0x2000 | 0x4000 |
                                     kClientSecureConnection | 0x10000 | 0x20000 | 0x40000 |
                                     kClientPluginAuth | kClientConnectAttrs |
                                     kClientPluginAuthLenencData | 0x400000 | 0x800000 | 0x1000000;
  std::string p;
  p.push_back(10);
  p.append(server_version).push_back('\0');
  put_le(p, connection_id, 4);
  p.append(salt.substr(0, 8)).push_back('\0');
  put_le(p, kCapabilities & 0xffff, 2);
  p.push_back(0x21);     // utf8_general_ci
  put_le(p, 0x0002, 2);  // SERVER_STATUS_AUTOCOMMIT
  put_le(p, kCapabilities >> 16, 2);
  p.push_back(21);  // length of the whole salt, with its NUL
  p.append(10, '\0');
  p.append(salt.substr(8, 12)).push_back('\0');
  p.append("mysql_native_password").push_back('\0');
  return packet(0, p);
}

bool parse_handshake_response(std::string_view payload, HandshakeResponse& out) {
  out = {};
  Cursor c{payload};
  uint32_t low = static_cast<uint32_t>(c.fixed(2));
  if (!c.ok) return false;
  if (!(low & kClientProtocol41)) {
    // HandshakeResponse320: capabilities (2), max packet (3), user NUL, auth response.
    out.capabilities = low;
    c.fixed(3);
    out.username.assign(c.cstring());
    if (!c.ok) return false;
    std::string_view rest = payload.substr(c.pos);
    if (!rest.empty() && rest.back() == '\0') rest.remove_suffix(1);
    out.auth_response.assign(rest);
    return true;
  }
  c.pos = 0;
  out.capabilities = static_cast<uint32_t>(c.fixed(4));
  c.fixed(4);   // max packet size
  c.fixed(1);   // character set
  c.bytes(23);  // filler
  if (!c.ok) return false;
  if (c.left() == 0) {
    out.ssl_request = (out.capabilities & kClientSsl) != 0;
    return out.ssl_request;
  }
  out.username.assign(c.cstring());
  if (!c.ok) return false;
  if (out.capabilities & kClientPluginAuthLenencData) {
    out.auth_response.assign(c.bytes(c.lenenc()));
  } else if (out.capabilities & kClientSecureConnection) {
    out.auth_response.assign(c.bytes(c.fixed(1)));
  } else {
    out.auth_response.assign(c.cstring());
  }
  if (!c.ok) return false;
  // What follows is optional in practice (clients set flags and omit the fields).
  if ((out.capabilities & kClientConnectWithDb) && c.left() > 0) out.database.assign(c.cstring());
  if ((out.capabilities & kClientPluginAuth) && c.left() > 0) out.plugin.assign(c.cstring());
  if ((out.capabilities & kClientConnectAttrs) && c.left() > 0) read_attributes(c, out);
  out.database.resize(std::min<size_t>(out.database.size(), 256));
  out.plugin.resize(std::min<size_t>(out.plugin.size(), 64));
  return true;
}

std::string error_packet(uint8_t seq, uint16_t code, std::string_view sql_state,
                         std::string_view message) {
  std::string p;
  p.push_back(static_cast<char>(0xff));
  put_le(p, code, 2);
  p.push_back('#');
  p.append(sql_state.substr(0, 5));
  p.append(message);
  return packet(seq, p);
}

std::string auth_switch_request(uint8_t seq, std::string_view plugin, std::string_view salt) {
  std::string p;
  p.push_back(static_cast<char>(0xfe));
  p.append(plugin).push_back('\0');
  p.append(salt).push_back('\0');
  return packet(seq, p);
}

std::string native_notation(std::string_view salt, std::string_view response) {
  return "$mysqlna$" + hex_encode(salt) + "*" + hex_encode(response);
}

}  // namespace mysql

namespace {

constexpr size_t kSaltBytes = 20;

// 20 printable bytes, as a real server's scramble (no NUL, which would end it early).
std::string make_salt() {
  unsigned char raw[kSaltBytes];
  if (RAND_bytes(raw, sizeof raw) != 1) {
    for (size_t k = 0; k < kSaltBytes; ++k) raw[k] = static_cast<unsigned char>(k * 37 + 11);
  }
  std::string salt(kSaltBytes, '\0');
  for (size_t k = 0; k < kSaltBytes; ++k) salt[k] = static_cast<char>(0x21 + raw[k] % 94);
  return salt;
}

class MysqlSession : public sensors::Session {
 public:
  explicit MysqlSession(const ServiceContext& ctx) : ctx_(ctx) {}

  void on_open(sensors::SessionIo& io) override {
    salt_ = make_salt();
    static std::atomic<uint32_t> next_id{1000};
    io.send(mysql::greeting("5.7.42-0ubuntu0.18.04.1", next_id.fetch_add(1), salt_));
  }

  size_t on_data(std::string_view in, sensors::SessionIo& io) override {
    if (done_) return in.size();
    std::string_view payload;
    uint8_t seq = 0;
    size_t used = 0;
    auto r = mysql::read_packet(in, payload, seq, used);
    if (r == mysql::Parse::kIncomplete) return 0;
    if (r == mysql::Parse::kMalformed) {
      io.send(mysql::error_packet(1, 1153, "08S01",
                                  "Got a packet bigger than 'max_allowed_packet' bytes"));
      io.close();
      return in.size();
    }
    if (!switched_) {
      mysql::HandshakeResponse hr;
      if (!mysql::parse_handshake_response(payload, hr) || hr.ssl_request) {
        io.send(mysql::error_packet(static_cast<uint8_t>(seq + 1), 1043, "08S01", "Bad handshake"));
        io.close();
        return in.size();
      }
      user_ = std::move(hr.username);
      client_ = hr.client_name.empty()
                    ? hr.program_name
                    : hr.client_name + (hr.client_version.empty() ? "" : " ") + hr.client_version;
      if (hr.plugin == "mysql_clear_password") {
        std::string_view pw = hr.auth_response;
        if (!pw.empty() && pw.back() == '\0') pw.remove_suffix(1);
        finish(io, seq, pw, !pw.empty());
      } else if (hr.plugin.empty() || hr.plugin == "mysql_native_password" ||
                 !(hr.capabilities & mysql::kClientProtocol41)) {
        finish(io, seq,
               hr.auth_response.empty() ? std::string()
                                        : mysql::native_notation(salt_, hr.auth_response),
               !hr.auth_response.empty());
      } else {
        // caching_sha2_password and the like: ask for the method our greeting named.
        switched_ = true;
        io.send(mysql::auth_switch_request(static_cast<uint8_t>(seq + 1), "mysql_native_password",
                                           salt_));
        return used;
      }
    } else {
      finish(io, seq, payload.empty() ? std::string() : mysql::native_notation(salt_, payload),
             !payload.empty());
    }
    return in.size();
  }

 private:
  void finish(sensors::SessionIo& io, uint8_t seq, std::string_view password, bool with_password) {
    LoginAttempt a;
    a.service = "mysql";
    a.client_version = client_;
    a.username = user_;
    a.password = password;
    log_tcp_login(ctx_, io, id_, a);
    const auto& info = io.info();
    io.send(mysql::error_packet(static_cast<uint8_t>(seq + 1), 1045, "28000",
                                "Access denied for user '" + user_ + "'@'" +
                                    info.peer.ip.to_string() +
                                    "' (using password: " + (with_password ? "YES" : "NO") + ")"));
    io.close();
    done_ = true;
  }

  ServiceContext ctx_;
  ConnectionId id_;
  bool switched_ = false, done_ = false;
  std::string salt_, user_, client_;
};

}  // namespace

ServiceModule mysql_service() {
  ServiceModule m;
  m.name = "mysql";
  m.transport = Transport::kTcp;
  m.standard_port = 3306;
  m.loopback_port = 13306;
  m.report_types = {"event4_honeypot_brute_force"};
  m.description =
      "MySQL 5.7 login: every login is logged (native auth: salt and scrambled answer; clear "
      "text auth: the password) and refused";
  m.install = [](ServiceContext& ctx, const sensors::Endpoint& at) {
    return install_tcp_sessions<MysqlSession>(ctx, "mysql", at);
  };
  return m;
}

}  // namespace vantage::honeypot

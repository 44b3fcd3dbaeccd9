// PostgreSQL (scan_postgres), as an exchange:
//   1. SSLRequest (protocol code 80877103). The server answers one byte: 'S' (TLS offered),
//      'N' (no TLS), or an ErrorResponse (servers older than 7.1).
//   2a. After 'N': a StartupMessage for protocol 0.0, which every server refuses with a FATAL
//       "unsupported frontend protocol 0.0: server supports X to Y" ErrorResponse (fields
//       S/V/C/M/F/L/R) before any authentication: protocol_error_* and supported_protocols.
//   2b. After 'S': the TLS handshake in-band (ssl/ssl.h), for the certificate columns.
// No user name, database or password is ever sent.
#include <string>

#include "sensors/scanner/probes/probe.h"
#include "sensors/scanner/probes/ssl/ssl.h"
#include "sensors/scanner/probes/text_util.h"

namespace vantage::scanner {
namespace {

using namespace std::string_literals;

const std::string kSslRequest = "\x00\x00\x00\x08\x04\xd2\x16\x2f"s;
const std::string kStartup00 = "\x00\x00\x00\x08\x00\x00\x00\x00"s;
constexpr size_t kMaxError = 4096;

uint32_t be32(std::string_view b, size_t i) {
  auto u = [&](size_t k) { return uint32_t{static_cast<unsigned char>(b[k])}; };
  return (u(i) << 24) | (u(i + 1) << 16) | (u(i + 2) << 8) | u(i + 3);
}

class PostgresExchange : public Exchange {
 public:
  std::string start() override { return kSslRequest; }

  std::string feed(std::string_view chunk, bool* done) override {
    if (tls_) {
      const std::string out = tls_->feed(chunk, done);
      return out;
    }
    buf_.append(chunk.substr(0, kMaxError + 8 - std::min(buf_.size(), kMaxError + 8)));
    if (state_ == State::ssl_answer) {
      if (buf_.empty()) return {};
      if (buf_[0] == 'S') {
        client_ssl_ = true;
        tls_ = std::make_unique<TlsExchange>(std::string());
        buf_.clear();
        return tls_->start();
      }
      if (buf_[0] == 'N') {
        client_ssl_ = false;
        buf_.erase(0, 1);
        state_ = State::startup_error;
        return kStartup00;
      }
      if (buf_[0] != 'E') {
        *done = true;  // not PostgreSQL
        return {};
      }
      state_ = State::startup_error;  // an old server's error to the SSLRequest itself
    }
    if (error_complete()) *done = true;
    return {};
  }

  Result<nlohmann::json> result() override {
    nlohmann::json f = nlohmann::json::object();
    if (tls_) {
      f["client_ssl"] = true;
      auto t = tls_->result();
      if (t) {
        for (const auto& [k, v] : t->items())
          if (k != "tlsv13_support" && k != "tlsv13_cipher") f[k] = v;
      }
      return f;
    }
    if (state_ == State::ssl_answer) return Error::invalid("no PostgreSQL SSLRequest answer");
    if (client_ssl_) f["client_ssl"] = *client_ssl_;
    auto e = parse_error();
    if (!e) return e.error();
    for (const auto& [k, v] : e->items()) f[k] = v;
    return f;
  }

 private:
  enum class State { ssl_answer, startup_error };

  bool error_complete() const {
    if (buf_.size() < 5) return false;
    const uint32_t len = be32(buf_, 1);
    return len < 4 || len > kMaxError || buf_.size() >= 1 + size_t{len};
  }

  Result<nlohmann::json> parse_error() const {
    if (buf_.size() < 5 || buf_[0] != 'E') return Error::invalid("no PostgreSQL ErrorResponse");
    const uint32_t len = be32(buf_, 1);
    if (len < 4 || len > kMaxError || buf_.size() < 1 + size_t{len})
      return Error::invalid("bad PostgreSQL ErrorResponse length");
    std::string_view body = std::string_view(buf_).substr(5, len - 4);
    nlohmann::json f = nlohmann::json::object();
    bool any = false;
    for (int i = 0; i < 32 && !body.empty() && body[0] != '\0'; ++i) {
      const char code = body[0];
      const size_t nul = body.find('\0', 1);
      if (nul == std::string_view::npos) break;
      const std::string value = printable(body.substr(1, nul - 1), 512);
      body.remove_prefix(nul + 1);
      const char* col = nullptr;
      switch (code) {
        case 'S': col = "protocol_error_severity"; break;
        case 'V': col = "protocol_error_severity_v"; break;
        case 'C': col = "protocol_error_code"; break;
        case 'M': col = "protocol_error_message"; break;
        case 'F': col = "protocol_error_file"; break;
        case 'L': col = "protocol_error_line"; break;
        case 'R': col = "protocol_error_routine"; break;
        default: break;
      }
      if (col) {
        f[col] = value;
        any = true;
      }
      if (code == 'M') {
        // "unsupported frontend protocol 0.0: server supports 3.0 to 3.0"
        const auto at = value.find("server supports ");
        if (at != std::string::npos) f["supported_protocols"] = value.substr(at + 16);
      }
    }
    if (!any) return Error::invalid("PostgreSQL ErrorResponse without fields");
    return f;
  }

  State state_ = State::ssl_answer;
  std::string buf_;
  std::optional<bool> client_ssl_;
  std::unique_ptr<TlsExchange> tls_;
};

}  // namespace

ProbeModule postgres_module() {
  ProbeModule m;
  m.name = "postgres";
  m.report_type = "scan_postgres";
  m.tag = "postgres";
  m.default_port = 5432;
  m.columns = {"supported_protocols",
               "protocol_error_code",
               "protocol_error_file",
               "protocol_error_line",
               "protocol_error_message",
               "protocol_error_routine",
               "protocol_error_severity",
               "protocol_error_severity_v",
               "client_ssl",
               "handshake",
               "cipher_suite",
               "cert_length",
               "subject_common_name",
               "issuer_common_name",
               "cert_issue_date",
               "cert_expiration_date",
               "sha1_fingerprint",
               "cert_serial_number",
               "ssl_version",
               "signature_algorithm",
               "key_algorithm",
               "subject_organization_name",
               "issuer_organization_name",
               "sha256_fingerprint",
               "sha512_fingerprint",
               "md5_fingerprint",
               "self_signed",
               "cert_expired"};
  m.exchange = [](const ProbeTarget&) { return std::make_unique<PostgresExchange>(); };
  m.request = [](const ProbeTarget&) { return kSslRequest; };
  m.complete = [](std::string_view) { return true; };
  // Whole-reply parse for tests and fuzzing: the answer to SSLRequest then the error.
  m.parse = [](std::string_view b) -> Result<nlohmann::json> {
    PostgresExchange x;
    x.start();
    bool done = false;
    const std::string_view first = b.substr(0, 1);
    x.feed(first, &done);
    if (!done && b.size() > 1) x.feed(b.substr(1), &done);
    return x.result();
  };
  return m;
}

}  // namespace vantage::scanner

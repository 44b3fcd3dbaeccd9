#pragma once
// STARTTLS for the line protocols (SMTP RFC 3207, FTP RFC 4217, IMAP RFC 3501 section 6.2.1,
// POP3 RFC 2595 section 4), as an Exchange:
//
//   greeting -> [SMTP: EHLO] -> STARTTLS / STLS / AUTH TLS (FTP: then AUTH SSL if refused)
//            -> TLS handshake in-band (ssl/ssl.h) -> stop (nothing after the handshake)
//
// The greeting alone is enough for an event (banner); the certificate columns are added when
// the server upgrades. FTP and SMTP greet alike ("220 ..."), so the answer to the first
// command tells them apart: an FTP server answering EHLO (530 "login with USER and PASS",
// or a greeting naming FTP and no 250) is no SMTP server, and an SMTP server answering
// AUTH TLS with an enhanced status code ("502 5.5.2", RFC 3463) or greeting as (E)SMTP is no
// FTP server. Nothing else is sent: no login, no MAIL FROM, no credentials.
// feed() buffers at most kMaxReply bytes of text per reply; a longer reply ends the exchange.

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "sensors/scanner/probes/probe.h"

namespace vantage::scanner {

class TlsExchange;

enum class TextDialect { smtp, ftp, imap, pop3 };

class StarttlsExchange : public Exchange {
 public:
  static constexpr size_t kMaxReply = 16 * 1024;
  explicit StarttlsExchange(TextDialect dialect);
  ~StarttlsExchange() override;
  std::string start() override { return {}; }
  std::string feed(std::string_view chunk, bool* done) override;
  Result<nlohmann::json> result() override;

 private:
  enum class Stage { greeting, ehlo, starttls, auth_ssl, tls, over };
  std::string next_after_reply(bool* done);

  TextDialect dialect_;
  Stage stage_ = Stage::greeting;
  std::string buf_, greeting_, auth_tls_response_, auth_ssl_response_;
  std::string first_answer_;  // the server's answer to our first command (EHLO, AUTH TLS, ...)
  std::unique_ptr<TlsExchange> tls_;
};

// The certificate and handshake columns every TLS-carrying scan type shares (scan_ftp,
// scan_smtp, scan_imap, scan_pop3, scan_ldap_tcp, scan_kubernetes ...), as TlsExchange fills
// them; tlsv13_support/tlsv13_cipher are separate since some of those types lack them.
const std::vector<std::string>& tls_certificate_columns();

// A module speaking `dialect` through StarttlsExchange: banner, the certificate columns, and
// `extra` (those of tlsv13_support, tlsv13_cipher, auth_tls_response, auth_ssl_response that
// the report type has). parse() replays recorded server bytes through a fresh exchange.
ProbeModule starttls_module(std::string name, std::string report_type, uint16_t port,
                            TextDialect dialect, const std::vector<std::string>& extra);

}  // namespace vantage::scanner

#pragma once
// Handing a finished message to an SMTP server. MailTransport is the seam the Deliverer
// depends on (tests substitute a scripted fake); CurlSmtpTransport is the real one, libcurl
// wrapped at this edge.
//
// Outcomes are classified the way RFC 5321 §4.2.1 does: 2xx delivered, 4xx (and network
// trouble: refused connection, timeout, dropped connection) transient -- worth retrying --
// and 5xx permanent. The server's last reply code and text are kept for the delivery log.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/result.h"

namespace vantage::delivery {

enum class SendStatus { kDelivered, kTransient, kPermanent };
const char* send_status_name(SendStatus s);

struct SendOutcome {
  SendStatus status = SendStatus::kTransient;
  int smtp_code = 0;   // the SMTP reply code that decided the outcome; 0 when the failure was
                       // not an SMTP reply (network, TLS, local error)
  std::string reason;  // the server's reply text, or the network error; never a secret
};

// Sends one message to one envelope recipient. Implementations need not be thread-safe; the
// Deliverer calls one transport from one thread.
class MailTransport {
 public:
  virtual ~MailTransport() = default;
  virtual SendOutcome send(std::string_view envelope_from, std::string_view recipient,
                           std::string_view message) = 0;
};

enum class StartTls { kOpportunistic, kRequired };

struct SmtpOptions {
  std::string url;       // smtp://host[:port] (STARTTLS per `starttls`) or smtps://host[:port]
  std::string user;      // AUTH user; empty: no AUTH
  std::string password;  // AUTH password; never logged or put into a reason
  StartTls starttls = StartTls::kOpportunistic;
  long connect_timeout_s = 30;
  long timeout_s = 300;     // whole transaction
  std::string helo_domain;  // EHLO argument; empty: libcurl's default
  std::string ca_file;      // PEM CA bundle to verify the server with; empty: system CAs
};

// libcurl SMTP client. Keeps one easy handle, so consecutive sends reuse the connection when
// the server allows it. Not thread-safe: one instance per thread.
class CurlSmtpTransport final : public MailTransport {
 public:
  // Errors: kInvalidArgument for a URL that is not smtp:// or smtps://.
  static Result<std::unique_ptr<CurlSmtpTransport>> create(SmtpOptions options);
  ~CurlSmtpTransport() override;

  SendOutcome send(std::string_view envelope_from, std::string_view recipient,
                   std::string_view message) override;

 private:
  explicit CurlSmtpTransport(SmtpOptions options);
  SmtpOptions options_;
  void* curl_ = nullptr;  // CURL*, kept opaque so callers need not include curl.h
};

// The classification rule, exposed for tests: libcurl result code plus the last SMTP reply.
SendOutcome classify_smtp_result(int curl_code, long smtp_code, std::string_view curl_error,
                                 std::string_view server_reply);

}  // namespace vantage::delivery

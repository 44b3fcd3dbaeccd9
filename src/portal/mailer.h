#pragma once
// The portal's own mails (address confirmation, the operators' decisions and questions): plain
// text, one recipient each. Through the configured SMTP server (smtp.url) when there is one;
// otherwise into an outbox directory as .eml files, so a demo or a test without mail still
// shows exactly what would have been sent.
//
// Thread-safety: send() may be called concurrently (the SMTP mailer serialises on a mutex: one
// libcurl handle).

#include <memory>
#include <string>
#include <string_view>

#include "common/result.h"
#include "delivery/smtp.h"

namespace vantage::portal {

class Mailer {
 public:
  virtual ~Mailer() = default;
  // Errors: the message could not be handed over; the caller tells the user.
  virtual Status send(std::string_view to, std::string_view subject, std::string_view body) = 0;
  virtual std::string describe() const = 0;
};

// `from`: header From and envelope sender (smtp.from).
Result<std::unique_ptr<Mailer>> make_smtp_mailer(delivery::SmtpOptions options, std::string from);
// <dir>/<time>-<random>.eml, mode 0600 (confirmation links are bearer capabilities).
std::unique_ptr<Mailer> make_outbox_mailer(std::string dir, std::string from);

// The complete RFC 5322 message both mailers send.
std::string build_portal_mail(std::string_view from, std::string_view to, std::string_view subject,
                              std::string_view body);

}  // namespace vantage::portal

#include "portal/mailer.h"

#include <fcntl.h>
#include <unistd.h>

#include <filesystem>
#include <mutex>

#include "delivery/mime.h"
#include "portal/request_security.h"

namespace vantage::portal {

std::string build_portal_mail(std::string_view from, std::string_view to, std::string_view subject,
                              std::string_view body) {
  delivery::MessageHeaders h;
  h.from = std::string(from);
  h.to = {std::string(to)};
  h.subject = std::string(subject);
  h.date = now_seconds();
  h.message_id = delivery::make_message_id(delivery::domain_of(from));
  h.list_id.clear();
  return delivery::build_message(h, delivery::build_content_entity(body, {}));
}

namespace {

class SmtpMailer final : public Mailer {
 public:
  SmtpMailer(std::unique_ptr<delivery::CurlSmtpTransport> t, std::string from, std::string url)
      : transport_(std::move(t)), from_(std::move(from)), url_(std::move(url)) {}
  Status send(std::string_view to, std::string_view subject, std::string_view body) override {
    std::string msg = build_portal_mail(from_, to, subject, body);
    std::lock_guard lock(mu_);
    auto out = transport_->send(from_, to, msg);
    if (out.status == delivery::SendStatus::kDelivered) return {};
    return Error{ErrorCode::kUnavailable, "the mail server did not take the message (" +
                                              std::to_string(out.smtp_code) + " " + out.reason +
                                              ")"};
  }
  std::string describe() const override { return url_; }

 private:
  std::mutex mu_;
  std::unique_ptr<delivery::CurlSmtpTransport> transport_;
  std::string from_, url_;
};

class OutboxMailer final : public Mailer {
 public:
  OutboxMailer(std::string dir, std::string from) : dir_(std::move(dir)), from_(std::move(from)) {}
  Status send(std::string_view to, std::string_view subject, std::string_view body) override {
    std::error_code ec;
    std::filesystem::create_directories(dir_, ec);
    std::string path = dir_ + "/" + std::to_string(now_seconds()) + "-" + random_token(6) + ".eml";
    std::string msg = build_portal_mail(from_, to, subject, body);
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) return Error::io("cannot write " + path);
    bool ok = ::write(fd, msg.data(), msg.size()) == static_cast<ssize_t>(msg.size());
    ok = ::close(fd) == 0 && ok;
    if (!ok) return Error::io("cannot write " + path);
    return {};
  }
  std::string describe() const override { return "outbox " + dir_; }

 private:
  std::string dir_, from_;
};

}  // namespace

Result<std::unique_ptr<Mailer>> make_smtp_mailer(delivery::SmtpOptions options, std::string from) {
  std::string url = options.url;
  auto t = delivery::CurlSmtpTransport::create(std::move(options));
  if (!t) return t.error();
  return std::unique_ptr<Mailer>(new SmtpMailer(std::move(*t), std::move(from), std::move(url)));
}

std::unique_ptr<Mailer> make_outbox_mailer(std::string dir, std::string from) {
  return std::make_unique<OutboxMailer>(std::move(dir), std::move(from));
}

}  // namespace vantage::portal

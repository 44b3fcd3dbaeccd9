#include "delivery/smtp.h"

#include <curl/curl.h>

#include <cstring>
#include <mutex>

namespace vantage::delivery {

namespace {

void init_curl() {
  // curl_global_init is not thread-safe; do it once per process.
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct Upload {
  std::string_view data;
  size_t pos = 0;
};

size_t read_cb(char* buffer, size_t size, size_t nitems, void* userp) {
  auto* up = static_cast<Upload*>(userp);
  const size_t n = std::min(size * nitems, up->data.size() - up->pos);
  std::memcpy(buffer, up->data.data() + up->pos, n);
  up->pos += n;
  return n;
}

// Keeps the server's latest reply (CURLINFO_HEADER_IN lines). Client commands (HEADER_OUT),
// which carry the base64 AUTH credentials, are deliberately never looked at.
struct Replies {
  std::string last;   // the latest complete or in-progress reply, lines joined by '\n'
  std::string error;  // the first 4xx/5xx reply: what failed, not the "221 Bye" after it
  bool open = false;  // the previous line was "NNN-..." so the reply continues
};

int debug_cb(CURL*, curl_infotype type, char* data, size_t size, void* userp) {
  if (type != CURLINFO_HEADER_IN) return 0;
  auto* r = static_cast<Replies*>(userp);
  std::string_view line(data, size);
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
  if (r->open) {
    r->last.push_back('\n');
  } else {
    r->last.clear();
  }
  r->last.append(line.substr(0, 512));
  r->open = line.size() >= 4 && line[3] == '-';
  if (!r->open && r->error.empty() && !r->last.empty() &&
      (r->last[0] == '4' || r->last[0] == '5')) {
    r->error = r->last;
  }
  return 0;
}

std::string last_line(std::string_view text) {
  const size_t nl = text.rfind('\n');
  return std::string(nl == std::string_view::npos ? text : text.substr(nl + 1));
}

}  // namespace

const char* send_status_name(SendStatus s) {
  switch (s) {
    case SendStatus::kDelivered: return "delivered";
    case SendStatus::kTransient: return "transient";
    case SendStatus::kPermanent: return "permanent";
  }
  return "?";
}

SendOutcome classify_smtp_result(int curl_code, long smtp_code, std::string_view curl_error,
                                 std::string_view server_reply) {
  SendOutcome o;
  o.smtp_code = static_cast<int>(smtp_code);
  const std::string reply = last_line(server_reply);
  if (curl_code == CURLE_OK) {
    o.status = SendStatus::kDelivered;
    o.reason = reply;
    return o;
  }
  o.reason = std::string(curl_error.empty() ? curl_easy_strerror(static_cast<CURLcode>(curl_code))
                                            : curl_error);
  if (!reply.empty() && smtp_code >= 400) o.reason += " (server: " + reply + ")";
  if (smtp_code >= 500 && smtp_code < 600) {
    o.status = SendStatus::kPermanent;
    return o;
  }
  if (smtp_code >= 400 && smtp_code < 500) {
    o.status = SendStatus::kTransient;
    return o;
  }
  // The last reply was a success (e.g. "220 Ready to start TLS" before a failed handshake):
  // it did not cause the failure, so it is not reported as if it had.
  o.smtp_code = 0;
  switch (static_cast<CURLcode>(curl_code)) {
    // Configuration problems a retry cannot fix.
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_LOGIN_DENIED:
    case CURLE_USE_SSL_FAILED:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CACERT_BADFILE: o.status = SendStatus::kPermanent; break;
    default:  // refused, timed out, resolve failure, dropped connection, TLS handshake hiccup
      o.status = SendStatus::kTransient;
      break;
  }
  return o;
}

CurlSmtpTransport::CurlSmtpTransport(SmtpOptions options) : options_(std::move(options)) {}

CurlSmtpTransport::~CurlSmtpTransport() {
  if (curl_) curl_easy_cleanup(static_cast<CURL*>(curl_));
}

Result<std::unique_ptr<CurlSmtpTransport>> CurlSmtpTransport::create(SmtpOptions options) {
  if (!options.url.starts_with("smtp://") && !options.url.starts_with("smtps://")) {
    return Error::invalid("smtp.url must start with smtp:// or smtps://");
  }
  init_curl();
  std::unique_ptr<CurlSmtpTransport> t(new CurlSmtpTransport(std::move(options)));
  t->curl_ = curl_easy_init();
  if (!t->curl_) return Error::internal("smtp: curl_easy_init failed");
  return t;
}

SendOutcome CurlSmtpTransport::send(std::string_view envelope_from, std::string_view recipient,
                                    std::string_view message) {
  CURL* c = static_cast<CURL*>(curl_);
  // Reset clears the per-transfer options but keeps the connection cache, so the next
  // message goes over the same SMTP session when the server keeps it open.
  curl_easy_reset(c);
  std::string url = options_.url;
  if (!options_.helo_domain.empty()) {
    // libcurl takes the EHLO domain from the URL path (smtp://host/domain).
    const size_t scheme_end = url.find("://") + 3;
    if (url.find('/', scheme_end) == std::string::npos) url += "/" + options_.helo_domain;
  }
  const std::string from = "<" + std::string(envelope_from) + ">";
  const std::string rcpt = "<" + std::string(recipient) + ">";
  curl_slist* rcpts = curl_slist_append(nullptr, rcpt.c_str());
  char errbuf[CURL_ERROR_SIZE] = {0};
  Replies replies;
  Upload up{message, 0};

  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_MAIL_FROM, from.c_str());
  curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpts);
  curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(c, CURLOPT_READFUNCTION, read_cb);
  curl_easy_setopt(c, CURLOPT_READDATA, &up);
  curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(message.size()));
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, options_.connect_timeout_s);
  curl_easy_setopt(c, CURLOPT_TIMEOUT, options_.timeout_s);
  curl_easy_setopt(c, CURLOPT_DEBUGFUNCTION, debug_cb);
  curl_easy_setopt(c, CURLOPT_DEBUGDATA, &replies);
  curl_easy_setopt(c, CURLOPT_VERBOSE, 1L);  // feeds debug_cb only; nothing is printed
  if (options_.url.starts_with("smtp://")) {
    curl_easy_setopt(c, CURLOPT_USE_SSL,
                     options_.starttls == StartTls::kRequired ? static_cast<long>(CURLUSESSL_ALL)
                                                              : static_cast<long>(CURLUSESSL_TRY));
  }
  // The server certificate is always verified (peer and host name): a relay that cannot prove
  // its identity does not get report data, even with opportunistic STARTTLS.
  if (!options_.ca_file.empty()) curl_easy_setopt(c, CURLOPT_CAINFO, options_.ca_file.c_str());
  if (!options_.user.empty()) {
    curl_easy_setopt(c, CURLOPT_USERNAME, options_.user.c_str());
    curl_easy_setopt(c, CURLOPT_PASSWORD, options_.password.c_str());
  }
  const CURLcode rc = curl_easy_perform(c);
  long code = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
  curl_slist_free_all(rcpts);
  // Drop the pointers into this stack frame before returning.
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, nullptr);
  curl_easy_setopt(c, CURLOPT_DEBUGDATA, nullptr);
  curl_easy_setopt(c, CURLOPT_MAIL_RCPT, nullptr);
  curl_easy_setopt(c, CURLOPT_READDATA, nullptr);
  return classify_smtp_result(rc, code, errbuf,
                              replies.error.empty() ? replies.last : replies.error);
}

}  // namespace vantage::delivery

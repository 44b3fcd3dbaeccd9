#include "sensors/scanner/probes/starttls/starttls.h"

#include <cctype>

#include "common/strings.h"
#include "sensors/scanner/probes/exchange_module.h"
#include "sensors/scanner/probes/ssl/ssl.h"
#include "sensors/scanner/probes/text_util.h"

namespace vantage::scanner {
namespace {

constexpr std::string_view kImapTag = "a1 ";

// Where the reply at the front of `b` ends (one past its last LF), or npos while incomplete.
// SMTP/FTP: the first "NNN " line ends a multi-line "NNN-" reply. POP3: one line. IMAP: the
// greeting is one untagged line; the answer to our command is the line carrying our tag.
size_t reply_end(std::string_view b, TextDialect d, bool tagged) {
  size_t pos = 0;
  while (pos < b.size()) {
    const size_t nl = b.find('\n', pos);
    if (nl == std::string_view::npos) return std::string_view::npos;
    const std::string_view line = b.substr(pos, nl - pos);
    pos = nl + 1;
    switch (d) {
      case TextDialect::smtp:
      case TextDialect::ftp:
        if (line.size() >= 3 && std::isdigit(static_cast<unsigned char>(line[0])) &&
            (line.size() == 3 || line[3] != '-'))
          return pos;
        break;
      case TextDialect::pop3: return pos;
      case TextDialect::imap:
        if (!tagged || line.substr(0, kImapTag.size()) == kImapTag) return pos;
        break;
    }
  }
  return std::string_view::npos;
}

bool starts_with(std::string_view s, std::string_view p) {
  return s.substr(0, p.size()) == p;
}

bool mentions(std::string_view text, std::string_view word) {
  return to_lower(text).find(word) != std::string::npos;
}

// "502 5.5.2 ...": a reply code followed by an RFC 3463 enhanced status code, SMTP's alone.
bool enhanced_status(std::string_view reply) {
  return reply.size() >= 9 && reply[3] == ' ' &&
         (reply[4] == '2' || reply[4] == '4' || reply[4] == '5') && reply[5] == '.' &&
         std::isdigit(static_cast<unsigned char>(reply[6]));
}

// True when what the server said shows it speaks the other 220-greeting protocol.
bool other_protocol(TextDialect d, std::string_view greeting, std::string_view first_answer) {
  if (d == TextDialect::smtp) {
    if (starts_with(first_answer, "250")) return false;  // EHLO accepted: SMTP
    return mentions(first_answer, "user and pass") ||
           (mentions(greeting, "ftp") && !mentions(greeting, "smtp"));
  }
  if (d == TextDialect::ftp) {
    if (starts_with(first_answer, "234")) return false;  // AUTH TLS accepted: FTP
    return enhanced_status(first_answer) || mentions(greeting, "smtp");
  }
  return false;
}

bool greeting_ok(std::string_view g, TextDialect d) {
  switch (d) {
    case TextDialect::smtp:
    case TextDialect::ftp: return starts_with(g, "220 ") || starts_with(g, "220-");
    case TextDialect::pop3: return starts_with(g, "+OK");
    case TextDialect::imap: return starts_with(g, "* OK") || starts_with(g, "* PREAUTH");
  }
  return false;
}

// EHLO's answer lists STARTTLS as one of its "250-" / "250 " extension lines.
bool ehlo_offers_starttls(std::string_view reply) {
  bool offered = false;
  for_each_line(reply, [&](std::string_view line) {
    if (line.size() < 12) return;
    std::string kw(line.substr(4, 8));
    for (auto& c : kw) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (kw == "STARTTLS") offered = true;
  });
  return offered;
}

}  // namespace

StarttlsExchange::StarttlsExchange(TextDialect dialect) : dialect_(dialect) {}
StarttlsExchange::~StarttlsExchange() = default;

std::string StarttlsExchange::feed(std::string_view chunk, bool* done) {
  if (tls_) return tls_->feed(chunk, done);
  if (stage_ == Stage::over) {
    *done = true;
    return {};
  }
  buf_.append(chunk.substr(0, kMaxReply + 1 - std::min(buf_.size(), kMaxReply + 1)));
  std::string out;
  while (!*done && !tls_) {
    const size_t end = reply_end(buf_, dialect_, stage_ != Stage::greeting);
    if (end == std::string::npos) {
      if (buf_.size() > kMaxReply) {  // a reply that never ends: keep what we have
        if (stage_ == Stage::greeting) greeting_ = buf_.substr(0, kMaxReply);
        stage_ = Stage::over;
        *done = true;
      }
      break;
    }
    out += next_after_reply(done);
  }
  return out;
}

// The reply in buf_[0, end) is complete: record it, choose the next command.
std::string StarttlsExchange::next_after_reply(bool* done) {
  const size_t end = reply_end(buf_, dialect_, stage_ != Stage::greeting);
  const std::string reply = buf_.substr(0, end);
  buf_.erase(0, end);
  if (stage_ != Stage::greeting && first_answer_.empty()) first_answer_ = reply.substr(0, 512);
  auto stop = [&] {
    stage_ = Stage::over;
    *done = true;
    return std::string();
  };
  auto upgrade = [&] {
    stage_ = Stage::tls;
    tls_ = std::make_unique<TlsExchange>(std::string());
    std::string hello = tls_->start();
    if (!buf_.empty()) {  // bytes after the go-ahead belong to TLS (none, from a sane server)
      const std::string rest = std::exchange(buf_, {});
      hello += tls_->feed(rest, done);
    }
    return hello;
  };
  switch (stage_) {
    case Stage::greeting:
      greeting_ = reply;
      if (!greeting_ok(reply, dialect_)) return stop();
      switch (dialect_) {
        case TextDialect::smtp: stage_ = Stage::ehlo; return "EHLO vantage.invalid\r\n";
        case TextDialect::ftp: stage_ = Stage::starttls; return "AUTH TLS\r\n";
        case TextDialect::imap:
          stage_ = Stage::starttls;
          return std::string(kImapTag) + "STARTTLS\r\n";
        case TextDialect::pop3: stage_ = Stage::starttls; return "STLS\r\n";
      }
      return stop();
    case Stage::ehlo:
      if (!starts_with(reply, "250") || !ehlo_offers_starttls(reply)) return stop();
      stage_ = Stage::starttls;
      return "STARTTLS\r\n";
    case Stage::starttls: {
      bool go = false;
      switch (dialect_) {
        case TextDialect::smtp:
          auth_tls_response_ = printable(reply, 512);
          go = starts_with(reply, "220");
          break;
        case TextDialect::ftp:
          auth_tls_response_ = printable(reply, 512);
          go = starts_with(reply, "234");
          if (!go) {  // RFC 4217 section 12.1: older servers know only AUTH SSL
            stage_ = Stage::auth_ssl;
            return "AUTH SSL\r\n";
          }
          break;
        case TextDialect::imap: go = starts_with(reply, std::string(kImapTag) + "OK"); break;
        case TextDialect::pop3: go = starts_with(reply, "+OK"); break;
      }
      return go ? upgrade() : stop();
    }
    case Stage::auth_ssl:
      auth_ssl_response_ = printable(reply, 512);
      return starts_with(reply, "234") ? upgrade() : stop();
    case Stage::tls:
    case Stage::over: break;
  }
  return stop();
}

Result<nlohmann::json> StarttlsExchange::result() {
  if (greeting_.empty() && stage_ == Stage::greeting) greeting_ = buf_;
  if (!greeting_ok(greeting_, dialect_)) return Error::invalid("no greeting of this protocol");
  if (other_protocol(dialect_, greeting_, first_answer_))
    return Error::invalid("the server speaks the other 220-greeting protocol");
  nlohmann::json f = nlohmann::json::object();
  f["banner"] = printable(greeting_);
  if (!auth_tls_response_.empty()) f["auth_tls_response"] = auth_tls_response_;
  if (!auth_ssl_response_.empty()) f["auth_ssl_response"] = auth_ssl_response_;
  add_tls_columns(f, tls_.get());
  return f;
}

const std::vector<std::string>& tls_certificate_columns() {
  static const std::vector<std::string> cols = [] {
    std::vector<std::string> c{"handshake",          "cipher_suite",         "cert_length",
                               "cert_issue_date",    "cert_expiration_date", "sha1_fingerprint",
                               "sha256_fingerprint", "sha512_fingerprint",   "md5_fingerprint",
                               "cert_serial_number", "ssl_version",          "signature_algorithm",
                               "key_algorithm",      "self_signed",          "cert_expired"};
    for (const char* side : {"subject_", "issuer_"})
      for (const char* name :
           {"common_name", "organization_name", "organization_unit_name", "country",
            "state_or_province_name", "locality_name", "street_address", "postal_code", "surname",
            "given_name", "email_address", "business_category", "serial_number"})
        c.push_back(std::string(side) + name);
    return c;
  }();
  return cols;
}

ProbeModule starttls_module(std::string name, std::string report_type, uint16_t port,
                            TextDialect dialect, const std::vector<std::string>& extra) {
  ProbeModule m;
  m.tag = name;
  m.name = std::move(name);
  m.report_type = std::move(report_type);
  m.default_port = port;
  m.columns = {"banner"};
  for (const auto& c : tls_certificate_columns()) m.columns.push_back(c);
  for (const auto& c : extra) m.columns.push_back(c);
  m.exchange = [dialect](const ProbeTarget&) {
    return std::make_unique<StarttlsExchange>(dialect);
  };
  m.request = [](const ProbeTarget&) { return std::string(); };
  // The greeting alone (what complete() means for a listen-first module).
  m.complete = [dialect](std::string_view b) {
    return reply_end(b, dialect, false) != std::string_view::npos;
  };
  m.parse = [dialect](std::string_view b) {
    StarttlsExchange x(dialect);
    return replay_exchange(x, b);
  };
  return m;
}

}  // namespace vantage::scanner

#include "delivery/deliverer.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <thread>

#include "common/file_range.h"
#include "common/strings.h"
#include "delivery/mime.h"
#include "delivery/zip_writer.h"

namespace vantage::delivery {

namespace {

// A recipient must be one bare address; anything that could smuggle another header or SMTP
// command is refused before it reaches the message or the envelope.
bool plausible_address(std::string_view a) {
  if (a.empty() || a.size() > 254) return false;
  const size_t at = a.find('@');
  if (at == std::string_view::npos || at == 0 || at + 1 == a.size()) return false;
  if (a.find('@', at + 1) != std::string_view::npos) return false;
  for (char c : a) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f || c == '<' || c == '>' || c == ',' || c == ';' || c == '"') {
      return false;
    }
  }
  return true;
}

// The bare address of "Name <addr>" or "addr": the SMTP envelope takes only the address.
std::string envelope_address(std::string_view from) {
  const size_t open = from.rfind('<');
  const size_t close = from.rfind('>');
  if (open != std::string_view::npos && close != std::string_view::npos && close > open) {
    return std::string(from.substr(open + 1, close - open - 1));
  }
  return std::string(trim(from));
}

std::string zip_name(const std::string& file_name) {
  std::string stem = file_name;
  if (stem.size() > 4 && stem.ends_with(".csv")) stem.resize(stem.size() - 4);
  return stem + ".zip";
}

std::string human_bytes(uint64_t n) {
  char buf[32];
  if (n >= 1'000'000) {
    std::snprintf(buf, sizeof buf, "%.1f MB", static_cast<double>(n) / 1e6);
  } else if (n >= 1'000) {
    std::snprintf(buf, sizeof buf, "%.1f kB", static_cast<double>(n) / 1e3);
  } else {
    std::snprintf(buf, sizeof buf, "%llu bytes", static_cast<unsigned long long>(n));
  }
  return buf;
}

}  // namespace

struct Deliverer::Unit {
  std::string id;
  std::string kind;
  std::vector<const ReportFile*> reports;
  std::string report_ids;  // comma-separated
};

size_t DeliveryResult::count(std::string_view status) const {
  return static_cast<size_t>(std::count_if(
      mails.begin(), mails.end(), [&](const MailOutcome& m) { return m.status == status; }));
}

Deliverer::Deliverer(DelivererOptions options, MailTransport& transport, DeliveryLog& log,
                     DelivererClock clock)
    : options_(std::move(options)), transport_(transport), log_(log), clock_(std::move(clock)) {
  if (!clock_.now) clock_.now = now_seconds;
  if (!clock_.sleep)
    clock_.sleep = [](std::chrono::milliseconds d) { std::this_thread::sleep_for(d); };
  options_.max_attempts = std::max(1, options_.max_attempts);
}

std::chrono::milliseconds Deliverer::backoff(int attempt) const {
  const double base = static_cast<double>(options_.initial_backoff.count());
  const double d = base * std::pow(options_.backoff_factor, std::max(0, attempt - 1));
  const double cap = static_cast<double>(options_.max_backoff.count());
  return std::chrono::milliseconds(static_cast<int64_t>(std::min(d, cap)));
}

Status Deliverer::log_outcome(const OrgDelivery& org, const Unit& unit, MailOutcome& outcome,
                              const std::string& status, int attempt, int code,
                              const std::string& reason) {
  outcome.status = status;
  outcome.attempts = attempt;
  outcome.smtp_code = code;
  outcome.reason = reason;
  DeliveryRecord r;
  r.at = clock_.now();
  r.day = org.date;
  r.org = org.org_id;
  r.unit = unit.id;
  r.kind = unit.kind;
  r.reports = unit.report_ids;
  r.recipient = outcome.recipient;
  r.message_id = outcome.message_id;
  r.attempt = attempt;
  r.status = status;
  r.smtp_code = code;
  r.reason = reason;
  r.encrypted = outcome.encrypted;
  return log_.append(r);
}

Result<DeliveryResult> Deliverer::deliver_reports(const OrgDelivery& org) {
  DeliveryResult result;
  if (org.reports.empty()) return result;  // Shadowserver sends nothing on a day without data

  std::vector<Unit> units;
  if (options_.mode == MailMode::kDigest) {
    Unit u{"digest-" + sanitize_identifier(org.org_id) + "-" + org.date, "digest", {}, {}};
    for (const ReportFile& r : org.reports) u.reports.push_back(&r);
    units.push_back(std::move(u));
  } else {
    for (const ReportFile& r : org.reports) units.push_back(Unit{r.report_id, "report", {&r}, {}});
  }
  for (Unit& u : units) {
    std::vector<std::string> ids;
    for (const ReportFile* r : u.reports) ids.push_back(r->report_id);
    u.report_ids = join(ids, ",");
  }

  // Records an outcome that involved no SMTP attempt, for every recipient (or once if none).
  auto not_attempted = [&](const Unit& u, const std::vector<std::string>& rcpts,
                           const std::string& status, const std::string& reason) -> Status {
    const std::vector<std::string> targets = rcpts.empty() ? std::vector<std::string>{""} : rcpts;
    for (const std::string& rcpt : targets) {
      MailOutcome o{u.id, u.kind, rcpt, "", status, 0, 0, reason, false, {}};
      if (Status st = log_outcome(org, u, o, status, 0, 0, reason); !st) return st;
      result.mails.push_back(std::move(o));
    }
    return {};
  };

  std::vector<std::string> recipients;
  for (const std::string& rcpt : org.recipients) {
    if (plausible_address(rcpt)) {
      recipients.push_back(rcpt);
      continue;
    }
    for (const Unit& u : units) {
      // Logged without control characters, so a hostile address cannot forge log lines.
      if (Status st =
              not_attempted(u, {strip_control(rcpt)}, kStatusNotSent, "invalid recipient address");
          !st)
        return st.error();
    }
  }
  if (recipients.empty()) {
    if (org.recipients.empty()) {
      for (const Unit& u : units) {
        if (Status st = not_attempted(u, {}, kStatusNoRecipients,
                                      "organisation has no recipients; reports stay available "
                                      "through the API");
            !st)
          return st.error();
      }
    }
    return result;
  }

  // PGP: one private keyring for this organisation's mails of this run.
  std::unique_ptr<PgpSession> pgp;
  std::string fingerprint;
  if (org.pgp_public_key && !org.pgp_public_key->empty()) {
    auto session = PgpSession::open(options_.pgp);
    Result<std::string> fpr = session ? (*session)->import_recipient(*org.pgp_public_key)
                                      : Result<std::string>(session.error());
    if (!fpr) {
      for (const Unit& u : units) {
        if (Status st = not_attempted(u, recipients, kStatusNotSent,
                                      fpr.error().message + "; not sent in clear");
            !st)
          return st.error();
      }
      return result;
    }
    pgp = std::move(*session);
    fingerprint = *fpr;
  }

  const std::string domain = domain_of(options_.from);
  const std::string envelope_from = envelope_address(options_.from);
  for (const Unit& u : units) {
    // Body text and attachments.
    std::vector<MimeAttachment> attachments;
    std::vector<std::string> linked;
    std::string listing;
    uint64_t attached_bytes = 0;
    Status unit_error;
    for (const ReportFile* r : u.reports) {
      // Its own file or its range of the day's pack (report/pack.h): opened once, so the
      // size decided here is the size read below.
      auto bytes = FileRangeReader::open(
          {r->path, r->pack_offset, r->pack_offset >= 0 ? static_cast<int64_t>(r->size) : 0});
      if (!bytes) {
        unit_error = Error::io("report file " + r->path + ": " + bytes.error().message);
        break;
      }
      const uint64_t size = static_cast<uint64_t>((*bytes)->size());
      listing += "  " + r->file_name + " (" + std::to_string(r->rows) + " rows, " +
                 human_bytes(size) + ")\n";
      if (size > options_.max_attachment_bytes ||
          attached_bytes + size > options_.max_attachment_bytes) {
        linked.push_back(r->report_id);
        listing += r->download_url.empty()
                       ? "    too large to attach; download it through the API (report id " +
                             r->report_id + ")\n"
                       : "    too large to attach; download: " + r->download_url + "\n";
        continue;
      }
      std::string data;
      Result<size_t> got = size_t{0};
      do {
        got = (*bytes)->read(data, 1 << 20);
      } while (got && *got > 0);
      if (!got) {
        unit_error = got.error();
        break;
      }
      attached_bytes += size;
      if (options_.attachment == AttachmentFormat::kZip) {
        auto zip = make_zip({ZipEntry{r->file_name, data, clock_.now()}});
        if (!zip) {
          unit_error = zip.error();
          break;
        }
        listing += "    attached as " + zip_name(r->file_name) + "\n";
        attachments.push_back(
            {zip_name(r->file_name), "application/octet-stream", std::move(*zip)});
      } else {
        listing += "    attached\n";
        attachments.push_back({r->file_name, "text/csv; charset=utf-8", std::move(data)});
      }
    }
    if (!unit_error.ok()) {
      if (Status st = not_attempted(u, recipients, kStatusNotSent, unit_error.message()); !st)
        return st.error();
      continue;
    }
    std::string body = org.summary;
    if (!body.empty() && body.back() != '\n') body += '\n';
    if (!body.empty()) body += '\n';
    body += u.reports.size() == 1 ? "Report:\n" : "Reports:\n";
    body += listing;
    body += "\nEvery report is also available through the Vantage reports API.\n";
    std::string entity = build_content_entity(body, attachments);
    attachments.clear();  // the entity now holds the (encoded) bytes

    bool encrypted = false;
    if (pgp) {
      auto armored = pgp->encrypt(fingerprint, entity);
      if (!armored) {
        if (Status st = not_attempted(u, recipients, kStatusNotSent,
                                      armored.error().message + "; not sent in clear");
            !st)
          return st.error();
        continue;
      }
      entity = build_pgp_mime_entity(*armored);
      encrypted = true;
    }

    const std::string subject = u.kind == "digest"
                                    ? options_.subject_prefix + " " + org.short_name + ": " +
                                          std::to_string(u.reports.size()) + " report" +
                                          (u.reports.size() == 1 ? "" : "s") + " for " + org.date
                                    : options_.subject_prefix + " " + org.short_name + ": " +
                                          u.reports[0]->type + " report for " + u.reports[0]->date;

    for (const std::string& rcpt : recipients) {
      MailOutcome o{u.id, u.kind, rcpt, make_message_id(domain), "", 0, 0, "", encrypted, linked};
      MessageHeaders h;
      h.from = options_.from;
      h.to = {rcpt};
      h.subject = subject;
      h.date = clock_.now();
      h.message_id = o.message_id;
      h.list_id = options_.list_id;
      h.extra = {{"X-Vantage-Report-Ids", u.report_ids}};
      const std::string message = build_message(h, entity);
      for (int attempt = 1;; ++attempt) {
        const SendOutcome sent = transport_.send(envelope_from, rcpt, message);
        std::string status;
        std::string reason = sent.reason;
        bool again = false;
        if (sent.status == SendStatus::kDelivered) {
          status = kStatusDelivered;
        } else if (sent.status == SendStatus::kPermanent) {
          status = kStatusFailed;
        } else if (attempt < options_.max_attempts) {
          status = kStatusRetrying;
          again = true;
        } else {
          status = kStatusFailed;
          reason += " (transient; gave up after " + std::to_string(attempt) + " attempts)";
        }
        if (Status st = log_outcome(org, u, o, status, attempt, sent.smtp_code, reason); !st)
          return st.error();
        if (!again) break;
        clock_.sleep(backoff(attempt));
      }
      result.mails.push_back(std::move(o));
    }
  }
  return result;
}

Result<DelivererOptions> deliverer_options_from_config(const config::Config& cfg) {
  DelivererOptions o;
  o.from = cfg.smtp_from;
  o.list_id = cfg.smtp_list_id;
  if (cfg.mail_mode == "digest") {
    o.mode = MailMode::kDigest;
  } else if (cfg.mail_mode == "per-report") {
    o.mode = MailMode::kPerReport;
  } else {
    return Error::invalid("smtp.mode: unknown mode " + cfg.mail_mode);
  }
  o.attachment = cfg.attachment == "plain" ? AttachmentFormat::kPlain : AttachmentFormat::kZip;
  o.max_attachment_bytes = static_cast<uint64_t>(std::max<int64_t>(0, cfg.max_attachment_bytes));
  o.max_attempts = static_cast<int>(cfg.smtp_max_attempts);
  o.initial_backoff = std::chrono::seconds(cfg.smtp_retry_initial_s);
  if (!cfg.smtp_sign_key.empty()) {
    auto key = read_file_range({cfg.smtp_sign_key});
    if (!key) return Error::invalid("smtp.sign_key: " + key.error().message);
    o.pgp.sign_key_armored = std::move(*key);
    o.pgp.sign_passphrase = cfg.smtp_sign_passphrase;
  }
  if (const char* tmp = std::getenv("TMPDIR"); tmp && *tmp) o.pgp.temp_root = tmp;
  return o;
}

SmtpOptions smtp_options_from_config(const config::Config& cfg) {
  SmtpOptions o;
  o.url = cfg.smtp_url;
  o.user = cfg.smtp_user;
  o.password = cfg.smtp_password;
  o.starttls = cfg.smtp_starttls == "required" ? StartTls::kRequired : StartTls::kOpportunistic;
  o.ca_file = cfg.smtp_ca_file;
  return o;
}

}  // namespace vantage::delivery

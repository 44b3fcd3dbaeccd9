#pragma once
// The Deliverer: e-mails one organisation's reports for one day. This is the API the report
// builder calls once per organisation after writing the day's CSV files.
//
//   auto log = delivery::DeliveryLog::open(delivery::default_delivery_log_path(cfg.data_dir));
//   auto smtp = delivery::CurlSmtpTransport::create(*delivery::smtp_options_from_config(cfg));
//   auto opts = delivery::deliverer_options_from_config(cfg);   // Result<DelivererOptions>
//   delivery::Deliverer deliverer(*opts, **smtp, **log);
//   delivery::OrgDelivery org{.org_id = "42", .short_name = "example_org",
//                             .recipients = {"cert@example.org"},
//                             .pgp_public_key = registry_key_or_nullopt,
//                             .date = "2026-11-22",
//                             .reports = {{.report_id = "r-123", .file_name = "...csv", ...}},
//                             .summary = "3 scan_smb events (2 new, 1 recurring) ..."};
//   auto result = deliverer.deliver_reports(org);
//   // !result: the delivery log could not be written -- stop the run.
//   // result->mails: one MailOutcome per (mail, recipient): delivered / failed / not_sent /
//   // no_recipients, already written to the log. A report that was not sent stays available
//   // through the API; nothing here deletes or changes report files.
//
// What it does, per organisation:
//  * Mode per-report (Shadowserver's habit): one mail per report. Mode digest: one mail per
//    organisation and day carrying every report.
//  * Each report is attached as <stem>.zip (application/octet-stream, holding exactly one
//    entry named like the report file) or as plain text/csv. A report larger than
//    max_attachment_bytes -- or, in a digest, one that would push the attached total past it --
//    is not attached; the body carries its download URL instead.
//  * With a PGP key the whole content entity is encrypted (and signed when a service key is
//    configured) as PGP/MIME (RFC 3156) in a private GNUPGHOME. An unusable key means the
//    mail is not sent, never sent in clear; the log row says why.
//  * One SMTP transaction per recipient, each with its own Message-ID. Transient failures
//    (4xx, refused connection, timeout) are retried with exponential back-off up to
//    max_attempts; permanent ones (5xx) are not. Every attempt is a row in the DeliveryLog.
//  * No recipients: a "no_recipients" row per mail instead of silence.
//
// Thread-safety: a Deliverer uses its transport and log from the calling thread only; run
// one Deliverer (with its own transport and log) per thread.

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "common/time.h"
#include "config/config.h"
#include "delivery/delivery_log.h"
#include "delivery/pgp.h"
#include "delivery/smtp.h"

namespace vantage::delivery {

enum class MailMode { kPerReport, kDigest };
enum class AttachmentFormat { kZip, kPlain };

// One report file of the day, as the report manifest describes it.
struct ReportFile {
  std::string report_id;     // API report id
  std::string file_name;     // "2026-11-22-scan_smb-example_org-asn.csv": the attachment name
  std::string path;          // where the CSV is on disk: its own file, or the day's pack
  int64_t pack_offset = -1;  // >= 0: the CSV is bytes [pack_offset, +size) of the pack at path
  uint64_t size = 0;         // bytes according to the manifest (for its own file, the file decides)
  uint64_t rows = 0;
  std::string type;          // report type, e.g. "scan_smb"
  std::string date;          // YYYY-MM-DD
  std::string download_url;  // sent instead of the file when it is too large; may be empty
};

struct OrgDelivery {
  std::string org_id;
  std::string short_name;                     // used in subjects and the digest id
  std::vector<std::string> recipients;        // bare addresses, "cert@example.org"
  std::optional<std::string> pgp_public_key;  // ASCII-armored; absent: mail in clear
  std::string date;                           // the report day, YYYY-MM-DD
  std::vector<ReportFile> reports;            // the day's reports; empty: nothing is sent or logged
  std::string summary;                        // plain-text summary for the body (UTF-8, LF)
};

struct DelivererOptions {
  std::string from = "vantage@localhost";           // header From and envelope sender
  std::string list_id = "reports.vantage.example";  // List-Id (without brackets); empty: none
  std::string subject_prefix = "[Vantage]";
  MailMode mode = MailMode::kPerReport;
  AttachmentFormat attachment = AttachmentFormat::kZip;
  uint64_t max_attachment_bytes = 10'000'000;
  int max_attempts = 4;  // per recipient, >= 1
  std::chrono::milliseconds initial_backoff{30'000};
  double backoff_factor = 2.0;
  std::chrono::milliseconds max_backoff{600'000};
  PgpOptions pgp;  // GNUPGHOME location and the optional signing key
};

// Time and sleeping, injectable so tests run retries instantly and deterministically.
struct DelivererClock {
  std::function<UnixSeconds()> now = now_seconds;
  std::function<void(std::chrono::milliseconds)> sleep;  // empty: std::this_thread::sleep_for
};

// What happened to one mail for one recipient (also in the log, one row per attempt).
struct MailOutcome {
  std::string unit;        // report id or digest id
  std::string kind;        // "report" or "digest"
  std::string recipient;   // empty for no_recipients
  std::string message_id;  // empty when no message was built
  std::string status;  // kStatusDelivered / kStatusFailed / kStatusNotSent / kStatusNoRecipients
  int attempts = 0;
  int smtp_code = 0;
  std::string reason;
  bool encrypted = false;
  std::vector<std::string> linked_reports;  // report ids sent as a link, not attached
};

struct DeliveryResult {
  std::vector<MailOutcome> mails;
  size_t count(std::string_view status) const;
};

class Deliverer {
 public:
  // `transport` and `log` must outlive the Deliverer.
  Deliverer(DelivererOptions options, MailTransport& transport, DeliveryLog& log,
            DelivererClock clock = {});

  // Sends the organisation's mails (see the file comment). Blocks through retries. Returns an
  // error only when the delivery log cannot be written; every other failure is an outcome.
  Result<DeliveryResult> deliver_reports(const OrgDelivery& org);

  // Delay before attempt `attempt + 1` after a transient failure of attempt `attempt`.
  std::chrono::milliseconds backoff(int attempt) const;

 private:
  struct Unit;
  Status log_outcome(const OrgDelivery& org, const Unit& unit, MailOutcome& outcome,
                     const std::string& status, int attempt, int code, const std::string& reason);

  DelivererOptions options_;
  MailTransport& transport_;
  DeliveryLog& log_;
  DelivererClock clock_;
};

// Configuration -> options. Errors: kInvalidArgument for unusable values (an unreadable
// signing key file, an unknown mode).
Result<DelivererOptions> deliverer_options_from_config(const config::Config& cfg);
SmtpOptions smtp_options_from_config(const config::Config& cfg);

}  // namespace vantage::delivery

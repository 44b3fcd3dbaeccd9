// delivery_smtp_driver: runs the real Deliverer against a real SMTP server, for
// tests/delivery/smtp_test.sh and bench/mail_bench.sh. Prints one tab-separated line per
// mail outcome (unit, recipient, status, attempts, smtp code, message-id, reason) and, with
// --bench, the rate at which messages were handed to the server.
//
// Reports come from --report ID:TYPE:PATH[:URL] (repeatable) or --manifest FILE, whose lines
// are "ID<TAB>TYPE<TAB>PATH<TAB>URL". The AUTH password comes from VANTAGE_SMTP_PASSWORD,
// never from the command line (where `ps` would show it).

#include <CLI/CLI.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "delivery/deliverer.h"

namespace {

using namespace vantage::delivery;

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

ReportFile make_report(const std::string& id, const std::string& type, const std::string& path,
                       const std::string& url, const std::string& date) {
  ReportFile r;
  r.report_id = id;
  r.type = type;
  r.path = path;
  r.file_name = std::filesystem::path(path).filename().string();
  std::error_code ec;
  r.size = std::filesystem::file_size(path, ec);
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) ++r.rows;
  if (r.rows > 0) --r.rows;  // header
  r.date = date;
  r.download_url = url;
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Deliver reports through a real SMTP server (test and benchmark driver)"};
  std::string smtp_url, from = "vantage@localhost", log_path, org_id, short_name, date;
  std::string key_file, sign_key_file, mode = "per-report", attach = "zip", summary;
  std::string manifest, list_id = "reports.vantage.example", starttls = "opportunistic", ca_file;
  std::vector<std::string> recipients, report_specs;
  uint64_t max_bytes = 10'000'000;
  int max_attempts = 3;
  int64_t backoff_ms = 100;
  bool bench = false;
  app.add_option("--smtp", smtp_url, "smtp://host:port")->required();
  app.add_option("--from", from);
  app.add_option("--log", log_path, "delivery log file")->required();
  app.add_option("--org", org_id)->required();
  app.add_option("--name", short_name);
  app.add_option("--date", date)->required();
  app.add_option("--to", recipients, "recipient (repeatable)");
  app.add_option("--key", key_file, "organisation's armored public key");
  app.add_option("--sign-key", sign_key_file, "service armored secret key");
  app.add_option("--mode", mode)->check(CLI::IsMember({"per-report", "digest"}));
  app.add_option("--attach", attach)->check(CLI::IsMember({"zip", "plain"}));
  app.add_option("--max-bytes", max_bytes);
  app.add_option("--max-attempts", max_attempts);
  app.add_option("--backoff-ms", backoff_ms);
  app.add_option("--summary", summary);
  app.add_option("--list-id", list_id);
  app.add_option("--report", report_specs, "ID:TYPE:PATH[:URL]");
  app.add_option("--manifest", manifest);
  app.add_option("--starttls", starttls)->check(CLI::IsMember({"opportunistic", "required"}));
  app.add_option("--ca-file", ca_file, "PEM CA bundle for the server certificate");
  std::string user;
  app.add_option("--user", user, "SMTP AUTH user (password: $VANTAGE_SMTP_PASSWORD)");
  app.add_flag("--bench", bench);
  CLI11_PARSE(app, argc, argv);

  try {
    OrgDelivery org;
    org.org_id = org_id;
    org.short_name = short_name.empty() ? org_id : short_name;
    org.recipients = recipients;
    org.date = date;
    org.summary = summary;
    if (!key_file.empty()) org.pgp_public_key = slurp(key_file);
    for (const std::string& spec : report_specs) {
      std::vector<std::string> f;
      std::stringstream ss(spec);
      std::string part;
      while (std::getline(ss, part, ':')) f.push_back(part);
      if (f.size() < 3) throw std::runtime_error("bad --report " + spec);
      std::string url;
      for (size_t i = 3; i < f.size(); ++i) url += (i > 3 ? ":" : "") + f[i];
      org.reports.push_back(make_report(f[0], f[1], f[2], url, date));
    }
    if (!manifest.empty()) {
      std::ifstream in(manifest);
      std::string line;
      while (std::getline(in, line)) {
        std::vector<std::string> f;
        std::stringstream ss(line);
        std::string part;
        while (std::getline(ss, part, '\t')) f.push_back(part);
        if (f.size() < 3) continue;
        org.reports.push_back(make_report(f[0], f[1], f[2], f.size() > 3 ? f[3] : "", date));
      }
    }

    DelivererOptions opts;
    opts.from = from;
    opts.list_id = list_id;
    opts.mode = mode == "digest" ? MailMode::kDigest : MailMode::kPerReport;
    opts.attachment = attach == "plain" ? AttachmentFormat::kPlain : AttachmentFormat::kZip;
    opts.max_attachment_bytes = max_bytes;
    opts.max_attempts = max_attempts;
    opts.initial_backoff = std::chrono::milliseconds(backoff_ms);
    if (!sign_key_file.empty()) opts.pgp.sign_key_armored = slurp(sign_key_file);
    if (const char* tmp = std::getenv("TMPDIR"); tmp && *tmp) opts.pgp.temp_root = tmp;

    auto log = DeliveryLog::open(log_path);
    if (!log) throw std::runtime_error(log.error().message);
    auto transport = CurlSmtpTransport::create(
        {.url = smtp_url,
         .user = user,
         .password =
             std::getenv("VANTAGE_SMTP_PASSWORD") ? std::getenv("VANTAGE_SMTP_PASSWORD") : "",
         .starttls = starttls == "required" ? StartTls::kRequired : StartTls::kOpportunistic,
         .ca_file = ca_file});
    if (!transport) throw std::runtime_error(transport.error().message);
    Deliverer deliverer(opts, **transport, **log);

    const auto t0 = std::chrono::steady_clock::now();
    auto result = deliverer.deliver_reports(org);
    const double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (!result) throw std::runtime_error(result.error().message);
    if (bench) {
      const size_t n = result->count(kStatusDelivered);
      std::cout << "delivered " << n << " of " << result->mails.size() << " messages in " << secs
                << " s: " << static_cast<long>(static_cast<double>(n) / secs) << " messages/s\n";
    } else {
      for (const MailOutcome& m : result->mails) {
        std::cout << m.unit << '\t' << (m.recipient.empty() ? "-" : m.recipient) << '\t' << m.status
                  << '\t' << m.attempts << '\t' << m.smtp_code << '\t'
                  << (m.message_id.empty() ? "-" : m.message_id) << '\t' << m.reason << '\n';
      }
    }
  } catch (const std::exception& e) {
    std::cerr << "delivery_smtp_driver: " << e.what() << "\n";
    return 2;
  }
  return 0;
}

#include "delivery/deliverer.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <deque>
#include <filesystem>
#include <fstream>
#include <set>

#include "delivery/test_util.h"

namespace vantage::delivery {
namespace {

namespace fs = std::filesystem;

struct Sent {
  std::string from, rcpt, message;
};

// Replays scripted outcomes (then "delivered") and keeps every message it was handed.
class FakeTransport : public MailTransport {
 public:
  std::deque<SendOutcome> script;
  std::vector<Sent> sent;
  SendOutcome send(std::string_view from, std::string_view rcpt, std::string_view msg) override {
    sent.push_back({std::string(from), std::string(rcpt), std::string(msg)});
    if (script.empty()) return {SendStatus::kDelivered, 250, "250 2.0.0 Ok: queued"};
    SendOutcome o = script.front();
    script.pop_front();
    return o;
  }
};

std::string header(const std::string& message, const std::string& name) {
  const std::string msg = "\r\n" + message;  // the first header has no CRLF before it
  const std::string key = "\r\n" + name + ": ";
  const size_t at = msg.find(key);
  if (at == std::string::npos) return "";
  const size_t end = msg.find("\r\n", at + key.size());
  return msg.substr(at + key.size(), end - at - key.size());
}

// The base64 body of the attachment named `filename`, decoded.
std::string attachment(const std::string& msg, const std::string& filename) {
  const size_t at = msg.find("filename=\"" + filename + "\"\r\n\r\n");
  if (at == std::string::npos) return "";
  const size_t start = msg.find("\r\n\r\n", at) + 4;
  const size_t end = msg.find("\r\n--", start);
  return testing::base64_decode(msg.substr(start, end - start));
}

class DelivererTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("vantage-deliverer-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
    auto log = DeliveryLog::open((dir_ / "deliveries.sqlite").string());
    ASSERT_TRUE(log.ok());
    log_ = std::move(*log);
    options_.from = "vantage@reports.example.org";
    options_.initial_backoff = std::chrono::milliseconds(1000);
    options_.max_attempts = 3;
    options_.pgp.temp_root = dir_.string();
    clock_.now = [] { return UnixSeconds{1795419758}; };
    clock_.sleep = [this](std::chrono::milliseconds d) { sleeps_.push_back(d); };
  }
  void TearDown() override { fs::remove_all(dir_); }

  ReportFile report(const std::string& id, const std::string& type, const std::string& content) {
    ReportFile r;
    r.report_id = id;
    r.type = type;
    r.date = "2026-11-22";
    r.file_name = "2026-11-22-" + type + "-example_org-asn.csv";
    r.path = (dir_ / r.file_name).string();
    std::ofstream(r.path, std::ios::binary) << content;
    r.size = content.size();
    r.rows = 1;
    r.download_url = "https://vantage.example/dl/" + id;
    return r;
  }

  OrgDelivery org() {
    OrgDelivery o;
    o.org_id = "org-7";
    o.short_name = "example_org";
    o.recipients = {"cert@example.org", "noc@example.org"};
    o.date = "2026-11-22";
    o.summary = "2 reports: scan_smb 1 (high, new), scan_rdp 1 (medium, recurring)";
    return o;
  }

  std::vector<DeliveryRecord> rows() {
    auto r = log_->query({.org = "org-7", .day = "2026-11-22"});
    EXPECT_TRUE(r.ok());
    return r.ok() ? *r : std::vector<DeliveryRecord>{};
  }

  fs::path dir_;
  std::unique_ptr<DeliveryLog> log_;
  DelivererOptions options_;
  DelivererClock clock_;
  std::vector<std::chrono::milliseconds> sleeps_;
  FakeTransport transport_;
};

const std::string kCsv1 =
    "\"timestamp\",\"ip\",\"port\"\n\"2026-11-22 01:02:03\",\"192.0.2.1\",445\n";
const std::string kCsv2 =
    "\"timestamp\",\"ip\",\"port\"\n\"2026-11-22 04:05:06\",\"192.0.2.9\",3389\n";

TEST_F(DelivererTest, PerReportModeSendsOneZippedMailPerReportAndRecipient) {
  Deliverer d(options_, transport_, *log_, clock_);
  OrgDelivery o = org();
  o.reports = {report("r-1", "scan_smb", kCsv1), report("r-2", "scan_rdp", kCsv2)};
  auto res = d.deliver_reports(o);
  ASSERT_TRUE(res.ok());
  ASSERT_EQ(transport_.sent.size(), 4u);
  EXPECT_EQ(res->count(kStatusDelivered), 4u);
  std::set<std::string> ids;
  for (const Sent& s : transport_.sent) {
    EXPECT_EQ(s.from, "vantage@reports.example.org");
    EXPECT_EQ(header(s.message, "To"), s.rcpt);
    const std::string id = header(s.message, "Message-ID");
    EXPECT_TRUE(id.ends_with("@reports.example.org>"));
    ids.insert(id);
    EXPECT_EQ(header(s.message, "List-Id"), "<reports.vantage.example>");
    EXPECT_EQ(header(s.message, "Date"), "Mon, 23 Nov 2026 07:42:38 +0000");
    EXPECT_NE(s.message.find("\r\nAuto-Submitted: auto-generated\r\n"), std::string::npos);
    EXPECT_NE(s.message.find("2 reports: scan_smb 1 (high, new)"), std::string::npos);
  }
  EXPECT_EQ(ids.size(), 4u);
  const Sent& first = transport_.sent[0];
  EXPECT_EQ(first.rcpt, "cert@example.org");
  EXPECT_EQ(header(first.message, "Subject"),
            "[Vantage] example_org: scan_smb report for 2026-11-22");
  EXPECT_NE(first.message.find("Content-Type: application/octet-stream; "
                               "name=\"2026-11-22-scan_smb-example_org-asn.zip\""),
            std::string::npos);
  auto files =
      testing::read_zip(attachment(first.message, "2026-11-22-scan_smb-example_org-asn.zip"));
  ASSERT_EQ(files.size(), 1u);
  EXPECT_EQ(files["2026-11-22-scan_smb-example_org-asn.csv"], kCsv1);

  auto log = rows();
  ASSERT_EQ(log.size(), 4u);
  EXPECT_EQ(log[0].unit, "r-1");
  EXPECT_EQ(log[0].kind, "report");
  EXPECT_EQ(log[0].status, kStatusDelivered);
  EXPECT_EQ(log[0].attempt, 1);
  EXPECT_EQ(log[0].smtp_code, 250);
  EXPECT_EQ(log[0].message_id, header(first.message, "Message-ID"));
  EXPECT_FALSE(log[0].encrypted);
}

TEST_F(DelivererTest, DisplayNameStaysInTheHeaderNotTheEnvelope) {
  options_.from = "Vantage Reports <vantage@reports.example.org>";
  Deliverer d(options_, transport_, *log_, clock_);
  OrgDelivery o = org();
  o.recipients = {"cert@example.org"};
  o.reports = {report("r-1", "scan_smb", kCsv1)};
  ASSERT_TRUE(d.deliver_reports(o).ok());
  ASSERT_EQ(transport_.sent.size(), 1u);
  EXPECT_EQ(transport_.sent[0].from, "vantage@reports.example.org");
  EXPECT_EQ(header(transport_.sent[0].message, "From"),
            "Vantage Reports <vantage@reports.example.org>");
  EXPECT_TRUE(header(transport_.sent[0].message, "Message-ID").ends_with("@reports.example.org>"));
}

TEST_F(DelivererTest, DigestModeCarriesEveryReportInOneMail) {
  options_.mode = MailMode::kDigest;
  options_.attachment = AttachmentFormat::kPlain;
  Deliverer d(options_, transport_, *log_, clock_);
  OrgDelivery o = org();
  o.recipients = {"cert@example.org"};
  o.reports = {report("r-1", "scan_smb", kCsv1), report("r-2", "scan_rdp", kCsv2)};
  auto res = d.deliver_reports(o);
  ASSERT_TRUE(res.ok());
  ASSERT_EQ(transport_.sent.size(), 1u);
  const std::string& m = transport_.sent[0].message;
  EXPECT_EQ(header(m, "Subject"), "[Vantage] example_org: 2 reports for 2026-11-22");
  EXPECT_EQ(attachment(m, "2026-11-22-scan_smb-example_org-asn.csv"), kCsv1);
  EXPECT_EQ(attachment(m, "2026-11-22-scan_rdp-example_org-asn.csv"), kCsv2);
  EXPECT_NE(m.find("Content-Type: text/csv; charset=utf-8; name="), std::string::npos);
  auto log = rows();
  ASSERT_EQ(log.size(), 1u);
  EXPECT_EQ(log[0].unit, "digest-org_7-2026-11-22");
  EXPECT_EQ(log[0].kind, "digest");
  EXPECT_EQ(log[0].reports, "r-1,r-2");
}

// Reports stored as ranges of one day's pack (report.layout = "pack") are attached with
// exactly their range's bytes, and the size limit applies to the range, not the pack.
TEST_F(DelivererTest, PackRangesAreAttachedByteForByte) {
  options_.mode = MailMode::kDigest;
  options_.attachment = AttachmentFormat::kPlain;
  options_.max_attachment_bytes = 1000;
  Deliverer d(options_, transport_, *log_, clock_);
  OrgDelivery o = org();
  o.recipients = {"cert@example.org"};
  const std::string filler(2000, 'z');  // other reports' bytes: the pack exceeds the limit
  const std::string pack = (dir_ / "reports-0000000000000001.pack").string();
  std::ofstream(pack, std::ios::binary) << filler << kCsv1 << kCsv2 << filler;
  o.reports = {report("r-1", "scan_smb", ""), report("r-2", "scan_rdp", "")};
  o.reports[0].path = o.reports[1].path = pack;
  o.reports[0].pack_offset = static_cast<int64_t>(filler.size());
  o.reports[0].size = kCsv1.size();
  o.reports[1].pack_offset = static_cast<int64_t>(filler.size() + kCsv1.size());
  o.reports[1].size = kCsv2.size();
  auto res = d.deliver_reports(o);
  ASSERT_TRUE(res.ok());
  ASSERT_EQ(transport_.sent.size(), 1u);
  const std::string& m = transport_.sent[0].message;
  EXPECT_EQ(attachment(m, "2026-11-22-scan_smb-example_org-asn.csv"), kCsv1);
  EXPECT_EQ(attachment(m, "2026-11-22-scan_rdp-example_org-asn.csv"), kCsv2);
  // A range past the pack's end (a truncated pack) is not sent, and logged.
  transport_.sent.clear();
  o.reports[1].size = kCsv2.size() + 2 * filler.size();
  ASSERT_TRUE(d.deliver_reports(o).ok());
  EXPECT_TRUE(transport_.sent.empty());
  auto log = rows();
  ASSERT_EQ(log.size(), 2u);
  EXPECT_EQ(log[1].status, kStatusNotSent);
  EXPECT_NE(log[1].reason.find("fewer than the range"), std::string::npos) << log[1].reason;
}

TEST_F(DelivererTest, TooLargeReportIsLinkedNotAttached) {
  options_.max_attachment_bytes = 100;
  Deliverer d(options_, transport_, *log_, clock_);
  OrgDelivery o = org();
  o.recipients = {"cert@example.org"};
  o.reports = {report("r-big", "scan_smb", std::string(500, 'x'))};
  auto res = d.deliver_reports(o);
  ASSERT_TRUE(res.ok());
  ASSERT_EQ(transport_.sent.size(), 1u);
  const std::string& m = transport_.sent[0].message;
  EXPECT_EQ(m.find("filename="), std::string::npos);
  EXPECT_NE(m.find("too large to attach; download: https://vantage.example/dl/r-big"),
            std::string::npos);
  ASSERT_EQ(res->mails.size(), 1u);
  EXPECT_EQ(res->mails[0].linked_reports, std::vector<std::string>{"r-big"});
}

TEST_F(DelivererTest, TransientFailuresAreRetriedWithExponentialBackoff) {
  transport_.script = {{SendStatus::kTransient, 0, "Failed to connect: Connection refused"},
                       {SendStatus::kTransient, 421, "421 4.3.2 Service not available"}};
  Deliverer d(options_, transport_, *log_, clock_);
  OrgDelivery o = org();
  o.recipients = {"cert@example.org"};
  o.reports = {report("r-1", "scan_smb", kCsv1)};
  auto res = d.deliver_reports(o);
  ASSERT_TRUE(res.ok());
  EXPECT_EQ(transport_.sent.size(), 3u);
  EXPECT_EQ(sleeps_, (std::vector<std::chrono::milliseconds>{std::chrono::milliseconds(1000),
                                                             std::chrono::milliseconds(2000)}));
  auto log = rows();
  ASSERT_EQ(log.size(), 3u);
  EXPECT_EQ(log[0].status, kStatusRetrying);
  EXPECT_EQ(log[1].status, kStatusRetrying);
  EXPECT_EQ(log[1].smtp_code, 421);
  EXPECT_EQ(log[2].status, kStatusDelivered);
  EXPECT_EQ(log[2].attempt, 3);
  // Every attempt re-sends the same message (same Message-ID), so a late duplicate dedups.
  EXPECT_EQ(transport_.sent[0].message, transport_.sent[2].message);
}

TEST_F(DelivererTest, TransientFailuresGiveUpAfterMaxAttempts) {
  for (int i = 0; i < 5; ++i) transport_.script.push_back({SendStatus::kTransient, 0, "refused"});
  Deliverer d(options_, transport_, *log_, clock_);
  OrgDelivery o = org();
  o.recipients = {"cert@example.org"};
  o.reports = {report("r-1", "scan_smb", kCsv1)};
  auto res = d.deliver_reports(o);
  ASSERT_TRUE(res.ok());
  EXPECT_EQ(transport_.sent.size(), 3u);
  EXPECT_EQ(sleeps_.size(), 2u);
  ASSERT_EQ(res->mails.size(), 1u);
  EXPECT_EQ(res->mails[0].status, kStatusFailed);
  EXPECT_EQ(res->mails[0].attempts, 3);
  auto log = rows();
  ASSERT_EQ(log.size(), 3u);
  EXPECT_EQ(log[2].status, kStatusFailed);
  EXPECT_NE(log[2].reason.find("gave up after 3 attempts"), std::string::npos);
}

TEST_F(DelivererTest, PermanentFailureIsNotRetried) {
  transport_.script = {{SendStatus::kPermanent, 550, "550 5.1.1 Recipient address rejected"}};
  Deliverer d(options_, transport_, *log_, clock_);
  OrgDelivery o = org();
  o.reports = {report("r-1", "scan_smb", kCsv1)};
  auto res = d.deliver_reports(o);
  ASSERT_TRUE(res.ok());
  EXPECT_EQ(transport_.sent.size(), 2u);  // the second recipient is still tried
  EXPECT_TRUE(sleeps_.empty());
  auto log = rows();
  ASSERT_EQ(log.size(), 2u);
  EXPECT_EQ(log[0].status, kStatusFailed);
  EXPECT_EQ(log[0].smtp_code, 550);
  EXPECT_EQ(log[0].recipient, "cert@example.org");
  EXPECT_EQ(log[1].status, kStatusDelivered);
}

TEST_F(DelivererTest, NoRecipientsIsLogged) {
  Deliverer d(options_, transport_, *log_, clock_);
  OrgDelivery o = org();
  o.recipients.clear();
  o.reports = {report("r-1", "scan_smb", kCsv1)};
  auto res = d.deliver_reports(o);
  ASSERT_TRUE(res.ok());
  EXPECT_TRUE(transport_.sent.empty());
  auto log = rows();
  ASSERT_EQ(log.size(), 1u);
  EXPECT_EQ(log[0].status, kStatusNoRecipients);
  EXPECT_EQ(log[0].unit, "r-1");
}

TEST_F(DelivererTest, InvalidRecipientIsRefusedOthersServed) {
  Deliverer d(options_, transport_, *log_, clock_);
  OrgDelivery o = org();
  o.recipients = {"cert@example.org>\r\nRCPT TO:<x@evil.example", "noc@example.org"};
  o.reports = {report("r-1", "scan_smb", kCsv1)};
  auto res = d.deliver_reports(o);
  ASSERT_TRUE(res.ok());
  ASSERT_EQ(transport_.sent.size(), 1u);
  EXPECT_EQ(transport_.sent[0].rcpt, "noc@example.org");
  EXPECT_EQ(res->count(kStatusNotSent), 1u);
  auto log = rows();
  ASSERT_EQ(log.size(), 2u);
  EXPECT_EQ(log[0].status, kStatusNotSent);
  EXPECT_EQ(log[0].recipient.find_first_of("\r\n"), std::string::npos);
}

TEST_F(DelivererTest, MissingReportFileIsNotSentAndLogged) {
  Deliverer d(options_, transport_, *log_, clock_);
  OrgDelivery o = org();
  o.recipients = {"cert@example.org"};
  o.reports = {report("r-1", "scan_smb", kCsv1)};
  o.reports[0].path = (dir_ / "gone.csv").string();
  auto res = d.deliver_reports(o);
  ASSERT_TRUE(res.ok());
  EXPECT_TRUE(transport_.sent.empty());
  auto log = rows();
  ASSERT_EQ(log.size(), 1u);
  EXPECT_EQ(log[0].status, kStatusNotSent);
  EXPECT_NE(log[0].reason.find("gone.csv"), std::string::npos);
}

TEST_F(DelivererTest, NoReportsSendsNothing) {
  Deliverer d(options_, transport_, *log_, clock_);
  auto res = d.deliver_reports(org());
  ASSERT_TRUE(res.ok());
  EXPECT_TRUE(res->mails.empty());
  EXPECT_TRUE(rows().empty());
}

TEST_F(DelivererTest, BackoffIsCapped) {
  options_.initial_backoff = std::chrono::milliseconds(30'000);
  options_.max_backoff = std::chrono::milliseconds(100'000);
  Deliverer d(options_, transport_, *log_, clock_);
  EXPECT_EQ(d.backoff(1).count(), 30'000);
  EXPECT_EQ(d.backoff(2).count(), 60'000);
  EXPECT_EQ(d.backoff(3).count(), 100'000);
}

TEST(DelivererConfig, OptionsFollowTheSettings) {
  auto defaults = config::parse("", {});
  ASSERT_TRUE(defaults.ok());
  auto d = deliverer_options_from_config(*defaults);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->mode, MailMode::kPerReport);
  EXPECT_EQ(d->attachment, AttachmentFormat::kZip);
  EXPECT_EQ(d->list_id, "reports.vantage.example");
  EXPECT_EQ(d->max_attempts, 4);
  EXPECT_EQ(d->initial_backoff, std::chrono::milliseconds(30'000));
  EXPECT_TRUE(d->pgp.sign_key_armored.empty());

  auto c = config::parse(
      "[smtp]\nurl = \"smtps://mail.example.org\"\nuser = \"u\"\npassword = \"p\"\n"
      "mode = \"digest\"\nattachment = \"plain\"\nmax_attachment_bytes = 2048\n"
      "starttls = \"required\"\nlist_id = \"cert.example.org\"\nmax_attempts = 2\n"
      "retry_initial_s = 5\nca_file = \"/etc/ssl/ca.pem\"\n",
      {});
  ASSERT_TRUE(c.ok()) << c.error().message;
  auto o = deliverer_options_from_config(*c);
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->mode, MailMode::kDigest);
  EXPECT_EQ(o->attachment, AttachmentFormat::kPlain);
  EXPECT_EQ(o->max_attachment_bytes, 2048u);
  EXPECT_EQ(o->list_id, "cert.example.org");
  EXPECT_EQ(o->max_attempts, 2);
  EXPECT_EQ(o->initial_backoff, std::chrono::milliseconds(5'000));
  const SmtpOptions s = smtp_options_from_config(*c);
  EXPECT_EQ(s.url, "smtps://mail.example.org");
  EXPECT_EQ(s.user, "u");
  EXPECT_EQ(s.password, "p");
  EXPECT_EQ(s.starttls, StartTls::kRequired);
  EXPECT_EQ(s.ca_file, "/etc/ssl/ca.pem");

  auto bad = config::parse("[smtp]\nsign_key = \"/nonexistent/key.asc\"\n", {});
  ASSERT_TRUE(bad.ok());
  EXPECT_FALSE(deliverer_options_from_config(*bad).ok());
}

// --- PGP, with throwaway keys made by the gpg command line ---------------------------------

class DelivererPgpTest : public DelivererTest {
 protected:
  // Generates a key pair in a scratch GNUPGHOME and returns its armored public key. With
  // `expired`, the key is created in 2020 with a one-day lifetime.
  std::string make_public_key(const std::string& uid, bool expired) {
    const fs::path home = dir_ / ("gnupg-" + std::to_string(keys_++));
    fs::create_directories(home);
    fs::permissions(home, fs::perms::owner_all);
    const std::string g = "gpg --homedir " + home.string() +
                          " --batch --quiet --pinentry-mode loopback --passphrase ''" +
                          (expired ? " --faked-system-time 20200101T000000" : "");
    const std::string out = (home / "pub.asc").string();
    const std::string cmd =
        g + " --quick-gen-key '" + uid + "' ed25519 sign,cert 1d >/dev/null 2>&1 && " + "fpr=$(" +
        g + " --with-colons --list-keys 2>/dev/null | awk -F: '/^fpr/{print $10; exit}') && " + g +
        " --quick-add-key $fpr cv25519 encr 1d >/dev/null 2>&1 && " + g + " --armor --export '" +
        uid + "' > " + out + " 2>/dev/null; " + "gpgconf --homedir " + home.string() +
        " --kill all >/dev/null 2>&1";
    if (std::system(cmd.c_str()) != 0) return "";
    std::ifstream in(out);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  }
  int keys_ = 0;
};

TEST_F(DelivererPgpTest, EncryptsAsPgpMime) {
  if (std::system("command -v gpg >/dev/null 2>&1") != 0) GTEST_SKIP() << "gpg not installed";
  const std::string key = make_public_key("CERT <cert@example.org>", false);
  ASSERT_NE(key.find("BEGIN PGP PUBLIC KEY BLOCK"), std::string::npos);
  Deliverer d(options_, transport_, *log_, clock_);
  OrgDelivery o = org();
  o.recipients = {"cert@example.org"};
  o.pgp_public_key = key;
  o.reports = {report("r-1", "scan_smb", kCsv1)};
  auto res = d.deliver_reports(o);
  ASSERT_TRUE(res.ok());
  ASSERT_EQ(transport_.sent.size(), 1u) << (res->mails.empty() ? "" : res->mails[0].reason);
  const std::string& m = transport_.sent[0].message;
  EXPECT_NE(m.find("Content-Type: multipart/encrypted; protocol=\"application/pgp-encrypted\""),
            std::string::npos);
  EXPECT_NE(m.find("-----BEGIN PGP MESSAGE-----"), std::string::npos);
  EXPECT_EQ(m.find("scan_smb-example_org-asn.zip"), std::string::npos);  // nothing in clear
  EXPECT_EQ(m.find("2 reports: scan_smb"), std::string::npos);
  EXPECT_TRUE(res->mails[0].encrypted);
  EXPECT_TRUE(rows().at(0).encrypted);
  // The private GNUPGHOME is gone once the run is over.
  for (const auto& e : fs::directory_iterator(dir_)) {
    EXPECT_FALSE(e.path().filename().string().starts_with("vantage-gpg-")) << e.path();
  }
}

TEST_F(DelivererPgpTest, ExpiredKeyMeansNotSent) {
  if (std::system("command -v gpg >/dev/null 2>&1") != 0) GTEST_SKIP() << "gpg not installed";
  const std::string key = make_public_key("Old <old@example.org>", true);
  ASSERT_NE(key.find("BEGIN PGP PUBLIC KEY BLOCK"), std::string::npos);
  Deliverer d(options_, transport_, *log_, clock_);
  OrgDelivery o = org();
  o.pgp_public_key = key;
  o.reports = {report("r-1", "scan_smb", kCsv1)};
  auto res = d.deliver_reports(o);
  ASSERT_TRUE(res.ok());
  EXPECT_TRUE(transport_.sent.empty());
  auto log = rows();
  ASSERT_EQ(log.size(), 2u);  // one per recipient
  EXPECT_EQ(log[0].status, kStatusNotSent);
  EXPECT_NE(log[0].reason.find("expired"), std::string::npos) << log[0].reason;
  EXPECT_NE(log[0].reason.find("not sent in clear"), std::string::npos);
}

TEST_F(DelivererPgpTest, GarbageKeyMeansNotSent) {
  Deliverer d(options_, transport_, *log_, clock_);
  OrgDelivery o = org();
  o.recipients = {"cert@example.org"};
  o.pgp_public_key =
      "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nnot a key\n-----END PGP PUBLIC KEY BLOCK-----\n";
  o.reports = {report("r-1", "scan_smb", kCsv1)};
  auto res = d.deliver_reports(o);
  ASSERT_TRUE(res.ok());
  EXPECT_TRUE(transport_.sent.empty());
  auto log = rows();
  ASSERT_EQ(log.size(), 1u);
  EXPECT_EQ(log[0].status, kStatusNotSent);
  EXPECT_NE(log[0].reason.find("pgp:"), std::string::npos) << log[0].reason;
}

}  // namespace
}  // namespace vantage::delivery

#include "delivery/mime.h"

#include <gtest/gtest.h>

#include <set>

#include "delivery/test_util.h"

namespace vantage::delivery {
namespace {

// True when every line break is CRLF (SMTP and RFC 3156 canonical form).
bool only_crlf(std::string_view s) {
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\n' && (i == 0 || s[i - 1] != '\r')) return false;
    if (s[i] == '\r' && (i + 1 == s.size() || s[i + 1] != '\n')) return false;
  }
  return true;
}

TEST(Mime, Rfc5322Date) {
  EXPECT_EQ(rfc5322_date(0), "Thu, 01 Jan 1970 00:00:00 +0000");
  EXPECT_EQ(rfc5322_date(1795419758), "Mon, 23 Nov 2026 07:42:38 +0000");
  EXPECT_EQ(rfc5322_date(951782400), "Tue, 29 Feb 2000 00:00:00 +0000");
}

TEST(Mime, MessageIdsAreUniqueAndAtTheSenderDomain) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    const std::string id = make_message_id("reports.example.org");
    EXPECT_TRUE(id.starts_with("<"));
    EXPECT_TRUE(id.ends_with("@reports.example.org>"));
    EXPECT_TRUE(seen.insert(id).second) << id;
  }
}

TEST(Mime, DomainOf) {
  EXPECT_EQ(domain_of("vantage@reports.example.org"), "reports.example.org");
  EXPECT_EQ(domain_of("Vantage <vantage@example.net>"), "example.net");
  EXPECT_EQ(domain_of("nobody"), "localhost");
}

TEST(Mime, HeaderTextCannotInjectHeaders) {
  EXPECT_EQ(header_text("scan_smb\r\nBcc: victim@example.org"), "scan_smbBcc: victim@example.org");
  const std::string enc = header_text("Stadtwerke M\xc3\xbcnchen");
  EXPECT_EQ(enc, "=?UTF-8?B?U3RhZHR3ZXJrZSBNw7xuY2hlbg==?=");
}

TEST(Mime, LongUtf8HeaderSplitsAtCharacterBoundaries) {
  std::string s;
  for (int i = 0; i < 40; ++i) s += "\xc3\xa9";  // 80 bytes of 'é'
  const std::string enc = header_text(s);
  std::string decoded;
  size_t pos = 0;
  while ((pos = enc.find("=?UTF-8?B?", pos)) != std::string::npos) {
    const size_t end = enc.find("?=", pos + 10);
    ASSERT_NE(end, std::string::npos);
    EXPECT_LE(end + 2 - pos, 75u);
    const std::string chunk = testing::base64_decode(enc.substr(pos + 10, end - pos - 10));
    EXPECT_NE(static_cast<unsigned char>(chunk[0]) & 0xC0, 0x80);  // starts a character
    decoded += chunk;
    pos = end;
  }
  EXPECT_EQ(decoded, s);
}

TEST(Mime, Base64LinesAndRoundTrip) {
  std::string data;
  for (int i = 0; i < 1000; ++i) data.push_back(static_cast<char>(i * 7));
  const std::string enc = base64_mime(data);
  EXPECT_TRUE(only_crlf(enc));
  size_t start = 0;
  while (start < enc.size()) {
    const size_t end = enc.find("\r\n", start);
    EXPECT_LE(end - start, 76u);
    start = end + 2;
  }
  EXPECT_EQ(testing::base64_decode(enc), data);
  EXPECT_EQ(base64_mime("ab"), "YWI=\r\n");
  EXPECT_EQ(base64_mime(""), "");
}

TEST(Mime, QuotedPrintable) {
  EXPECT_EQ(quoted_printable("a=b\n"), "a=3Db\r\n");
  EXPECT_EQ(quoted_printable("caf\xc3\xa9\n"), "caf=C3=A9\r\n");
  EXPECT_EQ(quoted_printable("trailing \nx"), "trailing=20\r\nx\r\n");
  const std::string long_line(200, 'a');
  const std::string enc = quoted_printable(long_line);
  EXPECT_TRUE(only_crlf(enc));
  size_t start = 0;
  std::string joined;
  while (start < enc.size()) {
    const size_t end = enc.find("\r\n", start);
    EXPECT_LE(end - start, 76u);
    std::string line = enc.substr(start, end - start);
    if (!line.empty() && line.back() == '=') line.pop_back();
    joined += line;
    start = end + 2;
  }
  EXPECT_EQ(joined, long_line);
}

TEST(Mime, TextOnlyEntity) {
  const std::string e = build_content_entity("3 events\nall new\n", {});
  EXPECT_EQ(e,
            "Content-Type: text/plain; charset=utf-8\r\n"
            "Content-Transfer-Encoding: 7bit\r\n\r\n"
            "3 events\r\nall new\r\n");
}

TEST(Mime, MultipartEntityWithAttachments) {
  const std::string zip_bytes("PK\x03\x04\x00\xff", 6);
  const std::string e = build_content_entity(
      "summary\n", {{"2026-11-22-scan_smb-x-asn.zip", "application/octet-stream", zip_bytes},
                    {"r.csv", "text/csv; charset=utf-8", "a,b\n"}});
  EXPECT_TRUE(only_crlf(e));
  const size_t b = e.find("boundary=\"");
  ASSERT_NE(b, std::string::npos);
  const std::string boundary = e.substr(b + 10, e.find('"', b + 10) - b - 10);
  size_t parts = 0;
  for (size_t pos = 0; (pos = e.find("\r\n--" + boundary + "\r\n", pos)) != std::string::npos;
       ++pos) {
    ++parts;
  }
  EXPECT_EQ(parts, 3u);  // text + 2 attachments
  EXPECT_NE(e.find("\r\n--" + boundary + "--\r\n"), std::string::npos);
  EXPECT_NE(
      e.find("Content-Type: application/octet-stream; name=\"2026-11-22-scan_smb-x-asn.zip\""),
      std::string::npos);
  EXPECT_NE(e.find("Content-Disposition: attachment; filename=\"r.csv\""), std::string::npos);
  EXPECT_NE(e.find(base64_mime(zip_bytes)), std::string::npos);
  EXPECT_NE(e.find("\r\n\r\nsummary\r\n"), std::string::npos);
}

TEST(Mime, PgpMimeEntityFollowsRfc3156) {
  const std::string armored =
      "-----BEGIN PGP MESSAGE-----\n\nhF4DAbc\n=abcd\n-----END PGP MESSAGE-----\n";
  const std::string e = build_pgp_mime_entity(armored);
  EXPECT_TRUE(only_crlf(e));
  EXPECT_TRUE(
      e.starts_with("Content-Type: multipart/encrypted; protocol=\"application/pgp-encrypted\";"));
  const size_t version = e.find("Content-Type: application/pgp-encrypted\r\n");
  const size_t payload = e.find("Content-Type: application/octet-stream");
  ASSERT_NE(version, std::string::npos);
  ASSERT_NE(payload, std::string::npos);
  EXPECT_LT(version, payload);  // the version part comes first
  EXPECT_NE(e.find("Version: 1\r\n"), std::string::npos);
  EXPECT_NE(e.find("-----BEGIN PGP MESSAGE-----\r\n\r\nhF4DAbc\r\n"), std::string::npos);
}

TEST(Mime, MessageHeaders) {
  MessageHeaders h;
  h.from = "vantage@reports.example.org";
  h.to = {"cert@example.org", "noc@example.org"};
  h.subject = "[Vantage] example_org: scan_smb report for 2026-11-22";
  h.date = 1795419758;
  h.message_id = "<x.1@reports.example.org>";
  h.list_id = "reports.vantage.example";
  const std::string m = build_message(h, build_content_entity("hi\n", {}));
  EXPECT_TRUE(only_crlf(m));
  EXPECT_TRUE(m.starts_with(
      "From: vantage@reports.example.org\r\nTo: cert@example.org,\r\n noc@example.org\r\n"));
  EXPECT_NE(m.find("\r\nSubject: [Vantage] example_org: scan_smb report for 2026-11-22\r\n"),
            std::string::npos);
  EXPECT_NE(m.find("\r\nDate: Mon, 23 Nov 2026 07:42:38 +0000\r\n"), std::string::npos);
  EXPECT_NE(m.find("\r\nMessage-ID: <x.1@reports.example.org>\r\n"), std::string::npos);
  EXPECT_NE(m.find("\r\nList-Id: <reports.vantage.example>\r\n"), std::string::npos);
  EXPECT_NE(m.find("\r\nAuto-Submitted: auto-generated\r\n"), std::string::npos);
  EXPECT_NE(m.find("\r\nMIME-Version: 1.0\r\nContent-Type: text/plain"), std::string::npos);
  // The header block ends at the first empty line, right before the body.
  EXPECT_EQ(m.substr(m.find("\r\n\r\n") + 4), "hi\r\n");
}

TEST(Mime, LongHeadersAreFolded) {
  MessageHeaders h;
  h.from = "vantage@example.org";
  h.to = {"cert@example.org"};
  std::string ids;
  for (int i = 0; i < 300; ++i) ids += (i ? "," : "") + std::string("r-") + std::to_string(i);
  h.subject =
      "[Vantage] a_rather_long_organisation_name_for_testing: 300 reports for 2026-11-22 and more "
      "words";
  h.extra = {{"X-Vantage-Report-Ids", ids}};
  const std::string m = build_message(h, build_content_entity("x\n", {}));
  const std::string head = m.substr(0, m.find("\r\n\r\n") + 2);
  size_t start = 0;
  while (start < head.size()) {
    const size_t end = head.find("\r\n", start);
    EXPECT_LE(end - start, 78u) << head.substr(start, end - start);
    start = end + 2;
  }
  // Unfolding (dropping CRLF) gives the subject back; the id list gains only the spaces that
  // start its continuation lines.
  auto unfold = [&](const std::string& name) {
    const size_t at = head.find(name + ": ") + name.size() + 2;
    size_t end = at;
    while (!(head[end] == '\r' && head[end + 2] != ' ')) ++end;
    std::string v = head.substr(at, end - at);
    std::string out;
    for (size_t i = 0; i < v.size(); ++i) {
      if (v[i] == '\r' && v[i + 1] == '\n') {
        ++i;
        continue;
      }
      out += v[i];
    }
    return out;
  };
  EXPECT_EQ(unfold("Subject"), h.subject);
  std::string ids_back = unfold("X-Vantage-Report-Ids");
  std::erase(ids_back, ' ');
  EXPECT_EQ(ids_back, ids);
}

}  // namespace
}  // namespace vantage::delivery

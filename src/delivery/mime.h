#pragma once
// RFC 5322 / RFC 2045-2049 message building for report mails, plus the PGP/MIME envelope
// of RFC 3156. Everything produced here uses CRLF line ends and 7-bit-safe bodies (base64
// or quoted-printable), so that a message survives any relay byte for byte and an encrypted
// entity is already in the canonical form RFC 3156 §3 requires before it is encrypted.
//
// Header values that come from data (organisation names, subjects, file names) are stripped
// of CR/LF so that they can never inject a header. Pure functions; thread-safe.

#include <string>
#include <string_view>
#include <vector>

#include "common/time.h"

namespace vantage::delivery {

struct MimeAttachment {
  std::string filename;      // shown to the recipient; Content-Disposition filename
  std::string content_type;  // e.g. "application/octet-stream" or "text/csv; charset=utf-8"
  std::string data;          // raw bytes; always sent base64 so they arrive unchanged
};

// "Mon, 23 Nov 2026 07:42:38 +0000" (RFC 5322 §3.3; Vantage is UTC-only).
std::string rfc5322_date(UnixSeconds t);

// "<20261123074238.9f2c...@domain>": a timestamp, 128 random bits and a process-wide
// counter, so ids stay unique across processes and within one second.
std::string make_message_id(std::string_view domain);

// The part after '@' of "name@domain" or "Name <name@domain>"; "localhost" when absent.
std::string domain_of(std::string_view address);

// A header value with CR/LF removed and, when it holds non-ASCII bytes, encoded as RFC 2047
// UTF-8 base64 encoded-words.
std::string header_text(std::string_view value);

// Base64 (RFC 2045 §6.8) in lines of 76 characters, each ending in CRLF.
std::string base64_mime(std::string_view data);
// Quoted-printable (RFC 2045 §6.7) of text whose line ends are LF or CRLF; output lines end
// in CRLF and never exceed 76 characters.
std::string quoted_printable(std::string_view text);

// A fresh multipart boundary that cannot occur inside base64 or quoted-printable content.
std::string make_boundary();

// The MIME entity carrying the report content: its Content-* header lines, a blank line and
// the body. With no attachments it is a single text/plain part; otherwise multipart/mixed
// with the text first. This is what gets encrypted for PGP/MIME.
std::string build_content_entity(std::string_view body_text,
                                 const std::vector<MimeAttachment>& attachments);

// The RFC 3156 §4 multipart/encrypted entity around an ASCII-armored OpenPGP message.
std::string build_pgp_mime_entity(std::string_view armored);

struct MessageHeaders {
  std::string from;             // "vantage@example.org" or "Name <addr>"
  std::vector<std::string> to;  // one or more addresses
  std::string subject;          // UTF-8, encoded as needed
  UnixSeconds date = 0;
  std::string message_id;  // with angle brackets
  std::string list_id;     // "reports.vantage.example" (brackets added); empty: none
  std::vector<std::pair<std::string, std::string>> extra;  // further headers, in order
};

// A complete message: the top-level headers (From, To, Subject, Date, Message-ID, List-Id,
// MIME-Version, Auto-Submitted) followed by `entity` (from build_content_entity or
// build_pgp_mime_entity).
std::string build_message(const MessageHeaders& headers, std::string_view entity);

}  // namespace vantage::delivery

// RDP (scan_rdp): the X.224 Connection Request with an RDP Negotiation Request
// ([MS-RDPBCGR] 2.2.1.1), offering TLS, CredSSP (NLA) and CredSSP with early user
// authorisation; the Connection Confirm says which the server selected (2.2.1.2.1) or why it
// refused (2.2.1.2.2). When the selected protocol runs over TLS, the TLS handshake follows
// in-band (ssl/ssl.h) for the certificate columns; we stop there, before CredSSP, so no NTLM
// message (and no credential) is ever sent.
//
// rdp_protocol: the selected protocol as [MS-RDPBCGR] names it without "PROTOCOL_" (RDP,
// SSL, HYBRID, RDSTLS, HYBRID_EX), or the failure code's name (SSL_NOT_ALLOWED_BY_SERVER
// means the server speaks only standard RDP security: "RDP").
#include <string>

#include "sensors/scanner/probes/exchange_module.h"
#include "sensors/scanner/probes/ssl/ssl.h"
#include "sensors/scanner/probes/wire.h"

namespace vantage::scanner {
namespace {

using namespace std::string_literals;

// TPKT (RFC 1006) + X.224 CR TPDU (class 0) + RDP_NEG_REQ requesting SSL|HYBRID|HYBRID_EX.
const std::string kConnectionRequest =
    "\x03\x00\x00\x13"s                   // TPKT version 3, length 19
    "\x0e\xe0\x00\x00\x00\x00\x00"s       // LI 14, CR, dst-ref, src-ref, class 0
    "\x01\x00\x08\x00\x0b\x00\x00\x00"s;  // TYPE_RDP_NEG_REQ, flags, length 8, protocols 0x0b
constexpr size_t kMaxTpkt = 512;

std::string protocol_name(uint32_t p) {
  switch (p) {
    case 0: return "RDP";
    case 1: return "SSL";
    case 2: return "HYBRID";
    case 4: return "RDSTLS";
    case 8: return "HYBRID_EX";
    default: return "protocol " + std::to_string(p);
  }
}

std::string failure_name(uint32_t code) {
  switch (code) {
    case 1: return "SSL_REQUIRED_BY_SERVER";
    case 2: return "RDP";  // SSL_NOT_ALLOWED_BY_SERVER: standard RDP security only
    case 3: return "SSL_CERT_NOT_ON_SERVER";
    case 4: return "INCONSISTENT_FLAGS";
    case 5: return "HYBRID_REQUIRED_BY_SERVER";
    case 6: return "SSL_WITH_USER_AUTH_REQUIRED_BY_SERVER";
    default: return "failure " + std::to_string(code);
  }
}

struct Confirm {
  std::string protocol;
  bool tls = false;  // the selected protocol starts with a TLS handshake
};

// The Connection Confirm TPKT at the front of `b` (whole).
Result<Confirm> parse_confirm(std::string_view b) {
  if (b.size() < 11 || b[0] != '\x03' || b[1] != '\x00') return Error::invalid("no TPKT header");
  const size_t len = wire::be16(b, 2);
  if (len < 11 || len > b.size()) return Error::invalid("bad TPKT length");
  const size_t li = wire::byte(b, 4);
  if ((wire::byte(b, 5) & 0xf0) != 0xd0 || li + 5 > len)
    return Error::invalid("no X.224 Connection Confirm");
  Confirm c;
  c.protocol = "RDP";  // no negotiation response: a server older than RDP 5.2
  if (li >= 14 && len >= 19) {
    const unsigned type = wire::byte(b, 11);
    const uint32_t value = wire::le32(b, 15);
    if (type == 2) {
      c.protocol = protocol_name(value);
      c.tls = value == 1 || value == 2 || value == 4 || value == 8;
    } else if (type == 3) {
      c.protocol = failure_name(value);
    } else {
      return Error::invalid("unknown RDP negotiation message type");
    }
  }
  return c;
}

class RdpExchange : public Exchange {
 public:
  std::string start() override { return kConnectionRequest; }

  std::string feed(std::string_view chunk, bool* done) override {
    if (tls_) return tls_->feed(chunk, done);
    buf_.append(chunk.substr(0, kMaxTpkt - std::min(buf_.size(), kMaxTpkt)));
    if (buf_.size() < 4) return {};
    const size_t len = wire::be16(buf_, 2);
    if (buf_[0] != '\x03' || len < 4 || len > kMaxTpkt) {
      *done = true;
      return {};
    }
    if (buf_.size() < len) return {};
    confirm_ = parse_confirm(std::string_view(buf_).substr(0, len));
    if (!*confirm_ || !(*confirm_)->tls) {
      *done = true;
      return {};
    }
    tls_ = std::make_unique<TlsExchange>(std::string());
    return tls_->start();
  }

  Result<nlohmann::json> result() override {
    if (!confirm_) return Error::invalid("no X.224 Connection Confirm");
    if (!*confirm_) return confirm_->error();
    nlohmann::json f = nlohmann::json::object();
    f["rdp_protocol"] = (*confirm_)->protocol;
    add_tls_columns(f, tls_.get());
    return f;
  }

 private:
  std::string buf_;
  std::optional<Result<Confirm>> confirm_;
  std::unique_ptr<TlsExchange> tls_;
};

}  // namespace

ProbeModule rdp_module() {
  return exchange_module<RdpExchange>(
      "rdp", "scan_rdp", 3389,
      {"rdp_protocol", "handshake", "cert_length", "subject_common_name", "issuer_common_name",
       "cert_issue_date", "cert_expiration_date", "sha1_fingerprint", "cert_serial_number",
       "ssl_version", "signature_algorithm", "key_algorithm", "sha256_fingerprint",
       "sha512_fingerprint", "md5_fingerprint", "tlsv13_support", "tlsv13_cipher"});
}

}  // namespace vantage::scanner

// SMB (scan_smb): dialect negotiation only, as an exchange ([MS-SMB2] 3.3.5.3.1, the
// multi-protocol negotiate):
//   1. An SMB1 NEGOTIATE offering "NT LM 0.12", "SMB 2.002" and "SMB 2.???". An SMB1-only
//      server answers in SMB1 (dialect NT LM 0.12: SMB 1.0); an SMB2 server answers with an
//      SMB2 NEGOTIATE response naming 0x0202 or the wildcard 0x02FF.
//   2. After 0x02FF: an SMB2 NEGOTIATE offering 2.0.2, 2.1, 3.0, 3.0.2 and 3.1.1 (with the
//      pre-authentication integrity context 3.1.1 requires); its answer is the dialect.
// No SESSION_SETUP: nothing about users, shares or implants is asked. The version columns
// follow ZGrab2's smb module (major, minor, revision, "SMB 3.1.1"). The signing mode the
// server announced is read but the catalogue has no column for it.
#include <string>

#include "sensors/scanner/probes/exchange_module.h"
#include "sensors/scanner/probes/wire.h"

namespace vantage::scanner {
namespace {

using namespace std::string_literals;
constexpr size_t kMaxMessage = 8192;

std::string netbios(const std::string& smb) {
  std::string out = "\x00"s;
  out += static_cast<char>((smb.size() >> 16) & 0xff);
  wire::put_be16(out, static_cast<uint32_t>(smb.size() & 0xffff));
  return out + smb;
}

std::string smb1_negotiate() {
  std::string h = "\xffSMB\x72"s + std::string(4, '\0');  // protocol, NEGOTIATE, status
  h += "\x18"s;                                           // flags: canonical paths, caseless
  wire::put_le16(h, 0xc853);   // flags2: unicode, NT status, extended security, long names
  h += std::string(12, '\0');  // PID high, security features, reserved
  wire::put_le16(h, 0);        // TID
  wire::put_le16(h, 0xfeff);   // PID
  wire::put_le16(h, 0);        // UID
  wire::put_le16(h, 0);        // MID
  std::string dialects;
  for (const char* d : {"NT LM 0.12", "SMB 2.002", "SMB 2.???"}) dialects += "\x02"s + d + '\0';
  h += '\0';  // word count
  wire::put_le16(h, static_cast<uint32_t>(dialects.size()));
  return netbios(h + dialects);
}

std::string smb2_negotiate() {
  std::string h = "\xfeSMB"s;
  wire::put_le16(h, 64);  // structure size
  wire::put_le16(h, 0);   // credit charge
  wire::put_le32(h, 0);   // status
  wire::put_le16(h, 0);   // NEGOTIATE
  wire::put_le16(h, 1);   // credits requested
  wire::put_le32(h, 0);   // flags
  wire::put_le32(h, 0);   // next command
  wire::put_le32(h, 1);   // message id 1 (the SMB1 negotiate was 0)
  wire::put_le32(h, 0);
  h += std::string(4 + 4 + 8 + 16, '\0');  // reserved, tree id, session id, signature
  const uint16_t dialects[] = {0x0202, 0x0210, 0x0300, 0x0302, 0x0311};
  std::string b;
  wire::put_le16(b, 36);
  wire::put_le16(b, 5);
  wire::put_le16(b, 1);  // security mode: signing enabled
  wire::put_le16(b, 0);
  wire::put_le32(b, 0x7f);                       // capabilities
  b += "VantageScanner!!";                       // client GUID (16 bytes)
  const uint32_t ctx_offset = 64 + 36 + 10 + 2;  // after the dialects, 8-aligned
  wire::put_le32(b, ctx_offset);
  wire::put_le16(b, 2);  // two negotiate contexts
  wire::put_le16(b, 0);
  for (auto d : dialects) wire::put_le16(b, d);
  b += std::string(2, '\0');
  // SMB2_PREAUTH_INTEGRITY_CAPABILITIES: SHA-512, 32-byte salt.
  wire::put_le16(b, 1);
  wire::put_le16(b, 38);
  wire::put_le32(b, 0);
  wire::put_le16(b, 1);
  wire::put_le16(b, 32);
  wire::put_le16(b, 1);
  b += std::string(32, '\x5a');
  b += std::string(2, '\0');  // pad to 8
  // SMB2_ENCRYPTION_CAPABILITIES: AES-128-GCM, AES-128-CCM.
  wire::put_le16(b, 2);
  wire::put_le16(b, 6);
  wire::put_le32(b, 0);
  wire::put_le16(b, 2);
  wire::put_le16(b, 2);
  wire::put_le16(b, 1);
  return netbios(h + b);
}

struct Dialect {
  int major, minor, revision;
  const char* text;
};

std::optional<Dialect> dialect_of(uint16_t d) {
  switch (d) {
    case 0x0202: return Dialect{2, 0, 2, "SMB 2.0.2"};
    case 0x0210: return Dialect{2, 1, 0, "SMB 2.1"};
    case 0x0300: return Dialect{3, 0, 0, "SMB 3.0"};
    case 0x0302: return Dialect{3, 0, 2, "SMB 3.0.2"};
    case 0x0311: return Dialect{3, 1, 1, "SMB 3.1.1"};
    default: return std::nullopt;
  }
}

// One NetBIOS-framed message at the front of `b`: its SMB bytes, or nullopt while incomplete.
std::optional<std::string_view> message(std::string_view b) {
  if (b.size() < 4) return std::nullopt;
  const size_t len = (size_t{wire::byte(b, 1)} << 16) | wire::be16(b, 2);
  if (b.size() < 4 + len) return std::nullopt;
  return b.substr(4, len);
}

class SmbExchange : public Exchange {
 public:
  std::string start() override { return smb1_negotiate(); }

  std::string feed(std::string_view chunk, bool* done) override {
    buf_.append(chunk.substr(0, kMaxMessage - std::min(buf_.size(), kMaxMessage)));
    std::string out;
    while (!*done) {
      if (buf_.size() >= 4 && (buf_[0] != '\0' || ((size_t{wire::byte(buf_, 1)} << 16) |
                                                   wire::be16(buf_, 2)) > kMaxMessage - 4)) {
        *done = true;  // not a NetBIOS session message of a sane size
        break;
      }
      auto msg = message(buf_);
      if (!msg) break;
      const std::string smb(*msg);
      buf_.erase(0, 4 + smb.size());
      read(smb);
      if (wildcard_ && !second_sent_) {
        second_sent_ = true;
        out += smb2_negotiate();
        continue;
      }
      *done = true;
    }
    return out;
  }

  Result<nlohmann::json> result() override {
    if (!dialect_) return Error::invalid(error_.empty() ? "no SMB negotiate response" : error_);
    nlohmann::json f = nlohmann::json::object();
    f["smb_major_number"] = std::to_string(dialect_->major);
    f["smb_minor_number"] = std::to_string(dialect_->minor);
    f["smb_revision"] = std::to_string(dialect_->revision);
    f["smb_version_string"] = dialect_->text;
    return f;
  }

  // One SMB message (without its NetBIOS header).
  void read(std::string_view m) {
    if (m.size() >= 37 && m.substr(0, 4) == "\xffSMB"s && wire::byte(m, 4) == 0x72) {
      // SMB1 NEGOTIATE response: word count 17, dialect index 0 = "NT LM 0.12".
      if (wire::le32(m, 5) != 0 || wire::byte(m, 32) < 1) {
        error_ = "SMB1 negotiate refused";
        return;
      }
      const uint16_t index = wire::le16(m, 33);
      if (index == 0)
        dialect_ = Dialect{1, 0, 0, "SMB 1.0"};
      else
        error_ = "SMB1 answer for an SMB2 dialect";
      return;
    }
    if (m.size() >= 64 + 6 && m.substr(0, 4) == "\xfeSMB"s && wire::le16(m, 12) == 0) {
      if (wire::le32(m, 8) != 0) {
        error_ = "SMB2 negotiate refused";
        return;
      }
      const uint16_t d = wire::le16(m, 64 + 4);
      if (d == 0x02ff) {
        wildcard_ = true;
        return;
      }
      if (auto known = dialect_of(d))
        dialect_ = known;
      else
        error_ = "unknown SMB2 dialect";
      return;
    }
    error_ = "not an SMB negotiate response";
  }

 private:
  std::string buf_, error_;
  std::optional<Dialect> dialect_;
  bool wildcard_ = false, second_sent_ = false;
};

}  // namespace

ProbeModule smb_module() {
  return exchange_module<SmbExchange>(
      "smb", "scan_smb", 445,
      {"smb_major_number", "smb_minor_number", "smb_revision", "smb_version_string"});
}

}  // namespace vantage::scanner

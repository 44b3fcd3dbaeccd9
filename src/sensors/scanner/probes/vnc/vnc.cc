// VNC (scan_vnc): the RFB handshake up to the security types (RFC 6143 sections 7.1.1-7.1.2).
// The server speaks first ("RFB 003.008\n"); we answer with the highest version we both know
// (3.8, 3.7 or 3.3) and read what it offers: a list of security types (3.7+) or the one type
// it chose (3.3). We never pick a type, so no authentication is attempted.
//
// banner: the version line, then "security types: ..." (the catalogue has no column of its
// own for them, and "None" there is what makes an exposed VNC server critical).
// product: what the version alone proves (003.889 is Apple Remote Desktop; 004.x and 005.x
// are RealVNC's own numbers); otherwise "VNC".
#include <cstdio>
#include <string>

#include "sensors/scanner/probes/probe.h"
#include "sensors/scanner/probes/text_util.h"
#include "sensors/scanner/probes/wire.h"

namespace vantage::scanner {
namespace {

constexpr size_t kVersionLen = 12;  // "RFB xxx.yyy\n"

bool version_line(std::string_view b, int* major, int* minor) {
  if (b.size() < kVersionLen || b.substr(0, 4) != "RFB " || b[7] != '.' || b[11] != '\n')
    return false;
  for (size_t i : {4u, 5u, 6u, 8u, 9u, 10u})
    if (b[i] < '0' || b[i] > '9') return false;
  *major = (b[4] - '0') * 100 + (b[5] - '0') * 10 + (b[6] - '0');
  *minor = (b[8] - '0') * 100 + (b[9] - '0') * 10 + (b[10] - '0');
  return true;
}

// The version we answer with (RFC 6143 section 7.1.1: unknown minor versions of 3 are 3.3;
// Apple's 3.889 and RealVNC's 4.x/5.x accept 3.8).
int client_minor(int major, int minor) {
  if (major > 3) return 8;
  if (minor == 889) return 8;
  if (minor >= 8) return 8;
  if (minor == 7) return 7;
  return 3;
}

std::string security_type_name(unsigned t) {
  switch (t) {
    case 0: return "Invalid";
    case 1: return "None";
    case 2: return "VNC Authentication";
    case 5: return "RA2";
    case 6: return "RA2ne";
    case 16: return "Tight";
    case 17: return "Ultra";
    case 18: return "TLS";
    case 19: return "VeNCrypt";
    case 20: return "GTK-VNC SASL";
    case 21: return "MD5 hash";
    case 22: return "Colin Dean xvp";
    case 30: return "Apple Remote Desktop";
    default: return "type " + std::to_string(t);
  }
}

std::string product_for(int major, int minor) {
  if (major == 3 && minor == 889) return "Apple Remote Desktop";
  if (major == 4 || major == 5) return "RealVNC";
  return "VNC";
}

class VncExchange : public Exchange {
 public:
  std::string start() override { return {}; }

  std::string feed(std::string_view chunk, bool* done) override {
    buf_.append(chunk.substr(0, 4096 - std::min<size_t>(buf_.size(), 4096)));
    if (!sent_) {
      if (buf_.size() < kVersionLen) return {};
      int major = 0, minor = 0;
      if (!version_line(buf_, &major, &minor)) {
        *done = true;
        return {};
      }
      sent_ = true;
      minor_ = client_minor(major, minor);
      char reply[16];
      std::snprintf(reply, sizeof reply, "RFB 003.%03d\n", minor_);
      return reply;
    }
    if (security_complete()) *done = true;
    return {};
  }

  Result<nlohmann::json> result() override { return parse_vnc(buf_, minor_); }

  // The server's side as one string: version line, then the security message.
  static Result<nlohmann::json> parse_vnc(std::string_view b, int client_minor_sent) {
    int major = 0, minor = 0;
    if (!version_line(b, &major, &minor)) return Error::invalid("no RFB version line");
    nlohmann::json f = nlohmann::json::object();
    std::string banner = printable(b.substr(0, kVersionLen - 1));
    f["product"] = product_for(major, minor);
    const int cm = client_minor_sent ? client_minor_sent : client_minor(major, minor);
    std::string_view sec = b.substr(kVersionLen);
    std::string types;
    if (cm >= 7 && !sec.empty()) {
      const size_t n = static_cast<unsigned char>(sec[0]);
      for (size_t i = 0; i < n && 1 + i < sec.size(); ++i)
        types += (types.empty() ? "" : ", ") +
                 security_type_name(static_cast<unsigned char>(sec[1 + i]));
      if (n == 0) types = "none offered (connection refused)";
    } else if (cm == 3 && sec.size() >= 4) {
      const uint32_t t = wire::be32(sec, 0);
      types = t == 0 ? "none offered (connection refused)" : security_type_name(t);
    }
    if (!types.empty()) banner += "\nsecurity types: " + types;
    f["banner"] = banner;
    return f;
  }

 private:
  bool security_complete() const {
    std::string_view sec = std::string_view(buf_).substr(kVersionLen);
    if (minor_ >= 7)
      return !sec.empty() && sec.size() >= 1 + size_t{static_cast<unsigned char>(sec[0])};
    return sec.size() >= 4;
  }

  std::string buf_;
  bool sent_ = false;
  int minor_ = 0;
};

}  // namespace

ProbeModule vnc_module() {
  ProbeModule m;
  m.name = "vnc";
  m.report_type = "scan_vnc";
  m.tag = "vnc";
  m.default_port = 5900;
  m.columns = {"product", "banner"};
  m.exchange = [](const ProbeTarget&) { return std::make_unique<VncExchange>(); };
  m.request = [](const ProbeTarget&) { return std::string(); };
  m.complete = [](std::string_view) { return true; };
  m.parse = [](std::string_view b) { return VncExchange::parse_vnc(b, 0); };
  return m;
}

}  // namespace vantage::scanner

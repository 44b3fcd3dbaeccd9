// Mail servers running an Exim release with a known remotely exploitable flaw
// (scan_smtp_vulnerable): the scan_smtp exchange (greeting, EHLO, STARTTLS and the
// certificate; starttls/starttls.h), then the version Exim announces in its greeting
// ("220 host ESMTP Exim 4.92.3 ...", Exim's default smtp_banner) compared with the releases
// that fixed:
//   CVE-2019-10149 (4.87-4.91, "Return of the WIZard", remote command execution): 4.92
//   CVE-2019-15846 (TLS SNI heap overflow): 4.92.2
//   CVE-2019-16928 (EHLO heap overflow, 4.92-4.92.2): 4.92.3
//   CVE-2020-28017..28026 ("21Nails"): 4.94.2
//   CVE-2023-42115 (AUTH EXTERNAL out-of-bounds write): 4.96.1
// Only an affected version is an event; its tag lists the CVEs it matches. A version check
// cannot see backported fixes (Debian's 4.96-15+deb12u2 fixes CVE-2023-42115 but still says
// 4.96): the report is a lead to verify, as Shadowserver's is. A banner that hides the version
// is no event.
#include <cstdio>
#include <string>
#include <vector>

#include "common/strings.h"
#include "sensors/scanner/probes/exchange_module.h"
#include "sensors/scanner/probes/starttls/starttls.h"

namespace vantage::scanner {
namespace {

struct Version {
  int major = 0, minor = 0, patch = 0;
  bool operator<(const Version& o) const {
    if (major != o.major) return major < o.major;
    if (minor != o.minor) return minor < o.minor;
    return patch < o.patch;
  }
};

// "Exim 4.92.3" anywhere in the greeting.
bool exim_version(const std::string& banner, Version* v) {
  const size_t at = banner.find("Exim ");
  if (at == std::string::npos) return false;
  int n = 0;
  const int got = std::sscanf(banner.c_str() + at + 5, "%d.%d%n", &v->major, &v->minor, &n);
  if (got < 2 || v->major < 3 || v->major > 9) return false;
  const char* rest = banner.c_str() + at + 5 + n;
  if (rest[0] == '.' && rest[1] >= '0' && rest[1] <= '9') v->patch = std::atoi(rest + 1);
  return true;
}

struct Flaw {
  const char* cve;
  Version from, fixed;  // affected: from <= v < fixed
};
constexpr Flaw kFlaws[] = {{"CVE-2019-10149", {4, 87, 0}, {4, 92, 0}},
                           {"CVE-2019-15846", {0, 0, 0}, {4, 92, 2}},
                           {"CVE-2019-16928", {4, 92, 0}, {4, 92, 3}},
                           {"CVE-2020-28017", {0, 0, 0}, {4, 94, 2}},
                           {"CVE-2023-42115", {0, 0, 0}, {4, 96, 1}}};

Result<nlohmann::json> only_vulnerable(Result<nlohmann::json> r) {
  if (!r) return r;
  Version v;
  if (!r->contains("banner") || !exim_version((*r)["banner"].get<std::string>(), &v))
    return Error::invalid("no Exim version in the greeting");
  std::vector<std::string> cves;
  for (const Flaw& f : kFlaws)
    if (!(v < f.from) && v < f.fixed) cves.push_back(f.cve);
  if (cves.empty()) return Error::invalid("Exim version without a listed flaw");
  (*r)["tag"] = "exim;" + join(cves, ";");
  return r;
}

class VulnerableSmtpExchange : public Exchange {
 public:
  std::string start() override { return inner_.start(); }
  std::string feed(std::string_view chunk, bool* done) override {
    return inner_.feed(chunk, done);
  }
  Result<nlohmann::json> result() override { return only_vulnerable(inner_.result()); }

 private:
  StarttlsExchange inner_{TextDialect::smtp};
};

}  // namespace

ProbeModule smtp_vulnerable_module() {
  ProbeModule m = starttls_module("smtp_vulnerable", "scan_smtp_vulnerable", 25, TextDialect::smtp,
                                  {"auth_tls_response", "tlsv13_support", "tlsv13_cipher"});
  m.exchange = [](const ProbeTarget&) { return std::make_unique<VulnerableSmtpExchange>(); };
  m.parse = [](std::string_view b) {
    VulnerableSmtpExchange x;
    return replay_exchange(x, b);
  };
  return m;
}

}  // namespace vantage::scanner

// LDAP over TCP (scan_ldap_tcp), as an exchange:
//   1. An anonymous search of the root DSE (RFC 4512 section 5.1: base "", scope base, filter
//      (objectClass=*), attributes "*" and "+"), read up to SearchResultDone. No bind.
//   2. The StartTLS extended operation (RFC 4511 section 4.14); on success the TLS handshake
//      follows in-band (ssl/ssl.h) for the certificate columns.
// The root DSE attributes map onto the catalogue's columns (Active Directory's names,
// [MS-ADTS] 3.1.1.3.2); multi-valued ones are joined with "|". response_size counts every
// byte of the search answer, amplification divides it by the request's size.
#include "sensors/scanner/probes/ldap/ldap.h"

#include <cmath>
#include <string>
#include <utility>

#include "common/strings.h"
#include "sensors/scanner/probes/exchange_module.h"
#include "sensors/scanner/probes/ssl/ssl.h"
#include "sensors/scanner/probes/starttls/starttls.h"
#include "sensors/scanner/probes/text_util.h"

namespace vantage::scanner {
namespace {

using namespace std::string_literals;

constexpr size_t kMaxAnswer = 256 * 1024;

std::string ber(uint8_t tag, const std::string& body) {
  std::string out(1, static_cast<char>(tag));
  const size_t n = body.size();
  if (n < 0x80) {
    out += static_cast<char>(n);
  } else if (n < 0x100) {
    out += "\x81"s + static_cast<char>(n);
  } else {
    out += "\x82"s + static_cast<char>(n >> 8) + static_cast<char>(n & 0xff);
  }
  return out + body;
}

std::string search_request_bytes() {
  std::string attrs = ber(0x04, "*") + ber(0x04, "+");
  std::string op = ber(0x04, "") + ber(0x0a, "\x00"s) + ber(0x0a, "\x00"s) + ber(0x02, "\x00"s) +
                   ber(0x02, "\x0a"s) + ber(0x01, "\x00"s) + ber(0x87, "objectClass") +
                   ber(0x30, attrs);
  return ber(0x30, ber(0x02, "\x01"s) + ber(0x63, op));
}

std::string starttls_request() {
  return ber(0x30, ber(0x02, "\x02"s) + ber(0x77, ber(0x80, "1.3.6.1.4.1.1466.20037")));
}

// One BER element: tag, content, and the whole element's size.
struct Tlv {
  uint8_t tag = 0;
  std::string_view value;
  size_t size = 0;
};

// Reads the element at the front of `b`. nullopt: incomplete. Error: malformed.
Result<std::optional<Tlv>> read_tlv(std::string_view b) {
  if (b.size() < 2) return std::optional<Tlv>();
  Tlv t;
  t.tag = static_cast<uint8_t>(b[0]);
  if ((t.tag & 0x1f) == 0x1f) return Error::invalid("BER: multi-byte tags are not LDAP");
  size_t len = static_cast<unsigned char>(b[1]), head = 2;
  if (len & 0x80) {
    const size_t k = len & 0x7f;
    if (k == 0 || k > 4) return Error::invalid("BER: bad length");
    if (b.size() < 2 + k) return std::optional<Tlv>();
    len = 0;
    for (size_t i = 0; i < k; ++i) len = (len << 8) | static_cast<unsigned char>(b[2 + i]);
    head += k;
  }
  if (len > kMaxAnswer) return Error::invalid("BER: element too large");
  if (b.size() < head + len) return std::optional<Tlv>();
  t.value = b.substr(head, len);
  t.size = head + len;
  return std::optional<Tlv>(t);
}

// The elements inside a constructed value (stops at the first malformed one).
std::vector<Tlv> children(std::string_view v) {
  std::vector<Tlv> out;
  while (!v.empty() && out.size() < 4096) {
    auto t = read_tlv(v);
    if (!t || !*t) break;
    out.push_back(**t);
    v.remove_prefix((*t)->size);
  }
  return out;
}

int64_t ber_int(std::string_view v) {
  int64_t x = (!v.empty() && (v[0] & 0x80)) ? -1 : 0;
  for (size_t i = 0; i < v.size() && i < 8; ++i)
    x = static_cast<int64_t>((static_cast<uint64_t>(x) << 8) | static_cast<unsigned char>(v[i]));
  return x;
}

struct Attr {
  const char* ldap;
  const char* column;
  enum { text, integer, boolean } kind;
};
constexpr Attr kAttrs[] = {
    {"configurationnamingcontext", "configuration_naming_context", Attr::text},
    {"currenttime", "current_time", Attr::text},
    {"defaultnamingcontext", "default_naming_context", Attr::text},
    {"dnshostname", "dns_host_name", Attr::text},
    {"domaincontrollerfunctionality", "domain_controller_functionality", Attr::integer},
    {"domainfunctionality", "domain_functionality", Attr::integer},
    {"dsservicename", "ds_service_name", Attr::text},
    {"forestfunctionality", "forest_functionality", Attr::integer},
    {"highestcommittedusn", "highest_committed_usn", Attr::integer},
    {"isglobalcatalogready", "is_global_catalog_ready", Attr::boolean},
    {"issynchronized", "is_synchronized", Attr::boolean},
    {"ldapservicename", "ldap_service_name", Attr::text},
    {"namingcontexts", "naming_contexts", Attr::text},
    {"rootdomainnamingcontext", "root_domain_naming_context", Attr::text},
    {"schemanamingcontext", "schema_naming_context", Attr::text},
    {"servername", "server_name", Attr::text},
    {"subschemasubentry", "subschema_subentry", Attr::text},
    {"supportedcapabilities", "supported_capabilities", Attr::text},
    {"supportedcontrol", "supported_control", Attr::text},
    {"supportedldappolicies", "supported_ldap_policies", Attr::text},
    {"supportedldapversion", "supported_ldap_version", Attr::text},
    {"supportedsaslmechanisms", "supported_sasl_mechanisms", Attr::text},
};

}  // namespace

std::string ldap_rootdse_search_request() {
  return search_request_bytes();
}

std::vector<std::string> ldap_rootdse_columns() {
  std::vector<std::string> columns;
  for (const Attr& a : kAttrs) columns.push_back(a.column);
  return columns;
}

Result<size_t> ldap_read_search(std::string_view b, nlohmann::json& f, bool* entry, bool* done) {
  size_t used = 0;
  while (!*done) {
    auto t = read_tlv(b.substr(used));
    if (!t) return t.error();
    if (!*t) break;
    if ((*t)->tag != 0x30) return Error::invalid("not an LDAPMessage");
    auto parts = children((*t)->value);
    if (parts.size() < 2 || parts[0].tag != 0x02) return Error::invalid("bad LDAPMessage");
    const Tlv& op = parts[1];
    if (op.tag == 0x64) {  // SearchResultEntry: objectName, attributes
      *entry = true;
      auto e = children(op.value);
      if (e.size() >= 2)
        for (const Tlv& a : children(e[1].value)) {
          auto av = children(a.value);
          if (av.size() < 2) continue;
          const std::string name = to_lower(av[0].value);
          for (const Attr& m : kAttrs) {
            if (name != m.ldap) continue;
            std::vector<std::string> vals;
            for (const Tlv& v : children(av[1].value)) vals.push_back(printable(v.value, 512));
            if (vals.empty()) break;
            if (m.kind == Attr::integer) {
              if (auto n = parse_int(vals[0])) f[m.column] = *n;
            } else if (m.kind == Attr::boolean) {
              f[m.column] = to_lower(vals[0]) == "true";
            } else {
              f[m.column] = printable(join(vals, "|"), 4096);
            }
          }
        }
    } else if (op.tag == 0x65) {  // SearchResultDone
      *done = true;
    } else if (op.tag != 0x73) {  // anything but a referral
      return Error::invalid("unexpected LDAP operation in a search answer");
    }
    used += (*t)->size;
  }
  return used;
}

namespace {

class LdapExchange : public Exchange {
 public:
  std::string start() override { return search_request_bytes(); }

  std::string feed(std::string_view chunk, bool* done) override {
    if (tls_) return tls_->feed(chunk, done);
    buf_.append(chunk.substr(0, kMaxAnswer - std::min(buf_.size(), kMaxAnswer)));
    if (!search_done_) {
      auto used = ldap_read_search(buf_, fields_, &entry_, &search_done_);
      if (!used) {
        error_ = used.error().message;
        *done = true;
        return {};
      }
      response_size_ += *used;
      buf_.erase(0, *used);
      if (!search_done_) {
        if (buf_.size() >= kMaxAnswer) *done = true;
        return {};
      }
      return starttls_request();
    }
    // The ExtendedResponse: LDAPMessage { 2, [APPLICATION 24] { resultCode, ... } }.
    auto t = read_tlv(buf_);
    if (!t || (*t && (*t)->tag != 0x30)) {
      *done = true;
      return {};
    }
    if (!*t) return {};
    auto parts = children((*t)->value);
    *done = true;
    if (parts.size() < 2 || parts[1].tag != 0x78) return {};
    auto r = children(parts[1].value);
    if (r.empty() || r[0].tag != 0x0a || ber_int(r[0].value) != 0) return {};
    *done = false;
    tls_ = std::make_unique<TlsExchange>(std::string());
    return tls_->start();
  }

  Result<nlohmann::json> result() override {
    if (!entry_ && !search_done_)
      return Error::invalid(error_.empty() ? "no LDAP search answer" : error_);
    nlohmann::json f = fields_;
    f["response_size"] = response_size_;
    const double amp = static_cast<double>(response_size_) / search_request_bytes().size();
    f["amplification"] = std::round(amp * 100) / 100;
    add_tls_columns(f, tls_.get());
    return f;
  }

 private:
  std::string buf_, error_;
  nlohmann::json fields_ = nlohmann::json::object();
  size_t response_size_ = 0;
  bool entry_ = false, search_done_ = false;
  std::unique_ptr<TlsExchange> tls_;
};

}  // namespace

ProbeModule ldap_tcp_module() {
  std::vector<std::string> columns{"response_size", "amplification", "tlsv13_support",
                                   "tlsv13_cipher"};
  for (const auto& c : ldap_rootdse_columns()) columns.push_back(c);
  for (const auto& c : tls_certificate_columns()) columns.push_back(c);
  return exchange_module<LdapExchange>("ldap", "scan_ldap_tcp", 389, std::move(columns));
}

}  // namespace vantage::scanner

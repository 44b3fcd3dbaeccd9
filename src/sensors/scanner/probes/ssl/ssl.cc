#include "sensors/scanner/probes/ssl/ssl.h"

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509v3.h>

#include <cstdio>
#include <ctime>
#include <utility>

#include "common/time.h"
#include "sensors/scanner/probes/ssl/jarm.h"
#include "sensors/scanner/probes/ssl/trust.h"

namespace vantage::scanner {

SSL_CTX* tls_client_context() {
  // One context for the process; SSL_CTX is safe to share once configured.
  static SSL_CTX* ctx = [] {
    SSL_CTX* c = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_verify(c, SSL_VERIFY_NONE, nullptr);
    // Security level 0 and every protocol version OpenSSL has: a scanner must still see the
    // old, weak servers it is meant to report.
    SSL_CTX_set_security_level(c, 0);
    SSL_CTX_set_min_proto_version(c, 0);
    SSL_CTX_set_cipher_list(c, "ALL:@SECLEVEL=0");
    SSL_CTX_set_options(c, SSL_OP_LEGACY_SERVER_CONNECT | SSL_OP_IGNORE_UNEXPECTED_EOF);
    return c;
  }();
  return ctx;
}

namespace {

std::string hex_colon(const unsigned char* d, unsigned n) {
  static const char* h = "0123456789ABCDEF";
  std::string out;
  for (unsigned i = 0; i < n; ++i) {
    if (i) out += ':';
    out += h[d[i] >> 4];
    out += h[d[i] & 15];
  }
  return out;
}

std::string fingerprint(X509* cert, const EVP_MD* md) {
  unsigned char d[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  if (X509_digest(cert, md, d, &n) != 1) return {};
  return hex_colon(d, n);
}

// Printable UTF-8 of a name entry, capped; control bytes dropped.
std::string entry_text(X509_NAME_ENTRY* e) {
  unsigned char* utf8 = nullptr;
  const int n = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(e));
  if (n < 0) return {};
  std::string out;
  for (int i = 0; i < n && out.size() < 512; ++i) {
    const unsigned char c = utf8[i];
    if (c >= 0x20 && c != 0x7f) out += static_cast<char>(c);
  }
  OPENSSL_free(utf8);
  return out;
}

void name_fields(X509_NAME* name, const std::string& prefix, nlohmann::json& f) {
  if (!name) return;
  static const std::pair<int, const char*> map[] = {
      {NID_commonName, "common_name"},
      {NID_organizationName, "organization_name"},
      {NID_organizationalUnitName, "organization_unit_name"},
      {NID_countryName, "country"},
      {NID_stateOrProvinceName, "state_or_province_name"},
      {NID_localityName, "locality_name"},
      {NID_streetAddress, "street_address"},
      {NID_postalCode, "postal_code"},
      {NID_surname, "surname"},
      {NID_givenName, "given_name"},
      {NID_pkcs9_emailAddress, "email_address"},
      {NID_businessCategory, "business_category"},
      {NID_serialNumber, "serial_number"}};
  for (const auto& [nid, col] : map) {
    const int idx = X509_NAME_get_index_by_NID(name, nid, -1);
    if (idx < 0) continue;
    const std::string v = entry_text(X509_NAME_get_entry(name, idx));
    if (!v.empty()) f[prefix + col] = v;
  }
}

// ASN1_TIME as "YYYY-MM-DD HH:MM:SS" UTC, and as seconds for the expiry test.
bool time_fields(const ASN1_TIME* t, std::string* text, int64_t* secs) {
  std::tm tm{};
  if (!t || ASN1_TIME_to_tm(t, &tm) != 1) return false;
  char buf[96];  // room for any int the compiler imagines
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d %02d:%02d:%02d", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
  *text = buf;
  *secs = static_cast<int64_t>(timegm(&tm));
  return true;
}

}  // namespace

nlohmann::json certificate_fields(X509* cert, int64_t now) {
  nlohmann::json f = nlohmann::json::object();
  if (!cert) return f;
  name_fields(X509_get_subject_name(cert), "subject_", f);
  name_fields(X509_get_issuer_name(cert), "issuer_", f);
  std::string text;
  int64_t not_before = 0, not_after = 0;
  if (time_fields(X509_get0_notBefore(cert), &text, &not_before)) f["cert_issue_date"] = text;
  if (time_fields(X509_get0_notAfter(cert), &text, &not_after)) {
    f["cert_expiration_date"] = text;
    f["cert_expired"] = now > not_after;
  }
  if (const ASN1_INTEGER* serial = X509_get0_serialNumber(cert)) {
    if (BIGNUM* bn = ASN1_INTEGER_to_BN(serial, nullptr)) {
      if (char* h = BN_bn2hex(bn)) {
        f["cert_serial_number"] = std::string(h);
        OPENSSL_free(h);
      }
      BN_free(bn);
    }
  }
  f["sha1_fingerprint"] = fingerprint(cert, EVP_sha1());
  f["sha256_fingerprint"] = fingerprint(cert, EVP_sha256());
  f["sha512_fingerprint"] = fingerprint(cert, EVP_sha512());
  f["md5_fingerprint"] = fingerprint(cert, EVP_md5());
  f["ssl_version"] = X509_get_version(cert);
  const int sig_nid = X509_get_signature_nid(cert);
  if (sig_nid != NID_undef) f["signature_algorithm"] = OBJ_nid2ln(sig_nid);
  if (EVP_PKEY* key = X509_get0_pubkey(cert)) {
    const int id = EVP_PKEY_get_base_id(key);
    if (id != NID_undef) f["key_algorithm"] = OBJ_nid2ln(id);
    f["cert_length"] = EVP_PKEY_get_bits(key);
  }
  // Self-signed: issuer and subject match and the certificate's own key verifies it.
  f["self_signed"] = X509_check_issued(cert, cert) == X509_V_OK;
  ERR_clear_error();
  return f;
}

TlsExchange::TlsExchange(std::string sni)
    : sni_(std::move(sni)), pipe_(std::make_unique<TlsClientPipe>(sni_)) {}

TlsExchange::~TlsExchange() = default;

std::string TlsExchange::start() {
  if (pipe_->failed()) {
    failed_ = true;
    error_ = pipe_->error();
    return {};
  }
  return pipe_->start();  // the ClientHello
}

std::string TlsExchange::feed(std::string_view chunk, bool* done) {
  if (failed_ || done_ok_) {
    *done = true;
    return {};
  }
  got_bytes_ = got_bytes_ || !chunk.empty();
  std::string out = pipe_->feed(chunk);
  if (pipe_->established()) {
    done_ok_ = true;
  } else if (pipe_->failed()) {
    failed_ = true;
    error_ = pipe_->error();
  } else {
    return out;
  }
  // Our Finished (or alert) is not sent after the handshake is done: nothing more is needed,
  // unless application data follows (wrap() sends it first).
  *done = true;
  if (done_ok_) held_ = std::move(out);
  return {};
}

std::string TlsExchange::wrap(std::string_view plain) {
  if (!done_ok_ || failed_) return {};
  std::string out = std::exchange(held_, {});
  if (!plain.empty()) out += pipe_->write(plain);
  return out;
}

std::string TlsExchange::unwrap(std::string_view chunk) {
  if (!done_ok_ || failed_) return {};
  (void)pipe_->feed(chunk);  // a post-handshake message needs no answer from a probe
  return pipe_->take_plaintext();
}

std::optional<std::string> TlsExchange::carry(std::string_view chunk,
                                              const std::function<std::string()>& first_request,
                                              std::string* send, bool* done) {
  if (done_ok_) return unwrap(chunk);
  bool handshake_over = false;
  *send = feed(chunk, &handshake_over);
  if (!handshake_over) return std::nullopt;
  if (!done_ok_) {
    *done = true;
    send->clear();
    return std::nullopt;
  }
  *send = wrap(first_request());
  return std::nullopt;
}

Result<nlohmann::json> TlsExchange::result() {
  if (!done_ok_) {
    if (!error_.empty()) return Error::invalid("TLS: " + error_);
    return Error::invalid(got_bytes_ ? "TLS: handshake incomplete" : "TLS: no reply");
  }
  SSL* ssl = pipe_->handle();
  X509* cert = SSL_get1_peer_certificate(ssl);
  nlohmann::json f = certificate_fields(cert, static_cast<int64_t>(std::time(nullptr)));
  if (cert) X509_free(cert);
  f["handshake"] = SSL_get_version(ssl);
  if (const SSL_CIPHER* c = SSL_get_current_cipher(ssl)) {
    const char* std_name = SSL_CIPHER_standard_name(c);
    f["cipher_suite"] = std_name ? std_name : SSL_CIPHER_get_name(c);
    // We offer 1.3, so a server settling lower does not speak it.
    const bool v13 = SSL_version(ssl) == TLS1_3_VERSION;
    f["tlsv13_support"] = v13 ? "Y" : "N";
    if (v13) f["tlsv13_cipher"] = f["cipher_suite"];
  }
  return f;
}

std::unique_ptr<Exchange> make_tls_exchange(std::string sni) {
  return std::make_unique<TlsExchange>(std::move(sni));
}

namespace {

// scan_ssl over several connections: the OpenSSL handshake (certificate, cipher, trust), then
// the ten JARM ClientHellos, one connection each. A target that does not complete the
// handshake gets no JARM probes.
class SslProbeExchange : public Exchange {
 public:
  SslProbeExchange(const ProbeTarget& target, X509_STORE* store, bool jarm)
      : target_(target), store_(store), jarm_(jarm) {}

  std::string start() override {
    if (probe_ == 0) {
      tls_ = std::make_unique<TlsExchange>(target_.host);
      return tls_->start();
    }
    reply_.clear();
    // jarm.py sends what it was given as the server name: the address text without a host.
    const std::string sni = target_.host.empty() ? target_.ip.to_string() : target_.host;
    return jarm::client_hello(probe_ - 1, sni, jarm::system_random());
  }

  std::string feed(std::string_view chunk, bool* done) override {
    if (probe_ == 0) return tls_->feed(chunk, done);
    if (reply_.size() < jarm::kMaxReply)
      reply_.append(chunk.substr(0, jarm::kMaxReply - reply_.size()));
    *done = jarm::reply_complete(reply_);
    return {};
  }

  bool next_connection(ConnectionEnd how) override {
    if (probe_ == 0) {
      if (!jarm_ || !tls_->handshake_done()) return false;
      probe_ = 1;
      return true;
    }
    // jarm.py: a probe that times out with nothing received makes the whole fingerprint zeros.
    if (how == ConnectionEnd::timeout && reply_.empty()) {
      results_.assign(jarm::kProbes, "|||");
      return false;
    }
    results_.push_back(jarm::read_server_hello(reply_));
    if (static_cast<int>(results_.size()) == jarm::kProbes) return false;
    ++probe_;
    return true;
  }

  Result<nlohmann::json> result() override {
    if (!tls_) return Error::invalid("TLS: no connection");
    auto f = tls_->result();
    if (!f) return f;
    if (SSL* ssl = tls_->handle()) {
      X509* leaf = SSL_get0_peer_certificate(ssl);
      const auto trust = trust_fields(leaf, SSL_get_peer_cert_chain(ssl), store_, target_.host,
                                      target_.ip.to_string());
      for (const auto& [k, v] : trust.items()) (*f)[k] = v;
    }
    // A fingerprint needs all ten probes (a reconnect that failed leaves it unknown).
    if (static_cast<int>(results_.size()) == jarm::kProbes)
      (*f)["jarm"] = jarm::fuzzy_hash(results_);
    return f;
  }

 private:
  ProbeTarget target_;
  X509_STORE* store_;
  bool jarm_;
  int probe_ = 0;  // 0: the handshake; 1..10: JARM probes
  std::unique_ptr<TlsExchange> tls_;
  std::string reply_;
  std::vector<std::string> results_;
};

}  // namespace

Result<ProbeModule> ssl_module(const TlsProbeOptions& options) {
  auto store = trust_store(options.ca_file);
  if (!store && !options.ca_file.empty()) return store.error();
  X509_STORE* s = store ? *store : nullptr;  // no system store: trust columns are left out
  ProbeModule m = ssl_module();
  const bool jarm = options.jarm;
  m.exchange = [s, jarm](const ProbeTarget& t) -> std::unique_ptr<Exchange> {
    return std::make_unique<SslProbeExchange>(t, s, jarm);
  };
  return m;
}

ProbeModule ssl_module() {
  ProbeModule m;
  m.name = "ssl";
  m.report_type = "scan_ssl";
  m.tag = "ssl";
  m.default_port = 443;
  m.columns = {"handshake",
               "cipher_suite",
               "cert_length",
               "subject_common_name",
               "issuer_common_name",
               "cert_issue_date",
               "cert_expiration_date",
               "sha1_fingerprint",
               "cert_serial_number",
               "ssl_version",
               "signature_algorithm",
               "key_algorithm",
               "subject_organization_name",
               "subject_organization_unit_name",
               "subject_country",
               "subject_state_or_province_name",
               "subject_locality_name",
               "subject_street_address",
               "subject_postal_code",
               "subject_surname",
               "subject_given_name",
               "subject_email_address",
               "subject_business_category",
               "subject_serial_number",
               "issuer_organization_name",
               "issuer_organization_unit_name",
               "issuer_country",
               "issuer_state_or_province_name",
               "issuer_locality_name",
               "issuer_street_address",
               "issuer_postal_code",
               "issuer_surname",
               "issuer_given_name",
               "issuer_email_address",
               "issuer_business_category",
               "issuer_serial_number",
               "sha256_fingerprint",
               "sha512_fingerprint",
               "md5_fingerprint",
               "self_signed",
               "cert_expired",
               "tlsv13_support",
               "tlsv13_cipher",
               "cert_valid",
               "browser_trusted",
               "browser_error",
               "validation_level",
               "jarm"};
  m.exchange = [](const ProbeTarget& t) -> std::unique_ptr<Exchange> {
    auto store = trust_store("");
    return std::make_unique<SslProbeExchange>(t, store ? *store : nullptr, true);
  };
  // request/complete/parse are unused for an exchange module, but kept callable.
  m.request = [](const ProbeTarget&) { return std::string(); };
  m.complete = [](std::string_view) { return true; };
  m.parse = [](std::string_view b) -> Result<nlohmann::json> {
    TlsExchange x({});
    x.start();
    bool done = false;
    x.feed(b, &done);
    return x.result();
  };
  return m;
}

}  // namespace vantage::scanner

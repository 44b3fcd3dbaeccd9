#include "delivery/pgp.h"

#include <gpgme.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <clocale>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <vector>

extern char** environ;

namespace vantage::delivery {

namespace {

std::string gpg_error_text(gpgme_error_t err) {
  return std::string(gpgme_strsource(err)) + ": " + gpgme_strerror(err);
}

Status init_gpgme() {
  static std::once_flag once;
  static bool engine_ok = false;
  std::call_once(once, [] {
    // gpgme_check_version must run once before any other call (GPGME manual §2.4).
    std::setlocale(LC_ALL, "");
    gpgme_check_version(nullptr);
    gpgme_set_locale(nullptr, LC_CTYPE, std::setlocale(LC_CTYPE, nullptr));
    engine_ok = gpgme_engine_check_version(GPGME_PROTOCOL_OpenPGP) == 0;
  });
  if (!engine_ok) {
    return Error{ErrorCode::kFailedPrecondition, "pgp: no usable GnuPG engine (install gnupg)"};
  }
  return {};
}

// gpgme_data_t with RAII.
class Data {
 public:
  Data() = default;
  ~Data() {
    if (d_) gpgme_data_release(d_);
  }
  Data(const Data&) = delete;
  Data& operator=(const Data&) = delete;
  gpgme_data_t* out() { return &d_; }
  gpgme_data_t get() const { return d_; }
  std::string take() {
    size_t n = 0;
    char* buf = gpgme_data_release_and_get_mem(d_, &n);
    d_ = nullptr;
    std::string s(buf ? buf : "", n);
    gpgme_free(buf);
    return s;
  }

 private:
  gpgme_data_t d_ = nullptr;
};

struct KeyRef {
  gpgme_key_t key = nullptr;
  ~KeyRef() {
    if (key) gpgme_key_unref(key);
  }
};

gpgme_error_t passphrase_cb(void* hook, const char*, const char*, int prev_was_bad, int fd) {
  const auto* pass = static_cast<const std::string*>(hook);
  if (prev_was_bad) return gpg_error(GPG_ERR_BAD_PASSPHRASE);
  std::string line = *pass + "\n";
  const char* p = line.data();
  size_t left = line.size();
  while (left > 0) {
    const ssize_t n = gpgme_io_write(fd, p, left);
    if (n <= 0) return gpg_error(GPG_ERR_EIO);
    p += n;
    left -= static_cast<size_t>(n);
  }
  return 0;
}

// Why a key cannot take encrypted mail, or empty when one of its subkeys can.
std::string unusable_reason(gpgme_key_t key) {
  if (key->revoked) return "the key is revoked";
  if (key->disabled) return "the key is disabled";
  if (key->invalid) return "the key is invalid";
  if (key->expired) return "the key has expired";
  bool expired_enc = false;
  for (gpgme_subkey_t sk = key->subkeys; sk; sk = sk->next) {
    if (!sk->can_encrypt) continue;
    if (sk->expired) {
      expired_enc = true;
      continue;
    }
    if (!sk->revoked && !sk->disabled && !sk->invalid) return "";
  }
  return expired_enc ? "the encryption subkey has expired" : "the key has no encryption subkey";
}

// Stops the gpg-agent GnuPG may have started in `home` (key import and signing start
// one); without this it would outlive the deleted directory.
void kill_agent(const std::string& home) {
  std::vector<std::string> args = {"gpgconf", "--homedir", home, "--kill", "all"};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  if (posix_spawnp(&pid, "gpgconf", nullptr, nullptr, argv.data(), environ) == 0) {
    int st = 0;
    waitpid(pid, &st, 0);
  }
}

}  // namespace

struct PgpSession::Impl {
  gpgme_ctx_t ctx = nullptr;
  gpgme_key_t signer = nullptr;
  std::string passphrase;
  ~Impl() {
    if (signer) gpgme_key_unref(signer);
    if (ctx) gpgme_release(ctx);
  }
};

PgpSession::PgpSession(std::string home, std::unique_ptr<Impl> impl)
    : home_(std::move(home)), impl_(std::move(impl)) {}

PgpSession::~PgpSession() {
  impl_.reset();
  // gpg may start an agent even for a public-key-only session (key import does), so the
  // agent is always asked to stop; gpgconf is a no-op when none runs. A dying agent can still
  // unlink its sockets while the directory is being removed, hence the second pass.
  kill_agent(home_);
  std::error_code ec;
  if (std::filesystem::remove_all(home_, ec) == static_cast<std::uintmax_t>(-1) ||
      std::filesystem::exists(home_)) {
    std::filesystem::remove_all(home_, ec);
  }
}

bool PgpSession::signs() const {
  return impl_->signer != nullptr;
}

Result<std::unique_ptr<PgpSession>> PgpSession::open(const PgpOptions& options) {
  if (Status st = init_gpgme(); !st) return st.error();
  std::string templ = options.temp_root + "/vantage-gpg-XXXXXX";
  if (::mkdtemp(templ.data()) == nullptr) {
    return Error::io("pgp: cannot create a private GNUPGHOME under " + options.temp_root + ": " +
                     std::strerror(errno));
  }
  auto impl = std::make_unique<Impl>();
  // Constructed now so that the destructor removes the directory on every error path below.
  std::unique_ptr<PgpSession> session(new PgpSession(templ, std::move(impl)));
  Impl& s = *session->impl_;
  if (gpgme_error_t err = gpgme_new(&s.ctx)) return Error::internal("pgp: " + gpg_error_text(err));
  gpgme_set_protocol(s.ctx, GPGME_PROTOCOL_OpenPGP);
  if (gpgme_error_t err =
          gpgme_ctx_set_engine_info(s.ctx, GPGME_PROTOCOL_OpenPGP, nullptr, templ.c_str())) {
    return Error{ErrorCode::kFailedPrecondition, "pgp: " + gpg_error_text(err)};
  }
  gpgme_set_armor(s.ctx, 1);
  gpgme_set_offline(s.ctx, 1);  // never fetch keys or CRLs from the network

  if (!options.sign_key_armored.empty()) {
    s.passphrase = options.sign_passphrase;
    gpgme_set_pinentry_mode(s.ctx, GPGME_PINENTRY_MODE_LOOPBACK);
    gpgme_set_passphrase_cb(s.ctx, passphrase_cb, &s.passphrase);
    Data in;
    if (gpgme_data_new_from_mem(in.out(), options.sign_key_armored.data(),
                                options.sign_key_armored.size(), 0)) {
      return Error::internal("pgp: out of memory");
    }
    if (gpgme_error_t err = gpgme_op_import(s.ctx, in.get())) {
      return Error::invalid("pgp: signing key import failed: " + gpg_error_text(err));
    }
    gpgme_import_result_t ir = gpgme_op_import_result(s.ctx);
    if (!ir || ir->secret_imported == 0 || !ir->imports || !ir->imports->fpr) {
      return Error::invalid("pgp: the signing key file holds no secret key");
    }
    const std::string fpr = ir->imports->fpr;
    if (gpgme_error_t err = gpgme_get_key(s.ctx, fpr.c_str(), &s.signer, 1)) {
      return Error::invalid("pgp: signing key unusable: " + gpg_error_text(err));
    }
    if (!s.signer->can_sign || s.signer->expired || s.signer->revoked) {
      return Error::invalid("pgp: the signing key cannot sign (expired, revoked or no sign flag)");
    }
    gpgme_signers_clear(s.ctx);
    if (gpgme_error_t err = gpgme_signers_add(s.ctx, s.signer)) {
      return Error::invalid("pgp: " + gpg_error_text(err));
    }
  }
  return session;
}

Result<std::string> PgpSession::import_recipient(std::string_view armored) {
  Data in;
  if (gpgme_data_new_from_mem(in.out(), armored.data(), armored.size(), 0)) {
    return Error::internal("pgp: out of memory");
  }
  if (gpgme_error_t err = gpgme_op_import(impl_->ctx, in.get())) {
    return Error::invalid("pgp: key import failed: " + gpg_error_text(err));
  }
  gpgme_import_result_t ir = gpgme_op_import_result(impl_->ctx);
  if (!ir || ir->considered == 0 || !ir->imports || !ir->imports->fpr) {
    return Error::invalid("pgp: the organisation's key text holds no OpenPGP public key");
  }
  for (gpgme_import_status_t st = ir->imports; st; st = st->next) {
    if (st->result) {
      return Error::invalid("pgp: key import failed: " + gpg_error_text(st->result));
    }
  }
  const std::string fpr = ir->imports->fpr;
  KeyRef key;
  if (gpgme_error_t err = gpgme_get_key(impl_->ctx, fpr.c_str(), &key.key, 0)) {
    return Error::invalid("pgp: imported key not found: " + gpg_error_text(err));
  }
  if (std::string why = unusable_reason(key.key); !why.empty()) {
    return Error::invalid("pgp: cannot encrypt to key " + fpr + ": " + why);
  }
  return fpr;
}

Result<std::string> PgpSession::encrypt(std::string_view fingerprint, std::string_view plaintext) {
  KeyRef key;
  const std::string fpr(fingerprint);
  if (gpgme_error_t err = gpgme_get_key(impl_->ctx, fpr.c_str(), &key.key, 0)) {
    return Error::invalid("pgp: key " + fpr +
                          " not in the session keyring: " + gpg_error_text(err));
  }
  gpgme_key_t keys[2] = {key.key, nullptr};
  Data in, out;
  if (gpgme_data_new_from_mem(in.out(), plaintext.data(), plaintext.size(), 0) ||
      gpgme_data_new(out.out())) {
    return Error::internal("pgp: out of memory");
  }
  const auto flags = GPGME_ENCRYPT_ALWAYS_TRUST;
  gpgme_error_t err = impl_->signer
                          ? gpgme_op_encrypt_sign(impl_->ctx, keys, flags, in.get(), out.get())
                          : gpgme_op_encrypt(impl_->ctx, keys, flags, in.get(), out.get());
  if (gpgme_encrypt_result_t r = gpgme_op_encrypt_result(impl_->ctx); r && r->invalid_recipients) {
    return Error::invalid("pgp: recipient key rejected: " +
                          gpg_error_text(r->invalid_recipients->reason));
  }
  if (err) return Error::invalid("pgp: encryption failed: " + gpg_error_text(err));
  if (impl_->signer) {
    gpgme_sign_result_t sr = gpgme_op_sign_result(impl_->ctx);
    if (!sr || !sr->signatures || sr->invalid_signers) {
      return Error::invalid("pgp: signing with the service key failed");
    }
  }
  return out.take();
}

}  // namespace vantage::delivery

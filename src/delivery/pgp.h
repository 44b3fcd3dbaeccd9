#pragma once
// OpenPGP encryption of report mails with GPGME, wrapped at this edge so that nothing else in
// Vantage sees a gpgme_* type or error code.
//
// Each PgpSession owns a private, freshly created GNUPGHOME (mode 0700 under a temporary
// directory) and deletes it on destruction, stopping any gpg-agent GnuPG started there. That
// keeps one organisation's key from ever being used for another's mail, and leaves no trust
// decisions lying around between runs: keys are trusted because the operator registered
// them (GPGME_ENCRYPT_ALWAYS_TRUST), not because of the web of trust.
//
// Thread-safety: a session is used by one thread at a time; separate sessions are independent.

#include <memory>
#include <string>
#include <string_view>

#include "common/result.h"

namespace vantage::delivery {

struct PgpOptions {
  std::string temp_root = "/tmp";  // parent of the private GNUPGHOME (keep it short: socket paths)
  std::string sign_key_armored;    // service secret key to sign with; empty: encrypt only
  std::string sign_passphrase;     // for sign_key_armored; never logged
};

class PgpSession {
 public:
  // Creates the private GNUPGHOME and, when configured, imports the signing key. Errors:
  // kIo (temp dir), kFailedPrecondition (GnuPG engine missing), kInvalidArgument (signing
  // key unusable).
  static Result<std::unique_ptr<PgpSession>> open(const PgpOptions& options);
  ~PgpSession();
  PgpSession(const PgpSession&) = delete;
  PgpSession& operator=(const PgpSession&) = delete;

  // Imports an organisation's ASCII-armored public key and returns its fingerprint. Fails
  // with kInvalidArgument and a readable reason when the text holds no key, or the key is
  // expired, revoked, disabled or has no valid encryption subkey.
  Result<std::string> import_recipient(std::string_view armored_public_key);

  // Encrypts `plaintext` to the key `fingerprint` (from import_recipient), signing with the
  // service key when one was configured. Returns an ASCII-armored OpenPGP message.
  Result<std::string> encrypt(std::string_view fingerprint, std::string_view plaintext);

  bool signs() const;
  const std::string& home() const { return home_; }

 private:
  struct Impl;
  PgpSession(std::string home, std::unique_ptr<Impl> impl);
  std::string home_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vantage::delivery

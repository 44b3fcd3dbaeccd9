#include "registry/secret_box.h"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <memory>

#include "common/strings.h"

namespace vantage::registry {
namespace {

struct CtxFree {
  void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
};
using CtxPtr = std::unique_ptr<EVP_CIPHER_CTX, CtxFree>;

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

Result<std::string> read_key_file(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0)
    return Error{errno == ENOENT ? ErrorCode::kNotFound : ErrorCode::kIo,
                 "cannot open " + path + ": " + std::strerror(errno)};
  struct stat st {};
  if (::fstat(fd, &st) != 0 || (st.st_mode & 077) != 0) {
    ::close(fd);
    return Error{ErrorCode::kPermissionDenied,
                 path + " is readable by group or others; run: chmod 600 " + path};
  }
  std::string text(128, '\0');
  ssize_t n = ::read(fd, text.data(), text.size());
  ::close(fd);
  if (n < 0) return Error::io("cannot read " + path);
  text.resize(static_cast<size_t>(n));
  return text;
}

}  // namespace

Result<std::string> random_bytes(size_t n) {
  std::string out(n, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1) {
    return Error::internal("RAND_bytes failed");
  }
  return out;
}

Result<std::string> random_hex(size_t n) {
  auto bytes = random_bytes(n);
  if (!bytes) return bytes.error();
  std::string hex = hex_encode(*bytes);
  OPENSSL_cleanse(bytes->data(), bytes->size());
  return hex;
}

SecretBox::~SecretBox() {
  OPENSSL_cleanse(key_.data(), key_.size());
}

Result<SecretBox> SecretBox::from_key(std::string_view raw_key) {
  if (raw_key.size() != kKeySize) return Error::invalid("server key must be 32 bytes");
  SecretBox box;
  std::memcpy(box.key_.data(), raw_key.data(), kKeySize);
  return box;
}

Result<SecretBox> SecretBox::from_hex(std::string_view hex_key) {
  std::string_view h = trim(hex_key);
  if (h.size() != kKeySize * 2) {
    return Error::invalid("server key must be 64 hex characters (32 bytes)");
  }
  SecretBox box;
  for (size_t i = 0; i < kKeySize; ++i) {
    int hi = hex_value(h[2 * i]);
    int lo = hex_value(h[2 * i + 1]);
    if (hi < 0 || lo < 0) return Error::invalid("server key must be 64 hex characters (32 bytes)");
    box.key_[i] = static_cast<uint8_t>(hi * 16 + lo);
  }
  return box;
}

Result<SecretBox> SecretBox::load_or_create(const std::string& data_dir) {
  if (const char* env = std::getenv("VANTAGE_SERVER_KEY"); env && *env) {
    auto box = from_hex(env);
    if (!box) return Error::invalid("VANTAGE_SERVER_KEY: " + box.error().message);
    return box;
  }
  const std::string path = data_dir + "/server.key";
  auto existing = read_key_file(path);
  if (existing) {
    auto box = from_hex(*existing);
    OPENSSL_cleanse(existing->data(), existing->size());
    if (!box) return Error::invalid(path + ": " + box.error().message);
    return box;
  }
  if (existing.error().code != ErrorCode::kNotFound) return existing.error();

  auto hex = random_hex(kKeySize);
  if (!hex) return hex.error();
  // O_EXCL: if another process created the key meanwhile, use theirs instead of overwriting.
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) {
    if (errno == EEXIST) return load_or_create(data_dir);
    return Error::io("cannot create " + path + ": " + std::strerror(errno));
  }
  std::string line = *hex + "\n";
  bool ok = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size()) &&
            ::fsync(fd) == 0;
  ::close(fd);
  OPENSSL_cleanse(line.data(), line.size());
  if (!ok) {
    ::unlink(path.c_str());
    return Error::io("cannot write " + path);
  }
  auto box = from_hex(*hex);
  OPENSSL_cleanse(hex->data(), hex->size());
  return box;
}

Result<std::string> SecretBox::seal(std::string_view plaintext, std::string_view aad) const {
  auto nonce = random_bytes(kNonceSize);
  if (!nonce) return nonce.error();
  CtxPtr ctx(EVP_CIPHER_CTX_new());
  if (!ctx) return Error::internal("EVP_CIPHER_CTX_new failed");
  std::string out = *nonce;
  out.resize(kNonceSize + plaintext.size() + kTagSize);
  auto* o = reinterpret_cast<unsigned char*>(out.data());
  int len = 0;
  int total = 0;
  if (EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, kNonceSize, nullptr) != 1 ||
      EVP_EncryptInit_ex(ctx.get(), nullptr, nullptr, key_.data(),
                         reinterpret_cast<const unsigned char*>(nonce->data())) != 1 ||
      EVP_EncryptUpdate(ctx.get(), nullptr, &len,
                        reinterpret_cast<const unsigned char*>(aad.data()),
                        static_cast<int>(aad.size())) != 1 ||
      EVP_EncryptUpdate(ctx.get(), o + kNonceSize, &len,
                        reinterpret_cast<const unsigned char*>(plaintext.data()),
                        static_cast<int>(plaintext.size())) != 1) {
    return Error::internal("AES-256-GCM encryption failed");
  }
  total = len;
  if (EVP_EncryptFinal_ex(ctx.get(), o + kNonceSize + total, &len) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kTagSize,
                          o + kNonceSize + plaintext.size()) != 1) {
    return Error::internal("AES-256-GCM encryption failed");
  }
  return out;
}

Result<std::string> SecretBox::open(std::string_view sealed, std::string_view aad) const {
  if (sealed.size() < kNonceSize + kTagSize) {
    return Error{ErrorCode::kPermissionDenied, "sealed secret is truncated"};
  }
  const size_t n = sealed.size() - kNonceSize - kTagSize;
  const auto* in = reinterpret_cast<const unsigned char*>(sealed.data());
  CtxPtr ctx(EVP_CIPHER_CTX_new());
  if (!ctx) return Error::internal("EVP_CIPHER_CTX_new failed");
  std::string out(n, '\0');
  auto* o = reinterpret_cast<unsigned char*>(out.data());
  std::array<unsigned char, kTagSize> tag{};
  std::memcpy(tag.data(), in + kNonceSize + n, kTagSize);
  int len = 0;
  if (EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, kNonceSize, nullptr) != 1 ||
      EVP_DecryptInit_ex(ctx.get(), nullptr, nullptr, key_.data(), in) != 1 ||
      EVP_DecryptUpdate(ctx.get(), nullptr, &len,
                        reinterpret_cast<const unsigned char*>(aad.data()),
                        static_cast<int>(aad.size())) != 1 ||
      EVP_DecryptUpdate(ctx.get(), o, &len, in + kNonceSize, static_cast<int>(n)) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kTagSize, tag.data()) != 1) {
    return Error::internal("AES-256-GCM decryption failed");
  }
  if (EVP_DecryptFinal_ex(ctx.get(), o + len, &len) != 1) {
    OPENSSL_cleanse(out.data(), out.size());
    return Error{ErrorCode::kPermissionDenied,
                 "secret failed authentication (wrong server key or tampered data)"};
  }
  return out;
}

std::string SecretBox::derive_key(std::string_view label) const {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  HMAC(EVP_sha256(), key_.data(), static_cast<int>(key_.size()),
       reinterpret_cast<const unsigned char*>(label.data()), label.size(), out, &n);
  return std::string(reinterpret_cast<const char*>(out), n);
}

}  // namespace vantage::registry

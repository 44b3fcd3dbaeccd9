#include "registry/secret_box.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace vantage::registry {
namespace {

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/vantage_secret_XXXXXX";
    path_ = mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

TEST(SecretBox, RoundTripAndAadBinding) {
  auto box = SecretBox::from_key(std::string(32, 'k'));
  ASSERT_TRUE(box.ok());
  auto sealed = box->seal("s3cret", "key1");
  ASSERT_TRUE(sealed.ok());
  EXPECT_EQ(sealed->size(), 6 + SecretBox::kNonceSize + SecretBox::kTagSize);
  EXPECT_EQ(sealed->find("s3cret"), std::string::npos);
  EXPECT_EQ(*box->open(*sealed, "key1"), "s3cret");
  // Another key id, another server key, or a flipped bit: authentication fails.
  EXPECT_EQ(box->open(*sealed, "key2").error().code, ErrorCode::kPermissionDenied);
  auto other = SecretBox::from_key(std::string(32, 'x'));
  EXPECT_FALSE(other->open(*sealed, "key1").ok());
  std::string tampered = *sealed;
  tampered[SecretBox::kNonceSize] ^= 1;
  EXPECT_FALSE(box->open(tampered, "key1").ok());
  EXPECT_FALSE(box->open("short", "key1").ok());
  // Fresh nonce each time.
  EXPECT_NE(*box->seal("s3cret", "key1"), *sealed);
}

TEST(SecretBox, DerivedKeysAreHmacOfTheLabel) {
  auto box = SecretBox::from_key(std::string(32, 'k'));
  ASSERT_TRUE(box.ok());
  std::string a = box->derive_key("portal confirm");
  EXPECT_EQ(a.size(), 32u);
  EXPECT_EQ(a, box->derive_key("portal confirm"));
  EXPECT_NE(a, box->derive_key("portal csrf"));
  EXPECT_NE(a, SecretBox::from_key(std::string(32, 'x'))->derive_key("portal confirm"));
}

TEST(SecretBox, ServerKeyFileCreated0600AndReused) {
  TempDir dir;
  unsetenv("VANTAGE_SERVER_KEY");
  auto a = SecretBox::load_or_create(dir.path());
  ASSERT_TRUE(a.ok()) << a.error().message;
  struct stat st {};
  ASSERT_EQ(stat((dir.path() + "/server.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600);
  auto sealed = a->seal("value", "k");
  auto b = SecretBox::load_or_create(dir.path());
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(*b->open(*sealed, "k"), "value");
  // A world-readable key file is refused.
  chmod((dir.path() + "/server.key").c_str(), 0644);
  EXPECT_EQ(SecretBox::load_or_create(dir.path()).error().code, ErrorCode::kPermissionDenied);
}

TEST(SecretBox, EnvironmentKey) {
  TempDir dir;
  setenv("VANTAGE_SERVER_KEY", std::string(64, 'a').c_str(), 1);
  auto box = SecretBox::load_or_create(dir.path());
  ASSERT_TRUE(box.ok());
  EXPECT_FALSE(std::filesystem::exists(dir.path() + "/server.key"));
  auto expected = SecretBox::from_key(std::string(32, '\xaa'));
  EXPECT_EQ(*expected->open(*box->seal("x", "k"), "k"), "x");
  setenv("VANTAGE_SERVER_KEY", "tooshort", 1);
  EXPECT_FALSE(SecretBox::load_or_create(dir.path()).ok());
  unsetenv("VANTAGE_SERVER_KEY");
}

}  // namespace
}  // namespace vantage::registry

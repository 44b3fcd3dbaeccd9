#include "registry/json_io.h"

#include <gtest/gtest.h>

namespace vantage::registry {
namespace {

TEST(JsonIo, RoundTrip) {
  RegistrySnapshot snap;
  snap.generation = 42;
  OrgRecord rec;
  rec.org = {0,
             "Example CERT",
             "EXAMPLE_CERT",
             OrgKind::kNationalCsirt,
             "-----BEGIN PGP PUBLIC KEY BLOCK-----\nx\n-----END PGP PUBLIC KEY BLOCK-----",
             Severity::kMedium,
             100,
             200};
  rec.contacts = {{0, "Alice", "alice@example.org", "Lead", "+1"}};
  rec.recipients = {"reports@example.org"};
  Resource r;
  r.kind = ResourceKind::kCidr;
  r.value = "192.0.2.0/24";
  r.verification = Verification::kMismatch;
  r.verification_detail = "AS1";
  r.approval = Approval::kApproved;
  rec.resources = {r};
  rec.ignores = {"192.0.2.128/25"};
  rec.opt_outs = {"scan_ssh"};
  ApiKey k;
  k.key = "abc";
  k.secrets = {{1, 0, "s3cret"}, {0, 5, ""}};
  rec.keys = {k};
  snap.orgs = {rec};
  ApiKey ingest;
  ingest.key = "ing";
  ingest.kind = KeyKind::kIngest;
  snap.unowned_keys = {ingest};

  const std::string text = snapshot_to_json(snap);
  auto back = snapshot_from_json(text);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->generation, 42u);
  ASSERT_EQ(back->orgs.size(), 1u);
  const auto& o = back->orgs[0];
  EXPECT_EQ(o.org.short_name, "EXAMPLE_CERT");
  EXPECT_EQ(o.org.kind, OrgKind::kNationalCsirt);
  EXPECT_EQ(o.org.min_severity, Severity::kMedium);
  EXPECT_EQ(o.org.pgp_key, rec.org.pgp_key);
  EXPECT_EQ(o.contacts[0].phone, "+1");
  EXPECT_EQ(o.resources[0].verification, Verification::kMismatch);
  EXPECT_EQ(o.resources[0].approval, Approval::kApproved);
  EXPECT_EQ(o.ignores, rec.ignores);
  EXPECT_EQ(o.opt_outs, rec.opt_outs);
  EXPECT_EQ(o.keys[0].secrets[0].secret, "s3cret");
  EXPECT_TRUE(o.keys[0].secrets[1].secret.empty());
  EXPECT_EQ(text.find("\"secret\": \"\""), std::string::npos);  // absent, not empty
  EXPECT_EQ(back->unowned_keys[0].kind, KeyKind::kIngest);
}

TEST(JsonIo, ErrorsNameThePath) {
  EXPECT_FALSE(snapshot_from_json("{").ok());
  EXPECT_FALSE(snapshot_from_json(R"({"format":"other","version":1})").ok());
  auto r = snapshot_from_json(
      R"({"format":"vantage-registry","version":1,"organisations":[{"short_name":"A","name":"A","resources":[{"kind":"planet","value":"x"}]}]})");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("$.organisations[0].resources[0].kind"), std::string::npos);
  auto missing = snapshot_from_json(
      R"({"format":"vantage-registry","version":1,"organisations":[{"name":"A"}]})");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("short_name"), std::string::npos);
}

}  // namespace
}  // namespace vantage::registry

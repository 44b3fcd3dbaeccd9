#include "registry/sqlite/sqlite_registry.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>

namespace vantage::registry {
namespace {

class SqliteRegistryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/vantage_registry_XXXXXX";
    dir_ = mkdtemp(tmpl);
    reg_ = open();
  }
  void TearDown() override {
    reg_.reset();
    std::filesystem::remove_all(dir_);
  }
  std::unique_ptr<SqliteRegistry> open() {
    auto box = SecretBox::from_key(std::string(32, 'k'));
    auto r = SqliteRegistry::open(path(), *box);
    EXPECT_TRUE(r.ok()) << r.error().message;
    auto reg = std::move(*r);
    reg->set_clock([this] { return clock_; });
    return reg;
  }
  std::string path() const { return dir_ + "/registry.sqlite"; }
  Organisation add(const std::string& short_name, OrgKind kind = OrgKind::kOrganisation) {
    NewOrganisation n;
    n.name = short_name + " Inc.";
    n.short_name = short_name;
    n.kind = kind;
    auto o = reg_->add_org(n);
    EXPECT_TRUE(o.ok()) << o.error().message;
    return *o;
  }
  std::string file_bytes() {
    std::string all;
    for (const char* suffix : {"", "-wal"}) {
      std::ifstream f(path() + suffix, std::ios::binary);
      all.append(std::istreambuf_iterator<char>(f), {});
    }
    return all;
  }

  std::string dir_;
  UnixSeconds clock_ = 1'700'000'000;
  std::unique_ptr<SqliteRegistry> reg_;
};

TEST_F(SqliteRegistryTest, OrganisationCrud) {
  auto a = add("CERT_A");
  EXPECT_GT(a.id, 0);
  EXPECT_EQ(a.created_at, clock_);
  auto found = reg_->find_org("CERT_A");
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(found->id, a.id);
  EXPECT_EQ(reg_->find_org(std::to_string(a.id))->short_name, "CERT_A");
  EXPECT_EQ(reg_->find_org("nope").error().code, ErrorCode::kNotFound);

  NewOrganisation dup{"Other", "CERT_A"};
  EXPECT_EQ(reg_->add_org(dup).error().code, ErrorCode::kAlreadyExists);
  for (const char* bad : {"cert-a", "cert.a", ""}) {
    NewOrganisation n{"Name", bad};
    auto r = reg_->add_org(n);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
  }
  NewOrganisation bad_pgp{"Name", "PGP_ORG"};
  bad_pgp.pgp_key = "not a key";
  EXPECT_FALSE(reg_->add_org(bad_pgp).ok());

  clock_ += 10;
  OrgUpdate u;
  u.name = "Renamed";
  u.min_severity = Severity::kHigh;
  auto upd = reg_->update_org(a.id, u);
  ASSERT_TRUE(upd.ok());
  EXPECT_EQ(upd->name, "Renamed");
  EXPECT_EQ(upd->min_severity, Severity::kHigh);
  EXPECT_EQ(upd->updated_at, clock_);

  add("CERT_B");
  auto list = reg_->list_orgs();
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].short_name, "CERT_A");
  ASSERT_TRUE(reg_->remove_org(a.id).ok());
  EXPECT_EQ(reg_->list_orgs()->size(), 1u);
  EXPECT_EQ(reg_->remove_org(a.id).error().code, ErrorCode::kNotFound);
}

TEST_F(SqliteRegistryTest, ContactsRecipientsPreferences) {
  auto a = add("CERT_A");
  Contact c{0, "Alice", "Alice@Example.ORG", "Lead", "+31 20 123"};
  auto added = reg_->add_contact(a.id, c);
  ASSERT_TRUE(added.ok());
  EXPECT_EQ(added->email, "Alice@example.org");
  Contact bad{0, "Bob", "bob@", "", ""};
  EXPECT_FALSE(reg_->add_contact(a.id, bad).ok());
  EXPECT_EQ(*reg_->add_recipient(a.id, "Reports@Example.org"), "Reports@example.org");
  EXPECT_EQ(reg_->add_recipient(a.id, "Reports@example.org").error().code,
            ErrorCode::kAlreadyExists);
  EXPECT_EQ(reg_->add_recipient(9999, "x@example.org").error().code, ErrorCode::kNotFound);
  EXPECT_FALSE(reg_->add_recipient(a.id, "not-an-address").ok());
  EXPECT_EQ(*reg_->add_ignore(a.id, "192.0.2.9/24"), "192.0.2.0/24");
  EXPECT_TRUE(reg_->add_opt_out(a.id, "scan_ssh").ok());
  EXPECT_FALSE(reg_->add_opt_out(a.id, "Bad Type").ok());
  auto rec = reg_->org_record(a.id);
  ASSERT_TRUE(rec.ok());
  EXPECT_EQ(rec->contacts.size(), 1u);
  EXPECT_EQ(rec->recipients, std::vector<std::string>{"Reports@example.org"});
  EXPECT_EQ(rec->ignores, std::vector<std::string>{"192.0.2.0/24"});
  EXPECT_EQ(rec->opt_outs, std::vector<std::string>{"scan_ssh"});
  EXPECT_TRUE(reg_->remove_contact(a.id, added->id).ok());
  EXPECT_TRUE(reg_->remove_recipient(a.id, "Reports@EXAMPLE.org").ok());
  EXPECT_TRUE(reg_->remove_ignore(a.id, "192.0.2.0/24").ok());
  EXPECT_TRUE(reg_->remove_opt_out(a.id, "scan_ssh").ok());
  rec = reg_->org_record(a.id);
  EXPECT_TRUE(rec->contacts.empty() && rec->recipients.empty() && rec->ignores.empty() &&
              rec->opt_outs.empty());
}

TEST_F(SqliteRegistryTest, ResourcesDuplicatesAndSharedClaims) {
  auto a = add("CERT_A");
  auto b = add("CERT_B");
  auto r = reg_->add_resource(a.id, ResourceKind::kCidr, "192.0.2.1/24");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->resource.value, "192.0.2.0/24");
  EXPECT_NE(r->warning.find("host bits"), std::string::npos);
  EXPECT_TRUE(r->also_claimed_by.empty());
  // Same resource, same org, written differently: duplicate.
  auto dup = reg_->add_resource(a.id, ResourceKind::kCidr, "192.0.2.0/24");
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.error().code, ErrorCode::kAlreadyExists);
  // Another org: allowed, flagged.
  auto shared = reg_->add_resource(b.id, ResourceKind::kCidr, "192.0.2.0/24");
  ASSERT_TRUE(shared.ok());
  ASSERT_EQ(shared->also_claimed_by.size(), 1u);
  EXPECT_EQ(shared->also_claimed_by[0].short_name, "CERT_A");
  EXPECT_EQ(reg_->other_claimants(a.id, ResourceKind::kCidr, "192.0.2.0/24")->size(), 1u);

  for (const char* bad : {"0", "4294967296", "AS-x"}) {
    EXPECT_EQ(reg_->add_resource(a.id, ResourceKind::kAsn, bad).error().code,
              ErrorCode::kInvalidArgument)
        << bad;
  }
  EXPECT_EQ(reg_->add_resource(a.id, ResourceKind::kAsn, "AS64500")->resource.value, "64500");
  EXPECT_EQ(reg_->add_resource(a.id, ResourceKind::kAsn, "64500").error().code,
            ErrorCode::kAlreadyExists);
  auto d = reg_->add_resource(a.id, ResourceKind::kDomain, "Bücher.Example");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->resource.value, "xn--bcher-kva.example");
  EXPECT_EQ(d->resource.dns_token.size(), 32u);
  // Countries: national CSIRTs only.
  EXPECT_EQ(reg_->add_resource(a.id, ResourceKind::kCountry, "NL").error().code,
            ErrorCode::kInvalidArgument);
  auto n = add("NCSC", OrgKind::kNationalCsirt);
  EXPECT_EQ(reg_->add_resource(n.id, ResourceKind::kCountry, "nl")->resource.value, "NL");
  EXPECT_FALSE(reg_->add_resource(n.id, ResourceKind::kCountry, "ZZ").ok());
  OrgUpdate demote;
  demote.kind = OrgKind::kOrganisation;
  EXPECT_FALSE(reg_->update_org(n.id, demote).ok());

  ASSERT_TRUE(reg_->set_verification(r->resource.id, Verification::kVerified, "AS64500").ok());
  ASSERT_TRUE(reg_->set_approval(r->resource.id, Approval::kApproved).ok());
  auto rec = reg_->org_record(a.id);
  ASSERT_EQ(rec->resources.size(), 3u);
  for (const auto& res : rec->resources) {
    if (res.kind == ResourceKind::kCidr) {
      EXPECT_EQ(res.verification, Verification::kVerified);
      EXPECT_EQ(res.approval, Approval::kApproved);
      EXPECT_EQ(res.checked_at, clock_);
    }
  }
  EXPECT_TRUE(reg_->remove_resource(a.id, ResourceKind::kCidr, "192.0.2.0/24").ok());
  EXPECT_EQ(reg_->remove_resource(a.id, ResourceKind::kCidr, "192.0.2.0/24").error().code,
            ErrorCode::kNotFound);
  // Removing an org removes its resources (foreign-key cascade).
  ASSERT_TRUE(reg_->remove_org(b.id).ok());
  EXPECT_TRUE(reg_->other_claimants(a.id, ResourceKind::kCidr, "192.0.2.0/24")->empty());
}

TEST_F(SqliteRegistryTest, GenerationBumpsOnEveryChange) {
  auto g0 = *reg_->generation();
  auto a = add("CERT_A");
  auto g1 = *reg_->generation();
  EXPECT_GT(g1, g0);
  ASSERT_TRUE(reg_->add_resource(a.id, ResourceKind::kAsn, "64500").ok());
  EXPECT_GT(*reg_->generation(), g1);
  auto g2 = *reg_->generation();
  // A failed change does not bump it.
  EXPECT_FALSE(reg_->add_resource(a.id, ResourceKind::kAsn, "64500").ok());
  EXPECT_EQ(*reg_->generation(), g2);
  // Another connection (another process) sees each change at once: generation() reuses its
  // statement and must not keep an old read snapshot between calls.
  auto other = SqliteRegistry::open(path(), *SecretBox::from_key(std::string(32, 'k')));
  ASSERT_TRUE(other.ok());
  for (int i = 0; i < 3; ++i) {
    auto before = *(*other)->generation();
    EXPECT_EQ(before, *reg_->generation());
    ASSERT_TRUE(reg_->add_resource(a.id, ResourceKind::kAsn, std::to_string(64510 + i)).ok());
    EXPECT_GT(*(*other)->generation(), before);
  }
}

TEST_F(SqliteRegistryTest, ApiKeysSecretsEncryptedAtRest) {
  auto a = add("CERT_A");
  auto issued = reg_->issue_key(a.id, KeyKind::kApi, "reports");
  ASSERT_TRUE(issued.ok());
  EXPECT_EQ(issued->key.size(), 24u);
  EXPECT_EQ(issued->secret.size(), 48u);
  auto creds = reg_->key_credentials(issued->key);
  ASSERT_TRUE(creds.ok());
  EXPECT_EQ(creds->secrets, std::vector<std::string>{issued->secret});
  EXPECT_EQ(*creds->org_id, a.id);
  // The plaintext secret is nowhere in the database file or its WAL.
  reg_.reset();
  const std::string bytes = file_bytes();
  EXPECT_NE(bytes.find(issued->key), std::string::npos);  // the public id is there
  EXPECT_EQ(bytes.find(issued->secret), std::string::npos);
  reg_ = open();
  // A registry opened with another server key cannot read the secret.
  {
    auto other = SqliteRegistry::open(path(), *SecretBox::from_key(std::string(32, 'z')));
    ASSERT_TRUE(other.ok());
    EXPECT_FALSE((*other)->key_credentials(issued->key).ok());
  }
  EXPECT_FALSE(reg_->issue_key(std::nullopt, KeyKind::kApi, "x").ok());
  auto ingest = reg_->issue_key(std::nullopt, KeyKind::kIngest, "sensor-1");
  ASSERT_TRUE(ingest.ok());
  EXPECT_EQ(reg_->key_credentials(ingest->key)->kind, KeyKind::kIngest);
  EXPECT_EQ(reg_->list_keys(std::nullopt)->size(), 2u);
  EXPECT_EQ(reg_->list_keys(a.id)->size(), 1u);
  EXPECT_TRUE(reg_->list_keys(a.id)->front().secrets.front().secret.empty());
  EXPECT_EQ(reg_->key_credentials("unknown").error().code, ErrorCode::kNotFound);
}

TEST_F(SqliteRegistryTest, RotationOverlapAndRevocation) {
  auto a = add("CERT_A");
  auto k = *reg_->issue_key(a.id, KeyKind::kApi, "");
  clock_ += 100;
  auto rotated = reg_->rotate_key(k.key, 3600);
  ASSERT_TRUE(rotated.ok());
  EXPECT_EQ(rotated->key, k.key);
  EXPECT_NE(rotated->secret, k.secret);
  auto creds = *reg_->key_credentials(k.key);
  EXPECT_EQ(creds.secrets, (std::vector<std::string>{rotated->secret, k.secret}));
  clock_ += 3601;  // overlap over: only the new secret remains
  EXPECT_EQ(reg_->key_credentials(k.key)->secrets, std::vector<std::string>{rotated->secret});
  auto again = *reg_->rotate_key(k.key, 0);  // no overlap: old one revoked at once
  EXPECT_EQ(reg_->key_credentials(k.key)->secrets, std::vector<std::string>{again.secret});
  ASSERT_TRUE(reg_->revoke_key(k.key).ok());
  EXPECT_EQ(reg_->key_credentials(k.key).error().code, ErrorCode::kPermissionDenied);
  EXPECT_FALSE(reg_->rotate_key(k.key, 0).ok());
  EXPECT_EQ(reg_->revoke_key(k.key).error().code, ErrorCode::kNotFound);
  EXPECT_EQ(reg_->list_keys(a.id)->front().revoked_at, clock_);
}

TEST_F(SqliteRegistryTest, SchemaVersionAndReopen) {
  auto a = add("CERT_A");
  EXPECT_EQ(std::filesystem::status(path()).permissions() & std::filesystem::perms::all,
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  reg_.reset();
  reg_ = open();
  EXPECT_EQ(reg_->find_org("CERT_A")->id, a.id);
  reg_.reset();
  {
    auto conn = sqlite::Connection::open(path());
    ASSERT_TRUE((*conn)->exec("PRAGMA user_version=99").ok());
  }
  auto r = SqliteRegistry::open(path(), *SecretBox::from_key(std::string(32, 'k')));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kFailedPrecondition);
}

TEST_F(SqliteRegistryTest, ImportIsTransactionalAndReportsChanges) {
  auto a = add("CERT_A");
  ASSERT_TRUE(reg_->add_resource(a.id, ResourceKind::kAsn, "64500").ok());
  ASSERT_TRUE(reg_->add_recipient(a.id, "a@example.org").ok());
  auto key = *reg_->issue_key(a.id, KeyKind::kApi, "k");
  auto snap = reg_->snapshot(true);
  ASSERT_TRUE(snap.ok());
  ASSERT_EQ(snap->orgs.size(), 1u);
  EXPECT_EQ(snap->orgs[0].keys[0].secrets[0].secret, key.secret);
  auto without = reg_->snapshot(false);
  EXPECT_TRUE(without->orgs[0].keys[0].secrets[0].secret.empty());

  // Into an empty registry: everything is added, the key keeps working.
  reg_.reset();
  std::filesystem::remove_all(dir_);
  std::filesystem::create_directory(dir_);
  reg_ = open();
  auto report = reg_->import(*snap, {});
  ASSERT_TRUE(report.ok()) << report.error().message;
  EXPECT_EQ(report->orgs_added, 1);
  EXPECT_EQ(report->keys_added, 1);
  EXPECT_EQ(reg_->key_credentials(key.key)->secrets.front(), key.secret);
  // Same file again: nothing changes.
  report = reg_->import(*snap, {});
  EXPECT_EQ(report->orgs_unchanged, 1);
  EXPECT_EQ(report->orgs_added + report->orgs_updated + report->keys_added, 0);

  // A change plus a bad entry later in the file: nothing is written.
  auto gen = *reg_->generation();
  RegistrySnapshot changed = *snap;
  changed.orgs[0].resources.push_back({0, ResourceKind::kCidr, "198.51.100.0/24"});
  OrgRecord broken;
  broken.org.name = "Broken";
  broken.org.short_name = "BROKEN";
  broken.resources.push_back({0, ResourceKind::kAsn, "AS-x"});
  changed.orgs.push_back(broken);
  EXPECT_FALSE(reg_->import(changed, {}).ok());
  EXPECT_EQ(*reg_->generation(), gen);
  EXPECT_EQ(reg_->org_record(reg_->find_org("CERT_A")->id)->resources.size(), 1u);

  changed.orgs.pop_back();
  changed.orgs[0].recipients = {"b@example.org"};
  report = reg_->import(changed, {});
  ASSERT_TRUE(report.ok()) << report.error().message;
  EXPECT_EQ(report->orgs_updated, 1);
  ASSERT_EQ(report->lines.size(), 1u);
  EXPECT_NE(report->lines[0].find("+cidr 198.51.100.0/24"), std::string::npos);
  EXPECT_NE(report->lines[0].find("-recipient a@example.org"), std::string::npos);
  auto rec = *reg_->org_record(reg_->find_org("CERT_A")->id);
  EXPECT_EQ(rec.resources.size(), 2u);
  EXPECT_EQ(rec.recipients, std::vector<std::string>{"b@example.org"});

  add("EXTRA");
  ImportOptions prune;
  prune.remove_missing = true;
  report = reg_->import(changed, prune);
  EXPECT_EQ(report->orgs_removed, 1);
  EXPECT_EQ(reg_->find_org("EXTRA").error().code, ErrorCode::kNotFound);
}

TEST_F(SqliteRegistryTest, SubscriptionsSecretsSealedAndScoped) {
  Organisation a = add("org_a"), b = add("org_b");
  NewSubscription n;
  n.name = "soc-hook";
  n.kind = SubscriptionKind::kWebhook;
  n.address = " https://soc.example/hook ";
  n.report_types = {"scan-http,scan_ftp", "scan_http"};
  n.min_severity = Severity::kCritical;
  n.secret = "webhook-signing-secret-xyz";
  uint64_t gen = *reg_->generation();
  auto s = reg_->add_subscription(a.id, n);
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_GT(*reg_->generation(), gen);
  EXPECT_EQ(s->address, "https://soc.example/hook");
  EXPECT_EQ(s->report_types, (std::vector<std::string>{"scan_ftp", "scan_http"}));
  EXPECT_TRUE(s->has_secret);
  // Unique per organisation; another organisation may reuse the name.
  EXPECT_EQ(reg_->add_subscription(a.id, n).error().code, ErrorCode::kAlreadyExists);
  EXPECT_TRUE(reg_->add_subscription(b.id, n).ok());
  // The secret is stored sealed, and given back only when asked for.
  EXPECT_EQ(file_bytes().find("webhook-signing-secret-xyz"), std::string::npos);
  auto plain = reg_->list_subscriptions(a.id, false);
  ASSERT_EQ(plain->size(), 1u);
  EXPECT_TRUE((*plain)[0].secret.empty());
  auto with = reg_->list_subscriptions(a.id, true);
  EXPECT_EQ((*with)[0].secret, "webhook-signing-secret-xyz");
  EXPECT_EQ(reg_->list_subscriptions(std::nullopt, false)->size(), 2u);
  // Reopened with another server key, the secret does not open.
  reg_.reset();
  auto other = SqliteRegistry::open(path(), *SecretBox::from_key(std::string(32, 'x')));
  ASSERT_TRUE(other.ok());
  EXPECT_FALSE((*other)->list_subscriptions(a.id, true).ok());
  other->reset();
  reg_ = open();
  // Updates; removing the organisation removes its subscriptions.
  SubscriptionUpdate u;
  u.enabled = false;
  u.min_severity = Severity::kHigh;
  u.clear_secret = true;
  auto up = reg_->update_subscription(s->id, u);
  ASSERT_TRUE(up.ok()) << up.error().message;
  EXPECT_FALSE(up->enabled);
  EXPECT_FALSE(up->has_secret);
  ASSERT_TRUE(reg_->remove_org(a.id).ok());
  EXPECT_TRUE(reg_->list_subscriptions(a.id, false)->empty());
  EXPECT_EQ(reg_->list_subscriptions(std::nullopt, false)->size(), 1u);
}

TEST_F(SqliteRegistryTest, SubscriptionAddressesAndOptionsValidated) {
  Organisation a = add("org_a");
  auto try_add = [&](SubscriptionKind kind, std::string address, std::string options = "{}",
                     int64_t window = 5) {
    NewSubscription n;
    n.name = "s" + std::to_string(clock_++);
    n.kind = kind;
    n.address = std::move(address);
    n.options = std::move(options);
    n.batch_window_s = window;
    return reg_->add_subscription(a.id, n);
  };
  EXPECT_TRUE(try_add(SubscriptionKind::kSyslog, "127.0.0.1:6514").ok());
  EXPECT_TRUE(try_add(SubscriptionKind::kSyslog, "[::1]:514").ok());
  EXPECT_FALSE(try_add(SubscriptionKind::kSyslog, "::1:514").ok());
  EXPECT_FALSE(try_add(SubscriptionKind::kSyslog, "host:0").ok());
  EXPECT_FALSE(try_add(SubscriptionKind::kWebhook, "ftp://x/").ok());
  EXPECT_FALSE(try_add(SubscriptionKind::kWebhook, "https://user:pw@x/").ok());
  EXPECT_FALSE(try_add(SubscriptionKind::kSplunk, std::string("https://x/") + char(1)).ok());
  EXPECT_FALSE(try_add(SubscriptionKind::kSplunk, "https://x/a b").ok());
  EXPECT_TRUE(try_add(SubscriptionKind::kMisp, "").ok());
  EXPECT_FALSE(try_add(SubscriptionKind::kMisp, "https://x/").ok());
  EXPECT_FALSE(try_add(SubscriptionKind::kElastic, "https://es:9200", "[1]").ok());
  EXPECT_FALSE(try_add(SubscriptionKind::kElastic, "https://es:9200", "{}", 7200).ok());
  NewSubscription bad;
  bad.name = "no spaces allowed";
  bad.kind = SubscriptionKind::kMisp;
  EXPECT_EQ(reg_->add_subscription(a.id, bad).error().code, ErrorCode::kInvalidArgument);
  bad.name = "fine";
  EXPECT_EQ(reg_->add_subscription(9999, bad).error().code, ErrorCode::kNotFound);
}

// A long-lived reader (the dispatcher's connection) sees every commit of another connection:
// no call leaves a read transaction open behind it.
TEST_F(SqliteRegistryTest, ReaderSeesOtherConnectionsChanges) {
  Organisation a = add("org_a");
  NewSubscription n;
  n.name = "s";
  n.kind = SubscriptionKind::kSyslog;
  n.address = "127.0.0.1:9";
  auto s = reg_->add_subscription(a.id, n);
  ASSERT_TRUE(s.ok());
  auto reader = open();
  for (int i = 0; i < 4; ++i) {
    uint64_t before = *reader->generation();
    ASSERT_TRUE(reader->list_subscriptions(std::nullopt, true).ok());
    ASSERT_TRUE(reader->find_org(std::to_string(a.id)).ok());
    SubscriptionUpdate u;
    u.enabled = i % 2 == 1;
    ASSERT_TRUE(reg_->update_subscription(s->id, u).ok());
    EXPECT_EQ(*reader->generation(), before + 1) << "round " << i;
    auto listed = reader->list_subscriptions(std::nullopt, true);
    EXPECT_EQ((*listed)[0].enabled, i % 2 == 1) << "round " << i;
  }
}

// Opening one more connection in a process must not take the locks of those already open:
// a change another process (the CLI) commits afterwards is seen by all of them. (A raw
// open()+close() of the database file used to drop the process's POSIX locks; the CLI then
// took itself for the last user, checkpointed and deleted the WAL, and the service's
// connections kept reading their old snapshot for good.) The other process is Debian's
// sqlite3 shell: a forked child would share this process's SQLite lock bookkeeping.
TEST_F(SqliteRegistryTest, AnotherProcessesChangesAreSeenAfterMoreConnectionsOpen) {
  if (system("command -v sqlite3 >/dev/null 2>&1") != 0) GTEST_SKIP() << "no sqlite3 shell";
  add("org_a");
  auto first = open();
  uint64_t before = *first->generation();
  auto second = open();  // the service opens more connections as it goes (pools, views)
  for (int round = 1; round <= 3; ++round) {
    pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      execlp("sqlite3", "sqlite3", path().c_str(),
             "UPDATE meta SET value = value + 1 WHERE name = 'generation'", nullptr);
      _exit(127);
    }
    int status = 0;
    waitpid(child, &status, 0);
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    EXPECT_EQ(*first->generation(), before + static_cast<uint64_t>(round)) << "round " << round;
    EXPECT_EQ(*second->generation(), before + static_cast<uint64_t>(round)) << "round " << round;
  }
}

}  // namespace
}  // namespace vantage::registry

#pragma once
// The SQLite registry: <data_dir>/registry.sqlite in WAL mode, schema versioned with
// PRAGMA user_version, every multi-step change in one BEGIN IMMEDIATE transaction, foreign
// keys on so that removing an organisation removes what it owns. API-key secrets are sealed
// with a SecretBox (AES-256-GCM) before they reach the file.
//
// Thread-safety: one object per thread (each holds its own connection). Several processes
// may open the same file; writers serialise on SQLite's lock (10 s busy timeout).

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "registry/registry.h"
#include "registry/secret_box.h"
#include "registry/sqlite/db.h"

namespace vantage::registry {

class SqliteRegistry final : public Registry {
 public:
  // 2: + subscriptions (push integrations).
  static constexpr int kSchemaVersion = 2;

  // Opens or creates the database at `path`; migrates older schemas; refuses newer ones.
  static Result<std::unique_ptr<SqliteRegistry>> open(const std::string& path, SecretBox box);
  // <data_dir>/registry.sqlite with the server key from SecretBox::load_or_create.
  static Result<std::unique_ptr<SqliteRegistry>> open_in_data_dir(const std::string& data_dir);

  // Tests pin the clock to exercise rotation windows.
  void set_clock(std::function<UnixSeconds()> clock) { clock_ = std::move(clock); }

  Result<Organisation> add_org(const NewOrganisation& org) override;
  Result<Organisation> find_org(std::string_view id_or_short_name) override;
  Result<std::vector<Organisation>> list_orgs() override;
  Result<Organisation> update_org(OrgId id, const OrgUpdate& update) override;
  Status remove_org(OrgId id) override;
  Result<OrgRecord> org_record(OrgId id) override;

  Result<Contact> add_contact(OrgId org, const Contact& contact) override;
  Status remove_contact(OrgId org, int64_t contact_id) override;
  Result<std::string> add_recipient(OrgId org, std::string_view email) override;
  Status remove_recipient(OrgId org, std::string_view email) override;

  Result<AddedResource> add_resource(OrgId org, ResourceKind kind, std::string_view text) override;
  Status remove_resource(OrgId org, ResourceKind kind, std::string_view text) override;
  Status set_verification(int64_t resource_id, Verification v, std::string_view detail) override;
  Status set_approval(int64_t resource_id, Approval a) override;
  Result<std::vector<Claimant>> other_claimants(OrgId org, ResourceKind kind,
                                                std::string_view canonical) override;

  Result<std::string> add_ignore(OrgId org, std::string_view cidr) override;
  Status remove_ignore(OrgId org, std::string_view cidr) override;
  Status add_opt_out(OrgId org, std::string_view report_type) override;
  Status remove_opt_out(OrgId org, std::string_view report_type) override;

  Result<IssuedKey> issue_key(std::optional<OrgId> org, KeyKind kind,
                              std::string_view label) override;
  Result<IssuedKey> rotate_key(std::string_view key, int64_t overlap_seconds) override;
  Status revoke_key(std::string_view key) override;
  Result<std::vector<ApiKey>> list_keys(std::optional<OrgId> org) override;
  Result<KeyCredentials> key_credentials(std::string_view key) override;

  Result<Subscription> add_subscription(OrgId org, const NewSubscription& sub) override;
  Result<Subscription> update_subscription(int64_t id, const SubscriptionUpdate& u) override;
  Status remove_subscription(int64_t id) override;
  Result<std::vector<Subscription>> list_subscriptions(std::optional<OrgId> org,
                                                       bool with_secrets) override;

  Result<uint64_t> generation() override;
  Result<RegistrySnapshot> snapshot(bool with_secrets) override;
  Result<ImportReport> import(const RegistrySnapshot& snapshot,
                              const ImportOptions& options) override;

 private:
  SqliteRegistry(std::unique_ptr<sqlite::Connection> db, SecretBox box)
      : db_(std::move(db)), box_(std::move(box)) {}
  Status migrate();
  Status bump_generation();
  UnixSeconds now() const { return clock_ ? clock_() : now_seconds(); }
  Result<Organisation> org_by_id(OrgId id);
  Status touch_org(OrgId id);
  Result<int64_t> insert_org(const Organisation& org);
  Status insert_key(const ApiKey& key, const std::vector<std::string>& plaintext_secrets);
  // Reads everything; the caller holds a transaction.
  Result<RegistrySnapshot> read_snapshot(bool with_secrets);
  Result<std::vector<Subscription>> read_subscriptions(const std::string& where, int64_t param,
                                                       bool with_secrets);
  Result<std::vector<ApiKey>> read_keys(const std::string& where, std::optional<OrgId> org,
                                        bool with_secrets);

  std::unique_ptr<sqlite::Connection> db_;
  SecretBox box_;
  std::function<UnixSeconds()> clock_;
  // generation() runs on every API request (the key cache checks it); parsing its SQL each
  // time cost more than running it. Declared after db_ so it is finalised first.
  std::optional<sqlite::Stmt> generation_stmt_;
};

}  // namespace vantage::registry

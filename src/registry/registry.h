#pragma once
// The registry of organisations and what they claim: the abstract interface. The SQLite
// implementation lives in registry/sqlite/; a scale-out store can implement the same
// interface (Zeek's storage/Backend.h beside storage/backend/sqlite/ is the model).
//
// Contract for every implementation:
// - Inputs are validated and normalised here (registry/validate.h); the caller passes text
//   as typed. Bad input -> kInvalidArgument with a message fit for the operator.
// - Each call is atomic: a multi-step change commits completely or not at all.
// - Every committed change bumps generation(), so subscribers (the subscription index) can
//   tell cheaply that they must rebuild.
// - Organisations are addressed by id ("12") or short name ("Example_CERT").
// - Secrets: issue/rotate return the plaintext once; otherwise they leave the registry only
//   through key_secrets() (for HMAC verification) and snapshot(with_secrets=true) (for
//   export). Implementations store them encrypted and never log them.
//
// Thread-safety: an implementation object is used by one thread at a time; open one per
// thread (SQLite: each gets its own connection, WAL lets readers run beside the writer).

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "registry/model.h"

namespace vantage::registry {

struct NewOrganisation {
  std::string name;
  std::string short_name;
  OrgKind kind = OrgKind::kOrganisation;
  Severity min_severity = Severity::kInfo;
  std::optional<std::string> pgp_key;
};

// Partial update: unset fields are left alone. `clear_pgp_key` removes the key.
struct OrgUpdate {
  std::optional<std::string> name;
  std::optional<OrgKind> kind;
  std::optional<Severity> min_severity;
  std::optional<std::string> pgp_key;
  bool clear_pgp_key = false;
};

// Another organisation that claims the same resource.
struct Claimant {
  OrgId org_id = 0;
  std::string short_name;
};

struct AddedResource {
  Resource resource;
  std::string warning;                    // e.g. "host bits set; stored as 192.0.2.0/24"
  std::vector<Claimant> also_claimed_by;  // allowed, but flagged to the operator
};

// What issue/rotate hand back: the only time the plaintext secret is shown.
struct IssuedKey {
  std::string key;
  std::string secret;
  KeyKind kind = KeyKind::kApi;
  std::optional<OrgId> org_id;
};

// Secrets accepted for a key at a given time, for HMAC verification by the API server.
struct KeyCredentials {
  std::string key;
  KeyKind kind = KeyKind::kApi;
  std::optional<OrgId> org_id;
  std::string label;
  std::vector<std::string> secrets;  // current first, then those in a rotation overlap
};

// A new push subscription. The secret (may be empty) is sealed before it is stored.
struct NewSubscription {
  std::string name;
  SubscriptionKind kind = SubscriptionKind::kWebhook;
  std::string address;
  std::string options = "{}";
  std::vector<std::string> report_types;
  Severity min_severity = Severity::kHigh;
  int64_t batch_window_s = 5;
  int64_t max_batch = 500;
  bool enabled = true;
  std::string secret;
};

// Partial update of a subscription: unset fields are left alone. `clear_secret` removes it.
struct SubscriptionUpdate {
  std::optional<std::string> address;
  std::optional<std::string> options;
  std::optional<std::vector<std::string>> report_types;
  std::optional<Severity> min_severity;
  std::optional<int64_t> batch_window_s;
  std::optional<int64_t> max_batch;
  std::optional<bool> enabled;
  std::optional<std::string> secret;
  bool clear_secret = false;
};

// What an import changed, for the operator.
struct ImportReport {
  int orgs_added = 0;
  int orgs_updated = 0;
  int orgs_unchanged = 0;
  int orgs_removed = 0;
  int keys_added = 0;
  int keys_skipped = 0;            // present in the file without secrets and absent here
  std::vector<std::string> lines;  // one human-readable line per change
};

struct ImportOptions {
  bool remove_missing = false;  // delete organisations that are not in the snapshot
};

class Registry {
 public:
  virtual ~Registry() = default;

  // Organisations.
  virtual Result<Organisation> add_org(const NewOrganisation& org) = 0;
  virtual Result<Organisation> find_org(std::string_view id_or_short_name) = 0;
  virtual Result<std::vector<Organisation>> list_orgs() = 0;
  virtual Result<Organisation> update_org(OrgId id, const OrgUpdate& update) = 0;
  // Removes the organisation with everything it owns (contacts, resources, keys).
  virtual Status remove_org(OrgId id) = 0;
  // Everything about one organisation (secrets never included).
  virtual Result<OrgRecord> org_record(OrgId id) = 0;

  // Contacts and report recipients.
  virtual Result<Contact> add_contact(OrgId org, const Contact& contact) = 0;
  virtual Status remove_contact(OrgId org, int64_t contact_id) = 0;
  virtual Result<std::string> add_recipient(OrgId org, std::string_view email) = 0;
  virtual Status remove_recipient(OrgId org, std::string_view email) = 0;

  // Network resources. Duplicate within one org -> kAlreadyExists; claimed by another org ->
  // allowed, reported in AddedResource::also_claimed_by. Countries need a national CSIRT.
  // Domains get a fresh DNS verification token.
  virtual Result<AddedResource> add_resource(OrgId org, ResourceKind kind,
                                             std::string_view text) = 0;
  // `text` is normalised the same way before it is looked up.
  virtual Status remove_resource(OrgId org, ResourceKind kind, std::string_view text) = 0;
  virtual Status set_verification(int64_t resource_id, Verification v, std::string_view detail) = 0;
  virtual Status set_approval(int64_t resource_id, Approval a) = 0;
  // Other organisations claiming the same canonical resource.
  virtual Result<std::vector<Claimant>> other_claimants(OrgId org, ResourceKind kind,
                                                        std::string_view canonical) = 0;

  // Delivery preferences.
  virtual Result<std::string> add_ignore(OrgId org, std::string_view cidr) = 0;
  virtual Status remove_ignore(OrgId org, std::string_view cidr) = 0;
  virtual Status add_opt_out(OrgId org, std::string_view report_type) = 0;
  virtual Status remove_opt_out(OrgId org, std::string_view report_type) = 0;

  // API keys. `org` may be empty only for ingest keys.
  virtual Result<IssuedKey> issue_key(std::optional<OrgId> org, KeyKind kind,
                                      std::string_view label) = 0;
  // New secret for the same key id. The old secrets stay valid for `overlap_seconds`
  // (0: revoked at once).
  virtual Result<IssuedKey> rotate_key(std::string_view key, int64_t overlap_seconds) = 0;
  virtual Status revoke_key(std::string_view key) = 0;
  // Keys without secrets; all organisations when `org` is empty.
  virtual Result<std::vector<ApiKey>> list_keys(std::optional<OrgId> org) = 0;
  // kNotFound for unknown keys, kPermissionDenied for revoked ones.
  virtual Result<KeyCredentials> key_credentials(std::string_view key) = 0;

  // Push subscriptions (src/integrations). Names: [A-Za-z0-9_-]{1,64}, unique per
  // organisation -> kAlreadyExists. The address is checked for its kind's shape (URL or
  // HOST:PORT); the options only for being a JSON object (each kind checks its own keys).
  // Removing an organisation removes its subscriptions. Every change bumps generation().
  virtual Result<Subscription> add_subscription(OrgId org, const NewSubscription& sub) = 0;
  virtual Result<Subscription> update_subscription(int64_t id, const SubscriptionUpdate& u) = 0;
  virtual Status remove_subscription(int64_t id) = 0;
  // All organisations' when `org` is empty, ordered by id; secrets only with `with_secrets`.
  virtual Result<std::vector<Subscription>> list_subscriptions(std::optional<OrgId> org,
                                                               bool with_secrets) = 0;

  // Whole-registry views.
  virtual Result<uint64_t> generation() = 0;
  virtual Result<RegistrySnapshot> snapshot(bool with_secrets) = 0;
  // Applies a snapshot in one transaction: organisations are matched by short name, created
  // or updated so that their contacts, recipients, resources, ignores and opt-outs equal the
  // snapshot's. Keys in the snapshot are added when absent and carry secrets.
  virtual Result<ImportReport> import(const RegistrySnapshot& snapshot,
                                      const ImportOptions& options) = 0;
};

}  // namespace vantage::registry

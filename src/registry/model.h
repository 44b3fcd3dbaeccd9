#pragma once
// The registry's data model: organisations, the people and addresses that receive their
// reports, the network resources they claim, their delivery preferences and API keys.
// Plain values, thread-safe to copy and read. Validation lives in registry/validate.h; these
// structs hold values that have already been normalised (canonical CIDR text, punycode
// domains, decimal ASNs, upper-case country codes).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/time.h"

namespace vantage::registry {

using OrgId = int64_t;

enum class OrgKind : uint8_t { kOrganisation, kNationalCsirt };
const char* org_kind_name(OrgKind k);
std::optional<OrgKind> parse_org_kind(std::string_view s);

// Event severity as in Shadowserver reports. Ordered: a minimum severity drops events below it.
enum class Severity : uint8_t { kInfo = 0, kLow = 1, kMedium = 2, kHigh = 3, kCritical = 4 };
const char* severity_name(Severity s);
std::optional<Severity> parse_severity(std::string_view s);

enum class ResourceKind : uint8_t { kAsn, kCidr, kDomain, kCountry };
const char* resource_kind_name(ResourceKind k);
std::optional<ResourceKind> parse_resource_kind(std::string_view s);

// Outcome of checking a claim against routing data (CIDR/ASN) or DNS (domain).
enum class Verification : uint8_t { kUnchecked, kVerified, kMismatch, kUnrouted };
const char* verification_name(Verification v);
std::optional<Verification> parse_verification(std::string_view s);

// The operator's decision on a claim. Rejected claims never match events.
enum class Approval : uint8_t { kPending, kApproved, kRejected };
const char* approval_name(Approval a);
std::optional<Approval> parse_approval(std::string_view s);

struct Organisation {
  OrgId id = 0;
  std::string name;
  std::string short_name;  // [A-Za-z0-9_]+, used in report file names
  OrgKind kind = OrgKind::kOrganisation;
  std::optional<std::string> pgp_key;  // ASCII-armored public key
  Severity min_severity = Severity::kInfo;
  UnixSeconds created_at = 0;
  UnixSeconds updated_at = 0;
};

struct Contact {
  int64_t id = 0;
  std::string name;
  std::string email;
  std::string title;
  std::string phone;
};

struct Resource {
  int64_t id = 0;
  ResourceKind kind = ResourceKind::kCidr;
  std::string value;  // canonical: "64500", "192.0.2.0/24", "example.org", "NL"
  Verification verification = Verification::kUnchecked;
  std::string verification_detail;
  UnixSeconds checked_at = 0;
  Approval approval = Approval::kPending;
  std::string dns_token;  // domains only: the value expected in a "vantage-verify=" TXT record
  UnixSeconds created_at = 0;
};

enum class KeyKind : uint8_t { kApi, kIngest };
const char* key_kind_name(KeyKind k);
std::optional<KeyKind> parse_key_kind(std::string_view s);

// One secret of an API key. A key has one current secret and, during a rotation overlap
// window, older secrets that are still accepted until `expires_at`.
struct KeySecret {
  UnixSeconds created_at = 0;
  UnixSeconds expires_at = 0;  // 0: no expiry (the current secret)
  std::string secret;          // plaintext; empty unless explicitly requested
};

struct ApiKey {
  std::string key;  // public identifier, sent by clients as "apikey"
  KeyKind kind = KeyKind::kApi;
  std::optional<OrgId> org_id;  // ingest keys may belong to no organisation
  std::string label;
  UnixSeconds created_at = 0;
  UnixSeconds revoked_at = 0;  // 0: active
  std::vector<KeySecret> secrets;
};

// Where an organisation's events are pushed as they arrive (src/integrations delivers them):
// an HTTPS webhook, a syslog collector (RFC 5424 over TCP/TLS, CEF), Elasticsearch/OpenSearch
// `_bulk`, Splunk's HTTP Event Collector, or a MISP feed that the organisation's MISP pulls.
enum class SubscriptionKind : uint8_t { kWebhook, kSyslog, kElastic, kSplunk, kMisp };
const char* subscription_kind_name(SubscriptionKind k);  // "webhook", "syslog", ...
std::optional<SubscriptionKind> parse_subscription_kind(std::string_view s);

struct Subscription {
  int64_t id = 0;
  OrgId org_id = 0;
  std::string name;  // [A-Za-z0-9_-]{1,64}, unique within the organisation
  SubscriptionKind kind = SubscriptionKind::kWebhook;
  // URL (webhook, elastic, splunk), HOST:PORT (syslog), empty (misp: pulled, not pushed).
  std::string address;
  // Settings of the kind that are not secret, a JSON object ("{}" when none); each kind
  // validates its own (src/integrations/sinks/registry.cc).
  std::string options = "{}";
  std::vector<std::string> report_types;    // empty: every type
  Severity min_severity = Severity::kHigh;  // the alert threshold
  int64_t batch_window_s = 5;               // events wait at most this long to share a request
  int64_t max_batch = 500;                  // events per request
  bool enabled = true;
  bool has_secret = false;
  // The credential (webhook signing secret, HEC token, Elasticsearch API key): sealed with
  // the server key like API secrets; plaintext here only when asked for.
  std::string secret;
  UnixSeconds created_at = 0;
  UnixSeconds updated_at = 0;
};

// Everything the registry knows about one organisation.
struct OrgRecord {
  Organisation org;
  std::vector<Contact> contacts;
  std::vector<std::string> recipients;  // report e-mail addresses
  std::vector<Resource> resources;
  std::vector<std::string> ignores;   // canonical CIDRs whose events the org does not want
  std::vector<std::string> opt_outs;  // report type names the org does not want
  std::vector<ApiKey> keys;           // secrets filled only when asked for
};

// A consistent copy of the whole registry, read in one transaction. The subscription index
// and `registry export` are built from it.
struct RegistrySnapshot {
  uint64_t generation = 0;  // bumped by every committed change
  std::vector<OrgRecord> orgs;
  std::vector<ApiKey> unowned_keys;  // ingest keys without an organisation
};

}  // namespace vantage::registry

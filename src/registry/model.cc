#include "registry/model.h"

namespace vantage::registry {
namespace {

template <typename E, size_t N>
std::optional<E> parse_name(std::string_view s, const char* const (&names)[N]) {
  for (size_t i = 0; i < N; ++i) {
    if (s == names[i]) return static_cast<E>(i);
  }
  return std::nullopt;
}

constexpr const char* kOrgKinds[] = {"organisation", "national_csirt"};
constexpr const char* kSeverities[] = {"info", "low", "medium", "high", "critical"};
constexpr const char* kResourceKinds[] = {"asn", "cidr", "domain", "country"};
constexpr const char* kVerifications[] = {"unchecked", "verified", "mismatch", "unrouted"};
constexpr const char* kApprovals[] = {"pending", "approved", "rejected"};
constexpr const char* kKeyKinds[] = {"api", "ingest"};
constexpr const char* kSubscriptionKinds[] = {"webhook", "syslog", "elastic", "splunk", "misp"};

}  // namespace

const char* org_kind_name(OrgKind k) {
  return kOrgKinds[static_cast<int>(k)];
}
std::optional<OrgKind> parse_org_kind(std::string_view s) {
  if (s == "org" || s == "csirt") return OrgKind::kOrganisation;
  if (s == "national") return OrgKind::kNationalCsirt;
  return parse_name<OrgKind>(s, kOrgKinds);
}
const char* severity_name(Severity s) {
  return kSeverities[static_cast<int>(s)];
}
std::optional<Severity> parse_severity(std::string_view s) {
  return parse_name<Severity>(s, kSeverities);
}
const char* resource_kind_name(ResourceKind k) {
  return kResourceKinds[static_cast<int>(k)];
}
std::optional<ResourceKind> parse_resource_kind(std::string_view s) {
  return parse_name<ResourceKind>(s, kResourceKinds);
}
const char* verification_name(Verification v) {
  return kVerifications[static_cast<int>(v)];
}
std::optional<Verification> parse_verification(std::string_view s) {
  return parse_name<Verification>(s, kVerifications);
}
const char* approval_name(Approval a) {
  return kApprovals[static_cast<int>(a)];
}
std::optional<Approval> parse_approval(std::string_view s) {
  return parse_name<Approval>(s, kApprovals);
}
const char* key_kind_name(KeyKind k) {
  return kKeyKinds[static_cast<int>(k)];
}
std::optional<KeyKind> parse_key_kind(std::string_view s) {
  return parse_name<KeyKind>(s, kKeyKinds);
}

const char* subscription_kind_name(SubscriptionKind k) {
  return kSubscriptionKinds[static_cast<int>(k)];
}
std::optional<SubscriptionKind> parse_subscription_kind(std::string_view s) {
  return parse_name<SubscriptionKind>(s, kSubscriptionKinds);
}

}  // namespace vantage::registry

#pragma once
// Checking claims against the outside world.
//
// CIDRs and ASNs are checked against routing data through RoutingView, a small interface
// so that the registry does not depend on a particular routing table (the enrichment
// stage's AsnTable is adapted to it in the CLI; tests use a fake):
//   CIDR: unrouted  - no routed range overlaps the prefix;
//         verified  - every routed range overlapping it is originated by an ASN the
//                     organisation claims (the prefix is covered by, equal to, or contains
//                     those announcements);
//         mismatch  - some overlapping range is originated by an ASN the org does not claim.
//   ASN:  unrouted  - the ASN originates nothing;
//         verified  - it originates ranges, and if the org claims CIDRs, at least one of
//                     them overlaps a range it originates;
//         mismatch  - it originates ranges, none inside the org's claimed CIDRs.
// Domains are checked by a DNS TXT record "vantage-verify=<token>" at the domain itself;
// the token is generated when the domain is claimed.
//
// Thread-safety: the free functions are pure; RoutingView implementations must allow
// concurrent const calls.

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/ip.h"
#include "common/result.h"
#include "registry/model.h"

namespace vantage::registry {

struct RouteRange {
  IpAddress first;
  IpAddress last;  // inclusive
  uint32_t asn = 0;
  std::string as_name;
};

class RoutingView {
 public:
  virtual ~RoutingView() = default;
  // Routed ranges that overlap `prefix` (covering it, inside it or straddling an edge), in
  // address order.
  virtual std::vector<RouteRange> ranges_overlapping(const IpPrefix& prefix) const = 0;
  // Ranges originated by `asn`, in address order.
  virtual std::vector<RouteRange> ranges_of_asn(uint32_t asn) const = 0;
};

struct VerificationOutcome {
  Verification state = Verification::kUnchecked;
  std::string detail;  // for the operator: which ranges and origins led to the state
};

VerificationOutcome verify_cidr(const IpPrefix& prefix, std::span<const uint32_t> org_asns,
                                const RoutingView& routing);
VerificationOutcome verify_asn(uint32_t asn, std::span<const IpPrefix> org_cidrs,
                               const RoutingView& routing);

// Verifies every CIDR and ASN claim of `record` (domains and countries are left alone).
// Returns (resource id, outcome) pairs.
std::vector<std::pair<int64_t, VerificationOutcome>> verify_routing_claims(
    const OrgRecord& record, const RoutingView& routing);

// The TXT record value that proves control of a domain.
std::string dns_proof_record(std::string_view token);
// True if one of the TXT strings is exactly the proof record (surrounding whitespace and
// the case of the "vantage-verify=" prefix ignored; the token compares exactly).
bool txt_proves(std::span<const std::string> txt_records, std::string_view token);
VerificationOutcome verify_domain_txt(std::span<const std::string> txt_records,
                                      std::string_view token);

// TXT records of `name` via the system resolver (res_query). Each record's character
// strings are concatenated. NXDOMAIN / no data -> empty list; resolver failure -> kUnavailable.
Result<std::vector<std::string>> lookup_txt(const std::string& name);
// The same through one resolver, "IPV4:PORT" or "IPV4" (port 53) -- the operator's own, or in
// tests one started on loopback -- instead of /etc/resolv.conf's; "" means the system's.
// Errors: kInvalidArgument for a malformed resolver address.
Result<std::vector<std::string>> lookup_txt(const std::string& name, const std::string& resolver);

}  // namespace vantage::registry

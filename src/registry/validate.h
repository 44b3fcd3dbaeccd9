#pragma once
// Validation and normalisation of everything an operator types into the registry. Each
// function returns the canonical form (or an Error whose message says what is wrong and
// what is expected), so the store and the subscription index only ever see canonical values.
// Pure functions, thread-safe.

#include <cstdint>
#include <string>
#include <string_view>

#include "common/ip.h"
#include "common/result.h"
#include "registry/model.h"

namespace vantage::registry {

// Short names end up in report file names: [A-Za-z0-9_]{1,64}.
Status validate_short_name(std::string_view s);

// "64500", "AS64500", "as64500". Rejects 0 (RFC 7607), 23456 (AS_TRANS, RFC 6793),
// 65535 and 4294967295 (reserved, RFC 7300), anything out of 32-bit range or not decimal.
Result<uint32_t> parse_asn(std::string_view s);

struct CidrValue {
  IpPrefix prefix;
  bool had_host_bits = false;  // the input had bits set below the prefix length; we cleared them
};
// "192.0.2.0/24", "2001:db8::/32"; a bare address is a host prefix.
Result<CidrValue> parse_cidr(std::string_view s);

// Lower-cases ASCII, converts Unicode labels to "xn--" punycode, strips one trailing dot,
// and checks LDH rules: labels 1..63 octets of [a-z0-9-], no leading/trailing hyphen,
// hyphens in positions 3-4 only as a valid "xn--" A-label, total <= 253 octets, numeric-only TLD
// rejected. A single label ("nl") is allowed: national CSIRTs claim TLDs.
Result<std::string> normalise_domain(std::string_view s);

// ISO 3166-1 alpha-2 (officially assigned codes, plus XK), upper-cased.
Result<std::string> normalise_country(std::string_view s);

// A practical RFC 5321 address check: local@domain, dot-atom local part <= 64 octets, the
// domain normalised as above and holding at least two labels. Returns the address with the
// domain lower-cased.
Result<std::string> normalise_email(std::string_view s);

// Shallow check of an ASCII-armored OpenPGP public key block: the BEGIN and END armor lines
// are present and in order with a body between them.
Status validate_pgp_key(std::string_view armored);

struct ResourceValue {
  ResourceKind kind = ResourceKind::kCidr;
  std::string value;    // canonical text
  std::string warning;  // non-empty when the input was changed in a way worth telling
};
// Normalises a resource of a known kind.
Result<ResourceValue> normalise_resource(ResourceKind kind, std::string_view text);
// Guesses the kind from the text: an address or CIDR, "AS<n>" or digits, two letters (a
// country), otherwise a domain.
Result<ResourceValue> normalise_resource_auto(std::string_view text);

// Report type names as in the catalogue: [a-z0-9_-]{1,64}.
Status validate_report_type(std::string_view s);

// Subscription names: [A-Za-z0-9_-]{1,64}.
Status validate_subscription_name(std::string_view s);

// The address of a subscription of `kind`: an http:// or https:// URL with a host (webhook,
// elastic, splunk); HOST:PORT or [IPv6]:PORT with a port in 1..65535 (syslog); empty (misp,
// whose feed is pulled). Returns it trimmed.
Result<std::string> normalise_subscription_address(SubscriptionKind kind, std::string_view s);

// Kind-specific settings: a JSON object (at most 4 KiB). Returns it compact ("{}" for empty).
Result<std::string> normalise_subscription_options(std::string_view json_text);

}  // namespace vantage::registry

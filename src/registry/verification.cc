#include "registry/verification.h"

#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netdb.h>
#include <netinet/in.h>
#include <resolv.h>

#include <algorithm>
#include <set>

#include "common/strings.h"
#include "registry/validate.h"

namespace vantage::registry {
namespace {

std::string range_text(const RouteRange& r) {
  return r.first.to_string() + "-" + r.last.to_string() + " AS" + std::to_string(r.asn) +
         (r.as_name.empty() ? "" : " (" + r.as_name + ")");
}

std::string list_ranges(const std::vector<RouteRange>& ranges, size_t max = 3) {
  std::string out;
  for (size_t i = 0; i < ranges.size() && i < max; ++i) {
    if (i) out += "; ";
    out += range_text(ranges[i]);
  }
  if (ranges.size() > max) out += "; +" + std::to_string(ranges.size() - max) + " more";
  return out;
}

}  // namespace

VerificationOutcome verify_cidr(const IpPrefix& prefix, std::span<const uint32_t> org_asns,
                                const RoutingView& routing) {
  auto ranges = routing.ranges_overlapping(prefix);
  if (ranges.empty()) {
    return {Verification::kUnrouted, "no routed range overlaps " + prefix.to_string()};
  }
  std::vector<RouteRange> foreign;
  bool covered = false;
  for (const auto& r : ranges) {
    if (std::find(org_asns.begin(), org_asns.end(), r.asn) == org_asns.end()) {
      foreign.push_back(r);
    }
    covered = covered || (r.first <= prefix.first() && prefix.last() <= r.last);
  }
  const std::string shape = covered ? "inside routed range " : "contains routed ranges ";
  if (foreign.empty()) {
    return {Verification::kVerified, shape + list_ranges(ranges) + ", originated by a claimed ASN"};
  }
  return {Verification::kMismatch,
          "originated by an ASN the organisation does not claim: " + list_ranges(foreign)};
}

VerificationOutcome verify_asn(uint32_t asn, std::span<const IpPrefix> org_cidrs,
                               const RoutingView& routing) {
  auto ranges = routing.ranges_of_asn(asn);
  const std::string as = "AS" + std::to_string(asn);
  if (ranges.empty()) return {Verification::kUnrouted, as + " originates no routed range"};
  const std::string count = as + " originates " + std::to_string(ranges.size()) + " range(s)";
  if (org_cidrs.empty()) return {Verification::kVerified, count};
  for (const auto& r : ranges) {
    for (const auto& p : org_cidrs) {
      if (p.is_v4() == r.first.is_v4() && r.first <= p.last() && p.first() <= r.last) {
        return {Verification::kVerified,
                count + ", including " + range_text(r) + " overlapping claimed " + p.to_string()};
      }
    }
  }
  return {Verification::kMismatch, count + ", none inside the organisation's claimed CIDRs (e.g. " +
                                       list_ranges(ranges, 2) + ")"};
}

std::vector<std::pair<int64_t, VerificationOutcome>> verify_routing_claims(
    const OrgRecord& record, const RoutingView& routing) {
  std::vector<uint32_t> asns;
  std::vector<IpPrefix> cidrs;
  for (const auto& r : record.resources) {
    if (r.approval == Approval::kRejected) continue;
    if (r.kind == ResourceKind::kAsn) {
      if (auto a = parse_asn(r.value)) asns.push_back(*a);
    } else if (r.kind == ResourceKind::kCidr) {
      if (auto p = parse_cidr(r.value)) cidrs.push_back(p->prefix);
    }
  }
  std::vector<std::pair<int64_t, VerificationOutcome>> out;
  for (const auto& r : record.resources) {
    if (r.kind == ResourceKind::kAsn) {
      if (auto a = parse_asn(r.value)) out.emplace_back(r.id, verify_asn(*a, cidrs, routing));
    } else if (r.kind == ResourceKind::kCidr) {
      if (auto p = parse_cidr(r.value))
        out.emplace_back(r.id, verify_cidr(p->prefix, asns, routing));
    }
  }
  return out;
}

std::string dns_proof_record(std::string_view token) {
  return "vantage-verify=" + std::string(token);
}

bool txt_proves(std::span<const std::string> txt_records, std::string_view token) {
  if (token.empty()) return false;
  constexpr std::string_view kPrefix = "vantage-verify=";
  for (const auto& rec : txt_records) {
    std::string_view t = trim(rec);
    if (t.size() != kPrefix.size() + token.size()) continue;
    if (to_lower(t.substr(0, kPrefix.size())) != kPrefix) continue;
    if (t.substr(kPrefix.size()) == token) return true;
  }
  return false;
}

VerificationOutcome verify_domain_txt(std::span<const std::string> txt_records,
                                      std::string_view token) {
  if (txt_proves(txt_records, token)) {
    return {Verification::kVerified, "TXT " + dns_proof_record(token) + " found"};
  }
  return {Verification::kMismatch, "no TXT record \"" + dns_proof_record(token) + "\" (" +
                                       std::to_string(txt_records.size()) + " TXT record(s) seen)"};
}

Result<std::vector<std::string>> lookup_txt(const std::string& name) {
  return lookup_txt(name, std::string());
}

Result<std::vector<std::string>> lookup_txt(const std::string& name, const std::string& resolver) {
  struct sockaddr_in server {};
  if (!resolver.empty()) {
    std::string host = resolver;
    int port = 53;
    if (auto colon = resolver.rfind(':'); colon != std::string::npos) {
      host = resolver.substr(0, colon);
      auto p = parse_int(std::string_view(resolver).substr(colon + 1));
      if (!p || *p < 1 || *p > 65535)
        return Error::invalid("resolver '" + resolver + "': bad port (want IPV4:PORT)");
      port = static_cast<int>(*p);
    }
    server.sin_family = AF_INET;
    server.sin_port = htons(static_cast<uint16_t>(port));
    if (inet_pton(AF_INET, host.c_str(), &server.sin_addr) != 1)
      return Error::invalid("resolver '" + resolver + "': not an IPv4 address (want IPV4:PORT)");
  }
  std::vector<unsigned char> answer(65535);
  struct __res_state state {};
  if (res_ninit(&state) != 0)
    return Error{ErrorCode::kUnavailable, "resolver initialisation failed"};
  if (!resolver.empty()) {
    // Only this server, at its port (glibc sends to nsaddr_list as given, port included).
    state.nsaddr_list[0] = server;
    state.nscount = 1;
    state.retry = 2;
    state.retrans = 2;
  }
  int n = res_nquery(&state, name.c_str(), ns_c_in, ns_t_txt, answer.data(),
                     static_cast<int>(answer.size()));
  const int herr = state.res_h_errno;
  res_nclose(&state);
  if (n < 0) {
    if (herr == HOST_NOT_FOUND || herr == NO_DATA) return std::vector<std::string>{};
    return Error{ErrorCode::kUnavailable, "DNS TXT query for " + name + " failed"};
  }
  ns_msg msg;
  if (ns_initparse(answer.data(), n, &msg) != 0) return Error::io("malformed DNS answer");
  std::vector<std::string> out;
  for (int i = 0; i < ns_msg_count(msg, ns_s_an); ++i) {
    ns_rr rr;
    if (ns_parserr(&msg, ns_s_an, i, &rr) != 0) return Error::io("malformed DNS answer");
    if (ns_rr_type(rr) != ns_t_txt) continue;
    const unsigned char* p = ns_rr_rdata(rr);
    const unsigned char* end = p + ns_rr_rdlen(rr);
    std::string text;
    while (p < end) {
      size_t len = *p++;
      if (p + len > end) return Error::io("malformed TXT record");
      text.append(reinterpret_cast<const char*>(p), len);
      p += len;
    }
    out.push_back(std::move(text));
  }
  return out;
}

}  // namespace vantage::registry

// Connectionless LDAP (scan_ldap_udp, "CLDAP"; RFC 1798 as Active Directory implements it,
// [MS-ADTS] 3.1.1.3.1.1): the same anonymous root-DSE search as scan_ldap_tcp (ldap/ldap.h),
// in one UDP datagram to port 389. A domain controller answers with the SearchResultEntry and
// SearchResultDone in one datagram (or a few), some 30-60 times larger than the request: the
// reason CLDAP is reported (reflection/amplification), and the root DSE names the domain.
//
// response_size: every byte of every reply datagram; amplification: that over the request.
#include <string>

#include "sensors/scanner/probes/ldap/ldap.h"
#include "sensors/scanner/probes/udp_util.h"

namespace vantage::scanner {
namespace {

const std::string& request_bytes() {
  static const std::string r = ldap_rootdse_search_request();
  return r;
}

Result<nlohmann::json> cldap_parse(std::string_view framed) {
  const auto datagrams = udp_unframe(framed);
  nlohmann::json f = nlohmann::json::object();
  bool entry = false, done = false;
  for (auto d : datagrams) {
    if (done) break;
    auto used = ldap_read_search(d, f, &entry, &done);
    if (!used) return used.error();
  }
  if (!entry && !done) return Error::invalid("no CLDAP search answer");
  octets::set_amplification(f, datagrams, request_bytes().size());
  return f;
}

bool cldap_complete(std::string_view framed) {
  nlohmann::json f = nlohmann::json::object();
  bool entry = false, done = false;
  for (auto d : udp_unframe(framed)) {
    auto used = ldap_read_search(d, f, &entry, &done);
    if (!used || done) return true;  // junk ends the wait as surely as the final message
  }
  return false;
}

}  // namespace

ProbeModule cldap_module() {
  ProbeModule m;
  m.name = "cldap";
  m.report_type = "scan_ldap_udp";
  m.tag = "cldap";
  m.default_port = 389;
  m.transport = Transport::udp;
  m.columns = ldap_rootdse_columns();
  m.columns.push_back("response_size");
  m.columns.push_back("amplification");
  m.request = [](const ProbeTarget&) { return udp_frames({request_bytes()}); };
  m.complete = cldap_complete;
  m.parse = cldap_parse;
  return m;
}

}  // namespace vantage::scanner

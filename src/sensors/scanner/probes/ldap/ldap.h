#pragma once
// The anonymous root-DSE search shared by LDAP over TCP (scan_ldap_tcp, ldap.cc) and
// connectionless LDAP over UDP (scan_ldap_udp, cldap/): the request, the reader of the
// answer's messages, and the catalogue columns the root DSE attributes fill (Active
// Directory's attribute names, [MS-ADTS] 3.1.1.3.2; multi-valued ones joined with "|").

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace vantage::scanner {

// searchRequest: base "", scope base, filter (objectClass=*), attributes "*" and "+".
std::string ldap_rootdse_search_request();

// Reads the search answer's LDAPMessages at the front of `b` into `f`: sets *entry at a
// SearchResultEntry and *done at SearchResultDone; returns the bytes consumed (whole messages
// only), or an Error for bytes that are not an LDAP search answer.
Result<size_t> ldap_read_search(std::string_view b, nlohmann::json& f, bool* entry, bool* done);

// The columns ldap_read_search may set.
std::vector<std::string> ldap_rootdse_columns();

}  // namespace vantage::scanner

// CLDAP (389/udp, connectionless LDAP) as an Active Directory domain controller: a
// searchRequest gets the rootDSE entry (naming contexts, functional levels, host name...)
// and searchResDone in one datagram -- what makes CLDAP a favourite amplifier.

#include <ctime>

#include "sensors/honeypot/amp/ber.h"
#include "sensors/honeypot/amp/protocols.h"

namespace vantage::honeypot::amp {

namespace {

struct Attribute {
  const char* type;
  std::vector<std::string> values;
};

const std::vector<Attribute>& root_dse() {
  static const std::vector<Attribute> attrs = {
      {"currentTime", {}},  // filled per reply
      {"subschemaSubentry", {"CN=Aggregate,CN=Schema,CN=Configuration,DC=corp,DC=example"}},
      {"dsServiceName",
       {"CN=NTDS Settings,CN=DC01,CN=Servers,CN=Default-First-Site-Name,CN=Sites,"
        "CN=Configuration,DC=corp,DC=example"}},
      {"namingContexts",
       {"DC=corp,DC=example", "CN=Configuration,DC=corp,DC=example",
        "CN=Schema,CN=Configuration,DC=corp,DC=example", "DC=DomainDnsZones,DC=corp,DC=example",
        "DC=ForestDnsZones,DC=corp,DC=example"}},
      {"defaultNamingContext", {"DC=corp,DC=example"}},
      {"rootDomainNamingContext", {"DC=corp,DC=example"}},
      {"supportedLDAPVersion", {"3", "2"}},
      {"supportedSASLMechanisms", {"GSSAPI", "GSS-SPNEGO", "EXTERNAL", "DIGEST-MD5"}},
      {"dnsHostName", {"DC01.corp.example"}},
      {"ldapServiceName", {"corp.example:dc01$@CORP.EXAMPLE"}},
      {"serverName",
       {"CN=DC01,CN=Servers,CN=Default-First-Site-Name,CN=Sites,CN=Configuration,DC=corp,"
        "DC=example"}},
      {"isSynchronized", {"TRUE"}},
      {"isGlobalCatalogReady", {"TRUE"}},
      {"domainFunctionality", {"7"}},
      {"forestFunctionality", {"7"}},
      {"domainControllerFunctionality", {"7"}},
  };
  return attrs;
}

}  // namespace

bool respond_cldap(std::string_view q, const sensors::Endpoint&, std::string& reply,
                   std::string& summary) {
  std::string_view msg, id, search, base, v, attrs;
  if (!ber::expect(q, 0x30, msg) || !ber::expect(msg, 0x02, id) || id.size() > 4) return false;
  if (!ber::expect(msg, 0x63, search)) return false;  // [APPLICATION 3] searchRequest
  if (!ber::expect(search, 0x04, base)) return false;
  for (uint8_t tag : {0x0a, 0x0a, 0x02, 0x02, 0x01}) {  // scope, deref, size, time, typesOnly
    if (!ber::expect(search, tag, v)) return false;
  }
  ber::Tlv filter;
  if (!ber::read(search, filter) || ((filter.tag & 0xa0) != 0xa0 && filter.tag != 0x87)) {
    return false;
  }
  if (!ber::expect(search, 0x30, attrs)) return false;
  summary = "searchRequest ";
  if (base.empty()) {
    summary += "rootDSE";
  } else {
    append_printable(summary, base, 64);
  }
  int listed = 0;
  while (!attrs.empty() && listed < 4) {
    std::string_view a;
    if (!ber::expect(attrs, 0x04, a)) return false;
    summary += listed++ ? "," : " attrs=";
    append_printable(summary, a, 32);
  }

  std::string entry_attrs;
  for (const auto& attr : root_dse()) {
    std::string values;
    if (attr.values.empty()) {
      char t[32];
      time_t now = ::time(nullptr);
      struct tm tm {};
      ::gmtime_r(&now, &tm);
      size_t n = std::strftime(t, sizeof t, "%Y%m%d%H%M%S.0Z", &tm);
      ber::put(values, 0x04, std::string_view(t, n));
    }
    for (const auto& value : attr.values) ber::put(values, 0x04, value);
    ber::put(entry_attrs, 0x30, ber::tlv(0x04, attr.type) + ber::tlv(0x31, values));
  }
  std::string entry =
      ber::tlv(0x02, id) + ber::tlv(0x64, ber::tlv(0x04, "") + ber::tlv(0x30, entry_attrs));
  std::string done =
      ber::tlv(0x02, id) + ber::tlv(0x65, ber::tlv(0x0a, std::string(1, '\0')) +
                                              ber::tlv(0x04, "") + ber::tlv(0x04, ""));
  reply = ber::tlv(0x30, entry) + ber::tlv(0x30, done);
  return true;
}

}  // namespace vantage::honeypot::amp

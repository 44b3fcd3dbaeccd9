#pragma once
// Addresses that are never globally routed: private, loopback, link-local, shared (CGNAT),
// documentation, benchmarking, multicast, "this network", reserved (IANA special-purpose
// registries, RFC 6890 and updates, entries with Globally Reachable = False), plus IPv6
// outside 2000::/3, where nothing is allocated for global unicast. The enricher answers
// such addresses with asn 0 and empty geo without consulting the data files, whatever
// those files say: a geolocation for 10.0.0.1 is always wrong.
// Thread-safety: pure function.

#include "common/ip.h"

namespace vantage::enrich {

bool is_reserved(const IpAddress& a);

}  // namespace vantage::enrich

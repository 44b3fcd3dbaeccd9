#pragma once
// The sinkhole's web listeners (HTTP and HTTPS on the sinkhole addresses): every request a
// bot sends home is answered with an empty 200 and logged as an event4_sinkhole_http row
// (event6_ for IPv6 clients) -- method and header order, Host, URL, User-Agent, Referer,
// X-Forwarded-For, and for HTTPS the SNI, cipher and the ClientHello's JA3 -- with the family
// the classifier names. A Referer from another site also gives an
// event4_sinkhole_http_referer row for the referring site (referer.h).
//
// Bytes that are not HTTP (a custom protocol on port 80/443, garbage, a request that never
// ends) are logged as event4_sinkhole rows classified by the raw rules, kept aside (bounded),
// and counted: nothing a client sends disappears silently.

#include "common/result.h"
#include "sensors/common/tcp_reactor.h"
#include "sensors/sinkhole/context.h"

namespace vantage::sinkhole {

// `tls`: the listener's TLS context (null for plain HTTP).
Result<sensors::Endpoint> install_http(Context& ctx, const sensors::Endpoint& at,
                                       sensors::TlsContext tls);

// The host part of a Host header or URL authority: lower case, port and brackets removed.
std::string host_of(std::string_view authority);
// The same into `out` (replaced), without allocating once `out` has grown.
void host_of(std::string_view authority, std::string& out);

}  // namespace vantage::sinkhole

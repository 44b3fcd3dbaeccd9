#pragma once
// Raw TCP and UDP listeners on the ports a malware family calls home on with its own
// protocol: the first packet a client sends (bounded, sinkhole.first_packet_bytes) is
// classified by the raw rules' protocol magic and logged as an event4_sinkhole row
// (event6_sinkhole for IPv6 clients). Nothing is ever answered. First packets no rule names
// are kept aside (bounded per day) for writing the next rule.

#include <string_view>

#include "common/result.h"
#include "sensors/common/tcp_reactor.h"
#include "sensors/sinkhole/context.h"

namespace vantage::sinkhole {

Result<sensors::Endpoint> install_raw_tcp(Context& ctx, const sensors::Endpoint& at);
Result<sensors::Endpoint> install_raw_udp(Context& ctx, const sensors::Endpoint& at);

// Logs one raw first packet (also used by the web listeners for what is not HTTP).
// `application`: what the listener serves ("" for a raw port), used when no rule names one.
void log_raw(const Context& ctx, const Snapshot& snap, Counters& counters, std::string& out,
             const sensors::Endpoint& peer, const sensors::Endpoint& local, bool udp,
             std::string_view payload, std::string_view application, UnixSeconds when);

}  // namespace vantage::sinkhole

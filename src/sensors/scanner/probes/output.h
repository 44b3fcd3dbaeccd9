#pragma once
// Scanner event output: JSON Lines, one event per successful probe, for `vantage ingest`.
//
//   {"type":"scan_ssh","fields":{"timestamp":"2026-11-23 08:00:00","ip":"192.0.2.1",
//    "port":22,"protocol":"tcp","tag":"ssh","serverid_raw":"SSH-2.0-OpenSSH_9.2p1",...}}
//
// - "type" is the Shadowserver report type the module declares (scan_http, scan_ssh, ...;
//   template checks default to scan_http_vulnerable); for an IPv6 target it is the type's
//   scan6_ twin when the catalogue has one (scan_ssh -> scan6_ssh; scan_chargen stays).
// - "fields" uses exactly the catalogue's column names; only columns the module declares
//   (plus timestamp, ip, port, protocol, tag, severity) ever appear; columns with no value
//   are omitted rather than written empty.
// - timestamp is UTC "YYYY-MM-DD HH:MM:SS" (time of the reply); port is a JSON number;
//   protocol is "tcp" (or "udp"); numbers the protocol gives as text (redis INFO, memcached
//   stats) stay strings, as Shadowserver's CSVs carry them.
// - Lines end with "\n"; strings are UTF-8 with invalid bytes replaced (U+FFFD).

#include <cstdio>
#include <functional>
#include <set>
#include <string>

#include "sensors/scanner/probes/engine.h"

namespace vantage::scanner {

std::string format_event(const ProbeOutcome& outcome, int64_t unix_seconds);

// The report type an event of `module` about `ip` goes to (see "type" above).
std::string report_type_for(const ProbeModule& module, const IpAddress& ip);

struct ProbeRunStats {
  size_t jobs = 0, events = 0, failed = 0;
  std::set<std::string> report_types;  // of the events written
};

// Runs `jobs` (run_probes) and writes one event line per success to `out`; every other
// outcome goes to `on_failure` (may be empty). Timestamps are the time of each reply.
ProbeRunStats run_probes_to_jsonl(const std::vector<ProbeJob>& jobs, const EngineOptions& options,
                                  std::FILE* out,
                                  const std::function<void(const ProbeOutcome&)>& on_failure);

}  // namespace vantage::scanner

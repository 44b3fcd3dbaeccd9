#pragma once
// The UDP services abused for amplification, each as one pure function of a request: it
// reads the datagram (bounded; fuzzed by fuzz/fuzz_honeypot.cc), writes the reply a real
// server would give into `reply` -- kept modest: the per-source budget (tracker.h) decides
// whether it is sent at all -- and a one-line summary of the request into `summary` (the
// ddos_amp event's `request` column: "ANY isc.org", "monlist", "M-SEARCH ssdp:all").
// Returns false when the datagram is not a request of that protocol (counted, not answered).
// An empty `reply` with true: a request recognised but not answered (SNMPv3, say).

#include <string>
#include <string_view>

#include "sensors/common/tcp_reactor.h"

namespace vantage::honeypot::amp {

using Responder = bool (*)(std::string_view request, const sensors::Endpoint& local,
                           std::string& reply, std::string& summary);

bool respond_dns(std::string_view request, const sensors::Endpoint& local, std::string& reply,
                 std::string& summary);
bool respond_ntp(std::string_view request, const sensors::Endpoint& local, std::string& reply,
                 std::string& summary);
bool respond_ssdp(std::string_view request, const sensors::Endpoint& local, std::string& reply,
                  std::string& summary);
bool respond_chargen(std::string_view request, const sensors::Endpoint& local, std::string& reply,
                     std::string& summary);
bool respond_snmp(std::string_view request, const sensors::Endpoint& local, std::string& reply,
                  std::string& summary);
bool respond_memcached(std::string_view request, const sensors::Endpoint& local, std::string& reply,
                       std::string& summary);
bool respond_cldap(std::string_view request, const sensors::Endpoint& local, std::string& reply,
                   std::string& summary);

// Appends `s` with bytes outside printable ASCII as \xNN, at most `max` input bytes.
void append_printable(std::string& out, std::string_view s, size_t max = 128);

}  // namespace vantage::honeypot::amp

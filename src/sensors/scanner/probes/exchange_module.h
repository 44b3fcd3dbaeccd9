#pragma once
// Building blocks of stateful (Exchange) modules: a module value around an Exchange class,
// the replay of recorded server bytes through a fresh exchange (what such a module's parse()
// does, for tests and fuzzing), and the TLS columns an exchange adds after an in-band upgrade.

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "sensors/scanner/probes/probe.h"
#include "sensors/scanner/probes/ssl/ssl.h"

namespace vantage::scanner {

// Runs `x` over a whole recorded server side (every reply in order, as one string). Replies
// are fed one byte at a time for the first 64 bytes (a slow server), then in one piece.
inline Result<nlohmann::json> replay_exchange(Exchange& x, std::string_view server_bytes) {
  (void)x.start();
  bool done = false;
  size_t i = 0;
  for (; i < server_bytes.size() && i < 64 && !done; ++i)
    (void)x.feed(server_bytes.substr(i, 1), &done);
  if (!done && i < server_bytes.size()) (void)x.feed(server_bytes.substr(i), &done);
  return x.result();
}

// Adds the columns of a completed in-band TLS handshake to `f` (nothing when `tls` is null or
// its handshake failed: the event keeps what the clear-text part gave).
inline void add_tls_columns(nlohmann::json& f, TlsExchange* tls) {
  if (!tls) return;
  if (auto t = tls->result())
    for (const auto& [k, v] : t->items()) f[k] = v;
}

// A TCP module driven by a default-constructible Exchange X; parse() replays recorded bytes.
template <class X>
ProbeModule exchange_module(std::string name, std::string report_type, uint16_t port,
                            std::vector<std::string> columns) {
  ProbeModule m;
  m.tag = name;
  m.name = std::move(name);
  m.report_type = std::move(report_type);
  m.default_port = port;
  m.columns = std::move(columns);
  m.exchange = [](const ProbeTarget&) { return std::make_unique<X>(); };
  m.request = [](const ProbeTarget&) { return X().start(); };
  m.complete = [](std::string_view) { return true; };
  m.parse = [](std::string_view b) {
    X x;
    return replay_exchange(x, b);
  };
  return m;
}

}  // namespace vantage::scanner

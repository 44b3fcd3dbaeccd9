#pragma once
// [honeypot] settings of the scan and amplification services (HTTP/HTTPS, the UDP
// amplifiers, the darknet), grouped so HoneypotSettings carries them as one member.

#include <chrono>
#include <cstdint>
#include <string>

namespace vantage::honeypot {

struct AmpSettings {
  // Per source address and service, per minute: answered requests at most, and reply bytes
  // at most. Beyond either, the service stops answering that source until the minute is
  // over, so a spoofed-source flood gets no more than this out of the honeypot.
  int64_t replies_per_minute = 5;
  int64_t reply_bytes_per_minute = 8192;
  // An attack: at least this many requests from one (spoofed) source to one service, ended
  // once the source has been silent for `attack_idle` (AmpPot: 100 requests, 1 h).
  int64_t attack_min_requests = 100;
  std::chrono::milliseconds attack_idle{std::chrono::minutes(60)};
  size_t max_tracked_sources = 100000;  // per service; the least recently seen is dropped
};

struct DarknetSettings {
  std::chrono::milliseconds interval{std::chrono::minutes(5)};  // one count per source+port
  size_t max_tracked = 100000;  // (source, port, protocol) counters per interval
};

struct ScanSettings {
  std::string http_server = "Apache/2.4.58 (Ubuntu)";  // the Server header the web answers with
  std::string tls_cert, tls_key;  // PEM files for HTTPS; empty: a self-signed certificate
  AmpSettings amp;
  DarknetSettings darknet;
};

}  // namespace vantage::honeypot

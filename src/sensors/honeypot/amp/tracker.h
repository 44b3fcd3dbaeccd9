#pragma once
// What an amplification honeypot service (AmpPot, Krämer et al., RAID 2015) keeps per
// source address -- which, for an amplification attack, is the spoofed address of the victim:
//
//   * the reply budget: at most `replies_per_minute` replies and `reply_bytes_per_minute`
//     reply bytes per source per minute. Below it the service answers like a real amplifier
//     (a scanner looking for amplifiers sees one); beyond it the source gets nothing, so a
//     flood of spoofed requests makes the honeypot send at most the budget towards its victim;
//   * the attack: requests counted from the first one; when the source has been silent for
//     `attack_idle`, the requests so far are an attack if there are at least
//     `attack_min_requests` of them (one event4_honeypot_ddos_amp event: first request,
//     count, bytes, start/end, duration, average and peak requests per second), else a scan
//     (counted, not reported).
//
// State is bounded: at most `max_tracked_sources` sources; the least recently seen one goes
// first (reported if it was an attack). Thread-safe (one mutex: the UDP loops of a service
// share its tracker, since a victim's spoofed packets are spread over them by source port).

#include <chrono>
#include <cstdint>
#include <list>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/time.h"
#include "sensors/common/tcp_reactor.h"
#include "sensors/honeypot/scan_settings.h"
#include "sensors/honeypot/service.h"

namespace vantage::honeypot::amp {

using Clock = std::chrono::steady_clock;

struct TrackerStats {
  int64_t requests = 0;
  int64_t replies = 0;      // answered within the budget
  int64_t suppressed = 0;   // not answered: over the budget
  int64_t reply_bytes = 0;  // bytes of the replies sent
  int64_t attacks = 0;      // reported
  int64_t scans = 0;        // sources that went quiet below the attack threshold
  int64_t evicted = 0;      // dropped to stay within max_tracked_sources
  int64_t tracked = 0;      // sources tracked now
};

// A finished attack, ready to be written.
struct Attack {
  sensors::Endpoint victim;  // the (spoofed) source: its address and first source port
  sensors::Endpoint target;  // the honeypot address and port it hit
  std::string request;       // the first request, summarised ("ANY isc.org", "monlist")
  int64_t count = 0;
  int64_t bytes = 0;  // request bytes received
  UnixSeconds start = 0, end = 0;
  double max_pps = 0;
};

class AmpTracker {
 public:
  AmpTracker(const AmpSettings& settings, std::string service);

  // Records one request from `from` to `to`; true when a reply of `reply_bytes` may be sent
  // (and counts it against the budget).
  bool on_request(const sensors::Endpoint& from, const sensors::Endpoint& to,
                  std::string_view summary, size_t request_bytes, size_t reply_bytes,
                  Clock::time_point now);

  // Attacks that ended (idle, or evicted); with `all`, every attack in progress too (at
  // shutdown). Sources that ended below the threshold are forgotten.
  std::vector<Attack> take_finished(Clock::time_point now, bool all);

  TrackerStats stats() const;
  const std::string& service() const { return service_; }

 private:
  struct Source {
    IpAddress ip;
    sensors::Endpoint first_from, to;
    std::string request;
    Clock::time_point first, last;
    int64_t count = 0, bytes = 0;
    // Budget window.
    Clock::time_point window;
    int64_t window_replies = 0, window_bytes = 0;
    // Peak rate: requests in the current whole second since `first`.
    int64_t second = 0, in_second = 0, max_in_second = 0;
  };
  struct IpHash {
    size_t operator()(const IpAddress& a) const {
      return static_cast<size_t>((a.hi() * 0x9E3779B97F4A7C15ull) ^
                                 (a.lo() * 0xC2B2AE3D27D4EB4Full));
    }
  };

  UnixSeconds wall(Clock::time_point t) const;
  void finish(const Source& s, std::vector<Attack>& out);

  AmpSettings settings_;
  std::string service_;
  Clock::time_point steady_base_;
  std::chrono::system_clock::time_point wall_base_;
  mutable std::mutex mu_;
  std::list<Source> lru_;  // most recently seen first
  std::unordered_map<IpAddress, std::list<Source>::iterator, IpHash> index_;
  std::vector<Attack> pending_;  // evicted attacks, handed out by the next take_finished()
  TrackerStats stats_;
};

// Appends the event4_honeypot_ddos_amp record of `a` (src_ip = the victim).
void append_attack_event(std::string& out, const HoneypotSettings& settings,
                         std::string_view service, const Attack& a);

}  // namespace vantage::honeypot::amp

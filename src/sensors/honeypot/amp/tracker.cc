#include "sensors/honeypot/amp/tracker.h"

#include <algorithm>

namespace vantage::honeypot::amp {

AmpTracker::AmpTracker(const AmpSettings& settings, std::string service)
    : settings_(settings),
      service_(std::move(service)),
      steady_base_(Clock::now()),
      wall_base_(std::chrono::system_clock::now()) {
  settings_.max_tracked_sources = std::max<size_t>(settings_.max_tracked_sources, 1);
}

UnixSeconds AmpTracker::wall(Clock::time_point t) const {
  // One clock read per datagram (steady); wall time derived from the base taken at start.
  auto w = wall_base_ +
           std::chrono::duration_cast<std::chrono::system_clock::duration>(t - steady_base_);
  return std::chrono::duration_cast<std::chrono::seconds>(w.time_since_epoch()).count();
}

bool AmpTracker::on_request(const sensors::Endpoint& from, const sensors::Endpoint& to,
                            std::string_view summary, size_t request_bytes, size_t reply_bytes,
                            Clock::time_point now) {
  std::lock_guard lock(mu_);
  ++stats_.requests;
  auto it = index_.find(from.ip);
  Source* s;
  if (it == index_.end()) {
    if (lru_.size() >= settings_.max_tracked_sources) {
      finish(lru_.back(), pending_);
      index_.erase(lru_.back().ip);
      lru_.pop_back();
      ++stats_.evicted;
    }
    lru_.emplace_front();
    s = &lru_.front();
    s->ip = from.ip;
    s->first_from = from;
    s->to = to;
    s->request.assign(summary.substr(0, 200));
    s->first = s->window = now;
    index_.emplace(from.ip, lru_.begin());
  } else {
    lru_.splice(lru_.begin(), lru_, it->second);  // most recently seen first
    s = &*it->second;
  }
  s->last = now;
  ++s->count;
  s->bytes += static_cast<int64_t>(request_bytes);
  int64_t second = std::chrono::duration_cast<std::chrono::seconds>(now - s->first).count();
  if (second != s->second) {
    s->second = second;
    s->in_second = 0;
  }
  s->max_in_second = std::max(s->max_in_second, ++s->in_second);
  if (now - s->window >= std::chrono::minutes(1)) {
    s->window = now;
    s->window_replies = s->window_bytes = 0;
  }
  bool allowed =
      s->window_replies + 1 <= settings_.replies_per_minute &&
      s->window_bytes + static_cast<int64_t>(reply_bytes) <= settings_.reply_bytes_per_minute;
  if (allowed) {
    ++s->window_replies;
    s->window_bytes += static_cast<int64_t>(reply_bytes);
    ++stats_.replies;
    stats_.reply_bytes += static_cast<int64_t>(reply_bytes);
  } else {
    ++stats_.suppressed;
  }
  return allowed;
}

void AmpTracker::finish(const Source& s, std::vector<Attack>& out) {
  if (s.count < settings_.attack_min_requests) {
    ++stats_.scans;
    return;
  }
  ++stats_.attacks;
  Attack a;
  a.victim = s.first_from;
  a.target = s.to;
  a.request = s.request;
  a.count = s.count;
  a.bytes = s.bytes;
  a.start = wall(s.first);
  a.end = wall(s.last);
  a.max_pps = static_cast<double>(s.max_in_second);
  out.push_back(std::move(a));
}

std::vector<Attack> AmpTracker::take_finished(Clock::time_point now, bool all) {
  std::lock_guard lock(mu_);
  std::vector<Attack> out = std::move(pending_);
  pending_.clear();
  // The list is in order of last activity: the idle ones are at its end.
  while (!lru_.empty() && (all || now - lru_.back().last >= settings_.attack_idle)) {
    finish(lru_.back(), out);
    index_.erase(lru_.back().ip);
    lru_.pop_back();
  }
  return out;
}

TrackerStats AmpTracker::stats() const {
  std::lock_guard lock(mu_);
  TrackerStats s = stats_;
  s.tracked = static_cast<int64_t>(lru_.size());
  return s;
}

void append_attack_event(std::string& out, const HoneypotSettings& settings,
                         std::string_view service, const Attack& a) {
  int64_t duration = std::max<int64_t>(0, a.end - a.start);
  double avg = static_cast<double>(a.count) / static_cast<double>(std::max<int64_t>(duration, 1));
  begin_event(out, "event4_honeypot_ddos_amp", settings, a.victim, a.target, "udp", a.start)
      .str("application", service)
      .str("tag", std::string(service) + "-amplification")
      .str("request", a.request)
      .num("count", a.count)
      .num("bytes", a.bytes)
      .time("end_time", a.end)
      .num("duration", duration)
      .real("avg_pps", avg)
      .real("max_pps", a.max_pps)
      .finish();
}

}  // namespace vantage::honeypot::amp

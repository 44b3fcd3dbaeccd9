#include "sensors/sinkhole/watch.h"

#include <algorithm>
#include <set>

#include "common/strings.h"

namespace vantage::sinkhole {

DomainWatch::DomainWatch(const Context& ctx, std::unique_ptr<StubResolver> resolver)
    : ctx_(ctx), resolver_(std::move(resolver)) {}

DomainWatch::~DomainWatch() {
  stop();
}

bool DomainWatch::pause(std::chrono::milliseconds d) {
  std::unique_lock lock(mu_);
  return !cv_.wait_for(lock, d, [&] { return stopping_; });
}

Status DomainWatch::start() {
  thread_ = std::thread([this] {
    // First round shortly after start (the DNS server is up by then), then on the interval.
    if (!pause(std::chrono::seconds(2))) return;
    do {
      round();
    } while (pause(ctx_.settings->watch_interval));
  });
  return {};
}

void DomainWatch::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void DomainWatch::round() {
  auto snap = ctx_.snapshots->get();
  if (!snap) return;
  DayNumber today = day_of(now_seconds());
  std::set<std::string> ours;
  for (const auto& ns : ctx_.settings->nameservers) {
    std::string n = to_lower(ns);
    if (!n.empty() && n.back() == '.') n.pop_back();
    ours.insert(n);
  }
  struct Item {
    std::string domain;
    DayNumber expires;
    bool check_ns;
  };
  std::vector<Item> items;
  for (const auto& e : snap->domains->entries()) {
    if (e.generated) continue;
    // A domain not delegated yet (from in the future) or no longer ours (until past) has no
    // delegation to check, but its registration still expires.
    bool delegated = e.kind == ZoneEntry::Kind::kOwn || e.active(today);
    items.push_back({e.apex, e.expires, delegated});
  }
  for (const auto& g : snap->domains->dga_lines()) {
    int sample = 0;
    for (const auto& e : snap->domains->entries()) {
      if (!e.generated || e.line != g.line || !e.active(today)) continue;
      // The line's expiry is checked once, with its first domain of today.
      items.push_back(
          {e.apex, sample == 0 ? g.expires : 0, sample < ctx_.settings->watch_dga_sample});
      if (++sample >= std::max(1, ctx_.settings->watch_dga_sample)) break;
    }
  }
  std::vector<WatchProblem> found;
  int64_t checked = 0, ok = 0;
  for (const auto& it : items) {
    {
      std::lock_guard lock(mu_);
      if (stopping_) return;
    }
    bool fine = true;
    ++checked;
    if (it.expires != 0) {
      int64_t days = int64_t{it.expires} - today;
      if (days < 0) {
        found.push_back(
            {it.domain, "expired", "registration expired on " + format_date(it.expires)});
        fine = false;
      } else if (days <= ctx_.settings->expiry_warn_days) {
        found.push_back({it.domain, "expires-soon",
                         "registration expires on " + format_date(it.expires) + " (in " +
                             std::to_string(days) + " days)"});
        fine = false;
      }
    }
    if (resolver_ && it.check_ns) {
      auto a = resolver_->query(it.domain, dns::kNS);
      if (!a) {
        found.push_back({it.domain, "unresolved", a.error().message});
        fine = false;
      } else if (a->rcode == dns::kNxDomain) {
        found.push_back({it.domain, "not-delegated", "the resolver says the name does not exist"});
        fine = false;
      } else if (a->rcode != dns::kNoError) {
        found.push_back({it.domain, "unresolved", "rcode " + std::to_string(a->rcode)});
        fine = false;
      } else {
        size_t mine = 0;
        for (const auto& n : a->ns) mine += ours.count(n);
        std::sort(a->ns.begin(), a->ns.end());  // resolvers rotate RRsets; say it one way
        std::string listed = a->ns.empty() ? "none" : join(a->ns, ", ");
        if (a->ns.empty() || mine == 0) {
          found.push_back({it.domain, "delegation-lost", "NS: " + listed});
          fine = false;
        } else if (mine < a->ns.size()) {
          found.push_back({it.domain, "foreign-ns", "NS: " + listed});
          fine = false;
        }
      }
      if (!pause(std::chrono::milliseconds(10))) return;  // gentle on the resolver
    }
    ok += fine ? 1 : 0;
  }
  std::lock_guard lock(mu_);
  problems_ = std::move(found);
  checked_ = checked;
  ok_ = ok;
  ++rounds_;
  last_round_ = now_seconds();
}

std::vector<WatchProblem> DomainWatch::problems() const {
  std::lock_guard lock(mu_);
  return problems_;
}

nlohmann::json DomainWatch::status() const {
  std::lock_guard lock(mu_);
  nlohmann::json list = nlohmann::json::array();
  for (size_t i = 0; i < problems_.size() && i < 100; ++i) {
    list.push_back({{"domain", problems_[i].domain},
                    {"problem", problems_[i].problem},
                    {"detail", problems_[i].detail}});
  }
  return {{"resolver", resolver_ ? resolver_->server().to_string() : ""},
          {"rounds", rounds_},
          {"last_round", last_round_ ? format_timestamp(last_round_) : ""},
          {"checked", checked_},
          {"ok", ok_},
          {"warnings", problems_.size()},
          {"problems", list}};
}

}  // namespace vantage::sinkhole

#include "enrich/enricher.h"

#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include "enrich/reserved.h"

namespace vantage::enrich {

Result<std::shared_ptr<const EnrichmentData>> EnrichmentData::load(const EnrichmentPaths& paths) {
  std::shared_ptr<const AsnTable> asn;
  if (!paths.asn_v4.empty() || !paths.asn_v6.empty()) {
    auto t = AsnTable::load(paths.asn_v4, paths.asn_v6);
    if (!t) return t.error();
    asn = std::move(*t);
  }
  std::shared_ptr<const GeoDb> g4, g6;
  if (!paths.geo_v4.empty()) {
    auto g = GeoDb::open(paths.geo_v4, paths.geo_layout, paths.geo_index);
    if (!g) return g.error();
    g4 = std::move(*g);
  }
  if (!paths.geo_v6.empty()) {
    auto g = GeoDb::open(paths.geo_v6, paths.geo_layout, paths.geo_index);
    if (!g) return g.error();
    if ((*g)->ip_version() != 6) {
      return Error::invalid(paths.geo_v6 + ": configured as the IPv6 geo database but its " +
                            "ip_version is 4");
    }
    g6 = std::move(*g);
  }
  std::shared_ptr<const SectorTable> sector;
  if (!paths.sector.empty()) {
    auto s = SectorTable::load(paths.sector);
    if (!s) return s.error();
    sector = std::move(*s);
  }
  return make(std::move(asn), std::move(g4), std::move(g6), std::move(sector));
}

std::shared_ptr<const EnrichmentData> EnrichmentData::make(
    std::shared_ptr<const AsnTable> asn, std::shared_ptr<const GeoDb> geo_v4,
    std::shared_ptr<const GeoDb> geo_v6, std::shared_ptr<const SectorTable> sector) {
  std::shared_ptr<EnrichmentData> d(new EnrichmentData());
  d->asn_ = std::move(asn);
  d->geo_v4_ = std::move(geo_v4);
  d->geo_v6_ = std::move(geo_v6);
  d->sector_ = std::move(sector);
  return d;
}

const GeoDb* EnrichmentData::geo_for(const IpAddress& a) const {
  if (!a.is_v4()) return geo_v6_ && geo_v6_->ip_version() == 6 ? geo_v6_.get() : nullptr;
  if (geo_v4_) return geo_v4_.get();
  // A GeoLite2-style IPv6 tree holds IPv4 under ::/96; DB-IP's IPv6 file does not, and then
  // the lookup simply finds nothing.
  return geo_v6_.get();
}

void EnrichmentData::enrich(const IpAddress& a, Enrichment& out) const {
  out.asn = 0;
  out.as_name = {};
  out.geo[0] = out.geo[1] = out.geo[2] = 0;
  out.region = {};
  out.city = {};
  out.naics = 0;
  out.sector = {};
  if (is_reserved(a)) return;
  if (asn_) {
    uint32_t idx = asn_->find(a);
    if (idx != AsnTable::kNone) {
      out.asn = asn_->asn_at(idx);
      out.as_name = asn_->name_at(idx);
    }
  }
  if (const GeoDb* g = geo_for(a)) {
    GeoRecord r;
    if (g->lookup(a, r)) {
      out.geo[0] = r.country[0];
      out.geo[1] = r.country[1];
      out.region = r.region;
      out.city = r.city;
    }
  }
  if (sector_) {
    if (const SectorInfo* s = sector_->lookup(a, out.asn)) {
      out.naics = s->naics;
      out.sector = s->sector;
    }
  }
}

Enricher::Enricher(EnrichmentPaths paths, EnricherOptions options)
    : paths_(std::move(paths)), options_(std::move(options)) {}

Result<std::unique_ptr<Enricher>> Enricher::create(EnrichmentPaths paths, EnricherOptions options) {
  std::unique_ptr<Enricher> e(new Enricher(std::move(paths), std::move(options)));
  // Stat before loading: a file replaced during the load is then seen as changed on the
  // next poll rather than missed.
  e->seen_ = e->stat_all();
  auto data = EnrichmentData::load(e->paths_);
  if (!data) return data.error();
  e->current_.store(std::move(*data));
  e->generation_.store(1, std::memory_order_release);
  if (e->options_.reverse_dns) e->rdns_ = std::make_unique<ReverseDnsResolver>(e->options_.dns);
  return e;
}

Enricher::~Enricher() {
  stop_watching();
}

Enricher::View Enricher::view() const {
  View v;
  v.data_ = current_.load();
  v.rdns_ = rdns_.get();
  return v;
}

std::vector<Enricher::FileState> Enricher::stat_all() const {
  std::vector<FileState> out;
  for (const std::string* p :
       {&paths_.asn_v4, &paths_.asn_v6, &paths_.geo_v4, &paths_.geo_v6, &paths_.sector}) {
    FileState s;
    struct stat st;
    if (!p->empty() && ::stat(p->c_str(), &st) == 0) {
      s.exists = true;
      s.dev = st.st_dev;
      s.ino = st.st_ino;
      s.size = st.st_size;
      s.mtime_ns = int64_t{st.st_mtim.tv_sec} * 1000000000 + st.st_mtim.tv_nsec;
    }
    out.push_back(s);
  }
  return out;
}

Result<bool> Enricher::reload_if_changed() {
  std::lock_guard lock(reload_mu_);
  auto now = stat_all();
  if (now == seen_) return false;
  seen_ = now;
  auto data = EnrichmentData::load(paths_);
  if (!data) {
    reload_failures_.fetch_add(1, std::memory_order_relaxed);
    std::lock_guard el(error_mu_);
    last_error_ = data.error().message;
    return data.error();
  }
  // Readers holding the old snapshot keep it alive; it is freed when the last one lets go.
  current_.store(std::move(*data));
  generation_.fetch_add(1, std::memory_order_acq_rel);
  std::lock_guard el(error_mu_);
  last_error_.clear();
  return true;
}

std::string Enricher::last_error() const {
  std::lock_guard el(error_mu_);
  return last_error_;
}

void Enricher::start_watching() {
  std::lock_guard lock(watch_mu_);
  if (watcher_.joinable()) return;
  watch_stop_ = false;
  watcher_ = std::thread([this] {
    std::unique_lock wl(watch_mu_);
    while (!watch_cv_.wait_for(wl, options_.poll_interval, [this] { return watch_stop_; })) {
      wl.unlock();
      auto r = reload_if_changed();
      if (!r) {
        spdlog::error("enrichment data reload failed, still serving the previous data: {}",
                      r.error().message);
      } else if (*r) {
        spdlog::info("enrichment data reloaded (generation {})", generation());
      }
      wl.lock();
    }
  });
}

void Enricher::stop_watching() {
  {
    std::lock_guard lock(watch_mu_);
    if (!watcher_.joinable()) return;
    watch_stop_ = true;
  }
  watch_cv_.notify_all();
  watcher_.join();
  std::lock_guard lock(watch_mu_);
  watch_stop_ = false;
}

}  // namespace vantage::enrich

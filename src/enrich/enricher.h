#pragma once
// Enrichment of one IP address: origin ASN and AS name, country/region/city, NAICS and
// sector, and (optionally) the reverse-DNS hostname -- the asn/geo/region/city/naics/sector/
// hostname columns of every Shadowserver-format report (and their src_/dst_ variants; the
// pipeline calls this once per address it needs).
//
// Shape (after Zeek's MMDB reload):
//   EnrichmentData  an immutable snapshot of all data files (ASN table, GeoIP DBs, sector
//                   table), shared as shared_ptr<const EnrichmentData>;
//   Enricher        owns the current snapshot, swaps it atomically when a file changes
//                   (polled: inode, size, mtime), and keeps serving the old snapshot when a
//                   new file is corrupt. Lookups in flight keep whichever snapshot they hold.
//
// Per-event use (>1M/s per core): take a View once per batch, then call enrich() per
// address. The View pins its snapshot, so the string_views in Enrichment stay valid as long
// as the View (or a copy of its snapshot pointer) lives.
//
//   auto view = enricher.view();
//   for (auto& ev : batch) view.enrich(ev.src_ip, enrichment);
//
// Semantics (report_schema/intelmq.json: asn 0 and naics 0 are "invalidate_zero"):
// reserved/private/unrouted addresses and addresses without data give asn 0, empty
// as_name, empty geo/region/city; writers print asn 0 and naics 0 as empty fields.
//
// Thread-safety: Enricher::view()/snapshot()/reload_if_changed() may be called from any
// thread; a View is cheap to copy and may be used by one thread at a time (it is const
// apart from the hostname resolver, which is itself thread-safe).

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "common/ip.h"
#include "common/result.h"
#include "common/snapshot_holder.h"
#include "enrich/asn_table.h"
#include "enrich/geo_db.h"
#include "enrich/reverse_dns.h"
#include "enrich/sector_table.h"

namespace vantage::enrich {

struct Enrichment {
  uint32_t asn = 0;          // 0 = unknown
  std::string_view as_name;  // into the snapshot
  char geo[3] = {0, 0, 0};   // ISO 3166-1 alpha-2, NUL-terminated; "" = unknown
  std::string_view region;   // into the snapshot (mapped MMDB)
  std::string_view city;
  uint32_t naics = 0;  // 0 = unknown
  std::string_view sector;
  std::string hostname;  // filled only when reverse DNS is on and the name is cached

  void clear() { *this = Enrichment{}; }
};

// Which files to load. Any path may be empty: that part of the enrichment is then absent
// (asn 0 / empty geo / no sector). A geo_v6 database with ip_version 6 that contains IPv4
// (GeoLite2 style) also answers IPv4 when geo_v4 is empty.
struct EnrichmentPaths {
  std::string asn_v4;
  std::string asn_v6;
  std::string geo_v4;
  std::string geo_v6;
  std::string sector;  // operator table, optional
  GeoLayout geo_layout = GeoLayout::kAuto;
  // kFlattened trades a few seconds of load time and 40-85 MiB per database for lookups
  // 4-10x faster than libmaxminddb's (see geo_db.h); kMmdb opens instantly.
  GeoIndex geo_index = GeoIndex::kFlattened;
};

class EnrichmentData {
 public:
  // Loads every configured file; the first failure is returned (path:line where known).
  static Result<std::shared_ptr<const EnrichmentData>> load(const EnrichmentPaths& paths);
  // Assembles a snapshot from parts already loaded (tests, tools).
  static std::shared_ptr<const EnrichmentData> make(std::shared_ptr<const AsnTable> asn,
                                                    std::shared_ptr<const GeoDb> geo_v4,
                                                    std::shared_ptr<const GeoDb> geo_v6,
                                                    std::shared_ptr<const SectorTable> sector);

  // Fills every field except hostname (left untouched). Never fails: missing data gives
  // the zero/empty values. Does not allocate.
  void enrich(const IpAddress& a, Enrichment& out) const;

  const AsnTable* asn() const { return asn_.get(); }
  const GeoDb* geo_v4() const { return geo_v4_.get(); }
  const GeoDb* geo_v6() const { return geo_v6_.get(); }
  const SectorTable* sector() const { return sector_.get(); }
  const GeoDb* geo_for(const IpAddress& a) const;

 private:
  EnrichmentData() = default;
  std::shared_ptr<const AsnTable> asn_;
  std::shared_ptr<const GeoDb> geo_v4_;
  std::shared_ptr<const GeoDb> geo_v6_;
  std::shared_ptr<const SectorTable> sector_;
};

struct EnricherOptions {
  bool reverse_dns = false;  // off by default: batch runs must not depend on DNS
  ReverseDnsOptions dns;
  std::chrono::milliseconds poll_interval{30000};  // for start_watching()
};

class Enricher {
 public:
  // Loads the first snapshot; fails if it cannot (there is nothing to serve yet).
  static Result<std::unique_ptr<Enricher>> create(EnrichmentPaths paths,
                                                  EnricherOptions options = {});
  ~Enricher();  // stops the watcher thread, if any

  class View {
   public:
    void enrich(const IpAddress& a, Enrichment& out) const {
      data_->enrich(a, out);
      if (rdns_) {
        auto name = rdns_->lookup(a);
        if (name)
          out.hostname = std::move(*name);
        else
          out.hostname.clear();
      } else {
        out.hostname.clear();
      }
    }
    const EnrichmentData& data() const { return *data_; }
    const std::shared_ptr<const EnrichmentData>& snapshot() const { return data_; }

   private:
    friend class Enricher;
    std::shared_ptr<const EnrichmentData> data_;
    ReverseDnsResolver* rdns_ = nullptr;
  };

  View view() const;
  std::shared_ptr<const EnrichmentData> snapshot() const { return current_.load(); }

  // Stats each data file; if any changed (inode, size or mtime) since the last attempt,
  // loads a complete new snapshot and publishes it. Returns true if a new snapshot went
  // live, false if nothing changed, or the load error (the previous snapshot stays live and
  // the same file state is not retried until it changes again).
  Result<bool> reload_if_changed();

  // Polls reload_if_changed() every options.poll_interval on a background thread, logging
  // reload errors. Idempotent.
  void start_watching();
  void stop_watching();

  uint64_t generation() const { return generation_.load(std::memory_order_acquire); }
  uint64_t reload_failures() const { return reload_failures_.load(std::memory_order_relaxed); }
  // The last reload error message, empty if the last attempt succeeded.
  std::string last_error() const;
  ReverseDnsResolver* reverse_dns() { return rdns_.get(); }
  const EnrichmentPaths& paths() const { return paths_; }

 private:
  struct FileState {
    bool exists = false;
    dev_t dev = 0;
    ino_t ino = 0;
    off_t size = 0;
    int64_t mtime_ns = 0;
    bool operator==(const FileState&) const = default;
  };
  Enricher(EnrichmentPaths paths, EnricherOptions options);
  std::vector<FileState> stat_all() const;

  EnrichmentPaths paths_;
  EnricherOptions options_;
  SnapshotHolder<EnrichmentData> current_;
  std::unique_ptr<ReverseDnsResolver> rdns_;
  std::atomic<uint64_t> generation_{0};
  std::atomic<uint64_t> reload_failures_{0};

  std::mutex reload_mu_;  // serialises reloads; guards seen_ and last_error_
  std::vector<FileState> seen_;
  mutable std::mutex error_mu_;
  std::string last_error_;

  std::mutex watch_mu_;
  std::condition_variable watch_cv_;
  bool watch_stop_ = false;
  std::thread watcher_;
};

}  // namespace vantage::enrich

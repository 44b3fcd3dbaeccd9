#pragma once
// What the sinkhole's services share: the settings, the current data (families, domain map,
// rules: one immutable snapshot, swapped whole on reload), per-thread counters, the logs of
// what is kept aside (malformed input, first packets no rule names), and how every event row
// starts.

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/ip.h"
#include "common/result.h"
#include "sensors/common/http_request.h"
#include "sensors/common/json_line.h"
#include "sensors/common/sensor_host.h"
#include "sensors/sinkhole/classifier.h"
#include "sensors/sinkhole/domain_map.h"
#include "sensors/sinkhole/families.h"

namespace vantage::sinkhole {

class CountStore;
class RefererResolver;

// [sinkhole] settings; immutable once the sensor runs.
struct SinkholeSettings {
  std::string sensor_name = "vantage-sinkhole";  // public_source
  std::string domains_file, families_file, rules_file;
  std::vector<IpAddress> addresses;      // A/AAAA answers for sinkholed names
  std::vector<std::string> nameservers;  // NS answers, SOA MNAME (the first)
  uint32_t ttl = 300;
  int64_t dns_period_s = 86400;
  int dga_slack_days = 2;
  std::string tls_cert, tls_key;  // empty: a self-signed certificate made at start
  std::chrono::milliseconds idle_timeout{15000};
  std::chrono::milliseconds session_timeout{60000};
  size_t max_input_bytes = 256 * 1024;
  size_t first_packet_bytes = 2048;
  std::chrono::seconds reload_interval{5};
  std::string resolver;  // HOST:PORT for the lifecycle watch and referer names; "" none
  std::chrono::seconds watch_interval{3600};
  int expiry_warn_days = 30;
  int watch_dga_sample = 16;
  int64_t aside_bytes_per_day = 16 << 20;
};

// The data the services classify with, loaded together and swapped together.
struct Snapshot {
  Families families;
  std::shared_ptr<const DomainMap> domains;
  Classifier classifier;
  uint32_t serial = 0;  // SOA serial: the newest data file's mtime
  DayNumber day = 0;    // the day the domain map was built for
};

Result<std::shared_ptr<const Snapshot>> load_snapshot(const SinkholeSettings& settings,
                                                      DayNumber day);

// Publishes snapshots to the loop threads. A thread keeps its own reference (View) and
// re-reads only when the generation moved: one relaxed load per datagram, no shared
// reference count bouncing between cores.
class SnapshotBox {
 public:
  void publish(std::shared_ptr<const Snapshot> s);
  std::shared_ptr<const Snapshot> get() const;
  uint64_t generation() const { return generation_.load(std::memory_order_acquire); }

  class View {
   public:
    explicit View(const SnapshotBox* box) : box_(box) {}
    const Snapshot& current() {
      uint64_t g = box_->generation();
      if (g != seen_) {
        snap_ = box_->get();
        seen_ = g;
      }
      return *snap_;
    }
    const std::shared_ptr<const Snapshot>& shared() {
      current();
      return snap_;
    }

   private:
    const SnapshotBox* box_;
    uint64_t seen_ = 0;
    std::shared_ptr<const Snapshot> snap_;
  };

 private:
  mutable std::mutex mu_;
  std::shared_ptr<const Snapshot> current_;
  std::atomic<uint64_t> generation_{0};
};

enum Counter : uint8_t {
  kDnsQueries,
  kDnsTcpQueries,
  kDnsAnswered,  // NOERROR with records
  kDnsNoData,
  kDnsNxDomain,
  kDnsRefused,
  kDnsTruncated,
  kDnsFormErr,
  kDnsNotImp,
  kDnsDropped,  // too short, or a response
  kHttpRequests,
  kHttpsRequests,
  kHttpGet,
  kHttpPost,
  kHttpOtherMethod,
  kHttpMalformed,
  kHttpIncomplete,
  kHttpNamed,
  kHttpUnknown,
  kTlsHelloUnreadable,
  kRefererEvents,
  kRawTcp,
  kRawUdp,
  kRawNamed,
  kRawUnknown,
  kCounterCount
};
const char* counter_name(Counter c);

// One thread's counters, on a cache line of their own.
struct alignas(64) Counters {
  std::array<std::atomic<int64_t>, kCounterCount> v{};
  void add(Counter c, int64_t n = 1) { v[c].fetch_add(n, std::memory_order_relaxed); }
};

// A bounded per-day log of bytes kept aside for the operator: malformed input, first packets
// no rule names (to write the next rule from). <dir>/<prefix>-YYYY-MM-DD.jsonl, one JSON
// object per line with the first `sample_bytes` bytes in hex; beyond `max_bytes` a day, only
// counted. Thread-safe (a mutex: only the rare paths write here).
class AsideLog {
 public:
  AsideLog(std::string dir, std::string prefix, int64_t max_bytes, size_t sample_bytes = 512);
  ~AsideLog();
  void add(std::string_view source, const sensors::Endpoint& peer, std::string_view reason,
           std::string_view bytes);
  int64_t kept() const { return kept_.load(); }
  int64_t dropped() const { return dropped_.load(); }

 private:
  std::string dir_, prefix_;
  int64_t max_bytes_;
  size_t sample_bytes_;
  std::mutex mu_;
  int fd_ = -1;
  DayNumber day_ = 0;
  int64_t bytes_ = 0;
  std::atomic<int64_t> kept_{0}, dropped_{0};
};

// What one loop thread of the sinkhole keeps: its counters and its view of the data.
struct LoopState {
  explicit LoopState(const SnapshotBox* box) : view(box) {}
  Counters counters;
  SnapshotBox::View view;
  // Scratch of the web listener's sessions on this thread (one request is handled at a time,
  // within one on_data call): no allocation per connection once these have grown.
  sensors::HttpRequest request;
  std::string header_order, host;
};

struct Context {
  const SinkholeSettings* settings = nullptr;
  sensors::SensorHost* host = nullptr;
  SnapshotBox* snapshots = nullptr;
  CountStore* counts = nullptr;
  AsideLog* malformed = nullptr;
  AsideLog* captures = nullptr;
  RefererResolver* referers = nullptr;
  std::vector<std::unique_ptr<LoopState>>* udp_loops = nullptr;  // per UDP loop thread
  std::vector<std::unique_ptr<LoopState>>* tcp_loops = nullptr;  // per TCP loop thread
  int udp_threads = 1;

  LoopState& udp_loop(int thread) const { return *(*udp_loops)[static_cast<size_t>(thread)]; }
  LoopState& tcp_loop(int thread) const { return *(*tcp_loops)[static_cast<size_t>(thread)]; }
};

// Starts an event4_sinkhole* / event6_sinkhole* row with the columns they share: timestamp,
// protocol, src/dst, public_source, severity, infection, family, tag, application.
sensors::JsonLine begin_event(std::string& out, std::string_view type, const Context& ctx,
                              const sensors::Endpoint& src, const sensors::Endpoint& dst,
                              std::string_view protocol, UnixSeconds when, const Family& family,
                              std::string_view tag, std::string_view application);

}  // namespace vantage::sinkhole

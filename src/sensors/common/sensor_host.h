#pragma once
// The host process of a listening sensor (honeypot, sinkhole): its TCP and UDP front ends,
// the services that plug into them, the event journal and the shipper into the pipeline,
// the switch to an unprivileged user, and a status file. A sensor command builds its
// services from its own registry, adds them here, and runs the host:
//
//   auto host = SensorHost::create(options);            // journal opened
//   host->add_tcp(listener) / add_udp(...) / add_standalone(...);   // sockets bound
//   host->start();   // journal handed to the user, privileges dropped, loops running
//   ... host->write_status() now and then ...
//   host->stop();    // loops stopped, buffers flushed, shipped (bounded wait)
//
// Services write events through the record buffer of the thread they run on
// (tcp_buffer(ConnectionInfo::thread), udp_buffer(Datagram::thread)); the host flushes every
// buffer on its loop's tick, so an event reaches the journal within ~50 ms.

#include <atomic>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/result.h"
#include "sensors/common/event_journal.h"
#include "sensors/common/shipper.h"
#include "sensors/common/tcp_reactor.h"
#include "sensors/common/udp_reactor.h"

namespace vantage::sensors {

// A service with its own sockets and threads (one that cannot run on the reactors: a library
// that owns its connections, a raw socket). It binds in its constructor or factory, before
// SensorHost::start(), and writes events through SensorHost::journal() (thread-safe).
class StandaloneService {
 public:
  virtual ~StandaloneService() = default;
  virtual std::string name() const = 0;
  virtual Status start() = 0;  // called after privileges are dropped
  virtual void stop() = 0;     // stops and joins; events flushed to the journal
  virtual nlohmann::json status() const { return nlohmann::json::object(); }
};

struct SensorHostOptions {
  std::string sensor;     // "honeypot", "sinkhole": journal prefix, status file name
  std::string state_dir;  // <data_dir>/sensors/<sensor>: journal/, status.json
  int tcp_threads = 2;
  int udp_threads = 2;
  size_t max_connections = 20000;
  std::string user;  // switched to after binding when running as root
  // Root with no user is refused (a sensor never serves as root) unless this is set: for
  // tests that run as root and must keep it.
  bool allow_root = false;
  std::unique_ptr<SegmentDestination> destination;  // null: the journal only fills
  std::chrono::milliseconds segment_age{1000};
};

class SensorHost {
 public:
  static Result<std::unique_ptr<SensorHost>> create(SensorHostOptions options);
  ~SensorHost();

  // Bind now; `on_tick` (may be empty) runs on each UDP loop about every 50 ms.
  Result<Endpoint> add_tcp(ListenerOptions listener);
  Result<Endpoint> add_udp(UdpListenerOptions listener, std::function<void(int)> on_tick = {});
  // `listening`: where it accepts connections, if it does (for the status file's listeners).
  void add_standalone(std::unique_ptr<StandaloneService> service,
                      const std::vector<Endpoint>& listening = {});
  // A service on the reactors with counters of its own: `status` (thread-safe) is shown
  // under status()["services"][name].
  void add_status(std::string name, std::function<nlohmann::json()> status);

  // Drops privileges, then checks the destination is usable by the user the sensor became
  // (an error then, before anything is served), then starts the loops and the shipper.
  Status start();
  void stop();  // idempotent
  // True from the moment stop() begins: the loops' last ticks run after it, so a service that
  // holds state across datagrams (an amplification attack in progress) reports it then.
  bool stopping() const { return stopping_.load(std::memory_order_relaxed); }

  JournalBuffer& tcp_buffer(int thread) { return *tcp_buffers_[static_cast<size_t>(thread)]; }
  JournalBuffer& udp_buffer(int thread) { return *udp_buffers_[static_cast<size_t>(thread)]; }
  EventJournal& journal() { return *journal_; }
  const SensorHostOptions& options() const { return options_; }

  // Counters of the front ends, the journal and the shipper, and each listener.
  nlohmann::json status() const;
  // <state_dir>/status.json, written atomically (read by `vantage status`).
  void write_status() const;
  // Waits until everything journaled so far is shipped (tests, orderly shutdown).
  bool flush(std::chrono::milliseconds limit);

 private:
  explicit SensorHost(SensorHostOptions options);
  SensorHostOptions options_;
  int state_fd_ = -1;  // the state directory, reachable after privileges drop
  std::unique_ptr<EventJournal> journal_;
  std::vector<std::unique_ptr<JournalBuffer>> tcp_buffers_, udp_buffers_;
  std::unique_ptr<TcpReactor> tcp_;
  std::unique_ptr<UdpReactor> udp_;
  std::vector<std::function<void(int)>> udp_ticks_;
  std::vector<std::unique_ptr<StandaloneService>> standalone_;
  std::vector<std::pair<std::string, std::function<nlohmann::json()>>> status_sources_;
  std::atomic<bool> stopping_{false};
  std::unique_ptr<Shipper> shipper_;
  nlohmann::json listeners_ = nlohmann::json::array();
  bool has_tcp_ = false, has_udp_ = false, started_ = false, stopped_ = false;
  // flush(): loops flush their buffers on every tick and record the latest request they saw.
  std::atomic<uint64_t> flush_request_{0};
  std::unique_ptr<std::atomic<uint64_t>[]> tcp_flushed_, udp_flushed_;
};

}  // namespace vantage::sensors

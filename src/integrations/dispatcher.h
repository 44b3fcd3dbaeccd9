#pragma once
// The real-time path: follows the event store and pushes each enabled subscription's events
// (its organisation's, at or above its minimum severity, of its report types) to the
// subscription's destination within seconds of ingest -- the daily reports still hold them.
//
//   control thread   reloads the subscriptions when the registry changes; reads the events
//                    stored since each subscription's cursor (subscriptions at the same cursor
//                    share one read); buffers each subscription's matches until its batch
//                    window has passed or the batch is full; renders the batch and stores it
//                    together with the moved cursor (DeliveryState::create_batch); hands it
//                    to a sender; records every outcome.
//   sender threads   send one batch each (Sender::send); slow or dead receivers hold only a
//                    sender, never the reading of the store.
//
// Guarantees (tests/integrations/ and dispatcher_test.cc check them):
// - exactly once per (event, subscription): see delivery_state.h; a batch is re-sent with the
//   same body and delivery id until delivered, or dead after `max_attempts` tries;
// - order: a subscription has at most one batch between creation and delivery/death, and
//   batches hold events in store order, so a receiver sees a subscription's events in order
//   (a dead batch is skipped, and listed);
// - isolation: an event goes to a subscription only when its stored routes name the
//   subscription's organisation;
// - a subscription starts at the events stored after it was created (no history push).
//
// Thread-safety: start()/stop() from one owning thread; poke() and counters() from any.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/result.h"
#include "core/catalogue.h"
#include "integrations/delivery_state.h"
#include "integrations/sink.h"
#include "registry/registry.h"
#include "store/store.h"

namespace vantage::integrations {

struct DispatcherOptions {
  std::chrono::milliseconds poll_interval{250};   // how often the store is looked at
  int64_t max_attempts = 8;                       // then a batch is dead-lettered
  std::chrono::milliseconds retry_initial{2000};  // back-off: doubled per try ...
  std::chrono::milliseconds retry_max{300000};    // ... up to this, +-20% jitter
  int senders = 4;                                // sender threads
  int64_t scan_page = 5000;                       // events per store read
  int64_t scan_budget = 200000;                   // events read per turn of the loop
  std::chrono::hours keep_history{24 * 30};       // delivered batches and attempts
  std::string hostname;                           // for renderings (syslog HOSTNAME, ...)
  // How long stop() waits for sends in flight (their batches stay pending otherwise).
  std::chrono::milliseconds stop_grace{15000};
};

struct DispatcherSources {
  std::function<Result<std::unique_ptr<registry::Registry>>()> open_registry;
  std::function<Result<std::unique_ptr<store::EventStore>>()> open_store;
  std::function<Result<std::unique_ptr<DeliveryState>>()> open_state;
  std::shared_ptr<const core::Catalogue> catalogue;
  // Tests: makes each subscription's Sender instead of its kind's factory (null: the kind's).
  std::function<std::unique_ptr<Sender>(const registry::Subscription&)> make_sender;
};

struct DispatcherCounters {
  int64_t events_delivered = 0;
  int64_t batches_delivered = 0;
  int64_t attempts_failed = 0;
  int64_t batches_dead = 0;
  int64_t items_rejected = 0;
  int64_t render_errors = 0;          // rows sent without their columns (did not decode)
  int64_t subscriptions = 0;          // active now
  int64_t invalid_subscriptions = 0;  // refused by their kind's validation (see the log)
};

class Dispatcher {
 public:
  Dispatcher(DispatcherOptions options, DispatcherSources sources);
  ~Dispatcher();
  Dispatcher(const Dispatcher&) = delete;
  Dispatcher& operator=(const Dispatcher&) = delete;

  // Opens the registry, store and state and starts the threads.
  Status start();
  // Stops reading, waits up to stop_grace for sends in flight, joins. Idempotent.
  void stop();
  // Looks at the store now instead of at the next poll (after a push committed events).
  void poke();
  DispatcherCounters counters() const;

 private:
  struct Sub;
  struct Job;
  struct Outcome;

  void control_loop();
  void sender_loop();
  Status reload_subscriptions(bool force);
  void scan();
  void form_batches();
  void dispatch_due();
  void handle_outcomes();
  void commit_idle_cursors();
  void record_outcome(Sub* sub, const Outcome& o);
  std::chrono::milliseconds backoff(int64_t attempt);

  DispatcherOptions options_;
  DispatcherSources sources_;
  std::unique_ptr<registry::Registry> registry_;
  std::unique_ptr<store::EventStore> store_;
  std::unique_ptr<DeliveryState> state_;
  uint64_t generation_ = 0;
  bool loaded_ = false;
  std::map<int64_t, std::unique_ptr<Sub>> subs_;
  std::chrono::steady_clock::time_point last_prune_{};

  std::mutex mu_;  // guards the queues, wake_ and stopping_
  std::condition_variable control_cv_, sender_cv_;
  std::deque<Job> jobs_;
  std::deque<Outcome> outcomes_;
  bool wake_ = false;
  bool stopping_ = false;
  int in_flight_ = 0;  // jobs taken by senders, not yet answered (control thread only)

  std::thread control_;
  std::vector<std::thread> senders_;

  std::atomic<int64_t> events_delivered_{0}, batches_delivered_{0}, attempts_failed_{0},
      batches_dead_{0}, items_rejected_{0}, render_errors_{0}, active_subs_{0}, invalid_subs_{0};
};

}  // namespace vantage::integrations

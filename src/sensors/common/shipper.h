#pragma once
// Moves a journal's closed segments (event_journal.h) into the pipeline, oldest first, and
// deletes each only once the pipeline has it. Two destinations:
//
//   inbox  the segment is renamed into the service's inbox directory (<data_dir>/inbox),
//          which `vantage serve`/`up` ingest exactly once (a file is recognised by content,
//          so a segment handed over twice after a crash is not counted twice). For a sensor
//          on the same machine and file system as the pipeline.
//   push   the segment is POSTed to the push endpoint (POST /ingest, X-Vantage-Key + HMAC2,
//          see docs/api.md), which answers 200 only once the events are committed and
//          recognises a retried body. For a sensor anywhere; the one `vantage up` uses, so
//          that the honeypots and sinkholes run unprivileged in a process of their own.
//
// A segment the pipeline refuses as a whole (HTTP 400: not JSON Lines, an unknown type) is
// moved to <journal>/rejected/ with a .error note rather than retried forever or deleted.
// Anything else (connection refused, 5xx, 401 while a key is being fixed) is retried with
// exponential back-off, so events wait in the journal while the pipeline is down.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "common/result.h"
#include "sensors/common/event_journal.h"

namespace vantage::sensors {

// Where closed segments go. deliver() is called from the shipper's thread only. Like the
// journal, a destination opens what it needs when it is made (before privileges drop).
class SegmentDestination {
 public:
  enum class Verdict { kTaken, kRetry, kRejected };
  struct Outcome {
    Verdict verdict = Verdict::kRetry;
    std::string detail;  // why, for kRetry/kRejected
  };
  virtual ~SegmentDestination() = default;
  // Hands over the journal's closed segment `name`. kTaken: the journal may delete it (an
  // inbox destination has moved it already).
  virtual Outcome deliver(EventJournal& journal, const std::string& name) = 0;
  virtual std::string describe() const = 0;
  // Whether the process, as it runs now, can deliver at all (an inbox it may write to).
  virtual Status usable() const { return {}; }
};

std::unique_ptr<SegmentDestination> inbox_destination(std::string inbox_dir);

struct PushTarget {
  std::string url;  // "http://127.0.0.1:8080/ingest"
  std::string key;  // ingest key
  std::string secret;
  std::chrono::seconds timeout{60};
};
std::unique_ptr<SegmentDestination> push_destination(PushTarget target);

struct ShipperStats {
  int64_t segments_shipped = 0;
  int64_t segments_rejected = 0;
  int64_t delivery_failures = 0;  // attempts that will be retried
  int64_t backlog = 0;            // closed segments waiting
  std::string last_error;
};

struct ShipperOptions {
  std::chrono::milliseconds poll{200};  // how often the open segment's age is checked
  std::chrono::milliseconds max_backoff{30000};
};

// A background thread: rotates the journal by age and ships what is closed.
class Shipper {
 public:
  Shipper(EventJournal& journal, std::unique_ptr<SegmentDestination> destination,
          ShipperOptions options = {});
  ~Shipper();  // stops the thread after a final rotate and one last delivery pass
  Shipper(const Shipper&) = delete;
  Shipper& operator=(const Shipper&) = delete;

  // Closes the open segment now and waits (up to `limit`) until every closed segment is
  // shipped. True when the backlog is empty. For tests and an orderly shutdown.
  bool flush(std::chrono::milliseconds limit);

  ShipperStats stats() const;

 private:
  void run();
  // One pass: rotate, then deliver until the backlog is empty or a delivery must wait.
  // Returns false when a delivery failed (the caller backs off).
  bool ship_once(bool force_rotate);

  EventJournal& journal_;
  std::unique_ptr<SegmentDestination> destination_;
  ShipperOptions options_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  // flush(): a request is served by the first successful pass that started after it.
  uint64_t flush_requested_ = 0;
  uint64_t flush_done_ = 0;
  ShipperStats stats_;
  std::thread thread_;
};

}  // namespace vantage::sensors

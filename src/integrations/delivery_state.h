#pragma once
// The push integrations' state: <data_dir>/integrations.sqlite.
//
//   cursors   per subscription, the id of the last stored event it has considered and the
//             sequence number its next batch gets;
//   batches   the outbox: each batch's events (id range, count) and its rendered body, its state
//             (pending -> delivered | dead), attempts and the time of the next one;
//   attempts  the delivery log, one row per try (outcome, HTTP status, detail, time taken);
//   rejected  items a receiver refused for good inside a delivered batch.
//
// Exactly once per (event, subscription): create_batch() writes the batch and moves the cursor
// past its events in ONE transaction, so after a crash an event is either in a stored batch
// (sent until delivered or dead, with the same delivery id and body) or still after the
// cursor (read again) -- never both, never neither. A receiver may see a batch twice only when
// Vantage stopped between the receiver's acknowledgement and record(); it has the same
// delivery id both times.
//
// Thread-safety: one object per thread (its own SQLite connection); several processes may
// open the file (the service writes, `vantage subscription` and the dashboard read).

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "common/time.h"
#include "integrations/sink.h"

namespace vantage::store {
class Db;
}

namespace vantage::integrations {

enum class BatchState : uint8_t { kPending, kDelivered, kDead };
const char* batch_state_name(BatchState s);

struct Batch {
  int64_t sub_id = 0;
  int64_t seq = 0;
  int64_t first_event = 0;
  int64_t last_event = 0;
  int64_t events = 0;
  std::string payload;  // empty once delivered (kept for pending and dead batches)
  BatchState state = BatchState::kPending;
  int64_t attempts = 0;
  UnixSeconds created = 0;
  UnixSeconds next_attempt = 0;  // pending: not before
  int64_t queued_ms = 0;         // when its first event was picked up (ms since the epoch)
  std::string last_error;
};

struct AttemptRecord {
  int64_t sub_id = 0;
  int64_t seq = 0;
  int64_t at_ms = 0;  // when the try ended (ms since the epoch)
  int64_t attempt = 0;
  std::string outcome;  // "delivered", "retry", "dead"
  long status = 0;
  std::string detail;
  int64_t events = 0;
  int64_t bytes = 0;
  int64_t millis = 0;      // the try itself
  int64_t latency_ms = 0;  // delivered: from the first event's pick-up to the receiver's answer
};

// One subscription's delivery state, summed up for `vantage subscription list`, the
// dashboard and /metrics.
struct SubscriptionState {
  int64_t sub_id = 0;
  int64_t cursor = 0;
  int64_t delivered_batches = 0;
  int64_t delivered_events = 0;
  int64_t last_delivered_ms = 0;
  int64_t pending_events = 0;  // in the pending batch
  int64_t pending_attempts = 0;
  UnixSeconds next_attempt = 0;
  std::string last_error;  // of the pending batch, else of the newest failed try
  int64_t dead_batches = 0;
  int64_t dead_events = 0;
  int64_t rejected_items = 0;
};

class DeliveryState {
 public:
  static Result<std::unique_ptr<DeliveryState>> open(const std::string& path);
  ~DeliveryState();

  struct Cursor {
    int64_t after_id = 0;
    int64_t next_seq = 1;
  };
  // The cursor of a subscription (nullopt: never started).
  Result<std::optional<Cursor>> cursor(int64_t sub_id);
  // Starts a subscription's cursor at `after_id` unless it has one.
  Status start_cursor(int64_t sub_id, int64_t after_id);
  // Moves a cursor over events none of which the subscription wanted (never backwards).
  Status advance_cursor(int64_t sub_id, int64_t after_id);
  // Resets a cursor, backwards too: for when the store's ids fell below it (its newest events
  // were deleted, so ids are handed out again).
  Status reset_cursor(int64_t sub_id, int64_t after_id);

  // Stores batch `seq` (which must be the cursor's next_seq: the caller rendered the body with
  // it) holding events first..last (`events` of them, rendered as `payload`) and moves the
  // cursor to `cursor_after`, in one transaction.
  Result<Batch> create_batch(int64_t sub_id, int64_t seq, int64_t cursor_after, int64_t first_event,
                             int64_t last_event, int64_t events, std::string payload,
                             int64_t queued_ms);
  // The subscription's oldest pending batch (there is at most one: the dispatcher forms the
  // next only when this one is settled).
  Result<std::optional<Batch>> pending(int64_t sub_id);
  // Records one try and the batch's new state (attempts, next_attempt, last_error, state;
  // a delivered batch drops its payload), with the items refused for good.
  Status record(const AttemptRecord& attempt, const Batch& updated,
                const std::vector<RejectedItem>& rejected);

  // Newest first.
  Result<std::vector<AttemptRecord>> attempts(std::optional<int64_t> sub_id, int64_t limit);
  Result<std::vector<Batch>> dead_letters(std::optional<int64_t> sub_id, bool with_payload,
                                          int64_t limit);
  Result<std::vector<SubscriptionState>> summary();
  // Forgets delivered batches and attempts older than `before` (dead ones stay).
  Status prune(UnixSeconds before);

 private:
  explicit DeliveryState(std::unique_ptr<store::Db> db);
  std::unique_ptr<store::Db> db_;
};

}  // namespace vantage::integrations

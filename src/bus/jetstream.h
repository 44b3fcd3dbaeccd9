#pragma once
// The cluster mode's event bus: NATS JetStream (libnats 3.4, nats-server 2.9).
//
//   ingest role   Publisher: batches of raw input lines -> stream subjects
//                 <subject_prefix>.<type or "any">, each with a Nats-Msg-Id header
//   worker role   Consumer: one durable pull consumer shared by all workers; a message is
//                 acknowledged only after the store committed what it carried
//
// At-least-once plus identity gives exactly-once results: the message id is stable (a
// publisher retry inside the stream's duplicate window is dropped by the server), and a
// redelivered message carries the same id, which the worker uses as the input's source key
// (store checkpoint + occurrence ids), so a second delivery changes nothing in the store.
//
// Pitfalls of these versions (../shared/docs/infrastructure-notes.md, section 2): the consumer
// is created with js_AddConsumer and MaxAckPending >= the fetch batch, and the subscription is
// only ever Destroyed (Unsubscribe would delete the durable consumer).
//
// Thread-safety: a Connection and its Publisher/Consumer are used from one thread.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/result.h"

struct __natsConnection;
struct __jsCtx;
struct __natsSubscription;
struct __natsMsg;

namespace vantage::bus {

struct BusOptions {
  std::string urls;  // "nats://h1:4222,nats://h2:4222"
  std::string stream = "VANTAGE_EVENTS";
  std::string subject_prefix = "vantage.events";
  std::string consumer = "vantage-worker";
  int replicas = 1;                  // 1 or 3 (needs a cluster of 3)
  int64_t duplicate_window_s = 600;  // publisher retries inside it are not second events
  int64_t ack_wait_s = 120;          // an unacknowledged message is redelivered after it
  int fetch_batch = 8;               // messages per Fetch (each carries many lines)
  int connect_attempts = 30;         // at start, 1 s apart
  // One message in flight, publisher and consumer side: the store sees the messages in
  // stream order, and the stream holds them in publish order, whatever fails. Reports do not
  // depend on it (both stores are order-independent there); per-input counters and event ids
  // then equal a serial `vantage ingest`'s. Off, publishes are pipelined and workers fetch
  // fetch_batch messages each (several ClickHouse workers need it off).
  bool ordered = true;
  int64_t request_timeout_ms = 10000;  // JetStream API calls and publish acknowledgements
};

// One unit on the bus: raw input lines of one source (CSV messages repeat the header line).
struct BusMessage {
  std::string id;      // Nats-Msg-Id
  std::string source;  // the input's name: labels errors and quarantine records
  std::string type;    // forced report type, or empty (from the name / the records)
  std::string format;  // "csv" or "jsonl"
  std::string body;
};

class Connection {
 public:
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Connects (retrying connect_attempts times, 1 s apart, saying so on stderr) and creates the
  // stream when it does not exist yet.
  static Result<std::unique_ptr<Connection>> open(const BusOptions& options);

  const BusOptions& options() const { return options_; }
  __jsCtx* js() { return js_; }
  std::string connected_url() const;
  // The servers' max_payload (bytes): a message body must leave room for its headers.
  int64_t max_payload() const;

 private:
  explicit Connection(BusOptions options) : options_(std::move(options)) {}
  Status ensure_stream();

  BusOptions options_;
  __natsConnection* nc_ = nullptr;
  __jsCtx* js_ = nullptr;
};

class Publisher {
 public:
  explicit Publisher(Connection& connection) : connection_(connection) {}
  // Publishes every message and waits until JetStream stored each (PublishAsyncComplete).
  // Ok only when all are stored: the caller acknowledges its own client only then, and on an
  // error publishes the same messages again (same ids: the stream drops what it already has).
  Status publish(const std::vector<BusMessage>& messages);
  int64_t duplicates() const { return duplicates_; }  // acknowledged as already stored

 private:
  Status wait_for_acks();

  Connection& connection_;
  int64_t duplicates_ = 0;
};

// One fetched message; ack() after the store committed it.
class Delivery {
 public:
  Delivery(__natsMsg* msg);
  ~Delivery();
  Delivery(Delivery&& other) noexcept;
  Delivery(const Delivery&) = delete;
  Delivery& operator=(const Delivery&) = delete;
  Delivery& operator=(Delivery&&) = delete;

  const BusMessage& message() const { return message_; }
  uint64_t num_delivered() const { return num_delivered_; }  // 1 on first delivery
  uint64_t stream_sequence() const { return stream_sequence_; }
  Status ack();

 private:
  __natsMsg* msg_;
  BusMessage message_;
  uint64_t num_delivered_ = 0;
  uint64_t stream_sequence_ = 0;
};

class Consumer {
 public:
  ~Consumer();
  Consumer(const Consumer&) = delete;
  Consumer& operator=(const Consumer&) = delete;
  // Creates the durable pull consumer (all subjects of the stream) when missing, and binds.
  static Result<std::unique_ptr<Consumer>> open(Connection& connection);
  // Up to fetch_batch messages; an empty list when none arrived within timeout_ms.
  Result<std::vector<Delivery>> fetch(int64_t timeout_ms);

 private:
  explicit Consumer(Connection& connection) : connection_(connection) {}
  Connection& connection_;
  __natsSubscription* sub_ = nullptr;
};

// The JetStream consumer info API, for `vantage status` and /metrics.
struct BusStats {
  uint64_t stream_messages = 0;
  uint64_t stream_bytes = 0;
  std::string stream_leader;
  int64_t stream_replicas = 0;
  uint64_t num_pending = 0;  // consumer lag: stored, not yet delivered
  int64_t num_ack_pending = 0;
  int64_t num_redelivered = 0;
  uint64_t delivered = 0;  // consumer sequence
  uint64_t ack_floor = 0;  // stream sequence up to which everything is acknowledged
  int64_t num_waiting = 0;
};
Result<BusStats> bus_stats(Connection& connection);

// The subject a message of report type `type` (empty: any) is published on.
std::string subject_for(const BusOptions& options, const std::string& type);

}  // namespace vantage::bus

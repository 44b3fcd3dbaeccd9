#pragma once
// The seam between the dispatcher and one destination kind (webhook, syslog, elastic,
// splunk). A kind is a Formatter (events -> one request body) and a Sender (the body -> the
// receiver); both are made per subscription by the kind's entry in the one hand-kept list,
// sinks/registry.cc, which also validates the subscription's own settings.
//
// Contract:
// - render() runs on the dispatcher's thread when a batch is formed; the bytes it returns are
//   stored with the batch and re-sent unchanged on every retry (and after a restart), so a
//   receiver sees one body per (subscription, seq) however often it had to be sent.
// - send() runs on a sender thread, one batch at a time per Sender. It never throws; every
//   outcome is a SendResult. kDelivered only when the receiver accepted the batch (a 2xx, or
//   for syslog every byte written to a live connection).
// - Neither ever logs a secret.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "core/catalogue.h"
#include "registry/model.h"
#include "store/store.h"

namespace vantage::integrations {

// What a rendering or a send knows about its batch.
struct BatchInfo {
  int64_t subscription_id = 0;
  std::string subscription;  // its name
  std::string org;           // the organisation's short name
  int64_t seq = 0;           // 1, 2, ... per subscription
  std::string delivery_id() const {
    return std::to_string(subscription_id) + "-" + std::to_string(seq);
  }
};

struct RejectedItem {
  int64_t event_id = 0;
  std::string reason;
};

struct SendResult {
  enum class Outcome { kDelivered, kRetry };
  Outcome outcome = Outcome::kRetry;
  long status = 0;     // HTTP status, 0 for none (syslog, no response)
  std::string detail;  // what happened, for the delivery log (never a secret)
  // Delivered, but the receiver refused these items for good (an Elasticsearch mapping
  // error): they are kept as rejected, not retried.
  std::vector<RejectedItem> rejected;

  static SendResult delivered(long status, std::string detail = {}) {
    return {Outcome::kDelivered, status, std::move(detail), {}};
  }
  static SendResult retry(long status, std::string detail) {
    return {Outcome::kRetry, status, std::move(detail), {}};
  }
};

class Formatter {
 public:
  virtual ~Formatter() = default;
  virtual std::string render(const std::vector<store::StoredEvent>& events,
                             const BatchInfo& batch) = 0;
  // Rows rendered without their columns because they did not decode.
  virtual int64_t decode_errors() const = 0;
};

class Sender {
 public:
  virtual ~Sender() = default;
  virtual SendResult send(std::string_view payload, int64_t events, const BatchInfo& batch) = 0;
};

// What a kind's factories get besides the subscription.
struct SinkEnv {
  const core::Catalogue* catalogue = nullptr;
  std::string org;       // the subscription's organisation (short name)
  std::string hostname;  // this Vantage's host name
};

}  // namespace vantage::integrations

#pragma once
// The delivery log: one SQLite row per delivery attempt (and one per mail that could not even
// be attempted: no recipients, unusable PGP key, unreadable report), so that "what happened
// to organisation X's mail on day D" always has an answer.
//
// Table `deliveries` in its own database file (by default <data_dir>/deliveries.sqlite). WAL
// mode, so `vantage deliveries` can read while a delivery run writes. Not thread-safe: one
// DeliveryLog per thread (several processes may share the file).

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "common/time.h"

struct sqlite3;

namespace vantage::delivery {

// Row status values.
inline constexpr const char* kStatusDelivered = "delivered";
inline constexpr const char* kStatusRetrying = "retrying";  // transient; another attempt follows
inline constexpr const char* kStatusFailed = "failed";      // permanent, or attempts exhausted
inline constexpr const char* kStatusNotSent = "not_sent";   // never handed to SMTP (PGP, I/O)
inline constexpr const char* kStatusNoRecipients = "no_recipients";

struct DeliveryRecord {
  UnixSeconds at = 0;      // time of the attempt
  std::string day;         // report date, YYYY-MM-DD
  std::string org;         // organisation id
  std::string unit;        // report id (per-report mode) or digest id
  std::string kind;        // "report" or "digest"
  std::string reports;     // report ids the mail carries, comma-separated
  std::string recipient;   // empty for no_recipients
  std::string message_id;  // empty when no message was built
  int attempt = 0;         // 1-based; 0 when nothing was attempted
  std::string status;      // one of the kStatus* values
  int smtp_code = 0;       // last SMTP reply code, 0 when none
  std::string reason;      // server reply text or error; never a secret
  bool encrypted = false;
};

struct DeliveryQuery {
  std::optional<std::string> org;
  std::optional<std::string> day;  // YYYY-MM-DD
};

class DeliveryLog {
 public:
  // Opens (creating when missing) the log at `path`. Errors: kIo.
  static Result<std::unique_ptr<DeliveryLog>> open(const std::string& path);
  ~DeliveryLog();
  DeliveryLog(const DeliveryLog&) = delete;
  DeliveryLog& operator=(const DeliveryLog&) = delete;

  Status append(const DeliveryRecord& record);
  // Rows matching the query in insertion order.
  Result<std::vector<DeliveryRecord>> query(const DeliveryQuery& q) const;

 private:
  explicit DeliveryLog(sqlite3* db) : db_(db) {}
  sqlite3* db_;
};

// "<data_dir>/deliveries.sqlite"
std::string default_delivery_log_path(const std::string& data_dir);

}  // namespace vantage::delivery

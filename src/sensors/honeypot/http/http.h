#pragma once
// The web honeypot's parts apart from its sessions, for tests, the fuzzer and the benchmark:
// the live rules (reloaded when the file changes) and the event a request becomes.

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "common/result.h"
#include "common/time.h"
#include "sensors/common/tcp_reactor.h"
#include "sensors/honeypot/http/rules.h"
#include "sensors/honeypot/service.h"

namespace vantage::honeypot::http {

// What of a request goes into its event, at most (base64-encoded in request_raw/body_raw).
constexpr size_t kMaxRawBytes = 4096;

// The rules file <rules_dir>/http_rules.json, loaded at start (an error then stops the
// sensor) and reloaded when its modification time changes, checked at most every
// `check_every`: a new file that fails validation is not used (the old rules stay, the
// failure is counted and its message kept for the status file). Thread-safe.
class LiveRules {
 public:
  static Result<std::shared_ptr<LiveRules>> open(
      const std::string& path, std::chrono::milliseconds check_every = std::chrono::seconds(2));
  // The rules in force (checks the file when due).
  std::shared_ptr<const RuleSet> current();
  int64_t reloads() const;
  int64_t reload_failures() const;
  std::string last_error() const;

 private:
  LiveRules() = default;
  std::string path_;
  std::chrono::milliseconds check_every_{0};
  mutable std::mutex mu_;
  std::shared_ptr<const RuleSet> rules_;
  int64_t mtime_ns_ = 0;
  std::chrono::steady_clock::time_point next_check_;
  int64_t reloads_ = 0, failures_ = 0;
  std::string last_error_;
};

std::string http_rules_path(const HoneypotSettings& settings);

// Appends the event4_honeypot_http_scan record of one request to `out`.
//   raw: the request's bytes as sent (head + body); rule: its classification (may be null);
//   scheme: "http" or "https"; tag: what went wrong, when something did ("http-malformed").
// `request` may be null for bytes that were not a request (only request_raw is then set).
void append_http_event(std::string& out, const HoneypotSettings& settings,
                       const sensors::ConnectionInfo& info, UnixSeconds when,
                       std::string_view scheme, std::string_view raw,
                       const sensors::HttpRequest* request, const Rule* rule, std::string_view tag);

}  // namespace vantage::honeypot::http

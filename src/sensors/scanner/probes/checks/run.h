#pragma once
// One run of a check against one target, at the level of plaintext requests and replies (the
// transport -- sockets, TLS, one connection per HTTP step -- is the caller's). Steps run in
// order; each step's extractors run on its reply, then its matcher; a step whose matcher
// fails ends the run without a finding, so no further request is sent. Extracted values are
// variables ({{name}}) for later requests and matchers, and fill event columns.
//
// Not thread-safe; one per probe job. Replies are untrusted bytes of any content (fuzzed by
// fuzz/fuzz_probe_http.cc).

#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"
#include "sensors/scanner/probes/checks/template.h"
#include "sensors/scanner/probes/http/http.h"
#include "sensors/scanner/probes/probe.h"

namespace vantage::scanner {

class CheckRun {
 public:
  CheckRun(std::shared_ptr<const CheckTemplate> check, const ProbeTarget& target);

  // True once no further request will be sent (every step ran, or one did not match, or a
  // request could not be built safely).
  bool over() const { return over_; }
  size_t step() const { return step_; }

  // The current step's request bytes ("" = just read: a banner). An Error when a substituted
  // variable would break a non-intrusion rule or is missing: the run is then over.
  Result<std::string> request();
  // Whether `reply` (everything received for the current step so far) is a whole reply.
  bool reply_complete(std::string_view reply) const;
  // Takes the current step's reply (complete or whatever arrived before a close or timeout),
  // runs its extractors and matcher and moves on.
  void take_reply(std::string_view reply);

  // The event's columns when every step ran and matched; else an Error saying why not.
  Result<nlohmann::json> result() const;

  const std::map<std::string, std::string>& variables() const { return vars_; }

 private:
  std::shared_ptr<const CheckTemplate> check_;
  ProbeTarget target_;
  std::map<std::string, std::string> vars_;
  nlohmann::json columns_ = nlohmann::json::object();
  std::optional<HttpReply> last_http_;
  size_t step_ = 0;
  bool over_ = false, matched_all_ = false;
  std::string why_not_ = "no reply";
};

// The Host header value / display name of a target: its host name, else its address.
std::string check_host(const ProbeTarget& target);

}  // namespace vantage::scanner

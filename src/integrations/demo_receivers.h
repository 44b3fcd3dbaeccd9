#pragma once
// `vantage up`'s demo of the push integrations: two receivers on loopback ports the kernel
// picks -- a webhook endpoint that checks each request's signature and replay window, and a
// syslog listener (TCP, octet-counted or LF framing) -- each appending what it accepts to a
// file under <data_dir>/demo/, and two subscriptions of the demo national CSIRT pointing at
// them (critical events, created on first start and re-pointed at the new ports on every
// start). They show an operator the real-time path end to end without any other software.
//
// Thread-safety: start/stop from one thread; the receivers run on their own threads.

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "common/result.h"
#include "registry/registry.h"

namespace vantage::integrations {

class DemoReceivers {
 public:
  // Starts both receivers and points the demo subscriptions of `org_short_name` at them.
  static Result<std::unique_ptr<DemoReceivers>> start(const std::string& data_dir,
                                                      registry::Registry& registry,
                                                      const std::string& org_short_name);
  ~DemoReceivers();
  DemoReceivers(const DemoReceivers&) = delete;
  DemoReceivers& operator=(const DemoReceivers&) = delete;

  std::string webhook_url() const;
  std::string syslog_address() const;
  const std::string& webhook_file() const { return webhook_file_; }
  const std::string& syslog_file() const { return syslog_file_; }
  // Lines for `vantage up`'s banner.
  std::string describe() const;

  struct Impl;

 private:
  DemoReceivers() = default;
  std::unique_ptr<Impl> impl_;
  std::string webhook_file_, syslog_file_;
};

// Splits complete syslog frames off the front of `buffer` (RFC 6587: "<len> <msg>" or a
// message ending in LF) and hands each to `message`; false when the stream is malformed
// (a length over `max_frame` or not a number). What remains is an incomplete frame.
bool take_syslog_frames(std::string& buffer, size_t max_frame,
                        const std::function<void(std::string_view)>& message);

}  // namespace vantage::integrations

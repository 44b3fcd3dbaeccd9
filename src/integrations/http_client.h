#pragma once
// A small HTTP(S) client on libcurl for the integrations: POSTs to webhooks, Elasticsearch
// and Splunk HEC, and the collector's api2 calls and report downloads. One HttpClient keeps
// its connection alive between requests (one curl easy handle).
//
// TLS peers are verified (system CAs, or `ca_file`); there is no switch to turn that off.
// A reply body is kept up to `max_reply_bytes` (an error page from a hostile or broken
// receiver cannot fill memory), or streamed to `on_body` for downloads.
//
// Thread-safety: one HttpClient per thread.

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"

namespace vantage::integrations {

struct HttpRequest {
  std::string method = "POST";
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::chrono::seconds timeout{10};
  std::chrono::seconds connect_timeout{5};
  std::string ca_file;  // empty: the system's CA store
  size_t max_reply_bytes = 64 * 1024;
  // Set: the reply body goes here piece by piece (return false to abort) instead of `body`.
  std::function<bool(std::string_view)> on_body;
};

struct HttpReply {
  long status = 0;   // HTTP status (0 when no response came)
  std::string body;  // up to max_reply_bytes
  bool truncated = false;
  std::chrono::milliseconds elapsed{0};
  std::vector<std::pair<std::string, std::string>> headers;
};

class HttpClient {
 public:
  HttpClient();
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // A reply with any status is a value; kUnavailable when no reply came (connection refused,
  // timeout, TLS failure: the message says which), kInvalidArgument for a malformed URL.
  Result<HttpReply> send(const HttpRequest& request);

 private:
  void* curl_ = nullptr;
};

}  // namespace vantage::integrations

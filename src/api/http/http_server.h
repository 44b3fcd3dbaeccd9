#pragma once
// A small, reusable HTTP/1.1 server on Boost.Beast + Asio for the API, the download host,
// the pipeline's push endpoint and the dashboard.
//
//   HttpServer server(options);
//   server.route("POST", "/api2/", handler, RouteMatch::kPrefix);
//   if (auto st = server.start(); !st.ok()) ...;
//   uint16_t port = server.port();   // the bound port (options.port may be 0)
//   server.stop();
//
// What it enforces (each a hostile-client defence, all configurable in HttpOptions):
// - header size (431) and body size (413) limits, checked while reading;
// - a deadline for the whole request head (`header_timeout`): a slowloris client that drips
//   its headers byte by byte is cut off when it expires, however steadily it sends;
//   `body_timeout` does the same for the body; an idle keep-alive connection waits at most
//   `idle_timeout` for the first byte of its next request;
// - a cap on concurrent connections: connections beyond it are closed at once.
// Responses come from memory, from a file (streamed in constant memory with Content-Length)
// or from a generator (chunked, or with a declared length). In-memory and generated bodies
// are gzip-compressed only when the request's Accept-Encoding allows gzip; files are always
// sent as they are so that Content-Length stays exact (clients cap downloads with it).
// TLS is optional (PEM certificate chain + key from the options).
//
// Access log: one line per request through `HttpOptions::access_log` (default: spdlog at
// info) with remote address, method, path, status, bytes and time. It never contains the
// request body, the query string, or any header other than User-Agent; a route can also
// redact its path (download ids are bearer capabilities).
//
// Thread-safety: route() only before start(). Handlers run on the pool's threads and may
// be called concurrently; they must be thread-safe. start()/stop() from one owning thread.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"

namespace vantage::http {

struct Request {
  std::string method;  // "GET", "POST", ... as sent
  std::string target;  // raw request target: path + optional "?query"
  std::string path;    // target before '?', not percent-decoded
  std::string query;   // target after '?', raw ("" when absent)
  std::vector<std::pair<std::string, std::string>> headers;  // as received
  std::string body;                                          // raw bytes
  std::string remote;                                        // peer address
  bool tls = false;

  // Case-insensitive header lookup; the first occurrence, or nullopt.
  std::optional<std::string_view> header(std::string_view name) const;
};

// Produces the next piece of a streamed body into `chunk` (cleared by the caller);
// returns false after the last piece (which may be empty).
using BodyGenerator = std::function<bool(std::string& chunk)>;

struct Response {
  unsigned status = 200;
  std::vector<std::pair<std::string, std::string>> headers;  // Content-Type etc.
  std::string body;                                          // used unless file/generator set
  std::string file_path;    // non-empty: stream this file (identity encoding, Content-Length)
  BodyGenerator generator;  // set: stream its pieces
  std::optional<uint64_t> content_length;  // with a generator: exact length, sent uncompressed
  bool close = false;                      // close the connection after this response

  static Response text(unsigned status, std::string body,
                       std::string content_type = "text/plain; charset=utf-8");
  static Response json(unsigned status, std::string body);
  static Response file(std::string path, std::string content_type);
  void set_header(std::string name, std::string value);
};

using Handler = std::function<Response(const Request&)>;

enum class RouteMatch { kExact, kPrefix };

struct AccessLogEntry {
  std::string remote;
  std::string method;
  std::string path;  // "<redacted>" suffix where the route asked for it
  unsigned status = 0;
  uint64_t body_bytes = 0;  // response body bytes sent
  std::chrono::microseconds duration{0};
  std::string user_agent;
};

struct HttpOptions {
  std::string bind_address = "127.0.0.1";
  uint16_t port = 0;  // 0: pick a free port; read it back with port()
  int threads = 2;
  size_t max_header_bytes = 16 * 1024;
  uint64_t max_body_bytes = 1 << 20;
  std::chrono::milliseconds header_timeout{10'000};
  std::chrono::milliseconds body_timeout{30'000};
  std::chrono::milliseconds idle_timeout{30'000};
  std::chrono::milliseconds write_timeout{300'000};  // per response; big downloads need time
  size_t max_connections = 512;
  size_t gzip_min_bytes = 1024;  // smaller bodies are not worth compressing
  std::string tls_cert_file;     // both set: serve HTTPS only
  std::string tls_key_file;
  std::string server_name = "vantage";
  // Null: log through spdlog at info level.
  std::function<void(const AccessLogEntry&)> access_log;
};

struct RouteOptions {
  bool redact_path = false;  // log only the route prefix, not what follows it
  // Set: the route takes only the paths it accepts; others go on to the next best route. Lets
  // two routes share a prefix ("/": report ids at the root beside the dashboard's files).
  std::function<bool(const Request&)> accepts;
};

class HttpServer {
 public:
  explicit HttpServer(HttpOptions options);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // `method` "*" accepts every method. Exact routes win over prefix routes; among prefix
  // routes the longest wins, and among equally long ones the first registered. A route whose
  // options.accepts declines the path is skipped. A path with routes but none for the method
  // gets 405.
  void route(std::string method, std::string path, Handler handler,
             RouteMatch match = RouteMatch::kExact, RouteOptions options = {});

  // Binds, listens and starts the threads. Errors: bad address, port in use, TLS files.
  Status start();
  uint16_t port() const;
  // Stops accepting, closes connections, joins the threads. Idempotent.
  void stop();

  // Connections open right now (for tests and status).
  size_t active_connections() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Serves files below `root` for request paths below `prefix` ("/" or "/static/"): GET/HEAD
// only, percent-decoding, "index.html" for directories, content type by extension. Any
// path that would leave `root` ("..", encoded or not, NUL, backslashes, symlinks pointing
// outside) gets 404, as does anything missing.
Handler static_files(std::string root, std::string prefix);

// Content type for a file name by its extension ("application/octet-stream" if unknown).
std::string_view content_type_for(std::string_view file_name);

// Percent-decodes; nullopt on a malformed escape. '+' stays '+' (paths, not forms).
std::optional<std::string> percent_decode(std::string_view text);

// gzip (RFC 1952) of `data` in one piece; used for responses and by tests.
std::string gzip_compress(std::string_view data);

// True when an Accept-Encoding value allows gzip (a "gzip" token without q=0).
bool accepts_gzip(std::string_view accept_encoding);

}  // namespace vantage::http

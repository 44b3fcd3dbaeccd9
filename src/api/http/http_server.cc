#include "api/http/http_server.h"

#include <spdlog/spdlog.h>
#include <zlib.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <cctype>
#include <filesystem>
#include <map>
#include <mutex>
#include <thread>

namespace vantage::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using asio::awaitable;
using asio::use_awaitable;

namespace {

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  }
  return true;
}

bool has_header(const Response& r, std::string_view name) {
  for (const auto& [k, v] : r.headers)
    if (iequals(k, name)) return true;
  return false;
}

// Incremental gzip for generated bodies: one deflate stream across all pieces.
class GzipStream {
 public:
  GzipStream() {
    // windowBits 15 + 16 selects the gzip wrapper.
    ok_ = deflateInit2(&z_, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) ==
          Z_OK;
  }
  ~GzipStream() {
    if (ok_) deflateEnd(&z_);
  }
  GzipStream(const GzipStream&) = delete;
  GzipStream& operator=(const GzipStream&) = delete;
  bool ok() const { return ok_; }

  void feed(std::string_view in, bool finish, std::string& out) {
    z_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    z_.avail_in = static_cast<uInt>(in.size());
    char buf[16384];
    int flush = finish ? Z_FINISH : Z_NO_FLUSH;
    for (;;) {
      z_.next_out = reinterpret_cast<Bytef*>(buf);
      z_.avail_out = sizeof buf;
      int rc = deflate(&z_, flush);
      out.append(buf, sizeof buf - z_.avail_out);
      if (rc == Z_STREAM_END) break;
      if (!finish && z_.avail_in == 0 && z_.avail_out != 0) break;
      if (rc != Z_OK && rc != Z_BUF_ERROR) break;
    }
  }

 private:
  z_stream z_{};
  bool ok_ = false;
};

struct RouteEntry {
  std::string method;
  std::string path;
  Handler handler;
  RouteMatch match;
  RouteOptions options;
};

}  // namespace

std::optional<std::string_view> Request::header(std::string_view name) const {
  for (const auto& [k, v] : headers)
    if (iequals(k, name)) return std::string_view(v);
  return std::nullopt;
}

Response Response::text(unsigned status, std::string body, std::string content_type) {
  Response r;
  r.status = status;
  r.body = std::move(body);
  r.headers.emplace_back("Content-Type", std::move(content_type));
  return r;
}

Response Response::json(unsigned status, std::string body) {
  return text(status, std::move(body), "application/json");
}

Response Response::file(std::string path, std::string content_type) {
  Response r;
  r.file_path = std::move(path);
  r.headers.emplace_back("Content-Type", std::move(content_type));
  return r;
}

void Response::set_header(std::string name, std::string value) {
  for (auto& [k, v] : headers) {
    if (iequals(k, name)) {
      v = std::move(value);
      return;
    }
  }
  headers.emplace_back(std::move(name), std::move(value));
}

bool accepts_gzip(std::string_view ae) {
  size_t pos = 0;
  while (pos <= ae.size()) {
    size_t comma = ae.find(',', pos);
    std::string_view item = ae.substr(pos, comma == std::string_view::npos ? ae.npos : comma - pos);
    pos = comma == std::string_view::npos ? ae.size() + 1 : comma + 1;
    size_t semi = item.find(';');
    std::string_view token = item.substr(0, semi);
    while (!token.empty() && (token.front() == ' ' || token.front() == '\t'))
      token.remove_prefix(1);
    while (!token.empty() && (token.back() == ' ' || token.back() == '\t')) token.remove_suffix(1);
    if (!iequals(token, "gzip") && !iequals(token, "x-gzip")) continue;
    if (semi == std::string_view::npos) return true;
    std::string_view params = item.substr(semi + 1);
    size_t q = params.find("q=");
    if (q == std::string_view::npos) return true;
    std::string_view qv = params.substr(q + 2);
    // q=0, q=0.0, q=0.00 ... refuse; anything else accepts.
    bool zero = !qv.empty() && qv[0] == '0';
    for (size_t i = 1; zero && i < qv.size() && qv[i] != ' ' && qv[i] != ';'; ++i)
      if (qv[i] != '.' && qv[i] != '0') zero = false;
    return !zero;
  }
  return false;
}

std::string gzip_compress(std::string_view data) {
  GzipStream gz;
  std::string out;
  if (!gz.ok()) return out;
  gz.feed(data, true, out);
  return out;
}

std::optional<std::string> percent_decode(std::string_view text) {
  auto hex = [](char h) -> int {
    if (h >= '0' && h <= '9') return h - '0';
    if (h >= 'a' && h <= 'f') return h - 'a' + 10;
    if (h >= 'A' && h <= 'F') return h - 'A' + 10;
    return -1;
  };
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out.push_back(text[i]);
      continue;
    }
    if (i + 2 >= text.size()) return std::nullopt;
    int hi = hex(text[i + 1]);
    int lo = hex(text[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return out;
}

std::string_view content_type_for(std::string_view name) {
  static const std::pair<std::string_view, std::string_view> kTypes[] = {
      {".html", "text/html; charset=utf-8"},
      {".htm", "text/html; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"},
      {".json", "application/json"},
      {".csv", "text/csv; charset=utf-8"},
      {".txt", "text/plain; charset=utf-8"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".jpg", "image/jpeg"},
      {".jpeg", "image/jpeg"},
      {".gif", "image/gif"},
      {".ico", "image/x-icon"},
      {".webp", "image/webp"},
      {".woff", "font/woff"},
      {".woff2", "font/woff2"},
      {".wasm", "application/wasm"},
      {".map", "application/json"},
      {".xml", "application/xml"},
      {".pdf", "application/pdf"},
      {".zip", "application/zip"},
      {".gz", "application/gzip"},
  };
  size_t dot = name.rfind('.');
  size_t slash = name.rfind('/');
  if (dot != std::string_view::npos && (slash == std::string_view::npos || dot > slash)) {
    std::string_view ext = name.substr(dot);
    for (const auto& [e, t] : kTypes)
      if (iequals(e, ext)) return t;
  }
  return "application/octet-stream";
}

Handler static_files(std::string root, std::string prefix) {
  std::error_code ec;
  auto canonical_root = std::filesystem::weakly_canonical(root, ec);
  std::string root_str = ec ? root : canonical_root.string();
  return [root_str, prefix](const Request& req) -> Response {
    if (req.method != "GET" && req.method != "HEAD") {
      Response r = Response::text(405, "method not allowed\n");
      r.set_header("Allow", "GET, HEAD");
      return r;
    }
    Response not_found = Response::text(404, "not found\n");
    if (req.path.compare(0, prefix.size(), prefix) != 0) return not_found;
    auto rel = percent_decode(std::string_view(req.path).substr(prefix.size()));
    if (!rel) return not_found;
    // Reject before touching the file system: any "..", NUL or backslash segment.
    if (rel->find('\0') != std::string::npos || rel->find('\\') != std::string::npos)
      return not_found;
    std::string_view r = *rel;
    size_t pos = 0;
    while (pos <= r.size()) {
      size_t slash = r.find('/', pos);
      std::string_view seg = r.substr(pos, slash == std::string_view::npos ? r.npos : slash - pos);
      if (seg == "..") return not_found;
      if (slash == std::string_view::npos) break;
      pos = slash + 1;
    }
    while (!rel->empty() && rel->front() == '/') rel->erase(0, 1);
    std::filesystem::path p = std::filesystem::path(root_str) / *rel;
    std::error_code fec;
    if (std::filesystem::is_directory(p, fec)) p /= "index.html";
    // Symlinks may point anywhere: compare the resolved path against the root.
    auto resolved = std::filesystem::canonical(p, fec);
    if (fec) return not_found;
    std::string rs = resolved.string();
    if (rs.size() < root_str.size() || rs.compare(0, root_str.size(), root_str) != 0 ||
        (rs.size() > root_str.size() && rs[root_str.size()] != '/'))
      return not_found;
    if (!std::filesystem::is_regular_file(resolved, fec)) return not_found;
    return Response::file(rs, std::string(content_type_for(rs)));
  };
}

struct HttpServer::Impl {
  explicit Impl(HttpOptions o) : options(std::move(o)), ioc(std::max(1, options.threads)) {}

  HttpOptions options;
  asio::io_context ioc;
  std::unique_ptr<asio::ssl::context> ssl;
  std::optional<tcp::acceptor> acceptor;
  std::vector<std::thread> threads;
  std::vector<RouteEntry> routes;
  std::atomic<size_t> active{0};
  uint16_t bound_port = 0;
  bool started = false;
  bool stopped = false;

  void log(const AccessLogEntry& e) {
    if (options.access_log) {
      options.access_log(e);
      return;
    }
    spdlog::info("http {} \"{} {}\" {} {} {}us \"{}\"", e.remote, e.method, e.path, e.status,
                 e.body_bytes, e.duration.count(), e.user_agent);
  }

  // Picks the route; `redacted` gets the path to log.
  Response dispatch(const Request& req, std::string& log_path) {
    log_path = req.path;
    const RouteEntry* best = nullptr;
    bool path_known = false;
    std::vector<std::string> allowed;
    for (int pass = 0; pass < 2 && !best; ++pass) {
      RouteMatch want = pass == 0 ? RouteMatch::kExact : RouteMatch::kPrefix;
      for (const auto& r : routes) {
        if (r.match != want) continue;
        bool hit = want == RouteMatch::kExact ? req.path == r.path
                                              : req.path.compare(0, r.path.size(), r.path) == 0;
        if (!hit || (r.options.accepts && !r.options.accepts(req))) continue;
        path_known = true;
        if (r.method != "*" && r.method != req.method) {
          allowed.push_back(r.method);
          continue;
        }
        if (!best || r.path.size() > best->path.size()) best = &r;
      }
    }
    if (!best) {
      if (path_known) {
        Response r = Response::text(405, "method not allowed\n");
        std::string allow;
        for (const auto& m : allowed) allow += (allow.empty() ? "" : ", ") + m;
        r.set_header("Allow", allow);
        return r;
      }
      return Response::text(404, "not found\n");
    }
    if (best->options.redact_path) log_path = best->path + "<redacted>";
    try {
      return best->handler(req);
    } catch (const std::exception& e) {
      // A throwing handler is a bug; the client gets a 500 and the connection survives.
      spdlog::error("http handler for {} threw: {}", best->path, e.what());
      return Response::text(500, "internal error\n");
    }
  }

  template <class Stream>
  static beast::tcp_stream& lowest(Stream& s) {
    return beast::get_lowest_layer(s);
  }

  template <class Stream>
  awaitable<void> write_response(Stream& stream, const Request& req, Response& res,
                                 AccessLogEntry& entry, bool keep_alive) {
    beast::error_code ec;
    lowest(stream).expires_after(options.write_timeout);
    bool head = req.method == "HEAD";
    auto fill_headers = [&](auto& msg) {
      msg.result(res.status);
      msg.version(11);
      msg.set(bhttp::field::server, options.server_name);
      // Set-Cookie is the one header that repeats (one per cookie, RFC 6265 §3); for the
      // others the last value wins, as Response::set_header means.
      for (const auto& [k, v] : res.headers) {
        if (beast::iequals(k, "set-cookie")) {
          msg.insert(k, v);
        } else {
          msg.set(k, v);
        }
      }
      msg.keep_alive(keep_alive);
    };
    bool gzip_ok = false;
    if (auto ae = req.header("Accept-Encoding")) gzip_ok = accepts_gzip(*ae);

    if (!res.file_path.empty()) {
      bhttp::response<bhttp::file_body> msg;
      fill_headers(msg);
      msg.body().open(res.file_path.c_str(), beast::file_mode::scan, ec);
      if (ec) {
        Response nf = Response::text(404, "not found\n");
        res = std::move(nf);
        co_await write_response(stream, req, res, entry, keep_alive);
        co_return;
      }
      msg.prepare_payload();
      entry.status = res.status;
      if (head) {
        bhttp::response_serializer<bhttp::file_body> sr{msg};
        co_await bhttp::async_write_header(stream, sr, asio::redirect_error(use_awaitable, ec));
      } else {
        entry.body_bytes = msg.body().size();
        co_await bhttp::async_write(stream, msg, asio::redirect_error(use_awaitable, ec));
      }
      if (ec) throw beast::system_error(ec);
      co_return;
    }

    if (res.generator) {
      bhttp::response<bhttp::buffer_body> msg;
      fill_headers(msg);
      bool compress = gzip_ok && !res.content_length && !has_header(res, "Content-Encoding");
      if (compress) {
        msg.set(bhttp::field::content_encoding, "gzip");
        msg.set(bhttp::field::vary, "Accept-Encoding");
      }
      if (res.content_length && !compress)
        msg.content_length(*res.content_length);
      else
        msg.chunked(true);
      msg.body().data = nullptr;
      msg.body().more = true;
      entry.status = res.status;
      bhttp::response_serializer<bhttp::buffer_body> sr{msg};
      co_await bhttp::async_write_header(stream, sr, asio::redirect_error(use_awaitable, ec));
      if (ec) throw beast::system_error(ec);
      if (head) co_return;
      std::optional<GzipStream> gz;
      if (compress) gz.emplace();
      std::string piece, out;
      bool more = true;
      while (more) {
        piece.clear();
        more = res.generator(piece);
        std::string* send = &piece;
        if (gz) {
          out.clear();
          gz->feed(piece, !more, out);
          send = &out;
        }
        if (!send->empty()) {
          msg.body().data = send->data();
          msg.body().size = send->size();
          msg.body().more = true;
          entry.body_bytes += send->size();
          co_await bhttp::async_write(stream, sr, asio::redirect_error(use_awaitable, ec));
          if (ec == bhttp::error::need_buffer) ec = {};
          if (ec) throw beast::system_error(ec);
        }
      }
      msg.body().data = nullptr;
      msg.body().size = 0;
      msg.body().more = false;
      co_await bhttp::async_write(stream, sr, asio::redirect_error(use_awaitable, ec));
      if (ec == bhttp::error::need_buffer) ec = {};
      if (ec) throw beast::system_error(ec);
      co_return;
    }

    bhttp::response<bhttp::string_body> msg;
    fill_headers(msg);
    if (gzip_ok && res.body.size() >= options.gzip_min_bytes &&
        !has_header(res, "Content-Encoding")) {
      msg.body() = gzip_compress(res.body);
      msg.set(bhttp::field::content_encoding, "gzip");
      msg.set(bhttp::field::vary, "Accept-Encoding");
    } else {
      msg.body() = std::move(res.body);
    }
    msg.prepare_payload();
    entry.status = res.status;
    entry.body_bytes = head ? 0 : msg.body().size();
    if (head) {
      bhttp::response_serializer<bhttp::string_body> sr{msg};
      co_await bhttp::async_write_header(stream, sr, asio::redirect_error(use_awaitable, ec));
    } else {
      co_await bhttp::async_write(stream, msg, asio::redirect_error(use_awaitable, ec));
    }
    if (ec) throw beast::system_error(ec);
  }

  // Sends a small error and ends the connection (used for limits and malformed requests).
  template <class Stream>
  awaitable<void> write_error_and_close(Stream& stream, unsigned status, std::string_view text,
                                        const std::string& remote) {
    bhttp::response<bhttp::string_body> msg{static_cast<bhttp::status>(status), 11};
    msg.set(bhttp::field::server, options.server_name);
    msg.set(bhttp::field::content_type, "text/plain; charset=utf-8");
    msg.keep_alive(false);
    msg.body() = std::string(text);
    msg.prepare_payload();
    beast::error_code ec;
    lowest(stream).expires_after(std::chrono::seconds(5));
    co_await bhttp::async_write(stream, msg, asio::redirect_error(use_awaitable, ec));
    AccessLogEntry e;
    e.remote = remote;
    e.method = "-";
    e.path = "-";
    e.status = status;
    e.body_bytes = msg.body().size();
    log(e);
  }

  template <class Stream>
  awaitable<void> serve(Stream& stream, const std::string& remote, bool tls) {
    beast::flat_buffer buffer;
    bool first = true;
    for (;;) {
      beast::error_code ec;
      bhttp::request_parser<bhttp::string_body> parser;
      parser.header_limit(static_cast<std::uint32_t>(options.max_header_bytes));
      parser.body_limit(options.max_body_bytes);
      // One deadline for the whole head (plus, on a kept-alive connection, the idle wait):
      // a client dripping bytes cannot extend it.
      auto head_deadline =
          options.header_timeout + (first ? std::chrono::milliseconds(0) : options.idle_timeout);
      first = false;
      lowest(stream).expires_after(head_deadline);
      co_await bhttp::async_read_header(stream, buffer, parser,
                                        asio::redirect_error(use_awaitable, ec));
      if (ec == bhttp::error::header_limit) {
        co_await write_error_and_close(stream, 431, "request header too large\n", remote);
        co_return;
      }
      if (ec == bhttp::error::body_limit) {
        co_await write_error_and_close(stream, 413, "request body too large\n", remote);
        co_return;
      }
      if (ec == beast::error::timeout) {
        if (buffer.size() > 0)
          co_await write_error_and_close(stream, 408, "request timeout\n", remote);
        co_return;
      }
      if (ec == bhttp::error::end_of_stream || ec == asio::error::eof ||
          ec == asio::error::connection_reset || ec == asio::error::operation_aborted)
        co_return;
      if (ec) {
        co_await write_error_and_close(stream, 400, "bad request\n", remote);
        co_return;
      }
      // The declared length is known now: refuse early instead of reading what we'd drop.
      if (auto len = parser.content_length(); len && *len > options.max_body_bytes) {
        co_await write_error_and_close(stream, 413, "request body too large\n", remote);
        co_return;
      }
      if (parser.get()[bhttp::field::expect] == "100-continue") {
        bhttp::response<bhttp::empty_body> cont{bhttp::status::continue_, 11};
        lowest(stream).expires_after(std::chrono::seconds(5));
        co_await bhttp::async_write(stream, cont, asio::redirect_error(use_awaitable, ec));
        if (ec) co_return;
      }
      lowest(stream).expires_after(options.body_timeout);
      co_await bhttp::async_read(stream, buffer, parser, asio::redirect_error(use_awaitable, ec));
      if (ec == bhttp::error::body_limit) {
        co_await write_error_and_close(stream, 413, "request body too large\n", remote);
        co_return;
      }
      if (ec == beast::error::timeout) {
        co_await write_error_and_close(stream, 408, "request timeout\n", remote);
        co_return;
      }
      if (ec) co_return;

      auto started_at = std::chrono::steady_clock::now();
      auto msg = parser.release();
      Request req;
      req.method = std::string(msg.method_string());
      req.target = std::string(msg.target());
      size_t q = req.target.find('?');
      req.path = req.target.substr(0, q);
      if (q != std::string::npos) req.query = req.target.substr(q + 1);
      for (const auto& f : msg)
        req.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
      req.body = std::move(msg.body());
      req.remote = remote;
      req.tls = tls;
      bool keep_alive = msg.keep_alive();

      AccessLogEntry entry;
      entry.remote = remote;
      entry.method = req.method;
      if (auto ua = req.header("User-Agent")) entry.user_agent = std::string(*ua);
      Response res = dispatch(req, entry.path);
      keep_alive = keep_alive && !res.close;
      bool write_failed = false;
      try {
        co_await write_response(stream, req, res, entry, keep_alive);
      } catch (const beast::system_error&) {
        write_failed = true;
      }
      entry.duration = std::chrono::duration_cast<std::chrono::microseconds>(
          std::chrono::steady_clock::now() - started_at);
      log(entry);
      if (write_failed || !keep_alive) break;
    }
    beast::error_code ignored;
    lowest(stream).socket().shutdown(tcp::socket::shutdown_send, ignored);
  }

  struct ConnectionCount {
    std::atomic<size_t>& n;
    explicit ConnectionCount(std::atomic<size_t>& c) : n(c) {}
    ~ConnectionCount() { n.fetch_sub(1); }
  };

  awaitable<void> session(tcp::socket socket) {
    ConnectionCount guard(active);
    std::string remote;
    beast::error_code ec;
    auto ep = socket.remote_endpoint(ec);
    if (!ec) remote = ep.address().to_string();
    beast::tcp_stream stream(std::move(socket));
    try {
      if (ssl) {
        beast::ssl_stream<beast::tcp_stream> tls_stream(std::move(stream), *ssl);
        beast::get_lowest_layer(tls_stream).expires_after(options.header_timeout);
        co_await tls_stream.async_handshake(asio::ssl::stream_base::server,
                                            asio::redirect_error(use_awaitable, ec));
        if (ec) co_return;
        co_await serve(tls_stream, remote, true);
        beast::get_lowest_layer(tls_stream).expires_after(std::chrono::seconds(2));
        co_await tls_stream.async_shutdown(asio::redirect_error(use_awaitable, ec));
      } else {
        co_await serve(stream, remote, false);
      }
    } catch (const std::exception& e) {
      spdlog::debug("http connection from {} ended: {}", remote, e.what());
    }
  }

  awaitable<void> accept_loop() {
    for (;;) {
      beast::error_code ec;
      tcp::socket socket(asio::make_strand(ioc));
      co_await acceptor->async_accept(socket, asio::redirect_error(use_awaitable, ec));
      if (ec == asio::error::operation_aborted || !acceptor->is_open()) co_return;
      if (ec) continue;  // e.g. EMFILE: keep serving the connections we have
      if (active.load() >= options.max_connections) {
        // Over the cap: closing at once is the cheapest answer and frees the slot.
        socket.close(ec);
        continue;
      }
      active.fetch_add(1);
      auto ex = socket.get_executor();
      asio::co_spawn(ex, session(std::move(socket)), asio::detached);
    }
  }
};

HttpServer::HttpServer(HttpOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}

HttpServer::~HttpServer() {
  stop();
}

void HttpServer::route(std::string method, std::string path, Handler handler, RouteMatch match,
                       RouteOptions options) {
  impl_->routes.push_back(
      RouteEntry{std::move(method), std::move(path), std::move(handler), match, options});
}

Status HttpServer::start() {
  auto& im = *impl_;
  if (im.started) return Error{ErrorCode::kFailedPrecondition, "server already started"};
  const auto& o = im.options;
  if (!o.tls_cert_file.empty() || !o.tls_key_file.empty()) {
    if (o.tls_cert_file.empty() || o.tls_key_file.empty())
      return Error::invalid("TLS needs both a certificate and a key file");
    im.ssl = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_server);
    im.ssl->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                        asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                        asio::ssl::context::no_tlsv1_1);
    beast::error_code ec;
    im.ssl->use_certificate_chain_file(o.tls_cert_file, ec);
    if (ec) return Error::invalid("TLS certificate " + o.tls_cert_file + ": " + ec.message());
    im.ssl->use_private_key_file(o.tls_key_file, asio::ssl::context::pem, ec);
    if (ec) return Error::invalid("TLS key " + o.tls_key_file + ": " + ec.message());
  }
  beast::error_code ec;
  auto address = asio::ip::make_address(o.bind_address, ec);
  if (ec) return Error::invalid("bad listen address '" + o.bind_address + "'");
  tcp::endpoint ep(address, o.port);
  im.acceptor.emplace(im.ioc);
  im.acceptor->open(ep.protocol(), ec);
  if (!ec) im.acceptor->set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) im.acceptor->bind(ep, ec);
  if (!ec) im.acceptor->listen(asio::socket_base::max_listen_connections, ec);
  if (ec)
    return Error::io("cannot listen on " + o.bind_address + ":" + std::to_string(o.port) + ": " +
                     ec.message());
  im.bound_port = im.acceptor->local_endpoint().port();
  asio::co_spawn(im.ioc, im.accept_loop(), asio::detached);
  im.started = true;
  for (int i = 0; i < std::max(1, o.threads); ++i) im.threads.emplace_back([&im] { im.ioc.run(); });
  return Status();
}

uint16_t HttpServer::port() const {
  return impl_->bound_port;
}

size_t HttpServer::active_connections() const {
  return impl_->active.load();
}

void HttpServer::stop() {
  auto& im = *impl_;
  if (!im.started || im.stopped) return;
  im.stopped = true;
  asio::post(im.ioc, [&im] {
    beast::error_code ec;
    im.acceptor->close(ec);
  });
  im.ioc.stop();
  for (auto& t : im.threads)
    if (t.joinable()) t.join();
}

}  // namespace vantage::http

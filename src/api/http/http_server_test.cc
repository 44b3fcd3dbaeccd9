#include "api/http/http_server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zlib.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

namespace vantage::http {
namespace {

using namespace std::chrono_literals;

// A blocking loopback client that speaks raw bytes, so tests control exactly what is sent.
class RawClient {
 public:
  explicit RawClient(uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  }
  ~RawClient() {
    if (fd_ >= 0) ::close(fd_);
  }
  bool connected() const { return connected_; }
  bool send(std::string_view s) {
    return ::send(fd_, s.data(), s.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(s.size());
  }
  // Reads until `want` bytes of body after the head, EOF, or the timeout.
  std::string read_some(std::chrono::milliseconds timeout) {
    std::string out;
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      pollfd p{fd_, POLLIN, 0};
      int left = static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                      deadline - std::chrono::steady_clock::now())
                                      .count());
      if (::poll(&p, 1, std::max(left, 1)) <= 0) break;
      char buf[65536];
      ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) {
        eof_ = true;
        break;
      }
      out.append(buf, static_cast<size_t>(n));
    }
    return out;
  }
  // Reads one full response with Content-Length framing.
  std::string read_response(std::chrono::milliseconds timeout = 5000ms) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      size_t head_end = pending_.find("\r\n\r\n");
      if (head_end != std::string::npos) {
        std::string head = pending_.substr(0, head_end);
        size_t cl = 0;
        auto pos = head.find("Content-Length: ");
        if (pos != std::string::npos) cl = std::stoul(head.substr(pos + 16));
        if (pending_.size() >= head_end + 4 + cl) {
          std::string r = pending_.substr(0, head_end + 4 + cl);
          pending_.erase(0, head_end + 4 + cl);
          return r;
        }
      }
      std::string more = read_some(200ms);
      if (more.empty() && eof_) break;
      pending_ += more;
    }
    return pending_;
  }
  bool eof() const { return eof_; }

 private:
  int fd_ = -1;
  bool connected_ = false;
  bool eof_ = false;
  std::string pending_;
};

std::string body_of(const std::string& response) {
  auto p = response.find("\r\n\r\n");
  return p == std::string::npos ? "" : response.substr(p + 4);
}

std::string gunzip(const std::string& in) {
  z_stream z{};
  inflateInit2(&z, 15 + 16);
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  std::string out;
  char buf[4096];
  int rc;
  do {
    z.next_out = reinterpret_cast<Bytef*>(buf);
    z.avail_out = sizeof buf;
    rc = inflate(&z, Z_NO_FLUSH);
    out.append(buf, sizeof buf - z.avail_out);
  } while (rc == Z_OK);
  inflateEnd(&z);
  return out;
}

std::string dechunk(const std::string& body) {
  std::string out;
  size_t pos = 0;
  while (pos < body.size()) {
    size_t eol = body.find("\r\n", pos);
    if (eol == std::string::npos) break;
    size_t n = std::stoul(body.substr(pos, eol - pos), nullptr, 16);
    if (n == 0) break;
    out += body.substr(eol + 2, n);
    pos = eol + 2 + n + 2;
  }
  return out;
}

class HttpServerTest : public ::testing::Test {
 protected:
  void start(HttpOptions o = {}) {
    o.port = 0;
    o.access_log = [this](const AccessLogEntry& e) {
      std::lock_guard lock(mu_);
      log_.push_back(e);
    };
    server_ = std::make_unique<HttpServer>(o);
    server_->route("GET", "/hello", [](const Request& r) {
      return Response::text(200, "hello " + std::string(r.header("x-name").value_or("?")));
    });
    server_->route("POST", "/echo", [](const Request& r) { return Response::text(200, r.body); });
    server_->route("GET", "/cookies", [](const Request&) {
      Response r = Response::text(200, "two cookies");
      r.headers.emplace_back("Set-Cookie", "a=1; Path=/");
      r.headers.emplace_back("Set-Cookie", "b=2; Path=/");
      r.set_header("X-Once", "first");
      r.set_header("X-Once", "second");
      return r;
    });
    server_->route("GET", "/big",
                   [](const Request&) { return Response::text(200, std::string(100000, 'a')); });
    server_->route("GET", "/gen", [](const Request&) {
      auto n = std::make_shared<int>(0);
      Response r;
      r.headers.emplace_back("Content-Type", "text/plain");
      r.generator = [n](std::string& chunk) {
        chunk = "line " + std::to_string(*n) + "\n";
        return ++*n < 1000;
      };
      return r;
    });
    server_->route(
        "*", "/pre/", [](const Request& r) { return Response::text(200, r.path); },
        RouteMatch::kPrefix, RouteOptions{.redact_path = true});
    ASSERT_TRUE(server_->start().ok());
    ASSERT_NE(server_->port(), 0);
  }
  void TearDown() override {
    if (server_) server_->stop();
  }
  std::unique_ptr<HttpServer> server_;
  std::mutex mu_;
  std::vector<AccessLogEntry> log_;
};

TEST_F(HttpServerTest, RoutesMethodsAndKeepAlive) {
  start();
  RawClient c(server_->port());
  ASSERT_TRUE(c.connected());
  ASSERT_TRUE(c.send("GET /hello HTTP/1.1\r\nHost: x\r\nX-Name: bob\r\n\r\n"));
  std::string r1 = c.read_response();
  EXPECT_NE(r1.find("HTTP/1.1 200"), std::string::npos) << r1;
  EXPECT_EQ(body_of(r1), "hello bob");
  // Same connection: keep-alive is the HTTP/1.1 default.
  ASSERT_TRUE(c.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"));
  std::string r2 = c.read_response();
  EXPECT_EQ(body_of(r2), "abc");
  ASSERT_TRUE(c.send("POST /hello HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n"));
  std::string r3 = c.read_response();
  EXPECT_NE(r3.find("HTTP/1.1 405"), std::string::npos) << r3;
  EXPECT_NE(r3.find("Allow: GET"), std::string::npos) << r3;
  ASSERT_TRUE(c.send("GET /nothing HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_NE(c.read_response().find("HTTP/1.1 404"), std::string::npos);
  ASSERT_TRUE(c.send("GET /pre/secret-id?q=1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  std::string r4 = c.read_response();
  EXPECT_EQ(body_of(r4), "/pre/secret-id");
  c.read_some(500ms);
  EXPECT_TRUE(c.eof());
  std::lock_guard lock(mu_);
  ASSERT_EQ(log_.size(), 5u);
  EXPECT_EQ(log_[0].status, 200u);
  EXPECT_EQ(log_[4].path, "/pre/<redacted>");
}

// Two routes on one prefix: the first takes only the paths it accepts, the other the rest
// (report ids at the root beside the dashboard's files).
TEST(HttpRoutes, DecliningRouteLeavesPathsToTheNext) {
  HttpOptions o;
  o.access_log = [](const AccessLogEntry&) {};
  HttpServer server(o);
  server.route(
      "GET", "/", [](const Request& r) { return Response::text(200, "id " + r.path); },
      RouteMatch::kPrefix, RouteOptions{.redact_path = true, .accepts = [](const Request& r) {
                                          return r.path.size() == 6;
                                        }});
  server.route(
      "GET", "/", [](const Request& r) { return Response::text(200, "page " + r.path); },
      RouteMatch::kPrefix);
  ASSERT_TRUE(server.start().ok());
  RawClient c(server.port());
  ASSERT_TRUE(c.send("GET /abcde HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_EQ(body_of(c.read_response()), "id /abcde");
  ASSERT_TRUE(c.send("GET /index.html HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  EXPECT_EQ(body_of(c.read_response()), "page /index.html");
  server.stop();
}

TEST_F(HttpServerTest, EverySetCookieIsSent) {
  start();
  RawClient c(server_->port());
  ASSERT_TRUE(c.send("GET /cookies HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  std::string r = c.read_response();
  EXPECT_NE(r.find("Set-Cookie: a=1; Path=/\r\n"), std::string::npos) << r;
  EXPECT_NE(r.find("Set-Cookie: b=2; Path=/\r\n"), std::string::npos) << r;
  EXPECT_EQ(r.find("X-Once: first"), std::string::npos) << r;
  EXPECT_NE(r.find("X-Once: second"), std::string::npos) << r;
}

TEST_F(HttpServerTest, OversizedBodyGets413) {
  HttpOptions o;
  o.max_body_bytes = 1000;
  start(o);
  RawClient c(server_->port());
  ASSERT_TRUE(c.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n"));
  c.send(std::string(5000, 'x'));
  std::string r = c.read_response();
  EXPECT_NE(r.find("HTTP/1.1 413"), std::string::npos) << r;
  // Chunked bodies have no declared length: the limit applies while reading.
  RawClient c2(server_->port());
  std::string chunked = "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (int i = 0; i < 5; ++i) chunked += "190\r\n" + std::string(400, 'y') + "\r\n";
  chunked += "0\r\n\r\n";
  c2.send(chunked);
  EXPECT_NE(c2.read_response().find("HTTP/1.1 413"), std::string::npos);
  // Within the limit works.
  RawClient c3(server_->port());
  c3.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n" +
          std::string(1000, 'z'));
  EXPECT_EQ(body_of(c3.read_response()), std::string(1000, 'z'));
}

TEST_F(HttpServerTest, OversizedHeaderGets431) {
  HttpOptions o;
  o.max_header_bytes = 2048;
  start(o);
  RawClient c(server_->port());
  c.send("GET /hello HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(4096, 'h') + "\r\n\r\n");
  EXPECT_NE(c.read_response().find("HTTP/1.1 431"), std::string::npos);
}

TEST_F(HttpServerTest, SlowlorisIsCutOff) {
  HttpOptions o;
  o.header_timeout = 600ms;
  start(o);
  RawClient c(server_->port());
  const std::string req =
      "GET /hello HTTP/1.1\r\nHost: x\r\nX-Drip: aaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n";
  auto t0 = std::chrono::steady_clock::now();
  size_t sent = 0;
  // One byte every 50 ms would take ~3.5 s; the server must close at ~0.6 s.
  for (; sent < req.size(); ++sent) {
    if (!c.send(req.substr(sent, 1))) break;
    std::string got = c.read_some(50ms);
    if (c.eof() || !got.empty()) break;
  }
  auto elapsed = std::chrono::steady_clock::now() - t0;
  EXPECT_LT(sent, req.size());
  EXPECT_LT(elapsed, 2500ms);
  EXPECT_GE(elapsed, 500ms);
  // An idle connection that sends nothing is dropped too.
  RawClient idle(server_->port());
  idle.read_some(1500ms);
  EXPECT_TRUE(idle.eof());
}

TEST_F(HttpServerTest, GzipOnlyWhenAccepted) {
  start();
  RawClient c(server_->port());
  c.send("GET /big HTTP/1.1\r\nHost: x\r\nAccept-Encoding: identity\r\n\r\n");
  std::string plain = c.read_response();
  EXPECT_EQ(plain.find("Content-Encoding"), std::string::npos);
  EXPECT_EQ(body_of(plain).size(), 100000u);
  c.send("GET /big HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip, deflate\r\n\r\n");
  std::string gz = c.read_response();
  EXPECT_NE(gz.find("Content-Encoding: gzip"), std::string::npos);
  EXPECT_LT(body_of(gz).size(), 2000u);
  EXPECT_EQ(gunzip(body_of(gz)), std::string(100000, 'a'));
  EXPECT_TRUE(accepts_gzip("br, gzip;q=0.5"));
  EXPECT_FALSE(accepts_gzip("gzip;q=0"));
  EXPECT_FALSE(accepts_gzip("identity"));
}

TEST_F(HttpServerTest, GeneratorIsChunked) {
  start();
  RawClient c(server_->port());
  c.send("GET /gen HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  std::string r = c.read_some(3000ms);
  EXPECT_NE(r.find("Transfer-Encoding: chunked"), std::string::npos);
  std::string text = dechunk(body_of(r));
  EXPECT_EQ(text.substr(0, 7), "line 0\n");
  EXPECT_NE(text.find("line 999\n"), std::string::npos);
}

TEST_F(HttpServerTest, MaxConnections) {
  HttpOptions o;
  o.max_connections = 2;
  start(o);
  RawClient a(server_->port()), b(server_->port());
  a.send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
  b.send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
  a.read_response();
  b.read_response();
  RawClient c(server_->port());
  c.send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
  std::string r = c.read_some(1000ms);
  EXPECT_TRUE(r.empty());
  EXPECT_TRUE(c.eof());
}

TEST(StaticFilesTest, ServesFilesAndRejectsTraversal) {
  auto dir =
      std::filesystem::temp_directory_path() / ("vantage_static_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir / "www" / "css");
  std::ofstream(dir / "www" / "index.html") << "<h1>hi</h1>";
  std::ofstream(dir / "www" / "css" / "a.css") << "body{}";
  std::ofstream(dir / "secret.txt") << "secret";
  std::filesystem::create_symlink(dir / "secret.txt", dir / "www" / "link.txt");
  auto h = static_files((dir / "www").string(), "/static/");
  auto get = [&](std::string path) {
    Request r;
    r.method = "GET";
    r.path = std::move(path);
    return h(r);
  };
  auto idx = get("/static/");
  EXPECT_EQ(idx.status, 200u);
  EXPECT_EQ(idx.headers[0].second, "text/html; charset=utf-8");
  auto css = get("/static/css/a.css");
  EXPECT_EQ(css.status, 200u);
  EXPECT_EQ(css.headers[0].second, "text/css; charset=utf-8");
  for (std::string bad : {"/static/../secret.txt", "/static/%2e%2e/secret.txt",
                          "/static/css/../../secret.txt", "/static/link.txt", "/static/%00",
                          "/static/..%5csecret.txt", "/static/missing", "/static/%zz"}) {
    EXPECT_EQ(get(bad).status, 404u) << bad;
  }
  std::filesystem::remove_all(dir);
}

TEST(HttpHelpersTest, PercentDecode) {
  EXPECT_EQ(percent_decode("a%20b").value(), "a b");
  EXPECT_FALSE(percent_decode("a%2").has_value());
  EXPECT_FALSE(percent_decode("%").has_value());
  EXPECT_EQ(content_type_for("x.csv"), "text/csv; charset=utf-8");
  EXPECT_EQ(content_type_for("x.unknown"), "application/octet-stream");
}

}  // namespace
}  // namespace vantage::http

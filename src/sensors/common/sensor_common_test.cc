// Tests of the listening sensors' shared parts: the JSON Lines writer (checked with the
// pipeline's own decoder), the journal and its shipper (crash recovery, exactly-once
// hand-over, retries), the TCP/UDP front ends (bounds, TLS) and the HTTP request parser.

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "core/catalogue.h"
#include "pipeline/jsonl_decoder.h"
#include "sensors/common/event_journal.h"
#include "sensors/common/http_request.h"
#include "sensors/common/json_line.h"
#include "sensors/common/privileges.h"
#include "sensors/common/sensor_host.h"
#include "sensors/common/shipper.h"
#include "sensors/common/tcp_reactor.h"
#include "sensors/common/udp_reactor.h"

namespace vantage::sensors {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

fs::path temp_dir(const std::string& name) {
  fs::path p =
      fs::temp_directory_path() / ("vantage_sensor_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(p);
  fs::create_directories(p);
  return p;
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// ---- JsonLine ------------------------------------------------------------------------

TEST(JsonLine, DecodesWithThePipelinesDecoderWhateverTheBytes) {
  std::string out;
  JsonLine(out, "event4_honeypot_brute_force")
      .time("timestamp", 1733570000)
      .ip("src_ip", *IpAddress::parse("192.0.2.7"))
      .num("src_port", 40000)
      .str("username", "ro\"ot\\")
      .str("password", std::string("p\x01\xff\xc3\xa9w\n", 7))
      .str("client_version", "")
      .finish();
  EXPECT_EQ(out.back(), '\n');
  const auto& catalogue = core::Catalogue::builtin();
  pipeline::JsonlDecoder decoder(catalogue, nullptr);
  core::Event ev;
  pipeline::DecodeError err;
  ASSERT_TRUE(decoder.decode(std::string_view(out).substr(0, out.size() - 1), ev, err))
      << err.field << ": " << err.reason << "\n"
      << out;
  const auto* type = ev.type();
  EXPECT_EQ(ev.string_at(type->column_index("username")), "ro\"ot\\");
  // Invalid UTF-8 (0xff) is kept as the text \xff; valid UTF-8 (é) as itself; control
  // characters survive the JSON and are then removed by the event's string rule.
  EXPECT_EQ(ev.string_at(type->column_index("password")), "p\\xfféw");
  EXPECT_TRUE(ev.is_null(type->column_index("client_version")));
  // DEL is a control character too: escaped, never raw in the record.
  std::string del;
  JsonLine(del, "event4_honeypot_brute_force")
      .time("timestamp", 1)
      .str("username", "del\x7f!")
      .finish();
  EXPECT_EQ(del.find('\x7f'), std::string::npos);
  EXPECT_NE(del.find("del\\u007f!"), std::string::npos) << del;
  core::Event ev2;
  EXPECT_TRUE(decoder.decode(std::string_view(del).substr(0, del.size() - 1), ev2, err)) << del;
  EXPECT_EQ(ev.src_ip()->to_string(), "192.0.2.7");
  // Addresses are written by hand for IPv4: the edges, and IPv6 as before.
  for (const char* a : {"0.0.0.0", "255.255.255.255", "10.0.100.9", "2001:db8::7", "::ffff:0:1"}) {
    std::string rec;
    JsonLine(rec, "event4_sinkhole")
        .time("timestamp", 1)
        .ip("src_ip", *IpAddress::parse(a))
        .num("src_port", -1 + 65536)
        .finish();
    core::Event e2;
    ASSERT_TRUE(decoder.decode(std::string_view(rec).substr(0, rec.size() - 1), e2, err)) << rec;
    EXPECT_EQ(e2.src_ip()->to_string(), IpAddress::parse(a)->to_string()) << rec;
    EXPECT_NE(rec.find("\"src_port\":65535"), std::string::npos) << rec;
  }
}

TEST(JsonLine, WritesAddressesAndTimesAsTheirTextForms) {
  std::string out;
  for (const char* a : {"0.0.0.0", "255.255.255.255", "10.0.100.9", "192.0.2.7", "2001:db8::1"}) {
    out.clear();
    JsonLine(out, "t").ip("ip", *IpAddress::parse(a)).finish();
    EXPECT_EQ(out, std::string("{\"type\":\"t\",\"fields\":{\"ip\":\"") + a + "\"}}\n");
  }
  // Alternating seconds (the per-thread cache of the last one must not stick).
  for (UnixSeconds t : {UnixSeconds{1733570000}, UnixSeconds{0}, UnixSeconds{1733570000},
                        UnixSeconds{1733570001}}) {
    out.clear();
    JsonLine(out, "t").time("timestamp", t).finish();
    EXPECT_EQ(out, "{\"type\":\"t\",\"fields\":{\"timestamp\":\"" + format_timestamp(t) + "\"}}\n");
  }
}

// ---- EventJournal --------------------------------------------------------------------

TEST(EventJournal, ClosesSegmentsAndRecoversATornOneAfterACrash) {
  auto dir = temp_dir("journal");
  // A sensor process that dies without closing its journal (as kill -9 would), in the
  // middle of writing a record.
  pid_t pid = ::fork();
  if (pid == 0) {
    auto j = EventJournal::open({dir.string(), "hp", 1 << 20, 1h});
    if (!j.ok()) _exit(10);
    if (!(*j)->append("{\"a\":1}\n{\"a\":2}\n", 2).ok()) _exit(11);
    if (!(*j)->rotate(true).ok()) _exit(12);
    if (!(*j)->append("{\"a\":3}\n", 1).ok()) _exit(13);
    if ((*j)->ready_segments().size() != 1) _exit(14);
    // A second process on the same journal is refused while this one lives.
    pid_t other = ::fork();
    if (other == 0) _exit(EventJournal::open({dir.string(), "hp", 1 << 20, 1h}).ok() ? 1 : 0);
    int st = 0;
    ::waitpid(other, &st, 0);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) _exit(15);
    for (const auto& e : fs::directory_iterator(dir))
      if (e.path().string().ends_with(".part"))
        std::ofstream(e.path(), std::ios::app) << "{\"a\":4, \"tor";
    _exit(0);  // no destructors: the open segment stays a .part
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status));
  ASSERT_EQ(WEXITSTATUS(status), 0);

  auto j = EventJournal::open({dir.string(), "hp", 1 << 20, 1h});
  ASSERT_TRUE(j.ok()) << j.error().message;
  auto st = (*j)->stats();
  EXPECT_EQ(st.segments_recovered, 1);
  EXPECT_EQ(st.torn_bytes_dropped, 12);  // {"a":4, "tor
  auto segs = (*j)->ready_segments();
  ASSERT_EQ(segs.size(), 2u);
  EXPECT_EQ(slurp(dir / segs[0]), "{\"a\":1}\n{\"a\":2}\n");
  EXPECT_EQ(slurp(dir / segs[1]), "{\"a\":3}\n");
  // New segments sort after the recovered ones.
  ASSERT_TRUE((*j)->append("{\"a\":5}\n", 1).ok());
  ASSERT_TRUE((*j)->rotate(true).ok());
  segs = (*j)->ready_segments();
  ASSERT_EQ(segs.size(), 3u);
  EXPECT_EQ(slurp(dir / segs[2]), "{\"a\":5}\n");
}

TEST(EventJournal, SegmentsCloseBySizeAndAgeAndBuffersFlush) {
  auto dir = temp_dir("journal_size");
  auto j = EventJournal::open({dir.string(), "s", 64, 50ms});
  ASSERT_TRUE(j.ok());
  JournalBuffer buf(j->get(), 1 << 20);
  for (int i = 0; i < 10; ++i) {
    JsonLine(buf.text(), "blocklist").num("n", i).finish();
    buf.commit();
  }
  ASSERT_TRUE(buf.flush().ok());
  // One append of > 64 bytes closes the segment at once.
  EXPECT_EQ((*j)->ready_segments().size(), 1u);
  ASSERT_TRUE((*j)->append("{}\n", 1).ok());
  EXPECT_TRUE((*j)->rotate().ok());
  EXPECT_EQ((*j)->ready_segments().size(), 1u);  // too young
  std::this_thread::sleep_for(60ms);
  EXPECT_TRUE((*j)->rotate().ok());
  EXPECT_EQ((*j)->ready_segments().size(), 2u);
  EXPECT_EQ((*j)->stats().records_appended, 11);
}

TEST(EventJournal, AddSegmentIsWholeOrAbsentAfterACrash) {
  auto dir = temp_dir("journal_add");
  {
    auto j = EventJournal::open({dir.string(), "sh", 1 << 20, 1h});
    ASSERT_TRUE(j.ok());
    ASSERT_TRUE((*j)->append("{\"a\":1}\n", 1).ok());
    ASSERT_TRUE((*j)->add_segment("{\"d\":1}\n{\"d\":2}\n", 2).ok());
    ASSERT_TRUE((*j)->append("{\"a\":2}\n", 1).ok());
    ASSERT_TRUE((*j)->rotate(true).ok());
    auto segs = (*j)->ready_segments();
    ASSERT_EQ(segs.size(), 3u);  // the open segment was closed first: order kept
    EXPECT_EQ(slurp(dir / segs[0]), "{\"a\":1}\n");
    EXPECT_EQ(slurp(dir / segs[1]), "{\"d\":1}\n{\"d\":2}\n");
    EXPECT_EQ(slurp(dir / segs[2]), "{\"a\":2}\n");
    EXPECT_EQ((*j)->stats().records_appended, 4);
    for (const auto& s : segs) ASSERT_TRUE((*j)->remove_segment(s).ok());
  }
  // A writer killed between write and rename leaves a temporary: removed at open, never
  // shipped as a prefix of what it meant to write.
  std::ofstream(dir / "sh-0000000000001-000000001.jsonl.tmp") << "{\"d\":1}\n{\"d";
  auto j = EventJournal::open({dir.string(), "sh", 1 << 20, 1h});
  ASSERT_TRUE(j.ok());
  EXPECT_EQ((*j)->stats().temporaries_removed, 1);
  EXPECT_TRUE((*j)->ready_segments().empty());
  EXPECT_FALSE(fs::exists(dir / "sh-0000000000001-000000001.jsonl.tmp"));
}

// ---- Shipper ---------------------------------------------------------------------------

TEST(Shipper, MovesClosedSegmentsIntoTheInboxInOrder) {
  auto dir = temp_dir("ship_inbox");
  auto j = EventJournal::open({(dir / "journal").string(), "hp", 1 << 20, 1h});
  ASSERT_TRUE(j.ok());
  Shipper shipper(**j, inbox_destination((dir / "inbox").string()), {20ms, 1000ms});
  ASSERT_TRUE((*j)->append("{\"n\":1}\n", 1).ok());
  ASSERT_TRUE((*j)->rotate(true).ok());
  ASSERT_TRUE((*j)->append("{\"n\":2}\n", 1).ok());
  ASSERT_TRUE(shipper.flush(5s));
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir / "inbox")) names.push_back(e.path().string());
  std::sort(names.begin(), names.end());
  ASSERT_EQ(names.size(), 2u);
  EXPECT_EQ(slurp(names[0]), "{\"n\":1}\n");
  EXPECT_EQ(slurp(names[1]), "{\"n\":2}\n");
  EXPECT_TRUE((*j)->ready_segments().empty());
  EXPECT_EQ(shipper.stats().segments_shipped, 2);
}

TEST(Shipper, KeepsWorkingAfterPrivilegesDropBehindAPrivateDirectory) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root (CI runs as root)";
  // A private data directory (0700, root's): the sensor, once it is `nobody`, can no longer
  // reach its journal or the inbox by path -- only through the descriptors opened before.
  auto dir = temp_dir("ship_private");
  fs::permissions(dir, fs::perms::owner_all);
  pid_t pid = ::fork();
  if (pid == 0) {
    auto j = EventJournal::open({(dir / "state" / "journal").string(), "hp", 1 << 20, 1h});
    if (!j.ok()) _exit(11);
    if (!hand_over_directory((dir / "state").string(), "nobody").ok()) _exit(10);
    auto inbox = inbox_destination((dir / "inbox").string());
    fs::permissions(dir / "inbox", fs::perms::all);  // the inbox itself is open to the sensor
    auto refused = inbox_destination((dir / "closed_inbox").string());
    if (!drop_privileges("nobody").ok()) _exit(12);
    if (!inbox->usable().ok() || refused->usable().ok()) _exit(16);
    if (::access((dir / "state").c_str(), X_OK) == 0) _exit(13);  // truly unreachable by path
    {
      Shipper shipper(**j, std::move(inbox), {20ms, 1000ms});
      if (!(*j)->append("{\"n\":1}\n", 1).ok()) _exit(14);
      if (!shipper.flush(5s)) _exit(15);
    }
    _exit(0);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status));
  ASSERT_EQ(WEXITSTATUS(status), 0);
  int files = 0;
  for (const auto& e : fs::directory_iterator(dir / "inbox")) {
    EXPECT_EQ(slurp(e.path()), "{\"n\":1}\n");
    ++files;
  }
  EXPECT_EQ(files, 1);
}

// A one-request-at-a-time HTTP server answering with the statuses it is given, recording
// the bodies and headers it saw.
class ScriptedHttp {
 public:
  explicit ScriptedHttp(std::vector<int> statuses) : statuses_(std::move(statuses)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    ::listen(fd_, 16);
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] { run(); });
  }
  ~ScriptedHttp() {
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    thread_.join();
  }
  uint16_t port() const { return port_; }
  std::vector<std::string> requests;  // read after the shipper is done

 private:
  void run() {
    for (int status : statuses_) {
      int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      std::string req;
      char buf[4096];
      HttpRequest r;
      while (true) {
        ssize_t n = ::recv(c, buf, sizeof buf, 0);
        if (n <= 0) break;
        req.append(buf, static_cast<size_t>(n));
        if (parse_http_request(req, r, {}, nullptr) == HttpParse::kComplete) break;
      }
      requests.push_back(req);
      std::string resp = "HTTP/1.1 " + std::to_string(status) +
                         " X\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}";
      (void)!::send(c, resp.data(), resp.size(), MSG_NOSIGNAL);
      ::close(c);
    }
  }
  std::vector<int> statuses_;
  int fd_ = -1;
  uint16_t port_ = 0;
  std::thread thread_;
};

TEST(Shipper, PushRetriesUntilAcceptedAndSetsARefusedSegmentAside) {
  auto dir = temp_dir("ship_push");
  // First segment: 503, then 200. Second segment: 400 (refused for good), third: 200.
  ScriptedHttp server({503, 200, 400, 200});
  auto j = EventJournal::open({(dir / "journal").string(), "hp", 1 << 20, 1h});
  ASSERT_TRUE(j.ok());
  for (int i = 1; i <= 3; ++i) {
    ASSERT_TRUE((*j)->append("{\"n\":" + std::to_string(i) + "}\n", 1).ok());
    ASSERT_TRUE((*j)->rotate(true).ok());
  }
  {
    PushTarget t{"http://127.0.0.1:" + std::to_string(server.port()) + "/ingest", "KEY", "secret",
                 5s};
    Shipper shipper(**j, push_destination(t), {20ms, 300ms});
    ASSERT_TRUE(shipper.flush(10s));
    auto s = shipper.stats();
    EXPECT_EQ(s.segments_shipped, 2);
    EXPECT_EQ(s.segments_rejected, 1);
    EXPECT_EQ(s.delivery_failures, 1);
  }
  ASSERT_EQ(server.requests.size(), 4u);
  // The retry sent the same body with the same signature: the push endpoint recognises it.
  EXPECT_EQ(server.requests[0], server.requests[1]);
  EXPECT_NE(server.requests[0].find("X-Vantage-Key: KEY"), std::string::npos);
  // HMAC-SHA256("secret", "{\"n\":1}\n")
  EXPECT_NE(server.requests[0].find("HMAC2: "), std::string::npos);
  EXPECT_NE(server.requests[2].find("{\"n\":2}"), std::string::npos);
  auto aside = dir / "journal" / "rejected";
  int kept = 0;
  for (const auto& e : fs::directory_iterator(aside)) {
    if (e.path().extension() == ".jsonl") {
      EXPECT_EQ(slurp(e.path()), "{\"n\":2}\n");
      ++kept;
    }
  }
  EXPECT_EQ(kept, 1);
  EXPECT_TRUE((*j)->ready_segments().empty());
}

// ---- TcpReactor ------------------------------------------------------------------------

// Echoes lines ("quit" closes); records how each connection ended.
struct LineEcho : Session {
  std::atomic<int>* closed_count;
  std::vector<std::string>* reasons;
  std::mutex* mu;
  void on_open(SessionIo& io) override { io.send("hello " + io.info().tls.server_name + "\n"); }
  size_t on_data(std::string_view in, SessionIo& io) override {
    size_t used = 0;
    while (true) {
      auto nl = in.find('\n', used);
      if (nl == std::string_view::npos) return used;
      auto line = in.substr(used, nl - used);
      used = nl + 1;
      if (line == "quit") {
        io.close();
        return used;
      }
      io.send(std::string(line) + "\n");
    }
  }
  void on_close(CloseReason why, std::string_view, SessionIo&) override {
    std::lock_guard lock(*mu);
    reasons->push_back(close_reason_name(why));
    closed_count->fetch_add(1);
  }
};

int connect_to(const Endpoint& e) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(e.port);
  a.sin_addr.s_addr = htonl(e.ip.v4());
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return -1;
  }
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  return fd;
}

std::string read_until_close(int fd) {
  std::string out;
  char buf[4096];
  while (true) {
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) return out;
    out.append(buf, static_cast<size_t>(n));
  }
}

struct ReactorFixture {
  std::atomic<int> closed{0};
  std::vector<std::string> reasons;
  std::mutex mu;
  SessionFactory factory() {
    return [this](const ConnectionInfo&) {
      auto s = std::make_unique<LineEcho>();
      s->closed_count = &closed;
      s->reasons = &reasons;
      s->mu = &mu;
      return s;
    };
  }
  void wait_closed(int n) {
    for (int i = 0; i < 500 && closed.load() < n; ++i) std::this_thread::sleep_for(10ms);
  }
};

TEST(TcpReactor, ServesSessionsAndEnforcesItsBounds) {
  ReactorFixture fx;
  ReactorOptions ro;
  ro.threads = 2;
  ro.max_connections = 3;
  TcpReactor reactor(ro);
  ListenerOptions lo;
  lo.name = "echo";
  lo.bind = *parse_endpoint("127.0.0.1:0");
  lo.factory = fx.factory();
  lo.idle_timeout = 300ms;
  lo.max_unconsumed_bytes = 1000;
  auto bound = reactor.listen(lo);
  ASSERT_TRUE(bound.ok()) << bound.error().message;
  ASSERT_NE(bound->port, 0);
  ASSERT_TRUE(reactor.start().ok());

  // A conversation: banner, echo, close by the session after its output.
  int a = connect_to(*bound);
  std::string msg = "one\ntwo\nquit\n";
  ASSERT_EQ(::send(a, msg.data(), msg.size(), 0), static_cast<ssize_t>(msg.size()));
  EXPECT_EQ(read_until_close(a), "hello \none\ntwo\n");
  ::close(a);

  // Slowloris: a line that never ends is cut at max_unconsumed_bytes.
  int b = connect_to(*bound);
  std::string junk(1500, 'x');
  (void)!::send(b, junk.data(), junk.size(), 0);
  EXPECT_EQ(read_until_close(b), "hello \n");
  ::close(b);

  // Idle: closed after the idle timeout.
  int c = connect_to(*bound);
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(read_until_close(c), "hello \n");
  EXPECT_GE(std::chrono::steady_clock::now() - t0, 250ms);
  ::close(c);
  fx.wait_closed(3);

  // The global cap: three idle connections are served, a fourth is closed at once.
  std::vector<int> held;
  for (int i = 0; i < 3; ++i) held.push_back(connect_to(*bound));
  for (int fd : held) {
    char buf[16];
    EXPECT_GT(::recv(fd, buf, sizeof buf, 0), 0);  // banner: it is being served
  }
  int over = connect_to(*bound);
  EXPECT_EQ(read_until_close(over), "");
  ::close(over);
  for (int fd : held) ::close(fd);
  fx.wait_closed(6);
  auto s = reactor.stats();
  EXPECT_EQ(s.refused_over_cap, 1);
  reactor.stop();
  std::lock_guard lock(fx.mu);
  auto count = [&](const char* r) { return std::count(fx.reasons.begin(), fx.reasons.end(), r); };
  EXPECT_EQ(count("closed"), 1);
  EXPECT_EQ(count("input_limit"), 1);
  EXPECT_EQ(count("idle_timeout"), 1);
  EXPECT_EQ(count("peer_closed"), 3);
  EXPECT_EQ(s.active, 0);
}

TEST(TcpReactor, ClientFirstListenersReadTheFirstBytesAtAccept) {
  ReactorFixture fx;
  TcpReactor reactor({1, 100, nullptr, 50ms});
  ListenerOptions lo;
  lo.name = "client-first";
  lo.bind = *parse_endpoint("127.0.0.1:0");
  lo.factory = fx.factory();
  lo.client_speaks_first = true;
  auto bound = reactor.listen(lo);
  ASSERT_TRUE(bound.ok());
  ASSERT_TRUE(reactor.start().ok());
  for (int i = 0; i < 3; ++i) {
    int fd = connect_to(*bound);
    std::string msg = "req" + std::to_string(i) + "\nquit\n";
    ASSERT_EQ(::send(fd, msg.data(), msg.size(), 0), static_cast<ssize_t>(msg.size()));
    EXPECT_EQ(read_until_close(fd), "hello \nreq" + std::to_string(i) + "\n");
    ::close(fd);
  }
  fx.wait_closed(3);
  reactor.stop();
  EXPECT_EQ(reactor.stats().accepted, 3);
}

TEST(TcpReactor, SpeaksTlsAndReportsSniCipherAndClientHello) {
  ReactorFixture fx;
  TcpReactor reactor({1, 100, nullptr, 50ms});
  auto ctx = tls_context_self_signed("sensor.test");
  ASSERT_TRUE(ctx.ok()) << ctx.error().message;
  std::string seen_hello, seen_cipher;
  std::mutex mu;
  ListenerOptions lo;
  lo.name = "tls";
  lo.bind = *parse_endpoint("127.0.0.1:0");
  lo.tls = *ctx;
  auto inner = fx.factory();
  lo.factory = inner;
  auto bound = reactor.listen(lo);
  ASSERT_TRUE(bound.ok());
  ASSERT_TRUE(reactor.start().ok());

  int fd = connect_to(*bound);
  SSL_CTX* cctx = SSL_CTX_new(TLS_client_method());
  SSL* ssl = SSL_new(cctx);
  SSL_set_fd(ssl, fd);
  SSL_set_tlsext_host_name(ssl, "cnc.example.test");
  ASSERT_EQ(SSL_connect(ssl), 1);
  char buf[256];
  int n = SSL_read(ssl, buf, sizeof buf);
  ASSERT_GT(n, 0);
  EXPECT_EQ(std::string(buf, static_cast<size_t>(n)), "hello cnc.example.test\n");
  SSL_write(ssl, "ping\nquit\n", 10);
  std::string rest;
  while ((n = SSL_read(ssl, buf, sizeof buf)) > 0) rest.append(buf, static_cast<size_t>(n));
  EXPECT_EQ(rest, "ping\n");
  SSL_free(ssl);
  SSL_CTX_free(cctx);
  ::close(fd);

  // Not TLS at all: the handshake fails, the session still hears of it.
  int plain = connect_to(*bound);
  (void)!::send(plain, "GET / HTTP/1.0\r\n\r\n", 18, 0);
  read_until_close(plain);
  ::close(plain);
  fx.wait_closed(2);
  reactor.stop();
  std::lock_guard lock(fx.mu);
  ASSERT_EQ(fx.reasons.size(), 2u);
  EXPECT_EQ(fx.reasons[0], "closed");
  EXPECT_EQ(fx.reasons[1], "tls_failed");
}

TEST(TcpReactor, HandsTheRawClientHelloAndNegotiatedCipherToTheSession) {
  struct Capture : Session {
    std::string* hello;
    std::string* cipher;
    void on_open(SessionIo& io) override {
      *hello = io.info().tls.client_hello;
      *cipher = io.info().tls.cipher;
      io.close();
    }
    size_t on_data(std::string_view in, SessionIo&) override { return in.size(); }
  };
  std::string hello, cipher;
  TcpReactor reactor({1, 100, nullptr, 50ms});
  ListenerOptions lo;
  lo.bind = *parse_endpoint("127.0.0.1:0");
  lo.tls = *tls_context_self_signed("x");
  lo.factory = [&](const ConnectionInfo&) {
    auto s = std::make_unique<Capture>();
    s->hello = &hello;
    s->cipher = &cipher;
    return s;
  };
  auto bound = reactor.listen(lo);
  ASSERT_TRUE(reactor.start().ok());
  int fd = connect_to(*bound);
  SSL_CTX* cctx = SSL_CTX_new(TLS_client_method());
  SSL* ssl = SSL_new(cctx);
  SSL_set_fd(ssl, fd);
  ASSERT_EQ(SSL_connect(ssl), 1);
  char buf[16];
  SSL_read(ssl, buf, sizeof buf);
  SSL_free(ssl);
  SSL_CTX_free(cctx);
  ::close(fd);
  reactor.stop();
  ASSERT_GE(hello.size(), 6u);
  EXPECT_EQ(static_cast<uint8_t>(hello[0]), 0x16);  // a TLS handshake record
  EXPECT_EQ(static_cast<uint8_t>(hello[5]), 0x01);  // ClientHello
  EXPECT_FALSE(cipher.empty());
}

// ---- UdpReactor ------------------------------------------------------------------------

TEST(UdpReactor, AnswersFromTheAddressItWasAskedOn) {
  std::atomic<int> seen{0};
  std::atomic<int> batches_before_reply{0};
  std::string local_seen;
  std::mutex mu;
  UdpReactor reactor({2, nullptr, 50ms});
  UdpListenerOptions lo;
  lo.name = "udp";
  lo.bind = *parse_endpoint("0.0.0.0:0");
  lo.handler = [&](const Datagram& d, UdpReplies& r) {
    {
      std::lock_guard lock(mu);
      local_seen = d.local.ip.to_string();
    }
    seen.fetch_add(1);
    r.reply("re:" + std::string(d.payload));
  };
  // Runs after the batch was handled and before its reply leaves: the handler's count is in.
  lo.before_replies = [&](int) {
    if (seen.load() > 0) batches_before_reply.fetch_add(1);
  };
  auto bound = reactor.listen(lo);
  ASSERT_TRUE(bound.ok()) << bound.error().message;
  ASSERT_TRUE(reactor.start().ok());
  int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(bound->port);
  ::inet_pton(AF_INET, "127.0.0.3", &to.sin_addr);
  ASSERT_EQ(::sendto(fd, "q1", 2, 0, reinterpret_cast<sockaddr*>(&to), sizeof to), 2);
  char buf[64];
  sockaddr_in from{};
  socklen_t flen = sizeof from;
  ssize_t n = ::recvfrom(fd, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &flen);
  ASSERT_EQ(n, 5);
  EXPECT_EQ(std::string(buf, 5), "re:q1");
  EXPECT_EQ(batches_before_reply.load(), 1);
  char addr[INET_ADDRSTRLEN];
  ::inet_ntop(AF_INET, &from.sin_addr, addr, sizeof addr);
  EXPECT_STREQ(addr, "127.0.0.3");  // not 127.0.0.1: answered from the address asked
  ::close(fd);
  reactor.stop();
  EXPECT_EQ(seen.load(), 1);
  EXPECT_EQ(local_seen, "127.0.0.3");
  auto s = reactor.stats();
  EXPECT_EQ(s.datagrams_in, 1);
  EXPECT_EQ(s.replies_out, 1);
}

TEST(SensorHost, LastUdpTicksSeeStoppingAndServicesShowTheirStatus) {
  auto dir = temp_dir("host_stopping");
  SensorHostOptions o;
  o.sensor = "t";
  o.state_dir = dir.string();
  o.udp_threads = 2;
  o.allow_root = true;
  auto host = SensorHost::create(std::move(o));
  ASSERT_TRUE(host.ok()) << host.error().message;
  SensorHost* h = host->get();
  std::atomic<int> ticks_running{0}, ticks_stopping{0};
  UdpListenerOptions lo;
  lo.name = "u";
  lo.bind = *parse_endpoint("127.0.0.1:0");
  lo.handler = [](const Datagram&, UdpReplies&) {};
  ASSERT_TRUE(h->add_udp(lo, [&](int thread) {
                 // What a service writes on its last tick still reaches the journal.
                 if (h->stopping() && ticks_stopping.fetch_add(1) == 0) {
                   h->udp_buffer(thread).text() += "{\"last\":1}\n";
                   h->udp_buffer(thread).commit();
                 }
                 if (!h->stopping()) ticks_running.fetch_add(1);
               }).ok());
  h->add_status("u", [] { return nlohmann::json{{"answered", 3}}; });
  ASSERT_TRUE(h->start().ok());
  EXPECT_FALSE(h->stopping());
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(h->status()["services"]["u"]["answered"], 3);
  h->stop();
  EXPECT_TRUE(h->stopping());
  EXPECT_GT(ticks_running.load(), 0);
  EXPECT_GE(ticks_stopping.load(), 2);  // each loop's last tick
  EXPECT_EQ(h->journal().stats().records_appended, 1);
}

TEST(TcpReactor, OutOfDescriptorsRefusesConnectionsWithoutSpinning) {
  int to_child[2], from_child[2];
  ASSERT_EQ(::pipe(to_child), 0);
  ASSERT_EQ(::pipe(from_child), 0);
  pid_t pid = ::fork();
  if (pid == 0) {
    rlimit lim{};
    ::getrlimit(RLIMIT_NOFILE, &lim);
    lim.rlim_cur = 40;
    if (::setrlimit(RLIMIT_NOFILE, &lim) != 0) _exit(10);
    struct Quiet : Session {
      size_t on_data(std::string_view in, SessionIo&) override { return in.size(); }
    };
    TcpReactor reactor({1, 100000, nullptr, 50ms});
    ListenerOptions lo;
    lo.name = "t";
    lo.bind = *parse_endpoint("127.0.0.1:0");
    lo.factory = [](const ConnectionInfo&) { return std::make_unique<Quiet>(); };
    auto bound = reactor.listen(lo);
    if (!bound.ok() || !reactor.start().ok()) _exit(11);
    uint16_t port = bound->port;
    if (::write(from_child[1], &port, sizeof port) != sizeof port) _exit(12);
    char go;
    if (::read(to_child[0], &go, 1) != 1) _exit(13);  // the clients are connected
    rusage before{}, after{};
    ::getrusage(RUSAGE_SELF, &before);
    std::this_thread::sleep_for(1s);
    ::getrusage(RUSAGE_SELF, &after);
    auto cpu = [](const rusage& r) {
      return r.ru_utime.tv_sec + r.ru_stime.tv_sec +
             (r.ru_utime.tv_usec + r.ru_stime.tv_usec) / 1e6;
    };
    double used = cpu(after) - cpu(before);
    auto st = reactor.stats();
    reactor.stop();
    _exit(st.refused_over_cap > 0 && used < 0.5 ? 0 : 20);
  }
  uint16_t port = 0;
  ASSERT_EQ(::read(from_child[0], &port, sizeof port), static_cast<ssize_t>(sizeof port));
  std::vector<int> clients;
  for (int i = 0; i < 100; ++i) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    clients.push_back(fd);
  }
  std::this_thread::sleep_for(200ms);
  ASSERT_EQ(::write(to_child[1], "g", 1), 1);
  int status = 0;
  ::waitpid(pid, &status, 0);
  for (int fd : clients) ::close(fd);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
      << "exit " << WEXITSTATUS(status) << " (20: nothing refused, or the loop spun)";
}

TEST(UdpReactor, OneSharedSocketServesEveryLoop) {
  std::atomic<int> seen{0};
  UdpReactor reactor({2, nullptr, 50ms});
  UdpListenerOptions lo;
  lo.name = "shared";
  lo.bind = *parse_endpoint("127.0.0.1:0");
  lo.one_socket = true;
  lo.handler = [&](const Datagram& d, UdpReplies& r) {
    seen.fetch_add(1);
    r.reply(d.payload);
  };
  auto bound = reactor.listen(lo);
  ASSERT_TRUE(bound.ok()) << bound.error().message;
  ASSERT_TRUE(reactor.start().ok());
  int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(bound->port);
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  // Both loops wait on the one socket (which of them serves is the kernel's choice); every
  // datagram is answered once, and stop() closes the socket once.
  int answered = 0;
  for (int i = 0; i < 200; ++i) {
    std::string q = "q" + std::to_string(i);
    ::sendto(fd, q.data(), q.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to);
    char buf[64];
    if (::recv(fd, buf, sizeof buf, 0) == static_cast<ssize_t>(q.size())) ++answered;
  }
  ::close(fd);
  reactor.stop();
  EXPECT_EQ(answered, 200);
  EXPECT_EQ(seen.load(), 200);
}

// ---- HTTP request parser ----------------------------------------------------------------

TEST(HttpRequestParser, ReadsWhatBotsSend) {
  HttpRequest r;
  std::string why;
  std::string in =
      "GET /cgi-bin/luci/;stok=/locale?form=country HTTP/1.1\r\nHost: a\r\nUser-Agent: "
      "Mozila/5.0\r\nX-A:  b \r\n\r\nGET / HTTP/1.1\r\n";
  ASSERT_EQ(parse_http_request(in, r, {}, &why), HttpParse::kComplete) << why;
  EXPECT_EQ(r.method, "GET");
  EXPECT_EQ(r.path(), "/cgi-bin/luci/;stok=/locale");
  EXPECT_EQ(r.query(), "form=country");
  EXPECT_EQ(r.header("user-agent"), "Mozila/5.0");
  EXPECT_EQ(r.header("x-a"), "b");
  ASSERT_EQ(r.headers.size(), 3u);
  EXPECT_EQ(r.headers[0].first, "Host");
  EXPECT_TRUE(r.keep_alive());
  EXPECT_EQ(in.substr(r.length), "GET / HTTP/1.1\r\n");
  EXPECT_EQ(parse_http_request(in.substr(r.length), r, {}, &why), HttpParse::kIncomplete);

  // Bare LF, a body by Content-Length, HTTP/1.0 closes.
  ASSERT_EQ(parse_http_request("POST /x HTTP/1.0\nContent-Length: 3\n\nabcdef", r, {}, &why),
            HttpParse::kComplete);
  EXPECT_EQ(r.body, "abc");
  EXPECT_FALSE(r.keep_alive());
  EXPECT_EQ(parse_http_request("POST /x HTTP/1.1\r\nContent-Length: 5\r\n\r\nab", r, {}, &why),
            HttpParse::kIncomplete);

  // Chunked.
  ASSERT_EQ(parse_http_request("POST /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                               "3\r\nabc\r\n2;x=y\r\nde\r\n0\r\n\r\nNEXT",
                               r, {}, &why),
            HttpParse::kComplete)
      << why;
  EXPECT_EQ(r.body, "abcde");

  // HTTP/0.9.
  ASSERT_EQ(parse_http_request("GET /old\r\n", r, {}, &why), HttpParse::kComplete);
  EXPECT_EQ(r.version, "");
  EXPECT_EQ(r.target, "/old");

  // Garbage and bounds.
  EXPECT_EQ(parse_http_request("\x16\x03\x01\x02\x00\x01", r, {}, &why), HttpParse::kMalformed);
  EXPECT_EQ(parse_http_request("GET / HTTP/1.1\r\nNoColon\r\n\r\n", r, {}, &why),
            HttpParse::kMalformed);
  HttpLimits small;
  small.max_head_bytes = 64;
  EXPECT_EQ(parse_http_request("GET / HTTP/1.1\r\nX: " + std::string(100, 'a'), r, small, &why),
            HttpParse::kMalformed);
  EXPECT_EQ(parse_http_request("POST / HTTP/1.1\r\nContent-Length: 999999999\r\n\r\n", r, {}, &why),
            HttpParse::kMalformed);
  EXPECT_EQ(parse_http_request("POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", r, {}, &why),
            HttpParse::kMalformed);
}

// ---- SensorHost: a service with its own loop ------------------------------------------

// A service with its own listening sockets (listen_reuseport) and thread, as a libssh one has.
class OwnLoopService : public StandaloneService {
 public:
  explicit OwnLoopService(std::vector<int> fds) : fds_(std::move(fds)) {}
  ~OwnLoopService() override {
    stop();
    for (int fd : fds_) ::close(fd);
  }
  std::string name() const override { return "own"; }
  Status start() override {
    started = true;
    return {};
  }
  void stop() override { stopped = true; }
  nlohmann::json status() const override { return {{"sockets", fds_.size()}}; }
  std::atomic<bool> started{false}, stopped{false};

 private:
  std::vector<int> fds_;
};

TEST(SensorHost, RunsStandaloneServicesAndListsWhereTheyListen) {
  fs::path dir = temp_dir("standalone");
  SensorHostOptions ho;
  ho.sensor = "test";
  ho.state_dir = (dir / "state").string();
  ho.allow_root = true;
  auto host = SensorHost::create(std::move(ho));
  ASSERT_TRUE(host.ok()) << host.error().message;
  Endpoint bound;
  auto fds = listen_reuseport(*parse_endpoint("127.0.0.1:0"), 3, 16, bound);
  ASSERT_TRUE(fds.ok()) << fds.error().message;
  ASSERT_EQ(fds->size(), 3u);
  ASSERT_NE(bound.port, 0);
  for (int fd : *fds) {  // every socket is on the port the first one got
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
    EXPECT_EQ(from_sockaddr(ss).port, bound.port);
  }
  {
    // A port held by a socket that does not share it is an error.
    int plain = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_storage ss{};
    socklen_t len = to_sockaddr(*parse_endpoint("127.0.0.1:0"), ss);
    ASSERT_EQ(::bind(plain, reinterpret_cast<sockaddr*>(&ss), len), 0);
    ASSERT_EQ(::listen(plain, 1), 0);
    len = sizeof ss;
    ::getsockname(plain, reinterpret_cast<sockaddr*>(&ss), &len);
    Endpoint held = from_sockaddr(ss), ignored;
    EXPECT_FALSE(listen_reuseport(held, 2, 16, ignored).ok());
    ::close(plain);
  }
  auto svc = std::make_unique<OwnLoopService>(std::move(*fds));
  auto* raw = svc.get();
  (*host)->add_standalone(std::move(svc), {bound});
  ASSERT_TRUE((*host)->start().ok());
  EXPECT_TRUE(raw->started);
  auto st = (*host)->status();
  ASSERT_EQ(st["listeners"].size(), 1u);
  EXPECT_EQ(st["listeners"][0]["service"], "own");
  EXPECT_EQ(st["listeners"][0]["listen"], bound.to_string());
  EXPECT_EQ(st["services"]["own"]["sockets"], 3);
  (*host)->stop();
  EXPECT_TRUE(raw->stopped);
  fs::remove_all(dir);
}

// ---- Privileges ------------------------------------------------------------------------

TEST(Privileges, RootSwitchesToTheSensorUserForGood) {
  if (::geteuid() != 0) {
    EXPECT_TRUE(drop_privileges("").ok());  // nothing to drop
    GTEST_SKIP() << "not root: the switch itself is tested when the suite runs as root (CI)";
  }
  EXPECT_FALSE(drop_privileges("").ok());  // root without a user to become: refused
  pid_t pid = ::fork();
  if (pid == 0) {
    if (!drop_privileges("nobody").ok()) _exit(10);
    if (::geteuid() == 0 || ::getegid() == 0) _exit(11);
    if (::setuid(0) == 0) _exit(12);
    _exit(0);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

}  // namespace
}  // namespace vantage::sensors

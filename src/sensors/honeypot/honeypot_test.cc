// The honeypot's services, each driven over a real socket on 127.0.0.1; what they log is
// read back from the inbox they ship to and decoded by the pipeline's own decoder.

#include "sensors/honeypot/honeypot.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/catalogue.h"
#include "pipeline/jsonl_decoder.h"
#include "sensors/honeypot/ftp/ftp.h"
#include "sensors/honeypot/redis/redis.h"

namespace vantage::honeypot {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

struct Decoded {
  std::string type;
  std::map<std::string, std::string> fields;
};

// Starts the named services on 127.0.0.1 (free ports), shipping into an inbox in a temp dir.
class HoneypotFixture : public ::testing::Test {
 protected:
  void start(const std::vector<std::string>& names) {
    dir_ = fs::temp_directory_path() /
           ("vantage_hp_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    std::vector<std::string> listen;
    for (const auto& n : names) listen.push_back(n + "=127.0.0.1:0");
    auto bindings = parse_listen(listen);
    ASSERT_TRUE(bindings.ok()) << bindings.error().message;
    sensors::SensorHostOptions ho;
    ho.sensor = "honeypot";
    ho.state_dir = (dir_ / "state").string();
    ho.tcp_threads = 2;
    ho.udp_threads = 1;
    ho.allow_root = true;  // the test process keeps its privileges; `vantage honeypot` drops
    ho.destination = sensors::inbox_destination((dir_ / "inbox").string());
    HoneypotSettings settings = settings_;
    settings.sensor_name = "test-honeypot";
    hp_ = Honeypot::create(settings, *bindings, std::move(ho));
    ASSERT_TRUE(hp_.ok()) << hp_.error().message;
    for (const auto& [name, at] : (*hp_)->bound()) ports_[name] = at.port;
  }
  void run() { ASSERT_TRUE((*hp_)->start().ok()); }
  std::vector<Decoded> events() {
    EXPECT_TRUE((*hp_)->host().flush(10s));
    std::vector<Decoded> out;
    const auto& catalogue = core::Catalogue::builtin();
    pipeline::JsonlDecoder decoder(catalogue, nullptr);
    std::vector<fs::path> files;
    for (const auto& e : fs::directory_iterator(dir_ / "inbox")) files.push_back(e.path());
    std::sort(files.begin(), files.end());
    for (const auto& f : files) {
      std::ifstream in(f);
      for (std::string line; std::getline(in, line);) {
        core::Event ev;
        pipeline::DecodeError err;
        EXPECT_TRUE(decoder.decode(line, ev, err))
            << err.field << ": " << err.reason << " in " << line;
        Decoded d;
        d.type = ev.type()->name;
        for (int c = 0; c < ev.size(); ++c) {
          if (!ev.is_null(c))
            d.fields[ev.type()->columns[static_cast<size_t>(c)].name] = ev.text(c);
        }
        out.push_back(std::move(d));
      }
    }
    return out;
  }
  int connect_to(const std::string& service) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(ports_.at(service));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    timeval tv{5, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    return fd;
  }
  static std::string exchange(int fd, std::string_view send, size_t expect_bytes) {
    EXPECT_EQ(::send(fd, send.data(), send.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(send.size()));
    std::string got;
    char buf[4096];
    while (got.size() < expect_bytes) {
      ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) break;
      got.append(buf, static_cast<size_t>(n));
    }
    return got;
  }
  void TearDown() override {
    if (hp_.ok()) (*hp_)->stop();
    fs::remove_all(dir_);
  }

  fs::path dir_;
  HoneypotSettings settings_ = [] {
    HoneypotSettings s;
    s.idle_timeout = 2s;
    return s;
  }();  // a test may change it before start()
  Result<std::unique_ptr<Honeypot>> hp_{Error::internal("not started")};
  std::map<std::string, uint16_t> ports_;
};

TEST(HoneypotListen, ParsesEntriesAndDefaultsToLoopback) {
  auto all = parse_listen({});
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), builtin_services().size());
  for (const auto& b : *all) {
    EXPECT_EQ(b.at.ip.to_string(), "127.0.0.1");
    EXPECT_EQ(b.at.port, b.service->loopback_port);
  }
  auto one = parse_listen({"redis=[::1]:6379"});
  ASSERT_TRUE(one.ok());
  EXPECT_EQ((*one)[0].at.to_string(), "[::1]:6379");
  EXPECT_FALSE(parse_listen({"nosuch=127.0.0.1:1"}).ok());
  EXPECT_FALSE(parse_listen({"redis"}).ok());
  EXPECT_FALSE(parse_listen({"redis=127.0.0.1:99999"}).ok());
}

TEST(HoneypotServices, EveryServiceFillsOnlyItsCatalogueTypes) {
  const auto& catalogue = core::Catalogue::builtin();
  std::set<std::string> names;
  std::set<uint16_t> loopback_ports;
  for (const auto& s : builtin_services()) {
    EXPECT_TRUE(names.insert(s.name).second) << "duplicate service " << s.name;
    EXPECT_TRUE(loopback_ports.insert(s.loopback_port).second) << "shared loopback port " << s.name;
    EXPECT_GE(s.loopback_port, 1024) << s.name << ": `vantage up` runs unprivileged";
    EXPECT_FALSE(s.report_types.empty()) << s.name;
    for (const auto& t : s.report_types) EXPECT_NE(catalogue.find(t), nullptr) << t;
    EXPECT_TRUE(s.install) << s.name;
  }
}

TEST(RedisProtocol, ReadsRespAndInlineCommandsWithinBounds) {
  std::vector<std::string_view> args;
  size_t used = 0;
  std::string resp = "*3\r\n$4\r\nAUTH\r\n$5\r\nadmin\r\n$6\r\nsecret\r\nPING\r\n";
  ASSERT_EQ(redis::parse_command(resp, args, used), redis::Parse::kComplete);
  ASSERT_EQ(args.size(), 3u);
  EXPECT_EQ(args[2], "secret");
  EXPECT_EQ(resp.substr(used), "PING\r\n");
  ASSERT_EQ(redis::parse_command(resp.substr(used), args, used), redis::Parse::kComplete);
  EXPECT_EQ(args[0], "PING");
  EXPECT_EQ(redis::parse_command("*2\r\n$4\r\nAUTH\r\n$10\r\nab", args, used),
            redis::Parse::kIncomplete);
  EXPECT_EQ(redis::parse_command("*2\r\n$4\r\nAUTHX\r\n", args, used), redis::Parse::kMalformed);
  EXPECT_EQ(redis::parse_command("*99999\r\n", args, used), redis::Parse::kMalformed);
  EXPECT_EQ(redis::parse_command("*1\r\n$-1\r\n", args, used), redis::Parse::kMalformed);
  EXPECT_EQ(redis::parse_command(std::string(70000, 'A'), args, used), redis::Parse::kMalformed);
}

TEST_F(HoneypotFixture, RedisLogsEveryAuthAttemptAndRefusesIt) {
  start({"redis"});
  run();
  int fd = connect_to("redis");
  EXPECT_EQ(exchange(fd, "PING\r\n", 1), "-NOAUTH Authentication required.\r\n");
  EXPECT_EQ(exchange(fd, "*2\r\n$4\r\nAUTH\r\n$6\r\nhunter\r\n", 1), "-ERR invalid password\r\n");
  std::string raw_pw = "p\xff\"w";
  std::string cmd = "*3\r\n$4\r\nAUTH\r\n$5\r\nadmin\r\n$" + std::to_string(raw_pw.size()) +
                    "\r\n" + raw_pw + "\r\n";
  EXPECT_EQ(exchange(fd, cmd, 1),
            "-WRONGPASS invalid username-password pair or user is disabled.\r\n");
  EXPECT_EQ(exchange(fd, "QUIT\r\n", 5), "+OK\r\n");
  ::close(fd);
  auto evs = events();
  ASSERT_EQ(evs.size(), 2u);
  for (const auto& e : evs) {
    EXPECT_EQ(e.type, "event4_honeypot_brute_force");
    EXPECT_EQ(e.fields.at("src_ip"), "127.0.0.1");
    EXPECT_EQ(e.fields.at("dst_port"), std::to_string(ports_["redis"]));
    EXPECT_EQ(e.fields.at("application"), "redis");
    EXPECT_EQ(e.fields.at("public_source"), "test-honeypot");
    EXPECT_EQ(e.fields.at("protocol"), "tcp");
  }
  EXPECT_EQ(evs[0].fields.at("password"), "hunter");
  EXPECT_EQ(evs[0].fields.count("username"), 0u);
  EXPECT_EQ(evs[1].fields.at("username"), "admin");
  EXPECT_EQ(evs[1].fields.at("password"), "p\\xff\"w");
}

// ---- Login services (ftp, telnet, mysql, vnc, ssh) ---------------------------------------

// Reads what the service sends until `want` appears (or 5 s pass); returns all of it.
std::string read_until(int fd, std::string_view want) {
  std::string got;
  char buf[4096];
  while (got.find(want) == std::string::npos) {
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    got.append(buf, static_cast<size_t>(n));
  }
  return got;
}

// Reads until `want` has appeared `times` times.
std::string read_times(int fd, std::string_view want, int times) {
  std::string got;
  char buf[4096];
  auto count = [&] {
    int n = 0;
    for (size_t p = got.find(want); p != std::string::npos; p = got.find(want, p + 1)) ++n;
    return n;
  };
  while (count() < times) {
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    got.append(buf, static_cast<size_t>(n));
  }
  return got;
}

void send_all(int fd, std::string_view bytes) {
  ASSERT_EQ(::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL),
            static_cast<ssize_t>(bytes.size()));
}

// True once the peer closed the connection (read returns 0 or an error) within 5 s.
bool closed_by_peer(int fd) {
  char buf[4096];
  for (;;) {
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) return true;
    if (n < 0) return false;  // the 5 s receive timeout
  }
}

std::vector<Decoded> of_service(const std::vector<Decoded>& evs, const std::string& app) {
  std::vector<Decoded> out;
  for (const auto& e : evs)
    if (e.fields.count("application") && e.fields.at("application") == app) out.push_back(e);
  return out;
}

std::string field(const Decoded& e, const std::string& name) {
  auto it = e.fields.find(name);
  return it == e.fields.end() ? std::string() : it->second;
}

TEST(FtpCommand, SplitsVerbAndKeepsTheWholeArgument) {
  auto c = ftp::split_command("pass  two words ");
  EXPECT_EQ(c.verb, "PASS");
  EXPECT_EQ(c.arg, " two words ");
  EXPECT_EQ(ftp::split_command("QUIT").arg, "");
  EXPECT_EQ(ftp::split_command("averyveryverylongverb x").verb, "AVERYVER");
  std::string_view line;
  size_t used = 0;
  EXPECT_EQ(read_line("USER a\r\nPASS", 1024, line, used), LineRead::kComplete);
  EXPECT_EQ(line, "USER a");
  EXPECT_EQ(used, 8u);
  EXPECT_EQ(read_line("USER a", 1024, line, used), LineRead::kIncomplete);
  EXPECT_EQ(read_line(std::string(2000, 'x'), 1024, line, used), LineRead::kTooLong);
  EXPECT_EQ(read_line(std::string(1025, 'x') + "\n", 1024, line, used), LineRead::kTooLong);
}

TEST_F(HoneypotFixture, FtpLogsEveryUserPassPairAndClosesAfterMaxAttempts) {
  settings_.max_attempts = 3;
  start({"ftp"});
  run();
  int fd = connect_to("ftp");
  EXPECT_EQ(read_until(fd, "\r\n"), "220 (vsFTPd 3.0.3)\r\n");
  EXPECT_EQ(exchange(fd, "SYST\r\n", 1), "215 UNIX Type: L8\r\n");
  EXPECT_EQ(exchange(fd, "PASS early\r\n", 1), "503 Login with USER first.\r\n");
  // Pipelined, with a password holding spaces and one that is not UTF-8.
  send_all(fd, "USER root\r\nPASS two words\r\nuser admin\nPASS p\xff\xfe\r\n");
  EXPECT_EQ(read_times(fd, "530 Login incorrect.\r\n", 2),
            "331 Please specify the password.\r\n530 Login incorrect.\r\n"
            "331 Please specify the password.\r\n530 Login incorrect.\r\n");
  EXPECT_EQ(exchange(fd, "LIST\r\n", 1), "530 Please login with USER and PASS.\r\n");
  send_all(fd, "USER x\r\nPASS y\r\n");
  EXPECT_EQ(read_until(fd, "530 Login incorrect.\r\n"),
            "331 Please specify the password.\r\n530 Login incorrect.\r\n");
  EXPECT_TRUE(closed_by_peer(fd));  // the third refusal ends the connection
  ::close(fd);
  auto evs = of_service(events(), "ftp");
  ASSERT_EQ(evs.size(), 3u);
  EXPECT_EQ(field(evs[0], "username"), "root");
  EXPECT_EQ(field(evs[0], "password"), "two words");
  EXPECT_EQ(field(evs[1], "username"), "admin");
  EXPECT_EQ(field(evs[1], "password"), "p\\xff\\xfe");
  EXPECT_EQ(field(evs[2], "username"), "x");
  for (const auto& e : evs) {
    EXPECT_EQ(e.type, "event4_honeypot_brute_force");
    EXPECT_EQ(field(e, "service"), "ftp");
    EXPECT_EQ(field(e, "tag"), "ftp-brute-force");
    EXPECT_EQ(field(e, "dst_port"), std::to_string(ports_["ftp"]));
    EXPECT_FALSE(field(e, "start_time").empty());
    EXPECT_FALSE(field(e, "end_time").empty());
  }
  // One connection: one id, attempts numbered.
  std::string id = field(evs[0], "event_id");
  ASSERT_EQ(id.size(), 18u);
  EXPECT_EQ(id.substr(16), "-1");
  EXPECT_EQ(field(evs[2], "event_id"), id.substr(0, 16) + "-3");
}

TEST_F(HoneypotFixture, FtpBoundsLinesAndKeepsWhatWasLogged) {
  start({"ftp"});
  run();
  int fd = connect_to("ftp");
  read_until(fd, "\r\n");
  send_all(fd, "USER a\r\nPASS b\r\n");
  read_until(fd, "530");
  send_all(fd, "USER " + std::string(5000, 'A'));  // no end of line, ever
  EXPECT_NE(read_until(fd, "500").find("500 Input line too long."), std::string::npos);
  EXPECT_TRUE(closed_by_peer(fd));
  ::close(fd);
  auto evs = of_service(events(), "ftp");
  ASSERT_EQ(evs.size(), 1u);
  EXPECT_EQ(field(evs[0], "password"), "b");
}

}  // namespace
}  // namespace vantage::honeypot

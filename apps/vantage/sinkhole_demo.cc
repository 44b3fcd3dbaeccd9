#include "sinkhole_demo.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <string_view>

#include "common/ip.h"
#include "sensors/common/tcp_reactor.h"
#include "sensors/sinkhole/dns_message.h"

namespace vantage::cli {

namespace {

// Loopback listeners of the running sinkhole, by service name.
std::map<std::string, sensors::Endpoint> listeners(const std::string& data_dir) {
  std::map<std::string, sensors::Endpoint> out;
  std::ifstream in(data_dir + "/sensors/sinkhole/status.json");
  if (!in) return out;
  auto j = nlohmann::json::parse(in, nullptr, false);
  if (j.is_discarded() || !j.contains("listeners")) return out;
  for (const auto& l : j["listeners"]) {
    if (!l.contains("listen")) continue;
    auto e = sensors::parse_endpoint(l.value("listen", std::string()));
    // Never anywhere but this machine's loopback.
    if (!e || !e->ip.is_v4() || (e->ip.v4() >> 24) != 127) continue;
    out.emplace(l.value("service", std::string()), *e);
  }
  return out;
}

sockaddr_in address(const sensors::Endpoint& e) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(e.port);
  a.sin_addr.s_addr = htonl(e.ip.v4());
  return a;
}

bool udp_exchange(const sensors::Endpoint& to, std::string_view payload, bool want_reply) {
  int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  timeval tv{2, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  auto a = address(to);
  bool ok = ::sendto(fd, payload.data(), payload.size(), 0, reinterpret_cast<sockaddr*>(&a),
                     sizeof a) == static_cast<ssize_t>(payload.size());
  if (ok && want_reply) {
    char buf[1500];
    ok = ::recv(fd, buf, sizeof buf, 0) > 0;
  }
  ::close(fd);
  return ok;
}

bool tcp_exchange(const sensors::Endpoint& to, std::string_view payload, bool want_reply) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  timeval tv{2, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  auto a = address(to);
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
            ::send(fd, payload.data(), payload.size(), MSG_NOSIGNAL) ==
                static_cast<ssize_t>(payload.size());
  if (ok && want_reply) {
    char buf[1500];
    ok = ::recv(fd, buf, sizeof buf, 0) > 0;
  }
  ::close(fd);
  return ok;
}

std::string http(std::string_view method, std::string_view target, std::string_view host,
                 std::string_view extra, std::string_view body) {
  std::string r = std::string(method) + " " + std::string(target) +
                  " HTTP/1.1\r\nHost: " + std::string(host) + "\r\n" + std::string(extra);
  if (!body.empty()) r += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  return r + "Connection: close\r\n\r\n" + std::string(body);
}

}  // namespace

int drive_sinkhole_demo(const std::string& data_dir) {
  auto l = listeners(data_dir);
  int done = 0;
  if (auto dns = l.find("dns"); dns != l.end()) {
    uint16_t id = 1;
    for (const char* name : {"www.necurs-demo.test", "conficker-demo.test", "zeus-demo.test",
                             "c2.emotet-demo.test", "mirai-demo.test", "lapsed-demo.test"}) {
      std::string q;
      if (sinkhole::dns::build_query(id++, name, sinkhole::dns::kA, q)) {
        done += udp_exchange(dns->second, q, true) ? 1 : 0;
      }
    }
  }
  if (auto web = l.find("http"); web != l.end()) {
    const std::string ua = "User-Agent: Mozilla/4.0 (compatible; MSIE 6.0; Windows NT 5.1)\r\n";
    std::string requests[] = {
        http("GET", "/search?q=3", "conficker-demo.test", ua, ""),
        http("POST", "/panel/gate.php", "zeus-demo.test", ua, std::string("\x13\x37\x00\xfe", 4)),
        http("POST", "/forum/db.php", "necurs-demo.test", ua, "x9f3kq"),
        http("POST", "/image.php", "andromeda-demo.test", ua, "aGVsbG8gd29ybGQh"),
        http("GET", "/get.php?type=slg&id=4242", "bebloh-demo.test", ua, ""),
        http("GET", "/", "emotet-demo.test", ua, ""),
        // A compromised page linking to the C2 (TEST-NET address: documentation only).
        http("GET", "/js/loader.js", "zeus-demo.test",
             ua + "Referer: http://192.0.2.10/compromised.html\r\n", ""),
    };
    for (const auto& r : requests) done += tcp_exchange(web->second, r, true) ? 1 : 0;
  }
  if (auto raw = l.find("tcp"); raw != l.end()) {
    done += tcp_exchange(raw->second,
                         std::string_view("\x00\x00\x00\x01\x04"
                                          "demo",
                                          9),
                         false);
  }
  if (auto raw = l.find("udp"); raw != l.end()) {
    done += udp_exchange(raw->second, "demo-bot hello", false) ? 1 : 0;
  }
  return done;
}

}  // namespace vantage::cli

#include "sensors/sinkhole/resolver.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace vantage::sinkhole {

StubResolver::StubResolver(sensors::Endpoint server, std::chrono::milliseconds timeout, int tries)
    : server_(server),
      timeout_(timeout),
      tries_(std::max(1, tries)),
      random_(std::random_device{}()) {}

Result<dns::ResolverAnswer> StubResolver::query(std::string_view name, uint16_t type) {
  sockaddr_storage ss{};
  socklen_t len = 0;
  if (server_.ip.is_v4()) {
    auto* sin = reinterpret_cast<sockaddr_in*>(&ss);
    sin->sin_family = AF_INET;
    sin->sin_port = htons(server_.port);
    sin->sin_addr.s_addr = htonl(server_.ip.v4());
    len = sizeof(sockaddr_in);
  } else {
    auto* sin6 = reinterpret_cast<sockaddr_in6*>(&ss);
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons(server_.port);
    server_.ip.to_bytes(sin6->sin6_addr.s6_addr);
    len = sizeof(sockaddr_in6);
  }
  int fd = ::socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Error::io(std::string("socket: ") + std::strerror(errno));
  // Connected: the kernel drops datagrams from anyone but the resolver.
  if (::connect(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0) {
    std::string why = std::strerror(errno);
    ::close(fd);
    return Error{ErrorCode::kUnavailable, "resolver " + server_.to_string() + ": " + why};
  }
  std::string last = "no answer";
  for (int attempt = 0; attempt < tries_; ++attempt) {
    auto id = static_cast<uint16_t>(random_());
    std::string q;
    if (!dns::build_query(id, name, type, q)) {
      ::close(fd);
      return Error::invalid("'" + std::string(name) + "' is not a domain name");
    }
    if (::send(fd, q.data(), q.size(), 0) < 0) {
      last = std::strerror(errno);
      continue;
    }
    auto until = std::chrono::steady_clock::now() + timeout_;
    while (true) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          until - std::chrono::steady_clock::now());
      if (left.count() <= 0) break;
      pollfd p{fd, POLLIN, 0};
      int r = ::poll(&p, 1, static_cast<int>(left.count()));
      if (r <= 0) {
        if (r < 0 && errno == EINTR) continue;
        break;
      }
      char buf[4096];
      ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n < 0) {
        last = std::strerror(errno);  // ICMP unreachable comes back here
        break;
      }
      dns::ResolverAnswer a;
      const char* why = "";
      if (!dns::parse_answer(std::string_view(buf, static_cast<size_t>(n)), a, &why)) {
        last = std::string("unreadable answer: ") + why;
        continue;
      }
      if (a.id != id) continue;  // a late answer to an earlier try
      ::close(fd);
      return a;
    }
    if (last == "no answer") last = "timeout";
  }
  ::close(fd);
  return Error{ErrorCode::kUnavailable, "resolver " + server_.to_string() + ": " + last};
}

}  // namespace vantage::sinkhole

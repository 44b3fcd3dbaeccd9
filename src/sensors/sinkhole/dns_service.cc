#include "sensors/sinkhole/dns_service.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "sensors/sinkhole/dns_counts.h"

namespace vantage::sinkhole {

namespace {

constexpr uint32_t kRefresh = 3600, kRetry = 900, kExpire = 1209600;

// DNS over TCP (RFC 1035 4.2.2, RFC 7766): two-byte length, message; answers in order.
class DnsTcpSession : public sensors::Session {
 public:
  DnsTcpSession(const Context& ctx, DnsWorker& worker) : ctx_(ctx), worker_(worker) {}

  size_t on_data(std::string_view in, sensors::SessionIo& io) override {
    size_t used = 0;
    bool counted = false;
    while (in.size() - used >= 2) {
      size_t len = (static_cast<size_t>(static_cast<uint8_t>(in[used])) << 8) |
                   static_cast<uint8_t>(in[used + 1]);
      if (in.size() - used - 2 < len) break;
      worker_.handle(in.substr(used + 2, len), io.info().peer, true, answer_);
      counted = true;
      if (!answer_.empty()) {
        char prefix[2] = {static_cast<char>(answer_.size() >> 8),
                          static_cast<char>(answer_.size() & 0xFF)};
        io.send(std::string_view(prefix, 2));
        io.send(answer_);
      }
      used += 2 + len;
    }
    // Counted before on_data returns, so before the reactor writes the answers out.
    if (counted) (void)ctx_.counts->commit(worker_.writer());
    return used;
  }

 private:
  const Context& ctx_;
  DnsWorker& worker_;
  std::string answer_;
};

}  // namespace

DnsWorker::DnsWorker(const Context& ctx, int writer, LoopState& loop)
    : ctx_(ctx), writer_(writer), counters_(&loop.counters), view_(loop.view) {
  for (const auto& ns : ctx.settings->nameservers) {
    dns::WireName w;
    if (dns::encode_name(ns, w)) {
      nameservers_.push_back(w);
      std::string lower;
      dns::append_presentation(w, lower);
      nameserver_text_.push_back(lower);
    }
  }
  for (const auto& a : ctx.settings->addresses) {
    if (a.is_v4())
      v4_.push_back(a.v4());
    else
      v6_.push_back(a);
  }
}

void DnsWorker::answer_zone(const Snapshot& snap, const ZoneEntry& zone, bool own,
                            std::string& answer, size_t limit) {
  const uint32_t ttl = ctx_.settings->ttl;
  bool apex = name_.size() == zone.apex.size();
  bool ns_host = own && std::find(nameserver_text_.begin(), nameserver_text_.end(), name_) !=
                            nameserver_text_.end();
  bool exists = !own || apex || ns_host;
  dns::AnswerWriter w(answer);
  w.begin(q_, exists ? dns::kNoError : dns::kNxDomain, true);
  uint16_t t = q_.qtype;
  bool any = t == dns::kANY;
  bool addresses = !own || ns_host;
  if (addresses && (t == dns::kA || any)) {
    for (uint32_t a : v4_) w.add_a(w.kAnswer, -1, ttl, a);
  }
  if (addresses && (t == dns::kAAAA || any)) {
    for (const auto& a : v6_) w.add_aaaa(w.kAnswer, -1, ttl, a);
  }
  if (apex && (t == dns::kNS || any)) {
    for (const auto& ns : nameservers_) w.add_ns(w.kAnswer, zone.labels, ttl, ns);
  }
  bool soa_answer = apex && (t == dns::kSOA || any);
  bool has_answer = (addresses && (((t == dns::kA || any) && !v4_.empty()) ||
                                   ((t == dns::kAAAA || any) && !v6_.empty()))) ||
                    (apex && (t == dns::kNS || any) && !nameservers_.empty()) || soa_answer;
  // SOA in the answer for an SOA question, in the authority section for NXDOMAIN/NODATA
  // (RFC 2308: what lets a resolver cache the negative answer).
  if (soa_answer || !has_answer) {
    dns::WireName rname;
    std::string hostmaster = "hostmaster." + zone.apex;
    if (!dns::encode_name(hostmaster, rname)) dns::encode_name(zone.apex, rname);
    dns::WireName mname;
    if (nameservers_.empty()) dns::encode_name(zone.apex, mname);
    const dns::WireName& m = nameservers_.empty() ? mname : nameservers_.front();
    w.add_soa(soa_answer ? w.kAnswer : w.kAuthority, zone.labels, ttl, m, rname, snap.serial,
              kRefresh, kRetry, kExpire, ttl);
  }
  if (q_.edns) w.add_opt(1232);
  size_t before = answer.size();
  w.finish(limit);
  if (answer.size() < before) counters_->add(kDnsTruncated);
  if (!exists)
    counters_->add(kDnsNxDomain);
  else if (has_answer)
    counters_->add(kDnsAnswered);
  else
    counters_->add(kDnsNoData);
}

void DnsWorker::handle(std::string_view msg, const sensors::Endpoint& peer, bool tcp,
                       std::string& answer) {
  answer.clear();
  const char* why = "";
  auto parsed = dns::parse_query(msg, q_, &why);
  const char* source = tcp ? "dns-tcp" : "dns-udp";
  switch (parsed) {
    case dns::QueryParse::kOk: break;
    case dns::QueryParse::kNotAQuery:
      // A response sent to us (reflection, or a spoofed source): never answered.
      counters_->add(kDnsDropped);
      return;
    case dns::QueryParse::kTooShort:
      counters_->add(kDnsDropped);
      ctx_.malformed->add(source, peer, why, msg);
      return;
    case dns::QueryParse::kFormErr:
    case dns::QueryParse::kNotImp: {
      bool formerr = parsed == dns::QueryParse::kFormErr;
      counters_->add(formerr ? kDnsFormErr : kDnsNotImp);
      ctx_.malformed->add(source, peer, why, msg);
      dns::AnswerWriter w(answer);
      w.begin(q_, formerr ? dns::kFormErr : dns::kNotImp, false, false);
      w.finish(512);
      return;
    }
  }
  counters_->add(kDnsQueries);
  if (tcp) counters_->add(kDnsTcpQueries);
  const Snapshot& snap = view_.current();
  name_.clear();
  dns::append_presentation(q_.qname, name_);
  size_t limit = tcp ? 65535 : q_.edns ? std::clamp<size_t>(q_.edns_udp_size, 512, 1232) : 512;
  const ZoneEntry* zone = nullptr;
  if (q_.qclass == dns::kIN || q_.qclass == dns::kClassAny) zone = snap.domains->find(name_);
  std::string_view family = "-";
  bool own = zone && zone->kind == ZoneEntry::Kind::kOwn;
  if (zone && !own && !zone->active(day_of(now_seconds()))) zone = nullptr;
  if (!zone) {
    dns::AnswerWriter w(answer);
    w.begin(q_, dns::kRefused, false);
    if (q_.edns) w.add_opt(1232);
    w.finish(limit);
    counters_->add(kDnsRefused);
  } else {
    if (!own) family = snap.families.at(zone->family).name;
    answer_zone(snap, *zone, own, answer, limit);
  }
  ctx_.counts->add(writer_, tcp ? "tcp" : "udp", peer.ip, peer.port, dns::type_name(q_.qtype),
                   family, name_);
}

namespace {

// For "any free port": one free for both UDP and TCP (a port free for UDP may be some
// connection's TCP port). Probed with throw-away sockets; 0 when none was found.
uint16_t free_port_for_both(const IpAddress& ip) {
  sockaddr_storage ss{};
  socklen_t len = 0;
  auto fill = [&](uint16_t port) {
    std::memset(&ss, 0, sizeof ss);
    if (ip.is_v4()) {
      auto* sin = reinterpret_cast<sockaddr_in*>(&ss);
      sin->sin_family = AF_INET;
      sin->sin_port = htons(port);
      sin->sin_addr.s_addr = htonl(ip.v4());
      len = sizeof(sockaddr_in);
    } else {
      auto* sin6 = reinterpret_cast<sockaddr_in6*>(&ss);
      sin6->sin6_family = AF_INET6;
      sin6->sin6_port = htons(port);
      ip.to_bytes(sin6->sin6_addr.s6_addr);
      len = sizeof(sockaddr_in6);
    }
  };
  for (int attempt = 0; attempt < 50; ++attempt) {
    int u = ::socket(ip.is_v4() ? AF_INET : AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    int t = ::socket(ip.is_v4() ? AF_INET : AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
    fill(0);
    uint16_t port = 0;
    if (u >= 0 && t >= 0 && ::bind(u, reinterpret_cast<sockaddr*>(&ss), len) == 0) {
      sockaddr_storage got{};
      socklen_t glen = sizeof got;
      ::getsockname(u, reinterpret_cast<sockaddr*>(&got), &glen);
      port = ntohs(got.ss_family == AF_INET ? reinterpret_cast<sockaddr_in*>(&got)->sin_port
                                            : reinterpret_cast<sockaddr_in6*>(&got)->sin6_port);
      fill(port);
      if (::bind(t, reinterpret_cast<sockaddr*>(&ss), len) != 0) port = 0;
    }
    if (u >= 0) ::close(u);
    if (t >= 0) ::close(t);
    if (port != 0) return port;
  }
  return 0;
}

}  // namespace

Result<sensors::Endpoint> install_dns(Context& ctx, const sensors::Endpoint& at,
                                      std::vector<std::unique_ptr<DnsWorker>>& udp_workers,
                                      std::vector<std::unique_ptr<DnsWorker>>& tcp_workers) {
  sensors::UdpListenerOptions uo;
  uo.name = "dns";
  uo.bind = at;
  uo.one_socket = true;  // a few busy resolvers must not pin one loop
  if (at.port == 0) uo.bind.port = free_port_for_both(at.ip);
  auto* udp = &udp_workers;
  Context* c = &ctx;
  uo.handler = [udp](const sensors::Datagram& d, sensors::UdpReplies& replies) {
    thread_local std::string answer;
    (*udp)[static_cast<size_t>(d.thread)]->handle(d.payload, d.peer, false, answer);
    if (!answer.empty()) replies.reply(answer);
  };
  // Every query of the batch is counted (one write) before any of its answers is sent.
  uo.before_replies = [c, udp](int thread) {
    (void)c->counts->commit((*udp)[static_cast<size_t>(thread)]->writer());
  };
  auto bound = ctx.host->add_udp(std::move(uo));
  if (!bound) return bound;
  sensors::ListenerOptions to;
  to.name = "dns-tcp";
  to.bind = *bound;
  to.idle_timeout = ctx.settings->idle_timeout;
  to.session_timeout = ctx.settings->session_timeout;
  to.max_input_bytes = ctx.settings->max_input_bytes;
  auto* tcp = &tcp_workers;
  to.factory = [c, tcp](const sensors::ConnectionInfo& ci) -> std::unique_ptr<sensors::Session> {
    return std::make_unique<DnsTcpSession>(*c, *(*tcp)[static_cast<size_t>(ci.thread)]);
  };
  auto tcp_bound = ctx.host->add_tcp(std::move(to));
  if (!tcp_bound) return tcp_bound.error();
  return bound;
}

}  // namespace vantage::sinkhole

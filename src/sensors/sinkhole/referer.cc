#include "sensors/sinkhole/referer.h"

#include "common/strings.h"
#include "sensors/sinkhole/http_service.h"

namespace vantage::sinkhole {

namespace {

constexpr size_t kMaxQueue = 10000;
constexpr auto kPositiveTtl = std::chrono::hours(1);
constexpr auto kNegativeTtl = std::chrono::minutes(5);

std::optional<IpAddress> first_address(const dns::ResolverAnswer& a) {
  for (const auto& ip : a.addresses)
    if (ip.is_v4()) return ip;
  if (!a.addresses.empty()) return a.addresses.front();
  return std::nullopt;
}

}  // namespace

std::optional<std::pair<std::string, uint16_t>> referer_site(std::string_view referer) {
  auto scheme_end = referer.find("://");
  if (scheme_end == std::string_view::npos) return std::nullopt;
  std::string scheme = to_lower(referer.substr(0, scheme_end));
  uint16_t port = scheme == "http" ? 80 : scheme == "https" ? 443 : 0;
  if (port == 0) return std::nullopt;
  std::string_view rest = referer.substr(scheme_end + 3);
  std::string_view authority = rest.substr(0, rest.find_first_of("/?#"));
  if (auto at = authority.rfind('@'); at != std::string_view::npos) {
    authority.remove_prefix(at + 1);
  }
  // An explicit port: after the last ':' outside brackets.
  size_t close = authority.rfind(']');
  size_t colon = authority.rfind(':');
  if (colon != std::string_view::npos && (close == std::string_view::npos || colon > close)) {
    auto p = parse_uint(authority.substr(colon + 1));
    if (p && *p > 0 && *p < 65536) port = static_cast<uint16_t>(*p);
  }
  std::string host = host_of(authority);
  if (host.empty()) return std::nullopt;
  return std::make_pair(host, port);
}

void write_referer_event(std::string& out, const Context& ctx, const RefererJob& job,
                         const IpAddress* address) {
  bool v6 = address && !address->is_v4();
  sensors::JsonLine line(out, v6 ? "event6_sinkhole_http_referer" : "event4_sinkhole_http_referer");
  line.time("timestamp", job.when).str("protocol", "tcp");
  if (address) line.ip("http_referer_ip", *address);
  line.num("http_referer_port", job.port)
      .str("http_referer_hostname", job.host)
      .str("severity", job.severity)
      .ip("dst_ip", job.dst.ip)
      .num("dst_port", job.dst.port)
      .str("public_source", ctx.settings->sensor_name)
      .str("infection", job.infection)
      .str("family", job.family)
      .str("tag", job.tag)
      .str("application", job.application)
      .str("http_url", job.url)
      .str("http_host", job.http_host)
      .str("http_referer", job.referer)
      .str("ssl_servername", job.sni)
      .finish();
}

RefererResolver::RefererResolver(const Context& ctx, std::unique_ptr<StubResolver> resolver)
    : ctx_(ctx), resolver_(std::move(resolver)) {}

RefererResolver::~RefererResolver() {
  stop();
}

std::optional<std::optional<IpAddress>> RefererResolver::cached(const std::string& host) {
  auto it = cache_.find(host);
  if (it == cache_.end() || it->second.until < std::chrono::steady_clock::now())
    return std::nullopt;
  return it->second.address;
}

void RefererResolver::submit(RefererJob job, sensors::JournalBuffer& buffer) {
  auto literal = IpAddress::parse(job.host);
  std::optional<IpAddress> address;  // written at once unless queued below
  if (literal) {
    address = *literal;
  } else {
    std::lock_guard lock(mu_);
    if (!resolver_ || stopping_ || !started_) {
      ++unresolved_;
    } else if (auto hit = cached(job.host)) {
      address = *hit;
    } else if (queue_.size() >= kMaxQueue) {
      ++overflow_;
    } else {
      queue_.push_back(std::move(job));
      cv_.notify_one();
      return;
    }
  }
  write_referer_event(buffer.text(), ctx_, job, address ? &*address : nullptr);
  buffer.commit();
  ctx_.tcp_loop(0).counters.add(kRefererEvents);
  std::lock_guard lock(mu_);
  ++written_;
}

void RefererResolver::write_now(const RefererJob& job, const IpAddress* address) {
  std::string text;
  write_referer_event(text, ctx_, job, address);
  (void)ctx_.host->journal().append(text, 1);
  ctx_.tcp_loop(0).counters.add(kRefererEvents);
  ++written_;
}

Status RefererResolver::start() {
  std::lock_guard lock(mu_);
  started_ = true;
  if (resolver_) thread_ = std::thread([this] { run(); });
  return {};
}

void RefererResolver::run() {
  std::unique_lock lock(mu_);
  while (true) {
    cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping, nothing left
    if (stopping_) {
      // Rows still waiting are written without an address rather than lost.
      while (!queue_.empty()) {
        write_now(queue_.front(), nullptr);
        ++unresolved_;
        queue_.pop_front();
      }
      return;
    }
    RefererJob job = std::move(queue_.front());
    queue_.pop_front();
    std::optional<IpAddress> address;
    if (auto hit = cached(job.host)) {
      address = *hit;
    } else {
      lock.unlock();
      auto a4 = resolver_->query(job.host, dns::kA);
      std::optional<IpAddress> got =
          a4 && a4->rcode == dns::kNoError ? first_address(*a4) : std::nullopt;
      if (!got) {
        auto a6 = resolver_->query(job.host, dns::kAAAA);
        if (a6 && a6->rcode == dns::kNoError) got = first_address(*a6);
      }
      lock.lock();
      auto now = std::chrono::steady_clock::now();
      cache_[job.host] = {
          got,
          now + (got ? std::chrono::duration_cast<std::chrono::steady_clock::duration>(kPositiveTtl)
                     : std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                           kNegativeTtl))};
      if (cache_.size() > 100000) cache_.clear();  // bounded; refilled on demand
      address = got;
    }
    if (address)
      ++resolved_;
    else
      ++unresolved_;
    write_now(job, address ? &*address : nullptr);
  }
}

void RefererResolver::stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

nlohmann::json RefererResolver::status() const {
  std::lock_guard lock(mu_);
  return {{"resolver", resolver_ ? resolver_->server().to_string() : ""},
          {"written", written_},
          {"resolved", resolved_},
          {"unresolved", unresolved_},
          {"queue", queue_.size()},
          {"overflow", overflow_}};
}

}  // namespace vantage::sinkhole

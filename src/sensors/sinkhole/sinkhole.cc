#include "sensors/sinkhole/sinkhole.h"

#include <sys/stat.h>

#include <condition_variable>
#include <thread>

#include "common/strings.h"
#include "sensors/sinkhole/dns_counts.h"
#include "sensors/sinkhole/dns_service.h"
#include "sensors/sinkhole/http_service.h"
#include "sensors/sinkhole/raw_service.h"
#include "sensors/sinkhole/referer.h"
#include "sensors/sinkhole/watch.h"

namespace vantage::sinkhole {

const std::vector<ServiceInfo>& services() {
  static const std::vector<ServiceInfo> list{
      {ServiceKind::kDns,
       "dns",
       "udp+tcp",
       53,
       15353,
       {"event4_sinkhole_dns"},
       "authoritative DNS for the sinkholed zones; queries counted per resolver, name, type "
       "and day"},
      {ServiceKind::kHttp,
       "http",
       "tcp",
       80,
       15380,
       {"event4_sinkhole_http", "event6_sinkhole_http", "event4_sinkhole_http_referer",
        "event6_sinkhole_http_referer", "event4_sinkhole", "event6_sinkhole"},
       "HTTP requests of bots calling home, classified to a malware family"},
      {ServiceKind::kHttps,
       "https",
       "tls",
       443,
       15443,
       {"event4_sinkhole_http", "event6_sinkhole_http", "event4_sinkhole_http_referer",
        "event6_sinkhole_http_referer", "event4_sinkhole", "event6_sinkhole"},
       "the same over TLS (SNI, cipher, JA3 of the ClientHello)"},
      {ServiceKind::kTcp,
       "tcp",
       "tcp",
       0,
       15323,
       {"event4_sinkhole", "event6_sinkhole"},
       "raw TCP: the first packet, classified by protocol magic"},
      {ServiceKind::kUdp,
       "udp",
       "udp",
       0,
       15369,
       {"event4_sinkhole", "event6_sinkhole"},
       "raw UDP: each datagram, classified by protocol magic"},
  };
  return list;
}

Result<std::vector<ServiceBinding>> parse_listen(const std::vector<std::string>& entries) {
  std::vector<ServiceBinding> out;
  if (entries.empty()) {
    for (const auto& s : services()) {
      out.push_back({&s, sensors::Endpoint{IpAddress::from_v4(0x7f000001), s.loopback_port}});
    }
    return out;
  }
  for (const auto& e : entries) {
    auto eq = e.find('=');
    if (eq == std::string::npos) {
      return Error::invalid("sinkhole.listen entry '" + e + "': want SERVICE=HOST:PORT");
    }
    const ServiceInfo* found = nullptr;
    for (const auto& s : services())
      if (s.name == e.substr(0, eq)) found = &s;
    if (!found) {
      std::string known;
      for (const auto& s : services()) known += (known.empty() ? "" : ", ") + s.name;
      return Error::invalid("sinkhole.listen entry '" + e + "': no service '" + e.substr(0, eq) +
                            "' (known: " + known + ")");
    }
    auto at = sensors::parse_endpoint(std::string_view(e).substr(eq + 1));
    if (!at) return Error::invalid("sinkhole.listen entry '" + e + "': " + at.error().message);
    out.push_back({found, *at});
  }
  return out;
}

// The sinkhole's own thread: the DNS counts' maintenance every second, the data files'
// reload every reload_interval (and when the day turns: the DGA window moves), and the
// counters for the status file.
class Sinkhole::CountsService : public sensors::StandaloneService {
 public:
  explicit CountsService(Sinkhole& s) : s_(s) {}
  ~CountsService() override { stop(); }
  std::string name() const override { return "sinkhole"; }
  Status start() override {
    thread_ = std::thread([this] { run(); });
    return {};
  }
  void stop() override {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  }
  nlohmann::json status() const override { return s_.counters(); }

 private:
  void run() {
    auto next_reload = std::chrono::steady_clock::now() + s_.settings_.reload_interval;
    std::unique_lock lock(mu_);
    while (!stopping_) {
      lock.unlock();
      (void)s_.maintain_counts(now_seconds());
      if (std::chrono::steady_clock::now() >= next_reload) {
        if (changed()) (void)s_.reload();
        next_reload = std::chrono::steady_clock::now() + s_.settings_.reload_interval;
      }
      lock.lock();
      cv_.wait_for(lock, std::chrono::seconds(1), [&] { return stopping_; });
    }
  }
  // Whether a data file changed (mtime, size) or the day turned since the last load.
  bool changed() {
    std::string stamp = std::to_string(day_of(now_seconds()));
    for (const auto* f :
         {&s_.settings_.domains_file, &s_.settings_.families_file, &s_.settings_.rules_file}) {
      struct stat st {};
      if (::stat(f->c_str(), &st) == 0) {
        stamp += "|" + std::to_string(st.st_mtim.tv_sec) + "." +
                 std::to_string(st.st_mtim.tv_nsec) + ":" + std::to_string(st.st_size);
      }
    }
    if (stamp == last_) return false;
    bool first = last_.empty();
    last_ = stamp;
    return !first;
  }
  Sinkhole& s_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread thread_;
  std::string last_;
};

Sinkhole::~Sinkhole() {
  // Sessions and services refer to the members below the host: stop them first.
  if (host_) host_->stop();
}

Result<std::unique_ptr<Sinkhole>> Sinkhole::create(SinkholeSettings settings,
                                                   const std::vector<ServiceBinding>& bindings,
                                                   sensors::SensorHostOptions host,
                                                   bool any_port_if_busy) {
  auto s = std::unique_ptr<Sinkhole>(new Sinkhole());
  s->settings_ = std::move(settings);
  auto& st = s->settings_;
  for (const auto& ns : st.nameservers) {
    dns::WireName w;
    if (!dns::encode_name(ns, w))
      return Error::invalid("sinkhole.nameservers: '" + ns + "' is not a host name");
  }
  auto snap = load_snapshot(st, day_of(now_seconds()));
  if (!snap) return snap.error();
  s->snapshots_.publish(std::move(*snap));
  std::string state_dir = host.state_dir;
  int udp_threads = std::max(1, host.udp_threads);
  int tcp_threads = std::max(1, host.tcp_threads);
  auto h = sensors::SensorHost::create(std::move(host));
  if (!h) return h.error();
  s->host_ = std::move(*h);
  CountStoreOptions co;
  co.dir = state_dir + "/dns-counts";
  co.writers = udp_threads + tcp_threads;
  co.period_s = st.dns_period_s;
  auto counts = CountStore::open(co);
  if (!counts) return counts.error();
  s->counts_ = std::move(*counts);
  s->malformed_ =
      std::make_unique<AsideLog>(state_dir + "/aside", "malformed", st.aside_bytes_per_day);
  s->captures_ =
      std::make_unique<AsideLog>(state_dir + "/aside", "unclassified", st.aside_bytes_per_day);
  for (int i = 0; i < udp_threads; ++i)
    s->udp_loops_.push_back(std::make_unique<LoopState>(&s->snapshots_));
  for (int i = 0; i < tcp_threads; ++i)
    s->tcp_loops_.push_back(std::make_unique<LoopState>(&s->snapshots_));
  auto& ctx = s->ctx_;
  ctx.settings = &s->settings_;
  ctx.host = s->host_.get();
  ctx.snapshots = &s->snapshots_;
  ctx.counts = s->counts_.get();
  ctx.malformed = s->malformed_.get();
  ctx.captures = s->captures_.get();
  ctx.udp_loops = &s->udp_loops_;
  ctx.tcp_loops = &s->tcp_loops_;
  ctx.udp_threads = udp_threads;
  for (int i = 0; i < udp_threads; ++i) {
    s->udp_workers_.push_back(
        std::make_unique<DnsWorker>(ctx, i, *s->udp_loops_[static_cast<size_t>(i)]));
  }
  for (int i = 0; i < tcp_threads; ++i) {
    s->tcp_workers_.push_back(
        std::make_unique<DnsWorker>(ctx, udp_threads + i, *s->tcp_loops_[static_cast<size_t>(i)]));
  }
  std::unique_ptr<StubResolver> watch_resolver, referer_resolver;
  if (!st.resolver.empty()) {
    auto r = sensors::parse_endpoint(st.resolver);
    if (!r) return Error::invalid("sinkhole.resolver '" + st.resolver + "': " + r.error().message);
    watch_resolver = std::make_unique<StubResolver>(*r);
    referer_resolver = std::make_unique<StubResolver>(*r);
  }
  auto referers = std::make_unique<RefererResolver>(ctx, std::move(referer_resolver));
  s->referers_ = referers.get();
  ctx.referers = s->referers_;
  sensors::TlsContext tls;
  for (const auto& b : bindings) {
    if (b.service->kind != ServiceKind::kHttps || tls) continue;
    auto t = st.tls_cert.empty() ? sensors::tls_context_self_signed(
                                       st.nameservers.empty() ? "sinkhole" : st.nameservers.front())
                                 : sensors::tls_context_from_files(st.tls_cert, st.tls_key);
    if (!t) return Error::invalid("sinkhole TLS: " + t.error().message);
    tls = *t;
  }
  for (const auto& b : bindings) {
    auto install = [&](const sensors::Endpoint& at) -> Result<sensors::Endpoint> {
      switch (b.service->kind) {
        case ServiceKind::kDns: return install_dns(ctx, at, s->udp_workers_, s->tcp_workers_);
        case ServiceKind::kHttp: return install_http(ctx, at, nullptr);
        case ServiceKind::kHttps: return install_http(ctx, at, tls);
        case ServiceKind::kTcp: return install_raw_tcp(ctx, at);
        case ServiceKind::kUdp: return install_raw_udp(ctx, at);
      }
      return Error::internal("unknown service");
    };
    auto bound = install(b.at);
    if (!bound && any_port_if_busy && b.at.port != 0)
      bound = install(sensors::Endpoint{b.at.ip, 0});
    if (!bound) return Error::io(b.service->name + ": " + bound.error().message);
    s->bound_.emplace_back(b.service->name, *bound);
  }
  s->host_->add_standalone(std::make_unique<CountsService>(*s));
  auto watch = std::make_unique<DomainWatch>(ctx, std::move(watch_resolver));
  s->watch_ = watch.get();
  s->host_->add_standalone(std::move(watch));
  s->host_->add_standalone(std::move(referers));
  return s;
}

Status Sinkhole::start() {
  // Periods that ended while the sinkhole was down are emitted before anything is served.
  if (auto st = maintain_counts(now_seconds()); !st) return st;
  return host_->start();
}

void Sinkhole::stop() {
  host_->stop();
}

Status Sinkhole::maintain_counts(UnixSeconds now) {
  auto format = [this](int64_t, const std::vector<DnsRow>& rows, std::string& out) {
    auto snap = snapshots_.get();
    for (const auto& r : rows) {
      auto ip = IpAddress::parse(r.ip);
      if (!ip) continue;  // written by us; unreadable only if the file was edited
      sensors::JsonLine line(out, "event4_sinkhole_dns");
      line.time("timestamp", r.first_seen)
          .str("protocol", r.proto)
          .ip("src_ip", *ip)
          .num("src_port", r.first_port);
      if (r.family == "-") {
        line.str("tag", "not-sinkholed");
      } else {
        int f = snap->families.find(r.family);
        if (f >= 0) {
          const Family& fam = snap->families.at(static_cast<uint16_t>(f));
          line.str("infection", fam.infection).str("family", fam.name).str("tag", fam.tag);
        } else {  // the family left the families file since
          line.str("infection", r.family).str("family", r.family).str("tag", r.family);
        }
      }
      line.str("query_type", r.qtype).str("query", r.qname).num("count", r.count).finish();
    }
  };
  auto emit = [this](std::string_view jsonl, int64_t rows) {
    return host_->journal().add_segment(jsonl, rows);
  };
  return counts_->maintain(now, format, emit);
}

Status Sinkhole::reload() {
  std::lock_guard lock(reload_mu_);
  auto snap = load_snapshot(settings_, day_of(now_seconds()));
  if (!snap) {
    ++reload_failures_;
    last_reload_error_ = snap.error().message;
    return snap.error();
  }
  snapshots_.publish(std::move(*snap));
  ++reloads_;
  last_reload_error_.clear();
  return {};
}

nlohmann::json Sinkhole::counters() const {
  nlohmann::json c = nlohmann::json::object();
  for (int i = 0; i < kCounterCount; ++i) {
    int64_t sum = 0;
    for (const auto& l : udp_loops_) sum += l->counters.v[static_cast<size_t>(i)].load();
    for (const auto& l : tcp_loops_) sum += l->counters.v[static_cast<size_t>(i)].load();
    c[counter_name(static_cast<Counter>(i))] = sum;
  }
  auto cs = counts_->stats();
  auto snap = snapshots_.get();
  nlohmann::json out = {
      {"counters", c},
      {"dns_counts",
       {{"counted", cs.counted},
        {"lost", cs.lost},
        {"period_s", counts_->period_s()},
        {"pending_periods", cs.pending_periods},
        {"periods_emitted", cs.periods_emitted},
        {"rows_emitted", cs.rows_emitted},
        {"merges", cs.merges},
        {"torn_lines", cs.torn_lines},
        {"last_error", cs.last_error}}},
      {"aside",
       {{"malformed_kept", malformed_->kept()},
        {"malformed_dropped", malformed_->dropped()},
        {"unclassified_kept", captures_->kept()},
        {"unclassified_dropped", captures_->dropped()}}},
  };
  std::lock_guard lock(reload_mu_);
  out["data"] = {{"domains", snap ? snap->domains->entries().size() : 0},
                 {"dga_lines", snap ? snap->domains->dga_lines().size() : 0},
                 {"families", snap ? snap->families.size() : 0},
                 {"http_rules", snap ? snap->classifier.http_rules() : 0},
                 {"raw_rules", snap ? snap->classifier.raw_rules() : 0},
                 {"serial", snap ? snap->serial : 0},
                 {"reloads", reloads_},
                 {"reload_failures", reload_failures_},
                 {"last_reload_error", last_reload_error_}};
  return out;
}

}  // namespace vantage::sinkhole

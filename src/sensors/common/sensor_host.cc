#include "sensors/common/sensor_host.h"

#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <filesystem>
#include <thread>

#include "common/time.h"
#include "sensors/common/parent_watch.h"
#include "sensors/common/privileges.h"

namespace vantage::sensors {

namespace fs = std::filesystem;

SensorHost::SensorHost(SensorHostOptions options) : options_(std::move(options)) {}

Result<std::unique_ptr<SensorHost>> SensorHost::create(SensorHostOptions options) {
  if (options.sensor.empty() || options.state_dir.empty()) {
    return Error::invalid("sensor name and state directory are required");
  }
  auto host = std::unique_ptr<SensorHost>(new SensorHost(std::move(options)));
  auto& o = host->options_;
  // max_connections sockets need as many descriptors: the soft limit (often 1024) is raised
  // towards the hard one.
  rlimit nofile{};
  if (::getrlimit(RLIMIT_NOFILE, &nofile) == 0) {
    rlim_t want = static_cast<rlim_t>(o.max_connections) + 256;
    if (nofile.rlim_cur < want && nofile.rlim_cur < nofile.rlim_max) {
      nofile.rlim_cur = std::min(want, nofile.rlim_max);
      (void)::setrlimit(RLIMIT_NOFILE, &nofile);
    }
  }
  o.tcp_threads = std::max(1, o.tcp_threads);
  o.udp_threads = std::max(1, o.udp_threads);
  std::error_code ec;
  fs::create_directories(o.state_dir, ec);
  host->state_fd_ = ::open(o.state_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (host->state_fd_ < 0) return Error::io("cannot open " + o.state_dir);
  JournalOptions jo;
  jo.dir = o.state_dir + "/journal";
  jo.prefix = o.sensor;
  jo.max_segment_age = o.segment_age;
  auto journal = EventJournal::open(jo);
  if (!journal) return journal.error();
  host->journal_ = std::move(*journal);
  ReactorOptions ro;
  ro.threads = o.tcp_threads;
  ro.max_connections = o.max_connections;
  SensorHost* self = host.get();
  ro.on_tick = [self](int thread) {
    uint64_t request = self->flush_request_.load();
    (void)self->tcp_buffer(thread).flush();
    self->tcp_flushed_[static_cast<size_t>(thread)].store(request);
  };
  host->tcp_ = std::make_unique<TcpReactor>(ro);
  UdpReactorOptions uo;
  uo.threads = o.udp_threads;
  uo.on_tick = [self](int thread) {
    uint64_t request = self->flush_request_.load();
    for (const auto& tick : self->udp_ticks_) tick(thread);
    (void)self->udp_buffer(thread).flush();
    self->udp_flushed_[static_cast<size_t>(thread)].store(request);
  };
  host->udp_ = std::make_unique<UdpReactor>(uo);
  host->tcp_flushed_ = std::make_unique<std::atomic<uint64_t>[]>(static_cast<size_t>(ro.threads));
  host->udp_flushed_ = std::make_unique<std::atomic<uint64_t>[]>(static_cast<size_t>(uo.threads));
  for (int i = 0; i < ro.threads; ++i)
    host->tcp_buffers_.push_back(std::make_unique<JournalBuffer>(host->journal_.get()));
  for (int i = 0; i < uo.threads; ++i)
    host->udp_buffers_.push_back(std::make_unique<JournalBuffer>(host->journal_.get()));
  return host;
}

SensorHost::~SensorHost() {
  stop();
  if (state_fd_ >= 0) ::close(state_fd_);
}

Result<Endpoint> SensorHost::add_tcp(ListenerOptions listener) {
  std::string name = listener.name;
  bool tls = listener.tls != nullptr;
  auto bound = tcp_->listen(std::move(listener));
  if (!bound) return bound.error();
  has_tcp_ = true;
  listeners_.push_back(
      {{"service", name}, {"transport", tls ? "tls" : "tcp"}, {"listen", bound->to_string()}});
  return bound;
}

Result<Endpoint> SensorHost::add_udp(UdpListenerOptions listener,
                                     std::function<void(int)> on_tick) {
  std::string name = listener.name;
  auto bound = udp_->listen(std::move(listener));
  if (!bound) return bound.error();
  has_udp_ = true;
  if (on_tick) udp_ticks_.push_back(std::move(on_tick));
  listeners_.push_back({{"service", name}, {"transport", "udp"}, {"listen", bound->to_string()}});
  return bound;
}

void SensorHost::add_standalone(std::unique_ptr<StandaloneService> service,
                                const std::vector<Endpoint>& listening) {
  if (listening.empty()) listeners_.push_back({{"service", service->name()}, {"transport", "own"}});
  for (const auto& at : listening) {
    listeners_.push_back(
        {{"service", service->name()}, {"transport", "own"}, {"listen", at.to_string()}});
  }
  standalone_.push_back(std::move(service));
}

void SensorHost::add_status(std::string name, std::function<nlohmann::json()> status) {
  status_sources_.emplace_back(std::move(name), std::move(status));
}

Status SensorHost::start() {
  if (started_) return {};
  // The journal stays writable once root is given up.
  if (auto st = hand_over_directory(options_.state_dir, options_.user); !st) return st;
  if (!(options_.user.empty() && options_.allow_root)) {
    if (auto st = drop_privileges(options_.user); !st) return st;
  }
  exit_with_supervisor();  // after the drop, which clears the kernel's parent-death signal
  if (options_.destination) {
    if (auto st = options_.destination->usable(); !st) return st;
    shipper_ = std::make_unique<Shipper>(*journal_, std::move(options_.destination));
  }
  if (has_tcp_) {
    if (auto st = tcp_->start(); !st) return st;
  }
  if (has_udp_) {
    if (auto st = udp_->start(); !st) return st;
  }
  for (auto& s : standalone_) {
    if (auto st = s->start(); !st) return Error::io(s->name() + ": " + st.message());
  }
  started_ = true;
  return {};
}

void SensorHost::stop() {
  if (stopped_) return;
  stopped_ = true;
  stopping_.store(true);
  for (auto& s : standalone_) s->stop();
  tcp_->stop();  // the loops flush their buffers on the way out
  udp_->stop();
  for (auto& b : tcp_buffers_) (void)b->flush();
  for (auto& b : udp_buffers_) (void)b->flush();
  if (shipper_) {
    (void)shipper_->flush(std::chrono::seconds(10));
    shipper_.reset();
  } else {
    (void)journal_->rotate(true);
  }
}

bool SensorHost::flush(std::chrono::milliseconds limit) {
  auto until = std::chrono::steady_clock::now() + limit;
  // First every loop's buffer (each loop flushes its own, on its next tick).
  if (started_ && !stopped_) {
    uint64_t request = flush_request_.fetch_add(1) + 1;
    auto all_flushed = [&] {
      for (int i = 0; has_tcp_ && i < tcp_->threads(); ++i)
        if (tcp_flushed_[static_cast<size_t>(i)].load() < request) return false;
      for (int i = 0; has_udp_ && i < options_.udp_threads; ++i)
        if (udp_flushed_[static_cast<size_t>(i)].load() < request) return false;
      return true;
    };
    while (!all_flushed()) {
      if (std::chrono::steady_clock::now() > until) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }
  if (!shipper_) return journal_->rotate(true).ok();
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      until - std::chrono::steady_clock::now());
  return shipper_->flush(std::max(left, std::chrono::milliseconds(1)));
}

nlohmann::json SensorHost::status() const {
  auto t = tcp_->stats();
  nlohmann::json closed = nlohmann::json::object();
  for (size_t i = 0; i < t.closed.size(); ++i) {
    if (t.closed[i] > 0) closed[close_reason_name(static_cast<CloseReason>(i))] = t.closed[i];
  }
  auto u = udp_->stats();
  auto j = journal_->stats();
  int64_t lost = 0;
  for (const auto& b : tcp_buffers_) lost += b->records_lost();
  for (const auto& b : udp_buffers_) lost += b->records_lost();
  nlohmann::json out = {
      {"sensor", options_.sensor},
      {"updated", format_timestamp(now_seconds())},
      {"listeners", listeners_},
      {"tcp",
       {{"accepted", t.accepted},
        {"refused_over_cap", t.refused_over_cap},
        {"active", t.active},
        {"bytes_in", t.bytes_in},
        {"bytes_out", t.bytes_out},
        {"closed", closed}}},
      {"udp",
       {{"datagrams_in", u.datagrams_in},
        {"bytes_in", u.bytes_in},
        {"replies_out", u.replies_out},
        {"bytes_out", u.bytes_out},
        {"send_errors", u.send_errors}}},
      {"journal",
       {{"records", j.records_appended},
        {"records_lost", lost},
        {"segments_closed", j.segments_closed},
        {"segments_recovered", j.segments_recovered}}},
  };
  if (shipper_) {
    auto s = shipper_->stats();
    out["shipper"] = {{"shipped", s.segments_shipped},
                      {"rejected", s.segments_rejected},
                      {"failures", s.delivery_failures},
                      {"backlog", s.backlog},
                      {"last_error", s.last_error}};
  }
  nlohmann::json services = nlohmann::json::object();
  for (const auto& s : standalone_) services[s->name()] = s->status();
  for (const auto& [name, fn] : status_sources_) services[name] = fn();
  if (!services.empty()) out["services"] = services;
  return out;
}

void SensorHost::write_status() const {
  std::string text = status().dump(2) + "\n";
  int fd = ::openat(state_fd_, "status.json.tmp", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return;
  bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  ok &= ::close(fd) == 0;
  if (ok) ::renameat(state_fd_, "status.json.tmp", state_fd_, "status.json");
}

}  // namespace vantage::sensors

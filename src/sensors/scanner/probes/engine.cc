#include "sensors/scanner/probes/engine.h"

#include <algorithm>
#include <array>
#include <boost/asio.hpp>
#include <memory>

namespace vantage::scanner {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using asio::ip::udp;

asio::ip::address to_asio(const IpAddress& ip) {
  if (ip.is_v4()) return asio::ip::address_v4(ip.v4());
  uint8_t b[16];
  ip.to_bytes(b);
  asio::ip::address_v6::bytes_type bytes;
  std::copy(b, b + 16, bytes.begin());
  return asio::ip::address_v6(bytes);
}

// What TCP and UDP probes share: the job, its timer, the bytes received, and the one-time
// report of the outcome (whatever arrived is parsed, even after a timeout or reset: a banner
// is a banner).
template <class Socket>
class ProbeSession {
 protected:
  ProbeSession(asio::io_context& io, const ProbeJob& job, const EngineOptions& opt,
               std::function<void(ProbeOutcome)> done)
      : socket_(io), timer_(io), job_(job), opt_(opt), done_(std::move(done)) {}

  void finish_with_data(const std::string& err = "") {
    if (data_.empty() && data_bytes_ == 0)
      return finish(timed_out_ ? "io-timeout" : "connection-closed", err);
    auto parsed = exchange_ ? exchange_->result() : job_.module->parse(data_);
    if (!parsed) return finish("protocol-error", parsed.error().message);
    fields_ = std::move(*parsed);
    finish("success", "");
  }

  void finish(std::string status, std::string err) {
    if (finished_) return;
    finished_ = true;
    timer_.cancel();
    boost::system::error_code ignore;
    socket_.close(ignore);
    ProbeOutcome o;
    o.target = job_.target;
    o.module = job_.module;
    o.status = std::move(status);
    o.error = std::move(err);
    o.fields = std::move(fields_);
    o.bytes = data_bytes_ + data_.size();
    done_(std::move(o));
  }

  Socket socket_;
  asio::steady_timer timer_;
  ProbeJob job_;
  const EngineOptions& opt_;
  std::function<void(ProbeOutcome)> done_;
  std::string data_;
  std::optional<nlohmann::json> fields_;
  std::unique_ptr<Exchange> exchange_;  // stateful TCP modules only
  size_t data_bytes_ = 0;               // bytes of an exchange's earlier connections
  bool timed_out_ = false, finished_ = false;
};

class Session : public ProbeSession<tcp::socket>, public std::enable_shared_from_this<Session> {
 public:
  Session(asio::io_context& io, const ProbeJob& job, const EngineOptions& opt,
          std::function<void(ProbeOutcome)> done)
      : ProbeSession(io, job, opt, std::move(done)) {}

  void start() { connect(); }

 private:
  // One connection (the first, or the next one an exchange asked for).
  void connect() {
    const asio::ip::address addr = to_asio(job_.target.ip);
    arm(opt_.connect_timeout, "connection-timeout");
    auto self = shared_from_this();
    socket_.async_connect(tcp::endpoint(addr, job_.target.port), [self](
                                                                     boost::system::error_code ec) {
      if (ec) {
        // A later connection of an exchange that fails to open ends it
        // with what the earlier ones gathered.
        if (self->connections_ > 0) return self->finish_with_data(ec.message());
        self->finish(ec == asio::error::connection_refused
                         ? "connection-refused"
                         : self->timeout_status_or("unknown-error"),
                     ec.message());
        return;
      }
      ++self->connections_;
      self->arm(self->opt_.read_timeout, "io-timeout");
      if (self->job_.module->exchange) {
        if (!self->exchange_) self->exchange_ = self->job_.module->exchange(self->job_.target);
        self->request_ = self->exchange_->start();
      } else {
        self->request_ = self->job_.module->request(self->job_.target);
      }
      if (self->request_.empty()) {
        self->read();
      } else {
        asio::async_write(self->socket_, asio::buffer(self->request_),
                          [self](boost::system::error_code wec, size_t) {
                            if (wec)
                              return self->connection_ended(ConnectionEnd::closed, wec.message());
                            self->read();
                          });
      }
    });
  }

  // An exchange's connection is over: open the next one if it asks for it, else report.
  void connection_ended(ConnectionEnd how, const std::string& err) {
    if (exchange_ && connections_ < Exchange::kMaxExchangeConnections &&
        exchange_->next_connection(how)) {
      boost::system::error_code ignore;
      socket_.close(ignore);
      timer_.cancel();
      timed_out_ = false;
      data_bytes_ += data_.size();
      data_.clear();
      return connect();
    }
    finish_with_data(err);
  }

  void arm(std::chrono::milliseconds d, const char* status) {
    timeout_status_ = status;
    timer_.expires_after(d);
    auto self = shared_from_this();
    // The generation guards a deadline that fired just before a reconnect re-armed the timer:
    // its handler must not close the next connection.
    const uint64_t gen = ++timer_generation_;
    timer_.async_wait([self, gen](boost::system::error_code ec) {
      if (ec || gen != self->timer_generation_) return;  // cancelled or superseded
      self->timed_out_ = true;
      boost::system::error_code ignore;
      self->socket_.close(ignore);
    });
  }

  std::string timeout_status_or(const char* other) const {
    return timed_out_ ? timeout_status_ : other;
  }

  void read() {
    auto self = shared_from_this();
    socket_.async_read_some(asio::buffer(buf_), [self](boost::system::error_code ec, size_t n) {
      if (self->exchange_) return self->on_exchange_bytes(ec, n);
      self->data_.append(self->buf_.data(), n);
      if (self->data_.size() >= self->opt_.max_bytes) {
        self->data_.resize(self->opt_.max_bytes);
        return self->finish_with_data("");
      }
      if (!ec && self->job_.module->complete(self->data_)) return self->finish_with_data("");
      if (ec) return self->finish_with_data(ec == asio::error::eof ? "" : ec.message());
      self->read();
    });
  }

  // Exchanges see every chunk; data_ only counts for the byte cap and the outcome.
  void on_exchange_bytes(boost::system::error_code ec, size_t n) {
    if (ec) {
      const ConnectionEnd how = timed_out_ ? ConnectionEnd::timeout : ConnectionEnd::closed;
      return connection_ended(how, ec == asio::error::eof ? "" : ec.message());
    }
    const size_t room = opt_.max_bytes > data_.size() ? opt_.max_bytes - data_.size() : 0;
    const size_t take = std::min(n, room);
    data_.append(buf_.data(), take);
    bool done = false;
    request_ = exchange_->feed(std::string_view(buf_.data(), take), &done);
    if (done) return connection_ended(ConnectionEnd::done, "");
    if (data_.size() >= opt_.max_bytes) return connection_ended(ConnectionEnd::closed, "byte cap");
    if (request_.empty()) return read();
    auto self = shared_from_this();
    asio::async_write(socket_, asio::buffer(request_),
                      [self](boost::system::error_code wec, size_t) {
                        if (wec)
                          return self->connection_ended(ConnectionEnd::closed, wec.message());
                        self->read();
                      });
  }

  std::string request_;
  std::array<char, 4096> buf_{};
  std::string timeout_status_;
  int connections_ = 0;  // opened so far (exchanges may open several)
  uint64_t timer_generation_ = 0;
};

// One UDP probe: a connected socket (so an ICMP port-unreachable surfaces as
// connection_refused), the module's datagrams sent once, replies framed into data_ until the
// module calls them complete, the byte cap or the datagram cap is reached, or time runs out.
class UdpSession : public ProbeSession<udp::socket>,
                   public std::enable_shared_from_this<UdpSession> {
 public:
  static constexpr size_t kMaxDatagrams = 128;

  UdpSession(asio::io_context& io, const ProbeJob& job, const EngineOptions& opt,
             std::function<void(ProbeOutcome)> done)
      : ProbeSession(io, job, opt, std::move(done)) {}

  void start() {
    const udp::endpoint ep(to_asio(job_.target.ip), job_.target.port);
    boost::system::error_code ec;
    socket_.open(ep.protocol(), ec);
    // A connected socket sees only replies from the probed port (and ICMP errors); a module
    // whose server answers from another port gets an unconnected one, filtered by address.
    any_port_ = job_.module->reply_from_any_port;
    if (!ec && !any_port_) socket_.connect(ep, ec);
    if (ec) return finish("unknown-error", ec.message());
    const std::string framed = job_.module->request(job_.target);
    for (auto d : udp_unframe(framed)) {
      if (any_port_) {
        socket_.send_to(asio::buffer(d.data(), d.size()), ep, 0, ec);
      } else {
        socket_.send(asio::buffer(d.data(), d.size()), 0, ec);
      }
      if (ec)
        return finish(
            ec == asio::error::connection_refused ? "connection-refused" : "unknown-error",
            ec.message());
    }
    timer_.expires_after(opt_.read_timeout);
    auto self = shared_from_this();
    timer_.async_wait([self](boost::system::error_code tec) {
      if (tec) return;
      self->timed_out_ = true;
      boost::system::error_code ignore;
      self->socket_.close(ignore);
    });
    read();
  }

 private:
  void read() {
    auto self = shared_from_this();
    socket_.async_receive_from(
        asio::buffer(buf_), from_, [self](boost::system::error_code ec, size_t n) {
          if (!ec && self->any_port_ && self->from_.address() != to_asio(self->job_.target.ip))
            return self->read();  // another host's datagram on our unconnected socket
          if (ec) {
            if (ec == asio::error::connection_refused && self->datagrams_ == 0)
              return self->finish("connection-refused", ec.message());
            return self->finish_with_data();
          }
          ++self->datagrams_;
          self->data_ += udp_frames({std::string(self->buf_.data(), n)});
          if (self->data_.size() >= self->opt_.max_bytes || self->datagrams_ >= kMaxDatagrams ||
              self->job_.module->complete(self->data_))
            return self->finish_with_data();
          self->read();
        });
  }

  std::array<char, 16384> buf_{};  // larger datagrams are cut (no probe here needs more)
  size_t datagrams_ = 0;
  bool any_port_ = false;
  udp::endpoint from_;
};

}  // namespace

void run_probes(const std::vector<ProbeJob>& jobs, const EngineOptions& options,
                const std::function<void(const ProbeOutcome&)>& sink) {
  asio::io_context io;
  size_t next = 0, in_flight = 0;
  const size_t cap = options.concurrency == 0 ? size_t{1} : options.concurrency;
  // Pacing: job i may start at t0 + i/rate (a schedule, not a bucket, so a stall never
  // turns into a burst above the average rate for long).
  const auto t0 = std::chrono::steady_clock::now();
  asio::steady_timer pacer(io);
  bool pacer_armed = false;
  std::function<void()> pump;
  auto on_done = [&](ProbeOutcome o) {
    sink(o);
    --in_flight;
    // Defer the next launch so the finished session unwinds first.
    asio::post(io, [&] { pump(); });
  };
  pump = [&] {
    while (next < jobs.size() && in_flight < cap) {
      if (options.rate > 0) {
        const auto due =
            t0 + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                     std::chrono::duration<double>(static_cast<double>(next) / options.rate));
        if (std::chrono::steady_clock::now() < due) {
          if (!pacer_armed) {
            pacer_armed = true;
            pacer.expires_at(due);
            pacer.async_wait([&](boost::system::error_code) {
              pacer_armed = false;
              pump();
            });
          }
          return;
        }
      }
      const ProbeJob& job = jobs[next++];
      ++in_flight;
      if (job.module->transport == Transport::udp) {
        std::make_shared<UdpSession>(io, job, options, on_done)->start();
      } else {
        std::make_shared<Session>(io, job, options, on_done)->start();
      }
    }
  };
  pump();
  io.run();
}

}  // namespace vantage::scanner

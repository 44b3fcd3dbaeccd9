#include "sensors/scanner/probes/engine.h"

#include <array>
#include <boost/asio.hpp>
#include <memory>

namespace vantage::scanner {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(asio::io_context& io, const ProbeJob& job, const EngineOptions& opt,
          std::function<void(ProbeOutcome)> done)
      : socket_(io), timer_(io), job_(job), opt_(opt), done_(std::move(done)) {}

  void start() {
    uint8_t b[16];
    job_.target.ip.to_bytes(b);
    asio::ip::address addr;
    if (job_.target.ip.is_v4()) {
      addr = asio::ip::address_v4(job_.target.ip.v4());
    } else {
      asio::ip::address_v6::bytes_type bytes;
      std::copy(b, b + 16, bytes.begin());
      addr = asio::ip::address_v6(bytes);
    }
    arm(opt_.connect_timeout, "connection-timeout");
    auto self = shared_from_this();
    socket_.async_connect(tcp::endpoint(addr, job_.target.port),
                          [self](boost::system::error_code ec) {
                            if (ec) {
                              self->finish(ec == asio::error::connection_refused
                                               ? "connection-refused"
                                               : self->timeout_status_or("unknown-error"),
                                           ec.message());
                              return;
                            }
                            self->arm(self->opt_.read_timeout, "io-timeout");
                            self->request_ = self->job_.module->request(self->job_.target);
                            if (self->request_.empty()) {
                              self->read();
                            } else {
                              asio::async_write(self->socket_, asio::buffer(self->request_),
                                                [self](boost::system::error_code wec, size_t) {
                                                  if (wec)
                                                    return self->finish_with_data(wec.message());
                                                  self->read();
                                                });
                            }
                          });
  }

 private:
  void arm(std::chrono::milliseconds d, const char* status) {
    timeout_status_ = status;
    timer_.expires_after(d);
    auto self = shared_from_this();
    timer_.async_wait([self](boost::system::error_code ec) {
      if (ec) return;  // cancelled
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

  // Whatever arrived is parsed, even after a timeout or reset: a banner is a banner.
  void finish_with_data(const std::string& err) {
    if (data_.empty()) return finish(timed_out_ ? "io-timeout" : "connection-closed", err);
    auto parsed = job_.module->parse(data_);
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
    o.bytes = data_.size();
    done_(std::move(o));
  }

  tcp::socket socket_;
  asio::steady_timer timer_;
  ProbeJob job_;
  const EngineOptions& opt_;
  std::function<void(ProbeOutcome)> done_;
  std::string request_, data_;
  std::array<char, 4096> buf_{};
  std::optional<nlohmann::json> fields_;
  std::string timeout_status_;
  bool timed_out_ = false, finished_ = false;
};

}  // namespace

void run_probes(const std::vector<ProbeJob>& jobs, const EngineOptions& options,
                const std::function<void(const ProbeOutcome&)>& sink) {
  asio::io_context io;
  size_t next = 0;
  std::function<void()> launch;
  auto on_done = [&](ProbeOutcome o) {
    sink(o);
    // Defer the next launch so the finished session unwinds first.
    asio::post(io, [&] { launch(); });
  };
  launch = [&] {
    if (next >= jobs.size()) return;
    std::make_shared<Session>(io, jobs[next++], options, on_done)->start();
  };
  const size_t first =
      std::min(options.concurrency == 0 ? size_t{1} : options.concurrency, jobs.size());
  for (size_t i = 0; i < first; ++i) launch();
  io.run();
}

}  // namespace vantage::scanner

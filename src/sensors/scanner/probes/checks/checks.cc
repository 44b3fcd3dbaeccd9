#include "sensors/scanner/probes/checks/checks.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "sensors/scanner/probes/checks/run.h"
#include "sensors/scanner/probes/ssl/tls_pipe.h"

namespace vantage::scanner {
namespace {

// A check over the network: its steps' requests and replies, through TLS when the check says
// so, one connection per HTTP step (each request says Connection: close, so a reply ends at
// the server's close when it has no length) and one connection for all TCP steps.
class CheckExchange : public Exchange {
 public:
  CheckExchange(std::shared_ptr<const CheckTemplate> check, const ProbeTarget& target)
      : check_(check), target_(target), run_(std::move(check), target) {}

  std::string start() override {
    reply_.clear();
    sent_ = false;
    step_open_ = false;
    if (run_.over()) return {};
    auto req = run_.request();
    if (!req) return {};  // run_ is over; the read deadline ends the connection
    request_ = std::move(*req);
    step_open_ = true;
    if (check_->tls) {
      tls_ = std::make_unique<TlsClientPipe>(target_.host);
      return tls_->start();
    }
    sent_ = true;
    return request_;
  }

  std::string feed(std::string_view chunk, bool* done) override {
    std::string out;
    if (tls_) {
      out = tls_->feed(chunk);
      if (tls_->failed()) {
        *done = true;
        return {};
      }
      if (tls_->established() && !sent_) {
        out += tls_->write(request_);
        sent_ = true;
      }
      reply_ += tls_->take_plaintext();
    } else {
      reply_.append(chunk);
    }
    if (!step_open_ || !run_.reply_complete(reply_)) return out;
    finish_step();
    if (run_.over() || check_->protocol == CheckProtocol::http) {
      *done = true;  // the next HTTP step (if any) goes on a fresh connection
      return {};
    }
    // TCP: the next step's request on this connection.
    auto req = run_.request();
    if (!req) {
      *done = true;
      return {};
    }
    step_open_ = true;
    return out + (tls_ ? tls_->write(*req) : *req);
  }

  bool next_connection(ConnectionEnd how) override {
    (void)how;  // a close or a timeout ends the step with whatever arrived
    if (step_open_) finish_step();
    return check_->protocol == CheckProtocol::http && !run_.over();
  }

  Result<nlohmann::json> result() override {
    if (step_open_) finish_step();
    return run_.result();
  }

 private:
  void finish_step() {
    run_.take_reply(reply_);
    reply_.clear();
    step_open_ = false;
  }

  std::shared_ptr<const CheckTemplate> check_;
  ProbeTarget target_;
  CheckRun run_;
  std::unique_ptr<TlsClientPipe> tls_;
  std::string request_, reply_;
  bool sent_ = false, step_open_ = false;
};

std::string read_all(const std::filesystem::path& p, bool* ok) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  *ok = static_cast<bool>(in) || in.eof();
  return ss.str();
}

}  // namespace

ProbeModule make_check_module(std::shared_ptr<const CheckTemplate> check) {
  ProbeModule m;
  m.name = "check:" + check->id;
  m.report_type = check->report_type;
  m.columns = check->columns;
  m.default_port = check->port;
  m.tag = check->tag;
  if (check->protocol == CheckProtocol::udp) {
    m.transport = Transport::udp;
    m.request = [check](const ProbeTarget& t) {
      CheckRun run(check, t);
      auto req = run.request();
      return req ? udp_frames({*req}) : std::string();
    };
    m.complete = [](std::string_view framed) { return !udp_unframe(framed).empty(); };
    m.parse = [check](std::string_view framed) -> Result<nlohmann::json> {
      CheckRun run(check, ProbeTarget{});
      (void)run.request();
      std::string reply;
      for (auto d : udp_unframe(framed)) reply.append(d);
      run.take_reply(reply);
      return run.result();
    };
    return m;
  }
  // Single-step plain checks need no exchange: one request, one reply.
  m.request = [check](const ProbeTarget& t) {
    CheckRun run(check, t);
    auto req = run.request();
    return req ? *req : std::string();
  };
  m.complete = [check](std::string_view bytes) {
    return CheckRun(check, ProbeTarget{}).reply_complete(bytes);
  };
  m.parse = [check](std::string_view bytes) -> Result<nlohmann::json> {
    if (check->steps.size() != 1) return Error::invalid("a multi-step check runs as an exchange");
    CheckRun run(check, ProbeTarget{});
    (void)run.request();
    run.take_reply(bytes);
    return run.result();
  };
  if (check->tls || check->steps.size() > 1) {
    m.exchange = [check](const ProbeTarget& t) -> std::unique_ptr<Exchange> {
      return std::make_unique<CheckExchange>(check, t);
    };
  }
  return m;
}

Result<ProbeModule> parse_check(std::string_view text, std::string_view origin) {
  auto t = parse_check_template(text, origin);
  if (!t) return t.error();
  return make_check_module(std::move(*t));
}

Result<std::vector<std::shared_ptr<const CheckTemplate>>> load_check_templates(
    const std::string& dir) {
  std::vector<std::filesystem::path> files;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec))
    if (e.is_regular_file() && e.path().extension() == ".json") files.push_back(e.path());
  if (ec) return Error::io("cannot read " + dir + ": " + ec.message());
  std::sort(files.begin(), files.end());
  std::vector<std::shared_ptr<const CheckTemplate>> out;
  std::set<std::string> ids;
  for (const auto& f : files) {
    bool ok = false;
    const std::string text = read_all(f, &ok);
    if (!ok) return Error::io("cannot read " + f.string());
    auto t = parse_check_template(text, f.string());
    if (!t) return t.error();
    if (!ids.insert((*t)->id).second)
      return Error::invalid(f.string() + ": id \"" + (*t)->id + "\" is used by another file");
    out.push_back(std::move(*t));
  }
  return out;
}

Result<std::vector<ProbeModule>> load_checks(const std::string& dir) {
  auto templates = load_check_templates(dir);
  if (!templates) return templates.error();
  std::vector<ProbeModule> out;
  for (auto& t : *templates) out.push_back(make_check_module(std::move(t)));
  return out;
}

Result<nlohmann::json> run_check_on_replies(std::shared_ptr<const CheckTemplate> check,
                                            const ProbeTarget& target,
                                            const std::vector<std::string>& replies,
                                            std::vector<std::string>* requests) {
  CheckRun run(std::move(check), target);
  for (size_t i = 0; !run.over(); ++i) {
    auto req = run.request();
    if (!req) return req.error();
    if (requests) requests->push_back(*req);
    run.take_reply(i < replies.size() ? std::string_view(replies[i]) : std::string_view());
  }
  return run.result();
}

}  // namespace vantage::scanner

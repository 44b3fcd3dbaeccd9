#include "sensors/sinkhole/raw_service.h"

namespace vantage::sinkhole {

namespace {

class RawTcpSession : public sensors::Session {
 public:
  RawTcpSession(const Context& ctx, int thread) : ctx_(ctx), loop_(ctx.tcp_loop(thread)) {}

  size_t on_data(std::string_view in, sensors::SessionIo& io) override {
    if (!logged_) log(in, io);
    return in.size();  // the rest of the conversation is not listened to
  }
  void on_close(sensors::CloseReason, std::string_view unconsumed,
                sensors::SessionIo& io) override {
    if (!logged_) log(unconsumed, io);  // a connection that never sent anything, also logged
  }

 private:
  void log(std::string_view in, sensors::SessionIo& io) {
    logged_ = true;
    const auto& ci = io.info();
    auto& buf = ctx_.host->tcp_buffer(ci.thread);
    log_raw(ctx_, loop_.view.current(), loop_.counters, buf.text(), ci.peer, ci.local, false,
            in.substr(0, ctx_.settings->first_packet_bytes), "", now_seconds());
    buf.commit();
  }
  const Context& ctx_;
  LoopState& loop_;
  bool logged_ = false;
};

}  // namespace

void log_raw(const Context& ctx, const Snapshot& snap, Counters& counters, std::string& out,
             const sensors::Endpoint& peer, const sensors::Endpoint& local, bool udp,
             std::string_view payload, std::string_view application, UnixSeconds when) {
  RawFacts facts{payload, udp, local.port};
  Verdict v = snap.classifier.classify_raw(facts, snap.families);
  counters.add(udp ? kRawUdp : kRawTcp);
  if (v.family == Families::kUnknown) {
    counters.add(kRawUnknown);
    ctx.captures->add(udp ? "udp" : "tcp", peer, "first packet no rule names", payload);
  } else {
    counters.add(kRawNamed);
  }
  begin_event(out, peer.ip.is_v4() ? "event4_sinkhole" : "event6_sinkhole", ctx, peer, local,
              udp ? "udp" : "tcp", when, snap.families.at(v.family), v.tag,
              v.application.empty() ? application : v.application)
      .finish();
}

Result<sensors::Endpoint> install_raw_tcp(Context& ctx, const sensors::Endpoint& at) {
  sensors::ListenerOptions lo;
  lo.name = "tcp";
  lo.bind = at;
  lo.idle_timeout = ctx.settings->idle_timeout;
  lo.session_timeout = ctx.settings->session_timeout;
  lo.max_input_bytes = ctx.settings->max_input_bytes;
  const Context* c = &ctx;
  lo.factory = [c](const sensors::ConnectionInfo& ci) -> std::unique_ptr<sensors::Session> {
    return std::make_unique<RawTcpSession>(*c, ci.thread);
  };
  return ctx.host->add_tcp(std::move(lo));
}

Result<sensors::Endpoint> install_raw_udp(Context& ctx, const sensors::Endpoint& at) {
  sensors::UdpListenerOptions uo;
  uo.name = "udp";
  uo.bind = at;
  const Context* c = &ctx;
  uo.handler = [c](const sensors::Datagram& d, sensors::UdpReplies&) {
    LoopState& loop = c->udp_loop(d.thread);
    auto& buf = c->host->udp_buffer(d.thread);
    log_raw(*c, loop.view.current(), loop.counters, buf.text(), d.peer, d.local, true,
            d.payload.substr(0, c->settings->first_packet_bytes), "", now_seconds());
    buf.commit();
  };
  return ctx.host->add_udp(std::move(uo));
}

}  // namespace vantage::sinkhole

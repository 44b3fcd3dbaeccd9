#include "sensors/honeypot/service.h"

namespace vantage::honeypot {

const std::vector<ServiceModule>& builtin_services() {
  static const std::vector<ServiceModule> services{
      ftp_service(),        // ftp/
      telnet_service(),     // telnet/
      mysql_service(),      // mysql/
      vnc_service(),        // vnc/
      ssh_service(),        // ssh/
      redis_service(),      // redis/
      http_service(),       // http/
      https_service(),      // http/
      dns_service(),        // amp/dns.cc
      ntp_service(),        // amp/ntp.cc
      ssdp_service(),       // amp/ssdp.cc
      chargen_service(),    // amp/chargen.cc
      snmp_service(),       // amp/snmp.cc
      memcached_service(),  // amp/memcached.cc
      cldap_service(),      // amp/cldap.cc
      rdp_service(),        // rdp/
      smb_service(),        // smb/
      adb_service(),        // adb/
      modbus_service(),     // ics/modbus.cc
      s7_service(),         // ics/s7.cc
      darknet_service(),    // darknet/
  };
  return services;
}

const ServiceModule* find_service(std::string_view name) {
  for (const auto& s : builtin_services())
    if (s.name == name) return &s;
  return nullptr;
}

const char* transport_name(Transport t) {
  switch (t) {
    case Transport::kTcp: return "tcp";
    case Transport::kTls: return "tls";
    case Transport::kUdp: return "udp";
    case Transport::kOwn: return "own";
  }
  return "?";
}

sensors::JsonLine begin_event(std::string& out, std::string_view type,
                              const HoneypotSettings& settings, const sensors::Endpoint& src,
                              const sensors::Endpoint& dst, std::string_view protocol,
                              UnixSeconds when) {
  sensors::JsonLine line(out, type);
  line.time("timestamp", when)
      .str("protocol", protocol)
      .ip("src_ip", src.ip)
      .num("src_port", src.port)
      .ip("dst_ip", dst.ip)
      .num("dst_port", dst.port)
      .str("public_source", settings.sensor_name);
  return line;
}

SessionEvent::SessionEvent(const ServiceContext& ctx, const sensors::SessionIo& io,
                           std::string_view type)
    : buffer_(ctx.host->tcp_buffer(io.info().thread)),
      line_(begin_event(buffer_.text(), type, *ctx.settings, io.info().peer, io.info().local, "tcp",
                        now_seconds())) {}

void SessionEvent::commit() {
  line_.finish();
  buffer_.commit();
}

sensors::ListenerOptions tcp_listener(const ServiceContext& ctx, std::string name,
                                      const sensors::Endpoint& at) {
  sensors::ListenerOptions lo;
  lo.name = std::move(name);
  lo.bind = at;
  lo.idle_timeout = ctx.settings->idle_timeout;
  lo.session_timeout = ctx.settings->session_timeout;
  lo.max_input_bytes = ctx.settings->max_input_bytes;
  return lo;
}

}  // namespace vantage::honeypot

#pragma once
// The honeypot's service contract (the scanner's probe registry, applied to listeners): a
// service is a plain value -- its name, transport, the port it normally runs on, the port
// `vantage up` gives it on loopback, the report types it fills -- and one function that
// installs its listener(s) on the sensor host (sensors/common/sensor_host.h). Services are
// listed by hand in registry.cc (no static self-registration); each lives in its own folder.
//
// What a service must do (docs/honeypots.md):
//   * log every interaction worth reporting as an event4_honeypot_* record through the record
//     buffer of the thread it runs on (begin_event() below fills the shared columns), and
//     nothing per event to the process log (count instead);
//   * never connect anywhere, never execute or fetch anything an attacker sends;
//   * stay within the host's bounds (idle/session timeouts, input caps) and its own: an
//     amplification service answers only within its per-source budget;
//   * parse attacker bytes with functions that are fuzzed (fuzz/fuzz_honeypot_*.cc).

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "sensors/common/json_line.h"
#include "sensors/common/sensor_host.h"
#include "sensors/honeypot/scan_settings.h"

namespace vantage::honeypot {

// [honeypot] settings shared by every service; immutable once the sensor runs.
struct HoneypotSettings {
  std::string sensor_name = "vantage-honeypot";  // the public_source column
  std::string mode = "low";  // "low": logins always refused; "medium": fake shells (ssh/telnet)
  std::string rules_dir;     // data files of the services (e.g. HTTP exploit signatures)
  std::chrono::milliseconds idle_timeout{30000};
  std::chrono::milliseconds session_timeout{120000};
  size_t max_input_bytes = 256 * 1024;  // per connection
  // Login services (ssh, telnet, ftp, mysql, vnc): attempts per connection before it is closed.
  int max_attempts = 6;
  // SSH: the host key (an OpenSSH or PEM private key file); empty: Ed25519, ECDSA and RSA
  // keys generated at first start into <state dir>/ssh/ (never the machine's own keys).
  std::string ssh_host_key;
  std::string ssh_version = "OpenSSH_9.2p1 Debian-2+deb12u3";  // after "SSH-2.0-"
  // Added to the tag of every login service's row ("demo": `vantage up`'s demo attacker).
  std::string extra_tag;
  ScanSettings scan;  // HTTP, amplification, darknet (scan_settings.h)
};

struct ServiceContext {
  const HoneypotSettings* settings = nullptr;
  sensors::SensorHost* host = nullptr;
  // Every service bound so far, complete once all are installed (read at start by the darknet,
  // which counts only traffic to ports no service serves).
  const std::vector<std::pair<std::string, sensors::Endpoint>>* bound = nullptr;
};

enum class Transport { kTcp, kTls, kUdp, kOwn };
const char* transport_name(Transport t);

struct ServiceModule {
  std::string name;  // the key in honeypot.listen ("redis=0.0.0.0:6379")
  Transport transport = Transport::kTcp;
  uint16_t standard_port = 0;  // where the real service listens
  uint16_t loopback_port = 0;  // where `vantage up` runs it on 127.0.0.1 (unprivileged)
  std::vector<std::string> report_types;
  std::string description;
  // Adds the service's listener(s) to the host, bound to `at` (before privileges drop).
  std::function<Result<sensors::Endpoint>(ServiceContext&, const sensors::Endpoint& at)> install;
  // Started when honeypot.listen is empty (on 127.0.0.1 at loopback_port); false for a
  // service that needs privileges (the darknet's raw socket) and so must be asked for.
  bool default_on = true;
};

const std::vector<ServiceModule>& builtin_services();
const ServiceModule* find_service(std::string_view name);

// Starts a record of `type` in `out` with the columns every event4_honeypot_* row shares:
// timestamp, protocol, src_ip/src_port (the peer), dst_ip/dst_port (the honeypot), and
// public_source (the sensor). The caller adds its own columns and calls finish().
sensors::JsonLine begin_event(std::string& out, std::string_view type,
                              const HoneypotSettings& settings, const sensors::Endpoint& src,
                              const sensors::Endpoint& dst, std::string_view protocol,
                              UnixSeconds when);

// The listener options every TCP service starts from: name, bind, the settings' bounds.
sensors::ListenerOptions tcp_listener(const ServiceContext& ctx, std::string name,
                                      const sensors::Endpoint& at);

// install() of a TCP service whose sessions are made as `S(ctx)`, one per connection.
template <class S>
Result<sensors::Endpoint> install_tcp_sessions(ServiceContext& ctx, std::string name,
                                               const sensors::Endpoint& at) {
  auto lo = tcp_listener(ctx, std::move(name), at);
  ServiceContext copy = ctx;
  lo.factory = [copy](const sensors::ConnectionInfo&) { return std::make_unique<S>(copy); };
  return ctx.host->add_tcp(std::move(lo));
}

// One event of a TCP session, written into the record buffer of the loop thread serving it,
// with the shared columns of begin_event (the connection's peer and local address, "tcp",
// now). Add the service's columns to line(), then commit() (exactly once).
class SessionEvent {
 public:
  SessionEvent(const ServiceContext& ctx, const sensors::SessionIo& io, std::string_view type);
  sensors::JsonLine& line() { return line_; }
  void commit();

 private:
  sensors::JournalBuffer& buffer_;
  sensors::JsonLine line_;
};

// The module of a TCP service whose connections are each served by a
// `SessionType(const ServiceContext&)`: the shape most services have. The listener takes the
// settings' bounds (tcp_listener) and `max_unconsumed_bytes` (the largest message the
// service reads whole).
template <typename SessionType>
ServiceModule tcp_session_service(std::string name, uint16_t standard_port, uint16_t loopback_port,
                                  std::string report_type, std::string description,
                                  size_t max_unconsumed_bytes) {
  ServiceModule m;
  m.name = name;
  m.transport = Transport::kTcp;
  m.standard_port = standard_port;
  m.loopback_port = loopback_port;
  m.report_types = {std::move(report_type)};
  m.description = std::move(description);
  m.install = [name, max_unconsumed_bytes](ServiceContext& ctx, const sensors::Endpoint& at) {
    auto lo = tcp_listener(ctx, name, at);
    lo.max_unconsumed_bytes = max_unconsumed_bytes;
    ServiceContext copy = ctx;
    lo.factory = [copy](const sensors::ConnectionInfo&) {
      return std::make_unique<SessionType>(copy);
    };
    return ctx.host->add_tcp(std::move(lo));
  };
  return m;
}

// Module builders (one per folder).
ServiceModule redis_service();
ServiceModule ftp_service();
ServiceModule telnet_service();
ServiceModule mysql_service();
ServiceModule vnc_service();
ServiceModule ssh_service();
ServiceModule http_service();
ServiceModule https_service();
ServiceModule dns_service();
ServiceModule ntp_service();
ServiceModule ssdp_service();
ServiceModule chargen_service();
ServiceModule snmp_service();
ServiceModule memcached_service();
ServiceModule cldap_service();
ServiceModule rdp_service();
ServiceModule smb_service();
ServiceModule adb_service();
ServiceModule modbus_service();
ServiceModule s7_service();
ServiceModule darknet_service();

}  // namespace vantage::honeypot

#pragma once
// The probe-module contract (ZMap's probe_module_t idea, applied to application-layer
// grabs in the ZGrab2 manner). A module is a plain value: its name, the Shadowserver report
// type it fills and the exact columns it may set, a default port, and three pure functions:
//
//   request(target)   bytes to send once connected ("" = just listen for a banner);
//   complete(bytes)   true once the reply so far is enough (the engine stops reading);
//   parse(bytes)      the module's columns as a JSON object, or an Error when the bytes are
//                     not this protocol (no event is emitted then).
//
// Modules never authenticate and never follow redirects. They are listed by hand in
// registry.cc (no static self-registration). parse() sees untrusted bytes and is fuzzed
// (fuzz/fuzz_probe_*.cc).
//
// UDP modules (transport udp) use the same three functions on datagrams: request() returns
// one or more datagrams and complete()/parse() see the replies, each framed the same way
// (2-byte big-endian length, then the bytes; see udp_frames/udp_unframe), so a parser can
// tell datagram boundaries apart (NTP mode 7 and mode 6 answers span several datagrams).
//
// A conversation that depends on what the server said (a TLS handshake, PostgreSQL's
// SSLRequest answer) is an Exchange instead: the engine hands it every chunk that arrives and
// sends whatever it returns. An exchange may span several connections to the same target
// (JARM's ten handshakes, one connection per HTTP check step): see next_connection().

#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/ip.h"
#include "common/result.h"

namespace vantage::scanner {

struct ProbeTarget {
  IpAddress ip;
  uint16_t port = 0;
  // The host name the target was given as ("" = an address only): sent as TLS SNI and as the
  // HTTP Host header. Never resolved by the engine; `ip` is what it connects to.
  std::string host;
};

// How one connection of an exchange ended (see Exchange::next_connection).
enum class ConnectionEnd {
  done,     // feed() set *done
  closed,   // the server closed or reset it, or a write failed
  timeout,  // the read deadline passed
};

enum class Transport { tcp, udp };

class Exchange {
 public:
  virtual ~Exchange() = default;
  // Bytes to send once connected ("" = wait for the server).
  virtual std::string start() = 0;
  // `chunk` arrived; returns the bytes to send now. Sets *done when nothing more is needed.
  virtual std::string feed(std::string_view chunk, bool* done) = 0;
  // The columns, or an Error when the server never spoke this protocol. Called once, also
  // after a timeout or a close (the exchange decides whether what it has is enough).
  virtual Result<nlohmann::json> result() = 0;
  // The current connection ended (`how`). Return true to have the engine open a fresh
  // connection to the same target and call start() again; false ends the exchange and
  // result() follows. At most kMaxExchangeConnections connections per exchange; each gets
  // its own connect and read deadlines and byte cap. A failed reconnect ends the exchange.
  virtual bool next_connection(ConnectionEnd how) {
    (void)how;
    return false;
  }
  static constexpr int kMaxExchangeConnections = 16;
};

struct ProbeModule {
  std::string name;
  std::string report_type;
  std::vector<std::string> columns;  // module-specific columns (besides the common ones)
  uint16_t default_port = 0;
  std::string tag;
  std::function<std::string(const ProbeTarget&)> request;
  std::function<bool(std::string_view)> complete;
  std::function<Result<nlohmann::json>(std::string_view)> parse;
  Transport transport = Transport::tcp;
  // UDP only: the server answers from another port of the same host (TFTP's transfer
  // identifier), so the engine takes replies from any source port of the target.
  bool reply_from_any_port = false;
  // Set for stateful modules; request/complete/parse are then unused by the engine.
  std::function<std::unique_ptr<Exchange>(const ProbeTarget&)> exchange;
};

// UDP framing of datagrams for request()/complete()/parse() (see above).
std::string udp_frames(const std::vector<std::string>& datagrams);
// Splits framed bytes back into datagrams; a truncated last frame is dropped.
std::vector<std::string_view> udp_unframe(std::string_view framed);

// Columns every event carries, set by the engine: timestamp, ip, port, protocol, tag
// (and severity where the module sets it).
inline const std::vector<std::string>& common_columns() {
  static const std::vector<std::string> c{"timestamp", "ip", "port", "protocol", "tag", "severity"};
  return c;
}

// The built-in modules, in one hand-kept list.
const std::vector<ProbeModule>& builtin_modules();
const ProbeModule* find_module(std::string_view name);
// The TCP module whose default port is `port`, if any.
const ProbeModule* module_for_port(uint16_t port);
// Every module of that transport on that default port (UDP 123: ntp and ntpmonitor).
std::vector<const ProbeModule*> modules_for_port(uint16_t port, Transport transport);

// Module builders (one per folder).
ProbeModule http_module();
ProbeModule ssh_module();
ProbeModule redis_module();
ProbeModule memcached_module();
ProbeModule telnet_module();
ProbeModule ftp_module();
ProbeModule smtp_module();
ProbeModule ssl_module();
ProbeModule dns_module();
ProbeModule ntp_module();
ProbeModule ntpmonitor_module();
ProbeModule snmp_module();
ProbeModule ssdp_module();
ProbeModule mysql_module();
ProbeModule postgres_module();
ProbeModule mqtt_module();
ProbeModule elasticsearch_module();
// UDP and ICS modules (issue #18).
ProbeModule chargen_module();
ProbeModule qotd_module();
ProbeModule tftp_module();
ProbeModule portmapper_module();
ProbeModule netbios_module();
ProbeModule mdns_module();
ProbeModule isakmp_module();
ProbeModule stun_module();
ProbeModule coap_module();
ProbeModule ipmi_module();
ProbeModule xdmcp_module();
ProbeModule quic_module();
ProbeModule modbus_module();
ProbeModule bacnet_module();
ProbeModule s7_module();
ProbeModule dnp3_module();
ProbeModule iec104_module();
ProbeModule enip_module();
ProbeModule fox_module();
ProbeModule ubiquiti_module();
ProbeModule slp_module();
ProbeModule mssql_module();
ProbeModule nat_pmp_module();
ProbeModule ws_discovery_module();
ProbeModule gtp_module();
ProbeModule dvr_dhcpdiscover_module();
// TCP application-layer modules (issue #18).
ProbeModule imap_module();
ProbeModule pop3_module();
ProbeModule vnc_module();
ProbeModule rdp_module();
ProbeModule smb_module();
ProbeModule ldap_tcp_module();
ProbeModule amqp_module();
ProbeModule sip_module();
ProbeModule couchdb_module();
ProbeModule docker_module();
ProbeModule kubernetes_module();
ProbeModule etcd_module();
ProbeModule mongodb_module();
ProbeModule mssql_tds_module();
ProbeModule ipp_module();
ProbeModule http_proxy_module();
ProbeModule citrix_module();
ProbeModule fortinet_module();
ProbeModule ivanti_module();
ProbeModule paloalto_module();
// More scan types of issue #18 (branch scan-more).
ProbeModule epmd_module();
ProbeModule rsync_module();
ProbeModule socks_module();
ProbeModule mqtt_anon_module();
ProbeModule mqtts_anon_module();
ProbeModule activemq_module();
ProbeModule bgp_module();
ProbeModule msrpc_module();
ProbeModule cldap_module();
ProbeModule afp_module();
ProbeModule adb_module();
ProbeModule cisco_smart_install_module();
ProbeModule radmin_module();
ProbeModule cwmp_module();
ProbeModule hadoop_module();
ProbeModule ms_exchange_module();
ProbeModule sip_udp_module();
ProbeModule db2_module();
ProbeModule ard_module();
ProbeModule rdpeudp_module();
ProbeModule netis_module();

}  // namespace vantage::scanner

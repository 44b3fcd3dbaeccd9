#include "sensors/scanner/probes/probe.h"

namespace vantage::scanner {

const std::vector<ProbeModule>& builtin_modules() {
  static const std::vector<ProbeModule> modules{
      dns_module(),
      elasticsearch_module(),
      ftp_module(),
      http_module(),
      memcached_module(),
      mqtt_module(),
      mysql_module(),
      ntp_module(),
      ntpmonitor_module(),
      postgres_module(),
      redis_module(),
      smtp_module(),
      snmp_module(),
      ssdp_module(),
      ssh_module(),
      ssl_module(),
      telnet_module(),
      // UDP and ICS modules (issue #18).
      chargen_module(),
      coap_module(),
      ipmi_module(),
      isakmp_module(),
      mdns_module(),
      modbus_module(),
      netbios_module(),
      portmapper_module(),
      qotd_module(),
      quic_module(),
      stun_module(),
      tftp_module(),
      xdmcp_module(),
      bacnet_module(),
      dnp3_module(),
      enip_module(),
      fox_module(),
      iec104_module(),
      s7_module(),
      gtp_module(),
      mssql_module(),
      nat_pmp_module(),
      slp_module(),
      ubiquiti_module(),
      ws_discovery_module(),
      dvr_dhcpdiscover_module(),
      // TCP application-layer modules (issue #18).
      amqp_module(),
      citrix_module(),
      couchdb_module(),
      docker_module(),
      etcd_module(),
      fortinet_module(),
      http_proxy_module(),
      imap_module(),
      ipp_module(),
      ivanti_module(),
      kubernetes_module(),
      ldap_tcp_module(),
      mongodb_module(),
      mssql_tds_module(),
      paloalto_module(),
      pop3_module(),
      rdp_module(),
      sip_module(),
      smb_module(),
      vnc_module(),
      // More scan types of issue #18.
      epmd_module(),
      rsync_module(),
      socks_module(),
      mqtt_anon_module(),
      mqtts_anon_module(),
      activemq_module(),
      bgp_module(),
      msrpc_module(),
      cldap_module(),
      afp_module(),
      adb_module(),
      cisco_smart_install_module(),
      radmin_module(),
      cwmp_module(),
      hadoop_module(),
      ms_exchange_module(),
      sip_udp_module(),
      db2_module(),
      ard_module(),
      rdpeudp_module(),
      netis_module(),
  };
  return modules;
}

const ProbeModule* find_module(std::string_view name) {
  for (const auto& m : builtin_modules())
    if (m.name == name) return &m;
  return nullptr;
}

const ProbeModule* module_for_port(uint16_t port) {
  for (const auto& m : builtin_modules())
    if (m.default_port == port && m.transport == Transport::tcp) return &m;
  return nullptr;
}

std::vector<const ProbeModule*> modules_for_port(uint16_t port, Transport transport) {
  std::vector<const ProbeModule*> out;
  for (const auto& m : builtin_modules())
    if (m.default_port == port && m.transport == transport) out.push_back(&m);
  return out;
}

std::string udp_frames(const std::vector<std::string>& datagrams) {
  std::string out;
  for (const auto& d : datagrams) {
    const size_t n = std::min<size_t>(d.size(), 0xffff);
    out += static_cast<char>(n >> 8);
    out += static_cast<char>(n & 0xff);
    out.append(d.data(), n);
  }
  return out;
}

std::vector<std::string_view> udp_unframe(std::string_view framed) {
  std::vector<std::string_view> out;
  while (framed.size() >= 2) {
    const size_t n = (size_t{static_cast<unsigned char>(framed[0])} << 8) |
                     static_cast<unsigned char>(framed[1]);
    if (framed.size() - 2 < n) break;
    out.push_back(framed.substr(2, n));
    framed.remove_prefix(2 + n);
  }
  return out;
}

}  // namespace vantage::scanner

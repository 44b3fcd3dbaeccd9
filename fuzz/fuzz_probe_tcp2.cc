// libFuzzer: the TCP application-layer probes of issue #18 (starttls family: smtp, ftp,
// imap, pop3; vnc, rdp, smb, ldap, amqp, sip, mongodb, mssql_tds, ipp, http_proxy and the HTTP
// JSON / fingerprint modules couchdb, docker, kubernetes, etcd, citrix, fortinet, ivanti,
// paloalto; and the scan-more modules epmd, rsync, socks, mqtt_anon, mqtts_anon, activemq,
// bgp, msrpc, afp, adb, cisco_smart_install, radmin, cwmp, hadoop, exchange). The first byte
// picks the module; the rest is the server's side of the conversation, replayed through the
// module's parse() (which drives its exchange, byte by byte for the first 64 bytes, as a slow
// server would deliver them).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "sensors/scanner/probes/probe.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace vantage::scanner;
  static const char* const kModules[] = {
      "smtp", "ftp", "imap", "pop3", "vnc", "rdp", "smb", "ldap", "amqp", "sip", "mongodb",
      "mssql_tds", "ipp", "http_proxy", "couchdb", "docker", "kubernetes", "etcd", "citrix",
      "fortinet", "ivanti", "paloalto",
      // Appended (branch scan-more): the seeds' first bytes above keep their modules.
      "epmd", "rsync", "socks", "mqtt_anon", "mqtts_anon", "activemq", "bgp", "msrpc", "afp", "adb",
      "cisco_smart_install", "radmin", "cwmp", "hadoop", "exchange"};
  if (size == 0) return 0;
  const ProbeModule* m = find_module(kModules[data[0] % std::size(kModules)]);
  const std::string_view in(reinterpret_cast<const char*>(data + 1), size - 1);
  (void)m->complete(in);
  (void)m->parse(in);
  return 0;
}

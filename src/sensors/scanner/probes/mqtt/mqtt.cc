// MQTT (scan_mqtt): an MQTT 3.1.1 CONNECT with a clean session and no user name or password,
// and the broker's CONNACK. Return code 0 means it lets anyone in (anonymous_access); 5 "not
// authorized" and the others are reported as they are. We never send credentials and
// disconnect right after the CONNACK (no SUBSCRIBE, nothing is read from the broker).
#include "sensors/scanner/probes/mqtt/mqtt.h"

#include <cstdio>
#include <string>

#include "sensors/scanner/probes/probe.h"

namespace vantage::scanner {
namespace {

using namespace std::string_literals;

const std::string kConnect =
    "\x10\x13"           // CONNECT, remaining length 19
    "\x00\x04MQTT\x04"   // protocol name, level 4 (3.1.1)
    "\x02\x00\x3c"       // flags: clean session; keep-alive 60 s
    "\x00\x07vantage"s;  // client id

bool mqtt_complete(std::string_view b) {
  return b.size() >= 4;
}

}  // namespace

const std::string& mqtt_connect_request() {
  return kConnect;
}

Result<nlohmann::json> mqtt_parse_connack(std::string_view b) {
  if (b.size() < 4 || static_cast<unsigned char>(b[0]) != 0x20 || b[1] != 0x02)
    return Error::invalid("not an MQTT CONNACK");
  const unsigned rc = static_cast<unsigned char>(b[3]);
  static const char* names[] = {"Connection Accepted",
                                "Connection Refused, unacceptable protocol version",
                                "Connection Refused, identifier rejected",
                                "Connection Refused, Server unavailable",
                                "Connection Refused, bad user name or password",
                                "Connection Refused, not authorized"};
  nlohmann::json f = nlohmann::json::object();
  char hex[16];
  std::snprintf(hex, sizeof hex, "%02x", rc);
  f["hex_code"] = std::string(hex);
  f["code"] = rc < 6 ? names[rc] : "Unknown return code " + std::to_string(rc);
  f["anonymous_access"] = rc == 0;
  std::string raw;
  for (size_t i = 0; i < 4; ++i) {
    std::snprintf(hex, sizeof hex, "%02x", static_cast<unsigned char>(b[i]));
    raw += hex;
  }
  f["raw_response"] = raw;
  return f;
}

ProbeModule mqtt_module() {
  ProbeModule m;
  m.name = "mqtt";
  m.report_type = "scan_mqtt";
  m.tag = "mqtt";
  m.default_port = 1883;
  m.columns = {"anonymous_access", "raw_response", "hex_code", "code"};
  m.request = [](const ProbeTarget&) { return kConnect; };
  m.complete = mqtt_complete;
  m.parse = mqtt_parse_connack;
  return m;
}

}  // namespace vantage::scanner

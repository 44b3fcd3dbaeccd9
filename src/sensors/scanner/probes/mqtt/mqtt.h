#pragma once
// MQTT 3.1.1 pieces shared by scan_mqtt (mqtt.cc) and scan_mqtt_anon (mqtt_anon/): the
// CONNECT without credentials both send, and the CONNACK parser (hex_code, code,
// anonymous_access, raw_response; an Error for anything that is not a CONNACK).

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "common/result.h"

namespace vantage::scanner {

const std::string& mqtt_connect_request();
Result<nlohmann::json> mqtt_parse_connack(std::string_view b);

}  // namespace vantage::scanner

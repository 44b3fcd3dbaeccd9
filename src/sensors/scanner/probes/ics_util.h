#pragma once
// What the ICS modules (modbus, bacnet, s7, dnp3, iec104, cip, fox) share: they all fill the
// catalogue's scan_ics type (device_vendor, device_type, device_model, device_version,
// device_sector, device_id, response_size, raw_response), tagged with the protocol's name.
// device_sector is "ics" for every one of them (the report's own sector is the owner's, from
// enrichment); raw_response is the reply in hex, cut at 1 KiB.

#include <string>
#include <vector>

#include "sensors/scanner/probes/udp_util.h"

namespace vantage::scanner::ics {

inline const std::vector<std::string>& columns() {
  static const std::vector<std::string> c{"device_vendor",  "device_type",   "device_model",
                                          "device_version", "device_sector", "device_id",
                                          "response_size",  "raw_response"};
  return c;
}

// The fields every ICS reply sets.
inline nlohmann::json base_fields(std::string_view reply) {
  nlohmann::json f = nlohmann::json::object();
  f["device_sector"] = "ics";
  f["response_size"] = reply.size();
  f["raw_response"] = octets::hex(reply, 1024);
  return f;
}

// Sets `key` only when the value is non-empty (columns with no value are omitted).
inline void set_if(nlohmann::json& f, const char* key, const std::string& value) {
  if (!value.empty()) f[key] = value;
}

}  // namespace vantage::scanner::ics

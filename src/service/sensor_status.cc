#include "service/sensor_status.h"

#include <fstream>
#include <nlohmann/json.hpp>

namespace vantage::service {

namespace {

constexpr const char* kSensors[] = {"honeypot", "sinkhole"};

nlohmann::json read_status(const std::string& data_dir, const std::string& sensor) {
  std::ifstream in(data_dir + "/sensors/" + sensor + "/status.json");
  if (!in) return nullptr;
  auto j = nlohmann::json::parse(in, nullptr, false);
  return j.is_object() ? j : nlohmann::json(nullptr);
}

int64_t number(const nlohmann::json& j, std::initializer_list<const char*> path) {
  const nlohmann::json* at = &j;
  for (const char* key : path) {
    if (!at->is_object() || !at->contains(key)) return 0;
    at = &(*at)[key];
  }
  return at->is_number() ? at->get<int64_t>() : 0;
}

}  // namespace

std::string sensor_status_text(const std::string& data_dir) {
  std::string out;
  for (const char* sensor : kSensors) {
    auto j = read_status(data_dir, sensor);
    if (j.is_null()) continue;
    out += std::string("\nsensor ") + sensor + ": status of " + j.value("updated", "?") + ", " +
           std::to_string(number(j, {"journal", "records"})) + " events journaled, " +
           std::to_string(number(j, {"shipper", "shipped"})) + " segments shipped, backlog " +
           std::to_string(number(j, {"shipper", "backlog"})) + "\n";
    if (!j.contains("services") || !j["services"].is_object()) continue;
    for (const auto& [name, service] : j["services"].items()) {
      if (!service.is_object() || !service.contains("problems")) continue;
      const auto& problems = service["problems"];
      out += "  " + name + ": " + std::to_string(number(service, {"warnings"})) + " warning(s)" +
             (service.contains("last_round") ? " (checked " + service.value("last_round", "") + ")"
                                             : "") +
             "\n";
      size_t shown = 0;
      for (const auto& p : problems) {
        if (++shown > 20) {
          out += "    ... and more in " + data_dir + "/sensors/" + sensor + "/status.json\n";
          break;
        }
        out += "    " + p.value("domain", "") + ": " + p.value("problem", "") + " -- " +
               p.value("detail", "") + "\n";
      }
    }
  }
  return out;
}

std::string sensor_metrics(const std::string& data_dir) {
  std::string events, shipped, backlog, problems, dns;
  for (const char* sensor : kSensors) {
    auto j = read_status(data_dir, sensor);
    if (j.is_null()) continue;
    std::string label = std::string("{sensor=\"") + sensor + "\"}";
    events += "vantage_sensor_events_total" + label + " " +
              std::to_string(number(j, {"journal", "records"})) + "\n";
    shipped += "vantage_sensor_segments_shipped_total" + label + " " +
               std::to_string(number(j, {"shipper", "shipped"})) + "\n";
    backlog += "vantage_sensor_shipping_backlog" + label + " " +
               std::to_string(number(j, {"shipper", "backlog"})) + "\n";
    if (j.contains("services") && j["services"].is_object()) {
      for (const auto& [name, service] : j["services"].items()) {
        if (service.is_object() && service.contains("problems")) {
          problems += std::string("vantage_sensor_warnings{sensor=\"") + sensor + "\",service=\"" +
                      name + "\"} " + std::to_string(number(service, {"warnings"})) + "\n";
        }
      }
    }
    if (std::string(sensor) == "sinkhole") {
      dns = "vantage_sinkhole_dns_queries_total " +
            std::to_string(number(j, {"services", "sinkhole", "dns_counts", "counted"})) + "\n";
    }
  }
  if (events.empty()) return "";
  auto block = [](const char* name, const char* type, const char* help, const std::string& body) {
    return body.empty() ? std::string()
                        : std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " +
                              type + "\n" + body;
  };
  return block("vantage_sensor_events_total", "counter",
               "Events a listening sensor journaled (from its status file).", events) +
         block("vantage_sensor_segments_shipped_total", "counter",
               "Journal segments a sensor shipped into the pipeline.", shipped) +
         block("vantage_sensor_shipping_backlog", "gauge",
               "Closed journal segments waiting to be shipped.", backlog) +
         block("vantage_sensor_warnings", "gauge",
               "Problems a sensor service reports (the sinkhole's domain watch: lost "
               "delegations, lapsing registrations).",
               problems) +
         block("vantage_sinkhole_dns_queries_total", "counter",
               "DNS queries the sinkhole counted since it started.", dns);
}

}  // namespace vantage::service

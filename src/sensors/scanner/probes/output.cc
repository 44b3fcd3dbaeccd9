#include "sensors/scanner/probes/output.h"

#include "common/time.h"

namespace vantage::scanner {

std::string format_event(const ProbeOutcome& o, int64_t unix_seconds) {
  nlohmann::json fields = nlohmann::json::object();
  fields["timestamp"] = format_timestamp(unix_seconds);
  fields["ip"] = o.target.ip.to_string();
  fields["port"] = o.target.port;
  fields["protocol"] = o.module->transport == Transport::udp ? "udp" : "tcp";
  if (!o.module->tag.empty()) fields["tag"] = o.module->tag;
  if (o.fields) {
    for (const auto& [k, v] : o.fields->items()) {
      if (k == "severity" || k == "tag") {
        fields[k] = v;
        continue;
      }
      for (const auto& c : o.module->columns)
        if (c == k) fields[k] = v;
    }
  }
  nlohmann::json ev = {{"type", o.module->report_type}, {"fields", std::move(fields)}};
  return ev.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

}  // namespace vantage::scanner

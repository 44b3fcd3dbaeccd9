#include "sensors/scanner/probes/output.h"

#include <ctime>

#include "common/time.h"
#include "core/catalogue.h"

namespace vantage::scanner {

std::string report_type_for(const ProbeModule& module, const IpAddress& ip) {
  const std::string& type = module.report_type;
  if (ip.is_v4() || !type.starts_with("scan_")) return type;
  std::string six = "scan6_" + type.substr(5);
  return core::Catalogue::builtin().find(six) ? six : type;
}

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
  nlohmann::json ev = {{"type", report_type_for(*o.module, o.target.ip)},
                       {"fields", std::move(fields)}};
  return ev.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

ProbeRunStats run_probes_to_jsonl(const std::vector<ProbeJob>& jobs, const EngineOptions& options,
                                  std::FILE* out,
                                  const std::function<void(const ProbeOutcome&)>& on_failure) {
  ProbeRunStats st;
  st.jobs = jobs.size();
  run_probes(jobs, options, [&](const ProbeOutcome& o) {
    if (o.status == "success") {
      const std::string line = format_event(o, static_cast<int64_t>(std::time(nullptr)));
      std::fwrite(line.data(), 1, line.size(), out);
      st.report_types.insert(report_type_for(*o.module, o.target.ip));
      ++st.events;
    } else {
      ++st.failed;
      if (on_failure) on_failure(o);
    }
  });
  std::fflush(out);
  return st;
}

}  // namespace vantage::scanner

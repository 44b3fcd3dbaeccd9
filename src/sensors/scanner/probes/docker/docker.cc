// Docker Engine API (scan_docker): GET /version, which the daemon answers without
// authentication on an exposed TCP socket ({"Version":..,"ApiVersion":..,"MinAPIVersion":..,
// "GitCommit":..,"GoVersion":..,"Os":..,"Arch":..,"KernelVersion":..,"BuildTime":..,
// "Experimental":..}; Debian's docker.io adds "PkgVersion" in older releases). A reply without
// both Version and ApiVersion is not Docker and yields no event.
#include "sensors/scanner/probes/web/web.h"

namespace vantage::scanner {
namespace {

Result<nlohmann::json> interpret(const std::vector<HttpReply>& replies, const nlohmann::json&) {
  const auto v = nlohmann::json::parse(replies[0].body, nullptr, false);
  if (!v.is_object() || !v.contains("ApiVersion") || !v.contains("Version"))
    return Error::invalid("not the Docker API");
  nlohmann::json f = nlohmann::json::object();
  http_status_columns(replies[0], f);
  const std::pair<const char*, const char*> map[] = {{"Version", "version"},
                                                     {"ApiVersion", "api_version"},
                                                     {"Arch", "arch"},
                                                     {"GoVersion", "go_version"},
                                                     {"Os", "os"},
                                                     {"KernelVersion", "kernel_version"},
                                                     {"GitCommit", "git_commit"},
                                                     {"MinAPIVersion", "min_api_version"},
                                                     {"BuildTime", "build_time"},
                                                     {"PkgVersion", "pkg_version"},
                                                     {"Experimental", "experimental"}};
  for (const auto& [key, col] : map)
    if (auto t = json_text(v, key)) f[col] = *t;
  return f;
}

}  // namespace

ProbeModule docker_module() {
  return web_module(
      "docker", "scan_docker", 2375,
      {"version", "http", "http_code", "http_reason", "content_type", "server", "date",
       "experimental", "api_version", "arch", "go_version", "os", "kernel_version", "git_commit",
       "min_api_version", "build_time", "pkg_version"},
      WebProbe{{"/version"}, false, interpret});
}

}  // namespace vantage::scanner

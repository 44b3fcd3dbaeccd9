// Kubernetes API server (scan_kubernetes): GET /version over TLS (the API server's port,
// 6443, is always HTTPS; the certificate fills the TLS columns). Anonymous clients may read
// /version by default (the system:public-info-viewer role): {"major":..,"minor":..,
// "gitVersion":..,"gitCommit":..,"gitTreeState":..,"buildDate":..,"goVersion":..,
// "compiler":..,"platform":..}. A server refusing anonymous access answers a Status object
// ({"kind":"Status","apiVersion":"v1",..,"code":401}), still an exposed API server: the event
// then has the HTTP and TLS columns only. Anything else yields no event.
#include "sensors/scanner/probes/starttls/starttls.h"
#include "sensors/scanner/probes/web/web.h"

namespace vantage::scanner {
namespace {

Result<nlohmann::json> interpret(const std::vector<HttpReply>& replies, const nlohmann::json& tls) {
  const auto v = nlohmann::json::parse(replies[0].body, nullptr, false);
  const bool version = v.is_object() && v.contains("gitVersion") && v.contains("major");
  const bool status = json_text(v, "kind") == "Status" && json_text(v, "apiVersion") == "v1";
  if (!version && !status) return Error::invalid("not a Kubernetes API server");
  nlohmann::json f = tls;
  http_status_columns(replies[0], f);
  if (version) {
    const std::pair<const char*, const char*> map[] = {
        {"gitVersion", "version"},   {"major", "major"},
        {"minor", "minor"},          {"gitVersion", "git_version"},
        {"gitCommit", "git_commit"}, {"gitTreeState", "git_tree_state"},
        {"buildDate", "build_date"}, {"goVersion", "go_version"},
        {"compiler", "compiler"},    {"platform", "platform"}};
    for (const auto& [key, col] : map)
      if (auto t = json_text(v, key)) f[col] = *t;
  }
  return f;
}

}  // namespace

ProbeModule kubernetes_module() {
  std::vector<std::string> cols{"version",      "http",        "http_code",  "http_reason",
                                "content_type", "server",      "date",       "major",
                                "minor",        "git_version", "git_commit", "git_tree_state",
                                "build_date",   "go_version",  "compiler",   "platform"};
  for (const auto& c : tls_certificate_columns()) cols.push_back(c);
  return web_module("kubernetes", "scan_kubernetes", 6443, std::move(cols),
                    WebProbe{{"/version"}, true, interpret});
}

}  // namespace vantage::scanner

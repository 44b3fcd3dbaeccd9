// Elasticsearch (scan_elasticsearch): GET / on the REST port, whose JSON names the node, the
// cluster and the version when the cluster is open (no security plugin); a 401 with
// "WWW-Authenticate: Basic realm=security" is a protected cluster and is not reported.
#include <string>

#include "sensors/scanner/probes/http/http.h"
#include "sensors/scanner/probes/probe.h"
#include "sensors/scanner/probes/text_util.h"

namespace vantage::scanner {
namespace {

// nlohmann's parser is iterative, but destroying a deeply nested value recurses; a server's
// body with absurd nesting is refused before parsing.
bool nesting_ok(std::string_view s, int max_depth) {
  int depth = 0;
  bool in_string = false, escape = false;
  for (char c : s) {
    if (in_string) {
      if (escape)
        escape = false;
      else if (c == '\\')
        escape = true;
      else if (c == '"')
        in_string = false;
      continue;
    }
    if (c == '"')
      in_string = true;
    else if (c == '{' || c == '[') {
      if (++depth > max_depth) return false;
    } else if (c == '}' || c == ']')
      --depth;
  }
  return true;
}

std::string text_of(const nlohmann::json& j, size_t max) {
  if (j.is_string()) return printable(j.get<std::string>(), max);
  if (j.is_number() || j.is_boolean()) return j.dump();
  return {};
}

Result<nlohmann::json> es_parse(std::string_view bytes) {
  auto r = parse_http_reply(bytes);
  if (!r) return r.error();
  if (r->body.empty() || !nesting_ok(r->body, 32))
    return Error::invalid("no Elasticsearch JSON body");
  auto j = nlohmann::json::parse(r->body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return Error::invalid("body is not a JSON object");
  const auto version = j.find("version");
  if (version == j.end() || !version->is_object() || !j.contains("cluster_name"))
    return Error::invalid("JSON without cluster_name/version: not Elasticsearch");
  nlohmann::json f = nlohmann::json::object();
  f["http_code"] = r->code;
  f["ok"] = r->code == 200;
  auto set = [&](const char* col, const nlohmann::json& obj, const char* key, size_t max) {
    if (auto it = obj.find(key); it != obj.end()) {
      const std::string v = text_of(*it, max);
      if (!v.empty()) f[col] = v;
    }
  };
  set("name", j, "name", 256);
  set("cluster_name", j, "cluster_name", 256);
  set("tagline", j, "tagline", 256);
  set("version", *version, "number", 64);
  set("build_hash", *version, "build_hash", 128);
  set("build_timestamp", *version, "build_date", 64);
  if (!f.contains("build_timestamp")) set("build_timestamp", *version, "build_timestamp", 64);
  set("lucene_version", *version, "lucene_version", 64);
  if (auto it = version->find("build_snapshot"); it != version->end() && it->is_boolean())
    f["build_snapshot"] = it->get<bool>();
  return f;
}

}  // namespace

ProbeModule elasticsearch_module() {
  ProbeModule m;
  m.name = "elasticsearch";
  m.report_type = "scan_elasticsearch";
  m.tag = "elasticsearch";
  m.default_port = 9200;
  m.columns = {"version",
               "ok",
               "name",
               "cluster_name",
               "http_code",
               "build_hash",
               "build_timestamp",
               "build_snapshot",
               "lucene_version",
               "tagline"};
  m.request = [](const ProbeTarget& t) {
    const std::string host = t.ip.is_v4() ? t.ip.to_string() : "[" + t.ip.to_string() + "]";
    return http_get_request(host, "/");
  };
  m.complete = http_reply_complete;
  m.parse = es_parse;
  return m;
}

}  // namespace vantage::scanner

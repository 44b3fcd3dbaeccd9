// CouchDB (scan_couchdb): GET / (the welcome object: {"couchdb":"Welcome","version":...,
// "git_sha":...,"features":[...],"vendor":{"name":...}}), then GET /_all_dbs on the same
// connection: the database names when anyone may list them, else CouchDB's
// {"error":..,"reason":..} (CouchDB 3 answers 401 to anonymous clients). A root without the
// "couchdb" key is not CouchDB and yields no event.
#include "sensors/scanner/probes/web/web.h"

namespace vantage::scanner {
namespace {

Result<nlohmann::json> interpret(const std::vector<HttpReply>& replies, const nlohmann::json&) {
  const auto root = nlohmann::json::parse(replies[0].body, nullptr, false);
  if (!root.is_object() || !root.contains("couchdb")) return Error::invalid("not CouchDB");
  nlohmann::json f = nlohmann::json::object();
  if (auto v = replies[0].header("server")) f["server_version"] = *v;
  if (auto v = json_text(root, "couchdb")) f["couchdb_message"] = *v;
  if (auto v = json_text(root, "version")) f["couchdb_version"] = *v;
  if (auto v = json_text(root, "git_sha")) f["git_sha"] = *v;
  if (auto v = json_text(root, "features")) f["features"] = *v;
  if (root.contains("vendor"))
    if (auto v = json_text(root["vendor"], "name")) f["vendor"] = *v;
  if (replies.size() > 1) {
    const auto dbs = nlohmann::json::parse(replies[1].body, nullptr, false);
    if (dbs.is_array()) {
      f["visible_databases"] = *json_text(nlohmann::json{{"d", dbs}}, "d");
    } else if (dbs.is_object()) {
      if (auto v = json_text(dbs, "error")) f["error"] = *v;
      if (auto v = json_text(dbs, "reason")) f["error_reason"] = *v;
    }
  }
  return f;
}

}  // namespace

ProbeModule couchdb_module() {
  return web_module("couchdb", "scan_couchdb", 5984,
                    {"server_version", "couchdb_message", "couchdb_version", "git_sha", "features",
                     "vendor", "visible_databases", "error", "error_reason"},
                    WebProbe{{"/", "/_all_dbs"}, false, interpret});
}

}  // namespace vantage::scanner

// etcd (the catalogue has no etcd type: scan_http, tag "etcd", is the closest): GET /version
// on the client port, which etcd answers to anyone ({"etcdserver":"3.4.23",
// "etcdcluster":"3.4.0"}); version is the server's. A reply without "etcdserver" is not etcd
// and yields no event.
#include "sensors/scanner/probes/web/web.h"

namespace vantage::scanner {
namespace {

Result<nlohmann::json> interpret(const std::vector<HttpReply>& replies, const nlohmann::json&) {
  const auto v = nlohmann::json::parse(replies[0].body, nullptr, false);
  if (!v.is_object() || !v.contains("etcdserver")) return Error::invalid("not etcd");
  nlohmann::json f = nlohmann::json::object();
  http_status_columns(replies[0], f, "http_date");
  if (auto t = json_text(v, "etcdserver")) f["version"] = *t;
  const HttpReply& r = replies[0];
  if (auto h = r.header("content-length")) f["content_length"] = *h;
  if (auto h = r.header("connection")) f["connection"] = *h;
  if (auto h = r.header("transfer-encoding")) f["transfer_encoding"] = *h;
  return f;
}

}  // namespace

ProbeModule etcd_module() {
  return web_module("etcd", "scan_http", 2379,
                    {"http", "http_code", "http_reason", "content_type", "connection", "server",
                     "content_length", "transfer_encoding", "http_date", "version"},
                    WebProbe{{"/version"}, false, interpret});
}

}  // namespace vantage::scanner

// libFuzzer target for the dashboard's request handling without sockets: the input is split
// into a query string (for GET /dash/api/stats) and an organisation method + JSON body (for
// POST /dash/api/org/<method>, signed or not). The service runs on a real SQLite store in a
// temp directory holding a few events. Properties: no crash or sanitizer report; every answer
// is 200, 400, 401, 403, 404 or 405 with a JSON body; an unsigned organisation request never
// gets a 200; a public answer never contains a count below the threshold.
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "api/params.h"
#include "web/dashboard_service.h"

namespace {

constexpr int64_t kMinCount = 3;

vantage::web::DashboardService& service() {
  static vantage::web::DashboardService* s = [] {
    auto dir = std::filesystem::temp_directory_path() /
               ("vantage-fuzz-dash-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    auto store = vantage::store::open_sqlite_store((dir / "events.sqlite").string());
    if (!store) std::abort();
    vantage::store::IngestBatch b;
    for (uint64_t k = 1; k <= 20; ++k) {
      vantage::store::EventRecord e;
      e.day = 20000 + static_cast<int>(k % 3);
      e.type = k % 2 ? "scan_http" : "scan_ssh";
      e.event_key = k;
      e.timestamp = static_cast<int64_t>(e.day) * 86400;
      e.ip = "192.0.2." + std::to_string(k);
      e.geo = k % 4 ? "NL" : "DE";
      e.region = k % 5 ? "North" : "South";
      e.severity = static_cast<uint8_t>(k % 5);
      e.tag = k % 3 ? "mirai" : "";
      e.row = "x";
      e.routes = {{static_cast<uint32_t>(1 + k % 2), vantage::store::MatchFilter::kAsn}};
      b.events.push_back(e);
    }
    if (!(*store)->write(b)) std::abort();
    auto keys = std::make_shared<vantage::api::MemoryKeyStore>();
    vantage::api::KeyIdentity id;
    id.key = "testkey";
    id.org_id = 1;
    id.org_short_name = "org1";
    id.secrets = {"testsecret"};
    keys->add(id);
    vantage::web::DashboardOptions o;
    o.min_count = kMinCount;
    o.manifest_path = (dir / "reports.sqlite").string();
    o.delivery_log_path = (dir / "deliveries.sqlite").string();
    auto cat = std::shared_ptr<const vantage::core::Catalogue>(&vantage::core::Catalogue::builtin(),
                                                               [](const auto*) {});
    return new vantage::web::DashboardService(o, std::move(*store), keys, cat, nullptr,
                                              [] { return 20003; });
  }();
  return *s;
}

void check_status(const vantage::http::Response& r) {
  switch (r.status) {
    case 200:
    case 400:
    case 401:
    case 403:
    case 404:
    case 405: break;
    default: std::abort();
  }
  if (nlohmann::json::parse(r.body, nullptr, false).is_discarded()) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  size_t nl = in.find('\n');
  std::string query(nl == std::string_view::npos ? in : in.substr(0, nl));
  std::string rest(nl == std::string_view::npos ? std::string_view() : in.substr(nl + 1));

  vantage::http::Request get;
  get.method = "GET";
  get.path = "/dash/api/stats";
  get.query = query;
  auto pub = service().stats(get);
  check_status(pub);
  if (pub.status == 200) {
    auto j = nlohmann::json::parse(pub.body);
    for (const auto& row : j["rows"])
      if (row.back().get<int64_t>() < kMinCount) std::abort();
  }

  // "<method>\n<body>"; the first byte's low bit chooses a valid HMAC or a garbled one.
  size_t nl2 = rest.find('\n');
  std::string method(nl2 == std::string::npos ? rest : rest.substr(0, nl2));
  std::string body(nl2 == std::string::npos ? std::string() : rest.substr(nl2 + 1));
  bool sign = !in.empty() && (static_cast<unsigned char>(in[0]) & 1);
  vantage::http::Request post;
  post.method = "POST";
  post.path = "/dash/api/org/" + method;
  post.body = body;
  post.headers.emplace_back("HMAC2",
                            sign ? vantage::api::hmac_sha256_hex("testsecret", body) : method);
  auto org = service().org(post);
  check_status(org);
  if (!sign && org.status == 200) std::abort();
  return 0;
}

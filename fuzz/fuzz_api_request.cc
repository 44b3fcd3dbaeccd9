// libFuzzer target for api2 request handling without sockets: the input is split into a
// method path, an HMAC2 header value and a raw body, and fed to ApiService::handle_api()
// and handle_download(). Properties: no crash or sanitizer report, every answer has a
// status from the spec's table, and an unauthenticated request never gets a 200.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "api/api_service.h"
#include "api/params.h"

namespace {

vantage::api::ApiService& service() {
  static vantage::api::ApiService* s = [] {
    auto keys = std::make_shared<vantage::api::MemoryKeyStore>();
    vantage::api::KeyIdentity id;
    id.key = "testkey";
    id.org_id = 1;
    id.org_short_name = "org1";
    id.secrets = {"testsecret"};
    id.filter_fields = {"asn"};
    keys->add(id);
    auto cat = std::shared_ptr<const vantage::core::Catalogue>(&vantage::core::Catalogue::builtin(),
                                                               [](const auto*) {});
    return new vantage::api::ApiService({}, keys, nullptr, nullptr, cat, [] { return 1700000000; });
  }();
  return *s;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  // Layout: "<method>\n<body>"; the first byte's low bit chooses a valid HMAC or a garbled one.
  size_t nl = in.find('\n');
  std::string method(nl == std::string_view::npos ? in : in.substr(0, nl));
  std::string body(nl == std::string_view::npos ? std::string_view() : in.substr(nl + 1));
  bool sign = !in.empty() && (static_cast<unsigned char>(in[0]) & 1);
  vantage::http::Request r;
  r.method = "POST";
  r.path = "/api2/" + method;
  r.body = body;
  r.headers.emplace_back(sign ? "hmac2" : "HMAC2",
                         sign ? vantage::api::hmac_sha256_hex("testsecret", body) : method);
  auto res = service().handle_api(r);
  switch (res.status) {
    case 200:
    case 400:
    case 401:
    case 403:
    case 404:
    case 405:
    case 429: break;
    default: std::abort();
  }
  if (!sign && res.status == 200) std::abort();
  vantage::http::Request d;
  d.method = "GET";
  d.path = "/" + method;
  d.query = body.substr(0, 64);
  auto dl = service().handle_download(d, "/");
  if (dl.status != 200 && dl.status != 404) std::abort();
  return 0;
}

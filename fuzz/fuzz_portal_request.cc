// libFuzzer target for the portal's request handling without sockets. The first byte picks
// what the rest of the input is fed to:
//   0  the Cookie header parser (parse_cookies, cookie_value over repeated headers)
//   1  the form parser (web::parse_form, used by the dashboard and the portal's query strings)
//   2  the signed-token verifier (confirmation links)
//   3  the Origin/Referer same-origin check
//   4  base32 and the TOTP code check
//   5+ a request to one of the portal's endpoints (the second byte picks it, the third the
//      caller: anonymous with a pre-session token, an organisation, an operator), the rest the
//      body; the service runs on SQLite files in a temp directory.
// Properties: no crash or sanitizer report; every portal answer is a JSON object with a
// status below 500; an anonymous caller never gets a 200 from a signed-in endpoint.
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "portal/portal_service.h"
#include "portal/portal_store.h"
#include "portal/request_security.h"
#include "portal/totp.h"
#include "registry/sqlite/sqlite_registry.h"
#include "web/dashboard_service.h"

namespace {

using namespace vantage;
using nlohmann::json;

struct Caller {
  std::string cookie;
  std::string csrf;
};

struct World {
  std::unique_ptr<portal::PortalService> svc;
  std::vector<std::pair<std::string, std::vector<std::string>>> endpoints;
  Caller anon, org, op;
};

http::Response send(portal::PortalService& svc, const std::string& method, const std::string& name,
                    const std::string& body, Caller& c) {
  http::Request r;
  r.method = method;
  r.path = "/portal/api/" + name;
  r.body = body;
  r.remote = "192.0.2.1";
  r.headers = {{"Host", "fuzz.test"}};
  if (!c.cookie.empty()) r.headers.push_back({"Cookie", c.cookie});
  if (!c.csrf.empty()) r.headers.push_back({"X-CSRF-Token", c.csrf});
  auto resp = svc.handle(r);
  for (const auto& [h, v] : resp.headers) {
    if (h != "Set-Cookie" || v.find("Max-Age=0") != std::string::npos) continue;
    c.cookie += (c.cookie.empty() ? "" : "; ") + v.substr(0, v.find(';'));
  }
  auto j = json::parse(resp.body, nullptr, false);
  if (j.is_object() && j.contains("csrf") && j["csrf"].is_string()) c.csrf = j["csrf"];
  return resp;
}

World& world() {
  static World* w = [] {
    auto dir = std::filesystem::temp_directory_path() /
               ("vantage-fuzz-portal-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    auto box = *registry::SecretBox::from_key(std::string(32, 'f'));
    std::string reg_path = (dir / "registry.sqlite").string();
    std::string portal_path = (dir / "portal.sqlite").string();
    auto reg = registry::SqliteRegistry::open(reg_path, box);
    if (!reg) std::abort();
    registry::NewOrganisation no;
    no.name = "Fuzz Org";
    no.short_name = "fuzz_org";
    auto org = (*reg)->add_org(no);
    if (!org) std::abort();
    portal::Argon2Params cheap{8192, 1, 1};
    auto store = portal::PortalStore::open(portal_path);
    if (!store) std::abort();
    if (!portal::add_account(**store, "org@fuzz.test", "", portal::Role::kOrg, org->id,
                             "fuzz org passphrase", cheap))
      std::abort();
    if (!portal::add_account(**store, "ops", "", portal::Role::kOperator, std::nullopt,
                             "fuzz operator passphrase", cheap))
      std::abort();
    portal::PortalOptions o;
    o.public_url = "https://fuzz.test";
    o.argon2 = cheap;
    o.registrations_per_ip_hour = 1'000'000'000;
    o.login_max_failures = o.login_max_failures_ip = 1'000'000'000;
    portal::PortalDeps d;
    d.open_registry = [reg_path, box]() -> Result<std::unique_ptr<registry::Registry>> {
      auto r = registry::SqliteRegistry::open(reg_path, box);
      if (!r) return r.error();
      return std::unique_ptr<registry::Registry>(std::move(*r));
    };
    d.open_store = [portal_path] { return portal::PortalStore::open(portal_path); };
    d.box = box;
    d.mailer = portal::make_outbox_mailer((dir / "outbox").string(), "fuzz@fuzz.test");
    d.lookup_txt = [](const std::string&) -> Result<std::vector<std::string>> {
      return std::vector<std::string>{"vantage-verify=0"};
    };
    d.check_pgp_key = [](std::string_view k) -> Result<std::string> {
      if (k.find("BEGIN PGP PUBLIC KEY BLOCK") == std::string_view::npos)
        return Error::invalid("no key");
      return std::string("FPR");
    };
    d.catalogue =
        std::shared_ptr<const core::Catalogue>(&core::Catalogue::builtin(), [](const auto*) {});
    auto* wd = new World;
    wd->svc = std::make_unique<portal::PortalService>(o, std::move(d));
    wd->endpoints = wd->svc->endpoints();
    for (Caller* c : {&wd->anon, &wd->org, &wd->op}) send(*wd->svc, "GET", "session", "", *c);
    if (send(*wd->svc, "POST", "login",
             R"({"login":"org@fuzz.test","password":"fuzz org passphrase"})", wd->org)
                .status != 200 ||
        send(*wd->svc, "POST", "login", R"({"login":"ops","password":"fuzz operator passphrase"})",
             wd->op)
                .status != 200)
      std::abort();
    return wd;
  }();
  return *w;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0]) {
    case 0: {
      (void)portal::parse_cookies(rest);
      http::Request r;
      r.headers = {{"Cookie", std::string(rest)},
                   {"cookie", std::string(rest.substr(rest.size() / 2))}};
      (void)portal::cookie_value(r, "vantage_session");
      return 0;
    }
    case 1: (void)web::parse_form(rest); return 0;
    case 2: (void)portal::verify_token(std::string(32, 'k'), "confirm", rest, 1000); return 0;
    case 3: {
      http::Request r;
      r.headers = {{"Host", "fuzz.test"}, {size % 2 ? "Origin" : "Referer", std::string(rest)}};
      (void)portal::same_origin(r);
      return 0;
    }
    case 4: {
      auto key = portal::base32_decode(rest);
      (void)portal::totp_accept(key ? *key : std::string(rest), rest.substr(0, 6), 1'700'000'000,
                                0);
      return 0;
    }
    default: break;
  }
  if (size < 3) return 0;
  World& w = world();
  const auto& ep = w.endpoints[data[1] % w.endpoints.size()];
  Caller* who = data[2] % 3 == 0 ? &w.anon : data[2] % 3 == 1 ? &w.org : &w.op;
  // Only the session endpoints the fuzzer must keep alive are off limits: logging the callers
  // out would leave every later input at the door.
  if (ep.first == "logout" || ep.first == "account/password" || ep.first == "account/totp/confirm")
    return 0;
  Caller c = *who;
  auto resp = send(*w.svc, "POST", ep.first, std::string(rest.substr(2)), c);
  if (resp.status >= 500) std::abort();
  auto j = json::parse(resp.body, nullptr, false);
  if (!j.is_object()) std::abort();
  const bool public_ep = ep.second.size() == 1 && ep.second[0] == "public";
  if (who == &w.anon && !public_ep && resp.status == 200) std::abort();
  return 0;
}

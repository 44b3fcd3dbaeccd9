// Portal building blocks (passwords, TOTP, cookies, signed tokens, origin check, the audit
// chain, the store) and the service end to end through PortalService::handle(): register,
// confirm, approve, sign in, manage the organisation -- with CSRF, fixation, throttling and
// role checks. The browser and real-server tests are tests/portal/.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <regex>

#include "portal/audit_log.h"
#include "portal/password.h"
#include "portal/portal_service.h"
#include "portal/portal_store.h"
#include "portal/request_security.h"
#include "portal/totp.h"
#include "registry/sqlite/sqlite_registry.h"

namespace vantage::portal {
namespace {

using nlohmann::json;

TEST(Password, Argon2idRoundTripAndPolicy) {
  Argon2Params fast{8192, 1, 1};
  auto h = hash_password("correct horse battery", fast);
  ASSERT_TRUE(h.ok()) << h.error().message;
  EXPECT_EQ(h->rfind("$argon2id$v=19$m=8192,t=1,p=1$", 0), 0u) << *h;
  EXPECT_TRUE(verify_password(*h, "correct horse battery"));
  EXPECT_FALSE(verify_password(*h, "correct horse batterY"));
  EXPECT_FALSE(verify_password("$argon2i$v=19$m=8192,t=1,p=1$c2FsdHNhbHQ$aGFzaA", "x"));
  EXPECT_NE(*hash_password("correct horse battery", fast), *h);  // fresh salt
  EXPECT_FALSE(check_password_policy("short", "").ok());
  EXPECT_FALSE(check_password_policy("me@example.org", "me@example.org").ok());
  EXPECT_TRUE(check_password_policy("a long enough passphrase", "me@example.org").ok());
}

TEST(Totp, Rfc6238AppendixBVectors) {
  const std::string key = "12345678901234567890";  // the RFC's SHA-1 seed
  EXPECT_EQ(totp(key, 59, 8), 94287082u);
  EXPECT_EQ(totp(key, 1111111109, 8), 7081804u);
  EXPECT_EQ(totp(key, 1111111111, 8), 14050471u);
  EXPECT_EQ(totp(key, 1234567890, 8), 89005924u);
  EXPECT_EQ(totp(key, 2000000000, 8), 69279037u);
  EXPECT_EQ(totp(key, 20000000000, 8), 65353130u);
  // RFC 4226 appendix D: HOTP values for counters 0 and 9.
  EXPECT_EQ(hotp(key, 0), 755224u);
  EXPECT_EQ(hotp(key, 9), 520489u);
}

TEST(Totp, AcceptWindowAndReplay) {
  const std::string key = "12345678901234567890";
  const UnixSeconds now = 1111111111;
  char code[8];
  std::snprintf(code, sizeof code, "%06u", totp(key, now));
  auto step = totp_accept(key, code, now, 0);
  ASSERT_TRUE(step);
  EXPECT_EQ(*step, now / 30);
  EXPECT_FALSE(totp_accept(key, code, now, *step));   // used once already
  EXPECT_TRUE(totp_accept(key, code, now + 30, 0));   // one step of drift
  EXPECT_FALSE(totp_accept(key, code, now + 90, 0));  // three steps: too far
  EXPECT_FALSE(totp_accept(key, "12345", now, 0));
  EXPECT_FALSE(totp_accept(key, "12345a", now, 0));
}

TEST(Totp, Base32) {
  EXPECT_EQ(base32_encode("foobar"), "MZXW6YTBOI");  // RFC 4648 §10 without padding
  EXPECT_EQ(*base32_decode("mzxw6ytboi======"), "foobar");
  EXPECT_EQ(*base32_decode("MZXW 6YTB-OI"), "foobar");
  EXPECT_FALSE(base32_decode("MZXW1"));
  EXPECT_EQ(otpauth_uri("Vantage", "a@b.org", "MZXW6YTBOI"),
            "otpauth://totp/Vantage:a@b.org?secret=MZXW6YTBOI&issuer=Vantage&algorithm=SHA1&"
            "digits=6&period=30");
}

TEST(RequestSecurity, Cookies) {
  auto c = parse_cookies(" a=1; b = \"two\" ;noeq; =x; c=");
  ASSERT_EQ(c.size(), 3u);
  EXPECT_EQ(c[1], (std::pair<std::string, std::string>{"b", "two"}));
  http::Request r;
  r.headers = {{"Cookie", "vantage_session=abc; other=1"}, {"cookie", "vantage_session=abc"}};
  EXPECT_EQ(cookie_value(r, "vantage_session"), "abc");
  r.headers.push_back({"Cookie", "vantage_session=planted"});
  EXPECT_EQ(cookie_value(r, "vantage_session"), std::nullopt);  // ambiguous: none
  EXPECT_EQ(set_cookie({"s", "v"}), "s=v; Path=/; Secure; HttpOnly; SameSite=Strict");
  EXPECT_EQ(set_cookie({"s", "", 0}), "s=; Path=/; Max-Age=0; Secure; HttpOnly; SameSite=Strict");
}

TEST(RequestSecurity, SignedTokens) {
  std::string key(32, 'k');
  std::string t = sign_token(key, "confirm", "12_abc", 1000);
  EXPECT_EQ(*verify_token(key, "confirm", t, 999), "12_abc");
  EXPECT_EQ(verify_token(key, "confirm", t, 1001).error().code, ErrorCode::kFailedPrecondition);
  EXPECT_FALSE(verify_token(key, "reset", t, 999).ok());                     // another purpose
  EXPECT_FALSE(verify_token(std::string(32, 'x'), "confirm", t, 999).ok());  // another key
  std::string forged = t;
  forged[0] = '3';  // "32_abc": another application
  EXPECT_FALSE(verify_token(key, "confirm", forged, 999).ok());
  std::string later = "12_abc.2000." + t.substr(t.rfind('.') + 1);  // extended expiry
  EXPECT_FALSE(verify_token(key, "confirm", later, 999).ok());
  for (std::string bad : std::vector<std::string>{"", ".", "..", "a.b.c", "12_abc.1000",
                                                  "12 abc.1000." + std::string(64, 'a')})
    EXPECT_FALSE(verify_token(key, "confirm", bad, 0).ok()) << bad;
}

TEST(RequestSecurity, SameOrigin) {
  http::Request r;
  r.headers = {{"Host", "127.0.0.1:8080"}, {"Origin", "http://127.0.0.1:8080"}};
  EXPECT_TRUE(same_origin(r));
  r.headers[1].second = "https://evil.example";
  EXPECT_FALSE(same_origin(r));
  r.headers[1].second = "null";
  EXPECT_FALSE(same_origin(r));
  r.headers = {{"Host", "127.0.0.1:8080"}, {"Referer", "http://127.0.0.1:8080/portal.html"}};
  EXPECT_TRUE(same_origin(r));
  r.headers = {{"Host", "127.0.0.1:8080"}};
  EXPECT_TRUE(same_origin(r));  // a non-browser client: the CSRF token decides
}

class TempDir {
 public:
  TempDir() {
    path_ = std::filesystem::temp_directory_path() /
            ("vantage-portal-" + std::to_string(std::random_device{}()));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string str(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

TEST(AuditLog, AppendOnlyAndChained) {
  TempDir dir;
  auto store = PortalStore::open(dir.str("portal.sqlite"));
  ASSERT_TRUE(store.ok()) << store.error().message;
  AuditLog log((*store)->db());
  for (int i = 0; i < 3; ++i)
    ASSERT_TRUE(log.append({0, 100 + i, "alice", "operator", "a", "t", "d", "127.0.0.1"}).ok());
  EXPECT_EQ(*log.verify(), 0);
  auto& db = (*store)->db();
  EXPECT_FALSE(db.exec("UPDATE audit SET detail='x' WHERE seq=2").ok());
  EXPECT_FALSE(db.exec("DELETE FROM audit WHERE seq=2").ok());
  // Behind the triggers' back the chain still tells.
  ASSERT_TRUE(db.exec("DROP TRIGGER audit_append_only_u").ok());
  ASSERT_TRUE(db.exec("UPDATE audit SET detail='x' WHERE seq=2").ok());
  EXPECT_EQ(*log.verify(), 2);
  auto entries = log.list(10);
  ASSERT_EQ(entries->size(), 3u);
  EXPECT_EQ((*entries)[0].seq, 3);
}

// ---- the service --------------------------------------------------------------------------

class FakeRouting final : public registry::RoutingView {
 public:
  std::vector<registry::RouteRange> ranges_overlapping(const IpPrefix& p) const override {
    // 198.51.100.0/24 originated by AS64500; nothing else routed.
    auto mine = IpPrefix::parse("198.51.100.0/24")->prefix;
    if (mine.contains(p) || p.contains(mine)) return {{mine.first(), mine.last(), 64500, "EX"}};
    return {};
  }
  std::vector<registry::RouteRange> ranges_of_asn(uint32_t asn) const override {
    auto mine = IpPrefix::parse("198.51.100.0/24")->prefix;
    if (asn == 64500) return {{mine.first(), mine.last(), 64500, "EX"}};
    return {};
  }
};

class Service : public ::testing::Test {
 protected:
  void SetUp() override {
    box_ = *registry::SecretBox::from_key(std::string(32, 's'));
    PortalOptions o;
    o.public_url = "https://vantage.test";
    o.argon2 = {8192, 1, 1};
    o.login_max_failures = 3;
    PortalDeps d;
    std::string reg_path = dir_.str("registry.sqlite");
    d.open_registry = [reg_path, box = box_]() -> Result<std::unique_ptr<registry::Registry>> {
      auto r = registry::SqliteRegistry::open(reg_path, box);
      if (!r) return r.error();
      return std::unique_ptr<registry::Registry>(std::move(*r));
    };
    std::string portal_path = dir_.str("portal.sqlite");
    d.open_store = [portal_path] { return PortalStore::open(portal_path); };
    d.box = box_;
    d.mailer = make_outbox_mailer(dir_.str("outbox"), "vantage@vantage.test");
    auto routing = std::make_shared<FakeRouting>();
    d.routing = [routing] { return routing; };
    d.lookup_txt = [this](const std::string& name) -> Result<std::vector<std::string>> {
      if (auto it = txt_.find(name); it != txt_.end()) return std::vector<std::string>{it->second};
      return std::vector<std::string>{};
    };
    d.check_pgp_key = [](std::string_view k) -> Result<std::string> {
      if (k.find("BEGIN PGP PUBLIC KEY BLOCK") == std::string_view::npos)
        return Error::invalid("no key");
      return std::string("FINGERPRINT");
    };
    d.clock = [this] { return now_; };
    svc_ = std::make_unique<PortalService>(o, std::move(d));
  }

  struct Client {
    std::map<std::string, std::string> cookies;
    std::string csrf;
    std::string remote = "192.0.2.10";
  };

  std::pair<unsigned, json> call(Client& cl, const std::string& name, const json& body,
                                 bool with_csrf = true) {
    http::Request r;
    r.method = name == "session" ? "GET" : "POST";
    r.path = "/portal/api/" + name;
    r.remote = cl.remote;
    r.body = name == "session" ? "" : body.dump();
    r.headers.push_back({"Host", "vantage.test"});
    std::string cookie;
    for (const auto& [k, v] : cl.cookies) cookie += k + "=" + v + "; ";
    if (!cookie.empty()) r.headers.push_back({"Cookie", cookie});
    if (with_csrf && !cl.csrf.empty()) r.headers.push_back({"X-CSRF-Token", cl.csrf});
    auto resp = svc_->handle(r);
    for (const auto& [h, v] : resp.headers) {
      if (h != "Set-Cookie") continue;
      auto eq = v.find('='), semi = v.find(';');
      std::string name_ = v.substr(0, eq), value = v.substr(eq + 1, semi - eq - 1);
      if (v.find("Max-Age=0") != std::string::npos)
        cl.cookies.erase(name_);
      else
        cl.cookies[name_] = value;
    }
    json j = json::parse(resp.body, nullptr, false);
    if (j.is_object() && j.contains("csrf")) cl.csrf = j["csrf"];
    return {resp.status, j};
  }

  // The confirmation link from the newest mail in the outbox.
  std::string confirm_token() {
    std::string newest;
    for (const auto& e : std::filesystem::directory_iterator(dir_.str("outbox")))
      if (e.path().string() > newest) newest = e.path().string();
    std::ifstream in(newest);
    std::string text((std::istreambuf_iterator<char>(in)), {});
    // quoted-printable may wrap the link: undo soft breaks first.
    text = std::regex_replace(text, std::regex("=\r?\n"), "");
    text = std::regex_replace(text, std::regex("=3D"), "=");
    std::smatch m;
    EXPECT_TRUE(std::regex_search(text, m, std::regex("confirm=([A-Za-z0-9_.\\-]+)")));
    return m.size() > 1 ? m[1].str() : "";
  }

  json application_body(const std::string& email) {
    return json{{"applicant",
                 {{"name", "Ann Example"},
                  {"email", email},
                  {"title", "CISO"},
                  {"phone", "+31 20 555 0100"}}},
                {"organisation", {{"name", "Example Networks B.V."}}},
                {"password", "a long enough passphrase"},
                {"resources", {"AS64500", "198.51.100.0/24", "203.0.113.0/24", "example.test"}},
                {"report_email", "abuse-reports@example.test"},
                {"references", {{{"name", "Bob Ref"}, {"email", "noc@example.test"}}}}};
  }

  TempDir dir_;
  registry::SecretBox box_ = *registry::SecretBox::from_key(std::string(32, 's'));
  std::map<std::string, std::string> txt_;
  UnixSeconds now_ = 1'800'000'000;
  std::unique_ptr<PortalService> svc_;
};

TEST_F(Service, RegisterConfirmApproveSignInManage) {
  Client applicant;
  ASSERT_EQ(call(applicant, "session", {}).first, 200u);
  EXPECT_TRUE(applicant.cookies.count("vantage_pre"));
  auto [st, reg] = call(applicant, "register", application_body("ann@example.test"));
  ASSERT_EQ(st, 200u) << reg.dump();
  int64_t app_id = reg["application"]["id"];
  std::map<std::string, json> res;
  for (const auto& r : reg["application"]["resources"]) res[r["value"]] = r;
  EXPECT_EQ(res["64500"]["verification"], "verified");
  EXPECT_EQ(res["198.51.100.0/24"]["verification"], "verified");
  EXPECT_EQ(res["203.0.113.0/24"]["verification"], "unrouted");
  std::string txt = res["example.test"]["txt"];
  EXPECT_EQ(txt.rfind("vantage-verify=", 0), 0u);

  // Confirmation, once.
  std::string token = confirm_token();
  ASSERT_FALSE(token.empty());
  EXPECT_EQ(call(applicant, "confirm", {{"token", token}}).first, 200u);
  EXPECT_EQ(call(applicant, "confirm", {{"token", token}}).first, 409u);

  // The applicant signs in, publishes the TXT record and checks it.
  auto [ls, login] =
      call(applicant, "login",
           {{"login", "ANN@example.test"}, {"password", "a long enough passphrase"}});
  ASSERT_EQ(ls, 200u) << login.dump();
  EXPECT_EQ(login["account"]["role"], "applicant");
  EXPECT_EQ(call(applicant, "org", json::object()).first, 403u);  // not an organisation yet
  txt_["example.test"] = txt;
  auto [cs, checked] = call(applicant, "application/check-dns", json::object());
  ASSERT_EQ(cs, 200u);
  for (const auto& r : checked["application"]["resources"])
    if (r["value"] == "example.test") {
      EXPECT_EQ(r["verification"], "verified");
    }

  // An operator (created as the CLI does) approves.
  {
    auto store = PortalStore::open(dir_.str("portal.sqlite"));
    ASSERT_TRUE(add_account(**store, "alice", "Alice", Role::kOperator, std::nullopt,
                            "operator passphrase 1", {8192, 1, 1})
                    .ok());
    ASSERT_TRUE(add_account(**store, "victor", "Victor", Role::kViewer, std::nullopt,
                            "viewer passphrase 12", {8192, 1, 1})
                    .ok());
  }
  Client viewer;
  call(viewer, "session", {});
  ASSERT_EQ(
      call(viewer, "login", {{"login", "victor"}, {"password", "viewer passphrase 12"}}).first,
      200u);
  EXPECT_EQ(call(viewer, "console/queue", json::object()).first, 200u);
  EXPECT_EQ(call(viewer, "console/application/approve", {{"id", app_id}}).first, 403u);
  Client op;
  call(op, "session", {});
  ASSERT_EQ(call(op, "login", {{"login", "alice"}, {"password", "operator passphrase 1"}}).first,
            200u);
  auto [qs, queue] = call(op, "console/queue", json::object());
  ASSERT_EQ(qs, 200u);
  ASSERT_EQ(queue["applications"].size(), 1u);
  auto [as, approved] =
      call(op, "console/application/approve", {{"id", app_id}, {"short_name", "Example_NL"}});
  ASSERT_EQ(as, 200u) << approved.dump();
  EXPECT_EQ(approved["application"]["status"], "approved");

  // The same session is now an organisation's.
  auto [os, org] = call(applicant, "org", json::object());
  ASSERT_EQ(os, 200u) << org.dump();
  EXPECT_EQ(org["org"]["short_name"], "Example_NL");
  EXPECT_EQ(org["org"]["resources"].size(), 4u);
  for (const auto& r : org["org"]["resources"]) EXPECT_EQ(r["approval"], "approved");
  EXPECT_EQ(org["org"]["recipients"], json::array({"abuse-reports@example.test"}));
  auto [rs, rec] = call(applicant, "org/recipient/add", {{"email", "soc@example.test"}});
  ASSERT_EQ(rs, 200u) << rec.dump();
  EXPECT_EQ(rec["org"]["recipients"].size(), 2u);
  auto [ks, key] = call(applicant, "org/key/issue", {{"label", "siem"}});
  ASSERT_EQ(ks, 200u);
  EXPECT_GE(key["secret"].get<std::string>().size(), 32u);
  // New claims wait for the operators; they do not reach the registry.
  auto [ccs, claimed] = call(applicant, "org/claim", {{"resources", {"198.51.100.128/25"}}});
  ASSERT_EQ(ccs, 200u) << claimed.dump();
  EXPECT_EQ(claimed["org"]["resources"].size(), 4u);
  EXPECT_EQ(claimed["org"]["pending_claims"].size(), 1u);

  // CSRF: without the token, nothing happens.
  EXPECT_EQ(call(applicant, "org/recipient/add", {{"email", "x@example.test"}}, false).first, 403u);
  // Operator-only endpoints refuse the organisation.
  EXPECT_EQ(call(applicant, "console/queue", json::object()).first, 403u);
  EXPECT_EQ(call(applicant, "console/key/issue", {{"id", 1}}).first, 403u);

  // The audit log holds it all, and no secret.
  auto [aus, audit] = call(op, "console/audit", json::object());
  ASSERT_EQ(aus, 200u);
  EXPECT_TRUE(audit["chain_intact"].get<bool>());
  std::string dumped = audit.dump();
  for (const char* action : {"application.submit", "application.confirm", "application.approve",
                             "org.recipient.add", "org.key.issue", "login", "org.claim"})
    EXPECT_NE(dumped.find(action), std::string::npos) << action;
  EXPECT_EQ(dumped.find("a long enough passphrase"), std::string::npos);
  EXPECT_EQ(dumped.find(key["secret"].get<std::string>()), std::string::npos);
}

TEST_F(Service, SessionFixationAndThrottling) {
  {
    auto store = PortalStore::open(dir_.str("portal.sqlite"));
    ASSERT_TRUE(add_account(**store, "alice", "Alice", Role::kOperator, std::nullopt,
                            "operator passphrase 1", {8192, 1, 1})
                    .ok());
  }
  Client c;
  call(c, "session", {});
  c.cookies["vantage_session"] = "planted-by-attacker";
  ASSERT_EQ(call(c, "login", {{"login", "alice"}, {"password", "operator passphrase 1"}}).first,
            200u);
  EXPECT_NE(c.cookies["vantage_session"], "planted-by-attacker");
  EXPECT_EQ(c.cookies["vantage_session"].size(), 64u);
  EXPECT_EQ(call(c, "console/queue", json::object()).first, 200u);

  // Three failures for one name, then 429 even with the right password.
  Client d;
  call(d, "session", {});
  for (int i = 0; i < 3; ++i)
    EXPECT_EQ(call(d, "login", {{"login", "alice"}, {"password", "wrong passphrase!!"}}).first,
              401u);
  auto [st, body] = call(d, "login", {{"login", "alice"}, {"password", "operator passphrase 1"}});
  EXPECT_EQ(st, 429u);
  EXPECT_GT(body["retry_after"].get<int64_t>(), 0);
  now_ += 901;  // the window has passed
  EXPECT_EQ(call(d, "login", {{"login", "alice"}, {"password", "operator passphrase 1"}}).first,
            200u);
}

TEST_F(Service, TotpSignIn) {
  {
    auto store = PortalStore::open(dir_.str("portal.sqlite"));
    ASSERT_TRUE(add_account(**store, "alice", "Alice", Role::kOperator, std::nullopt,
                            "operator passphrase 1", {8192, 1, 1})
                    .ok());
  }
  Client c;
  call(c, "session", {});
  ASSERT_EQ(call(c, "login", {{"login", "alice"}, {"password", "operator passphrase 1"}}).first,
            200u);
  auto [bs, begin] = call(c, "account/totp/begin", json::object());
  ASSERT_EQ(bs, 200u);
  std::string secret = *base32_decode(begin["secret"].get<std::string>());
  char code[8];
  std::snprintf(code, sizeof code, "%06u", totp(secret, now_));
  ASSERT_EQ(call(c, "account/totp/confirm", {{"code", code}}).first, 200u);
  // The secret is sealed in the database, never in clear.
  std::ifstream db(dir_.str("portal.sqlite"), std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(db)), {});
  EXPECT_EQ(bytes.find(begin["secret"].get<std::string>()), std::string::npos);
  EXPECT_EQ(bytes.find(secret), std::string::npos);

  Client d;
  call(d, "session", {});
  auto [s1, b1] = call(d, "login", {{"login", "alice"}, {"password", "operator passphrase 1"}});
  EXPECT_EQ(s1, 401u);
  EXPECT_TRUE(b1["totp_required"].get<bool>());
  now_ += 30;
  std::snprintf(code, sizeof code, "%06u", totp(secret, now_));
  EXPECT_EQ(
      call(d, "login", {{"login", "alice"}, {"password", "operator passphrase 1"}, {"totp", code}})
          .first,
      200u);
  Client e;
  call(e, "session", {});
  // The same code again (a replay) fails.
  EXPECT_EQ(
      call(e, "login", {{"login", "alice"}, {"password", "operator passphrase 1"}, {"totp", code}})
          .first,
      401u);
}

}  // namespace
}  // namespace vantage::portal

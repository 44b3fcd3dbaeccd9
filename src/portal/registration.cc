// Self-service registration (Shadowserver's sign-up form): the application, the address
// confirmation by a signed expiring link, the checks of the claimed resources (routing data,
// DNS TXT token, GnuPG), the applicant's view, and the operators' decisions.
#include <spdlog/spdlog.h>

#include <set>

#include "common/status_macros.h"
#include "common/strings.h"
#include "portal/request_security.h"
#include "portal/service_impl.h"
#include "registry/validate.h"

namespace vantage::portal {

using registry::ResourceKind;
using registry::Verification;

namespace {

// A short name for reports from an organisation's name: [A-Za-z0-9_], at most 40.
std::string short_name_from(std::string_view name) {
  std::string out;
  bool gap = false;
  for (unsigned char ch : name) {
    if (std::isalnum(ch)) {
      if (gap && !out.empty()) out.push_back('_');
      out.push_back(static_cast<char>(ch));
      gap = false;
    } else {
      gap = true;
    }
    if (out.size() >= 40) break;
  }
  return out.empty() ? "org" : out;
}

Result<registry::Contact> parse_contact(const json& j, const char* what, bool need_email) {
  if (!j.is_object()) return Error::invalid(std::string(what) + ": expected an object");
  registry::Contact c;
  VANTAGE_ASSIGN_OR_RETURN(c.name, clean_text(sval(j, "name"), "name", 200));
  if (c.name.empty()) return Error::invalid(std::string(what) + ": the name is required");
  VANTAGE_ASSIGN_OR_RETURN(c.title, clean_text(sval(j, "title"), "job title", 200));
  VANTAGE_ASSIGN_OR_RETURN(c.phone, clean_text(sval(j, "phone"), "phone", 64));
  std::string email = sval(j, "email");
  if (!email.empty() || need_email) {
    auto e = registry::normalise_email(trim(email));
    if (!e) return Error::invalid(std::string(what) + ": " + e.error().message);
    c.email = *e;
  }
  return c;
}

}  // namespace

Status PortalService::Impl::mail(std::string_view to, std::string_view subject,
                                 std::string_view body) {
  if (!deps.mailer) return Error{ErrorCode::kUnavailable, "no mail set up"};
  auto st = deps.mailer->send(to, "[" + options.site_name + "] " + std::string(subject), body);
  if (!st) spdlog::warn("portal: mail to {} not sent: {}", to, st.message());
  return st;
}

Result<std::vector<AppResource>> PortalService::Impl::parse_claims(const json& list,
                                                                   bool allow_countries) {
  if (!list.is_array() || list.empty())
    return Error::invalid("name at least one network resource (ASN, CIDR or domain)");
  if (list.size() > 64) return Error::invalid("at most 64 resources per application");
  std::vector<AppResource> out;
  std::set<std::pair<ResourceKind, std::string>> seen;
  for (const auto& item : list) {
    if (!item.is_string()) return Error::invalid("each resource is a string");
    auto v = registry::normalise_resource_auto(item.get_ref<const std::string&>());
    if (!v) return Error::invalid(item.get<std::string>() + ": " + v.error().message);
    if (v->kind == ResourceKind::kCountry && !allow_countries)
      return Error::invalid(v->value +
                            ": whole countries are for national CSIRTs; ask the operators");
    if (!seen.emplace(v->kind, v->value).second) continue;
    AppResource r;
    r.kind = v->kind;
    r.value = v->value;
    if (r.kind == ResourceKind::kDomain) {
      VANTAGE_ASSIGN_OR_RETURN(r.dns_token, registry::random_hex(16));
      r.detail = "publish TXT \"" + registry::dns_proof_record(r.dns_token) + "\" at " + r.value;
    }
    out.push_back(std::move(r));
  }
  return out;
}

void PortalService::Impl::verify_routing(std::vector<AppResource>& resources) {
  auto routing = deps.routing ? deps.routing() : nullptr;
  // The claims checked against each other as one organisation's would be
  // (registry/verification.h): a prefix is verified when its origins are among the claimed ASNs.
  registry::OrgRecord rec;
  for (size_t i = 0; i < resources.size(); ++i) {
    registry::Resource r;
    r.id = static_cast<int64_t>(i);
    r.kind = resources[i].kind;
    r.value = resources[i].value;
    rec.resources.push_back(r);
  }
  const UnixSeconds t = now();
  if (!routing) {
    for (auto& r : resources)
      if (r.kind == ResourceKind::kAsn || r.kind == ResourceKind::kCidr)
        r.detail = "not checked: no routing data loaded";
    return;
  }
  for (const auto& [i, outcome] : registry::verify_routing_claims(rec, *routing)) {
    auto& r = resources[static_cast<size_t>(i)];
    r.verification = outcome.state;
    r.detail = outcome.detail;
    r.checked_at = t;
  }
}

Status PortalService::Impl::verify_dns(PortalStore& store, Application& app) {
  for (auto& r : app.resources) {
    if (r.kind != ResourceKind::kDomain || r.verification == Verification::kVerified) continue;
    if (!deps.lookup_txt) return Error{ErrorCode::kUnavailable, "DNS checks are not set up"};
    auto txt = deps.lookup_txt(r.value);
    if (!txt) {
      r.detail = "not checked: " + txt.error().message;
      continue;
    }
    auto outcome = registry::verify_domain_txt(*txt, r.dns_token);
    r.verification = outcome.state;
    r.detail = outcome.detail;
    r.checked_at = now();
    VANTAGE_RETURN_IF_ERROR(store.set_verification(r.id, r.verification, r.detail, r.checked_at));
  }
  return {};
}

json PortalService::Impl::application_json(const Application& a, bool staff, Ctx& c) {
  (void)c;
  json res = json::array();
  for (const auto& r : a.resources) {
    json j = {
        {"id", r.id},         {"kind", registry::resource_kind_name(r.kind)},
        {"value", r.value},   {"verification", registry::verification_name(r.verification)},
        {"detail", r.detail}, {"checked_at", r.checked_at ? format_timestamp(r.checked_at) : ""}};
    if (r.kind == ResourceKind::kDomain) j["txt"] = registry::dns_proof_record(r.dns_token);
    res.push_back(std::move(j));
  }
  json msgs = json::array();
  for (const auto& m : a.messages)
    msgs.push_back({{"at", format_timestamp(m.at)},
                    {"from", m.author_kind},
                    {"author", staff || m.author_kind == "applicant" ? m.author : "operators"},
                    {"body", m.body}});
  json refs = json::array();
  for (const auto& r : a.references)
    refs.push_back({{"name", r.name}, {"email", r.email}, {"title", r.title}, {"phone", r.phone}});
  json out = {{"id", a.id},
              {"kind", app_kind_name(a.kind)},
              {"status", app_status_name(a.status)},
              {"applicant",
               {{"name", a.applicant.name},
                {"email", a.applicant.email},
                {"title", a.applicant.title},
                {"phone", a.applicant.phone}}},
              {"organisation", a.org_name},
              {"short_name", a.short_name},
              {"pgp_key", a.pgp_key ? "present" : "none"},
              {"report_email", a.report_email},
              {"references", refs},
              {"email_confirmed", a.email_confirmed_at != 0},
              {"created", format_timestamp(a.created_at)},
              {"updated", format_timestamp(a.updated_at)},
              {"resources", res},
              {"messages", msgs}};
  if (a.org_id) out["org_id"] = *a.org_id;
  if (staff && a.decided_at) {
    out["decided_by"] = a.decided_by;
    out["decided"] = format_timestamp(a.decided_at);
  }
  return out;
}

Answer PortalService::Impl::do_register(Ctx& c) {
  if (!options.registration_open)
    return Answer::fail(403, "registration is closed; contact the operators");
  // A bound on applications per client address: registration mails cost the operator.
  const std::string scope = "register:" + c.req.remote;
  auto recent = c.store->failures_since(scope, c.now - 3600);
  if (!recent) return from_error(recent.error());
  if (recent->first >= options.registrations_per_ip_hour)
    return Answer::fail(429, "too many registrations from this address; try again later");

  Application app;
  app.kind = AppKind::kRegistration;
  app.status = AppStatus::kUnconfirmed;
  auto applicant = parse_contact(c.body.value("applicant", json::object()), "applicant", true);
  if (!applicant) return from_error(applicant.error());
  app.applicant = *applicant;
  json org = c.body.value("organisation", json::object());
  if (!org.is_object()) return Answer::fail(400, "organisation: expected an object");
  auto org_name = clean_text(sval(org, "name"), "organisation name", 200);
  if (!org_name) return from_error(org_name.error());
  if (org_name->empty()) return Answer::fail(400, "the organisation's name is required");
  app.org_name = *org_name;
  std::string short_name(trim(sval(org, "short_name")));
  if (short_name.empty()) short_name = short_name_from(app.org_name);
  if (auto st = registry::validate_short_name(short_name); !st)
    return Answer::fail(400, "report name: " + st.message());
  app.short_name = short_name;
  auto password = str_param(c.body, "password", 1024);
  if (!password) return Answer::fail(400, "choose a password");
  if (auto st = check_password_policy(*password, app.applicant.email); !st)
    return from_error(st.error());
  if (auto key = str_param(c.body, "pgp_key", 64 * 1024); key && !trim(*key).empty()) {
    if (!deps.check_pgp_key) return Answer::fail(503, "PGP keys cannot be checked here");
    auto fp = deps.check_pgp_key(*key);
    if (!fp) return Answer::fail(400, "PGP key: " + fp.error().message);
    app.pgp_key = std::string(trim(*key)) + "\n";
  }
  auto report = registry::normalise_email(trim(sval(c.body, "report_email")));
  if (!report) return Answer::fail(400, "report address: " + report.error().message);
  app.report_email = *report;
  json refs = c.body.value("references", json::array());
  if (!refs.is_array() || refs.empty() || refs.size() > 5)
    return Answer::fail(400, "name one to five reference contacts (as in WHOIS)");
  for (const auto& r : refs) {
    auto ref = parse_contact(r, "reference", true);
    if (!ref) return from_error(ref.error());
    app.references.push_back(*ref);
  }
  auto resources = parse_claims(c.body.value("resources", json::array()), false);
  if (!resources) return from_error(resources.error());
  app.resources = std::move(*resources);
  verify_routing(app.resources);
  auto hash = hash_password(*password, options.argon2);
  if (!hash) return from_error(hash.error());
  app.confirm_nonce = random_token(16);
  app.created_at = app.updated_at = c.now;

  auto existing = c.store->account_by_login(app.applicant.email);
  if (!existing) return from_error(existing.error());
  if (*existing)
    return Answer::fail(409, "an account with this e-mail address exists; sign in instead");
  auto id = c.store->create_application(app);
  if (!id) return from_error(id.error());
  app.id = *id;
  Account acct;
  acct.login = to_lower(app.applicant.email);
  acct.display_name = app.applicant.name;
  acct.role = Role::kApplicant;
  acct.application_id = app.id;
  acct.password_hash = *hash;
  acct.created_at = c.now;
  if (auto a = c.store->create_account(acct); !a) return from_error(a.error());
  (void)c.store->add_failure(scope, c.now);  // counts registrations, see above
  (void)audit(c, "application.submit", "application:" + std::to_string(app.id),
              app.org_name + " (" + std::to_string(app.resources.size()) + " resources)");
  std::string link =
      public_url() + "/register.html?confirm=" +
      sign_token(confirm_key, "confirm", std::to_string(app.id) + "_" + app.confirm_nonce,
                 c.now + options.confirm_ttl_s);
  bool mailed =
      mail(app.applicant.email, "confirm your e-mail address",
           "Hello " + app.applicant.name + ",\n\nsomeone -- we hope you -- asked " +
               options.site_name + " to send reports about the networks of " + app.org_name +
               ".\nTo confirm that this address is yours, open this link within " +
               std::to_string(options.confirm_ttl_s / 3600) + " hours:\n\n" + link +
               "\n\nThe operators review the application once it is confirmed. If you did "
               "not ask for this, ignore this mail.\n")
          .ok();
  auto stored = c.store->application(app.id);
  if (!stored) return from_error(stored.error());
  return Answer::ok(
      json{{"application", application_json(*stored, false, c)}, {"mail_sent", mailed}});
}

Answer PortalService::Impl::confirm(Ctx& c) {
  auto token = str_param(c.body, "token", 600);
  if (!token) return Answer::fail(400, "the confirmation token is missing");
  auto payload = verify_token(confirm_key, "confirm", *token, c.now);
  if (!payload) return from_error(payload.error());
  auto us = payload->find('_');
  auto id = parse_int(payload->substr(0, us));
  if (us == std::string::npos || !id) return Answer::fail(400, "the link is not valid");
  if (auto st = c.store->confirm_email(*id, payload->substr(us + 1), c.now); !st)
    return from_error(st.error());
  (void)audit(c, "application.confirm", "application:" + std::to_string(*id), "address confirmed");
  return Answer::ok(json{{"confirmed", true}, {"application_id", *id}});
}

Answer PortalService::Impl::my_application(Ctx& c) {
  if (!c.account->application_id) return Answer::fail(404, "no application");
  auto app = c.store->application(*c.account->application_id);
  if (!app) return from_error(app.error());
  return Answer::ok(json{{"application", application_json(*app, false, c)}});
}

Answer PortalService::Impl::reply(Ctx& c) {
  if (!c.account->application_id) return Answer::fail(404, "no application");
  auto text = clean_text(sval(c.body, "message"), "message", 4000, true);
  if (!text) return from_error(text.error());
  if (text->empty()) return Answer::fail(400, "the message is empty");
  auto app = c.store->application(*c.account->application_id);
  if (!app) return from_error(app.error());
  if (app->status == AppStatus::kApproved || app->status == AppStatus::kRejected)
    return Answer::fail(409, "the application is already decided");
  auto st = c.store->db().transaction([&]() -> Status {
    VANTAGE_RETURN_IF_ERROR(
        c.store->add_message(app->id, {0, c.now, "applicant", c.account->login, *text}));
    if (app->status == AppStatus::kNeedsInfo)
      VANTAGE_RETURN_IF_ERROR(c.store->set_status(app->id, AppStatus::kQueued, "", c.now));
    return audit(c, "application.reply", "application:" + std::to_string(app->id), "");
  });
  if (!st) return from_error(st.error());
  return my_application(c);
}

Answer PortalService::Impl::check_dns(Ctx& c) {
  if (!c.account->application_id) return Answer::fail(404, "no application");
  auto app = c.store->application(*c.account->application_id);
  if (!app) return from_error(app.error());
  if (auto st = verify_dns(*c.store, *app); !st) return from_error(st.error());
  (void)audit(c, "application.check-dns", "application:" + std::to_string(app->id), "");
  return my_application(c);
}

Answer PortalService::Impl::recheck(Ctx& c) {
  auto id = int_param(c.body, "id");
  if (!id) return Answer::fail(400, "id is required");
  auto app = c.store->application(*id);
  if (!app) return from_error(app.error());
  std::vector<AppResource> routed;
  for (const auto& r : app->resources)
    if (r.kind != ResourceKind::kDomain) routed.push_back(r);
  verify_routing(routed);
  for (const auto& r : routed)
    if (auto st = c.store->set_verification(r.id, r.verification, r.detail, now()); !st)
      return from_error(st.error());
  app = c.store->application(*id);
  if (!app) return from_error(app.error());
  if (auto st = verify_dns(*c.store, *app); !st) return from_error(st.error());
  (void)audit(c, "application.check", "application:" + std::to_string(*id), "");
  return console_application(c);
}

Answer PortalService::Impl::decide(Ctx& c, AppStatus decision) {
  auto id = int_param(c.body, "id");
  if (!id) return Answer::fail(400, "id is required");
  auto text = clean_text(sval(c.body, "message"), "message", 4000, true);
  if (!text) return from_error(text.error());
  if (text->empty())
    return Answer::fail(
        400, decision == AppStatus::kRejected ? "say why it is rejected" : "say what is needed");
  auto app = c.store->application(*id);
  if (!app) return from_error(app.error());
  if (app->status == AppStatus::kApproved || app->status == AppStatus::kRejected)
    return Answer::fail(409, "the application is already decided");
  const char* action = decision == AppStatus::kRejected ? "application.reject" : "application.ask";
  auto st = c.store->db().transaction([&]() -> Status {
    VANTAGE_RETURN_IF_ERROR(
        c.store->add_message(app->id, {0, c.now, "operator", c.account->login, *text}));
    VANTAGE_RETURN_IF_ERROR(c.store->set_status(app->id, decision, c.account->login, c.now));
    return audit(c, action, "application:" + std::to_string(app->id), "");
  });
  if (!st) return from_error(st.error());
  std::string who = app->kind == AppKind::kClaim ? "your new network claims" : app->org_name;
  if (decision == AppStatus::kRejected) {
    (void)mail(app->applicant.email, "application not approved",
               "Hello " + app->applicant.name +
                   ",\n\nthe operators did not approve the "
                   "application for " +
                   who + ":\n\n" + *text + "\n");
  } else {
    (void)mail(app->applicant.email, "more information needed",
               "Hello " + app->applicant.name +
                   ",\n\nthe operators need more information "
                   "about the application for " +
                   who + ":\n\n" + *text + "\n\nSign in at " + public_url() +
                   "/portal.html to answer.\n");
  }
  return console_application(c);
}

Answer PortalService::Impl::approve(Ctx& c) {
  auto id = int_param(c.body, "id");
  if (!id) return Answer::fail(400, "id is required");
  auto app = c.store->application(*id);
  if (!app) return from_error(app.error());
  if (app->status == AppStatus::kApproved || app->status == AppStatus::kRejected)
    return Answer::fail(409, "the application is already decided");
  if (app->status == AppStatus::kUnconfirmed)
    return Answer::fail(409, "the applicant has not confirmed the e-mail address yet");
  auto reg = registry();
  if (!reg) return from_error(reg.error());
  registry::Registry& r = **reg;
  int64_t org_id = 0;
  if (app->kind == AppKind::kRegistration) {
    if (auto sn = str_param(c.body, "short_name", 64); sn && !trim(*sn).empty()) {
      if (auto st = registry::validate_short_name(trim(*sn)); !st)
        return Answer::fail(400, "report name: " + st.message());
      if (auto st = c.store->set_short_name(app->id, trim(*sn)); !st) return from_error(st.error());
      app->short_name = std::string(trim(*sn));
    }
    if (app->org_id) {
      org_id = *app->org_id;  // an earlier approval got this far: go on from there
    } else {
      registry::NewOrganisation no;
      no.name = app->org_name;
      no.short_name = app->short_name;
      no.pgp_key = app->pgp_key;
      auto made = r.add_org(no);
      if (!made) return from_error(made.error());
      org_id = made->id;
      if (auto st = c.store->set_org(app->id, org_id); !st) return from_error(st.error());
      (void)r.add_contact(org_id, app->applicant);
      for (const auto& ref : app->references) (void)r.add_contact(org_id, ref);
      if (auto rc = r.add_recipient(org_id, app->report_email);
          !rc && rc.error().code != ErrorCode::kAlreadyExists)
        return from_error(rc.error());
    }
  } else {
    if (!app->org_id) return Answer::fail(500, "internal error");
    org_id = *app->org_id;
  }
  for (const auto& res : app->resources) {
    auto added = r.add_resource(org_id, res.kind, res.value);
    int64_t rid = 0;
    if (added) {
      rid = added->resource.id;
    } else if (added.error().code == ErrorCode::kAlreadyExists) {
      auto rec = r.org_record(org_id);
      if (!rec) return from_error(rec.error());
      for (const auto& x : rec->resources)
        if (x.kind == res.kind && x.value == res.value) rid = x.id;
    } else {
      return from_error(added.error());
    }
    if (auto st = r.set_approval(rid, registry::Approval::kApproved); !st)
      return from_error(st.error());
    if (res.verification != Verification::kUnchecked)
      (void)r.set_verification(rid, res.verification, res.detail);
  }
  auto st = c.store->db().transaction([&]() -> Status {
    if (app->kind == AppKind::kRegistration) {
      VANTAGE_ASSIGN_OR_RETURN(auto acct, c.store->account_by_login(app->applicant.email));
      if (acct && acct->role == Role::kApplicant)
        VANTAGE_RETURN_IF_ERROR(c.store->make_org_account(acct->id, org_id));
    }
    if (auto note = clean_text(sval(c.body, "message"), "message", 4000, true);
        note && !note->empty())
      VANTAGE_RETURN_IF_ERROR(
          c.store->add_message(app->id, {0, c.now, "operator", c.account->login, *note}));
    VANTAGE_RETURN_IF_ERROR(
        c.store->set_status(app->id, AppStatus::kApproved, c.account->login, c.now));
    return audit(c, "application.approve", "application:" + std::to_string(app->id),
                 "organisation " + std::to_string(org_id) + " (" + app->short_name + "), " +
                     std::to_string(app->resources.size()) + " resources");
  });
  if (!st) return from_error(st.error());
  (void)mail(app->applicant.email, "application approved",
             "Hello " + app->applicant.name + ",\n\nthe operators approved " +
                 (app->kind == AppKind::kClaim ? std::string("your new network claims")
                                               : "the application for " + app->org_name) +
                 ". Sign in at " + public_url() +
                 "/portal.html to manage recipients, keys and preferences.\n");
  return console_application(c);
}

}  // namespace vantage::portal

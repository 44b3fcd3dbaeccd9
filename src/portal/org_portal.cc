// The organisation portal: an organisation's users manage recipients, PGP key, resources (new
// claims go to the operators' queue), report-type opt-outs, minimum severity and API keys, and
// see their reports, deliveries, statistics and remediation. Every handler here takes the
// organisation from the session (c.account->org_id), never from the request.
#include <spdlog/spdlog.h>

#include "common/status_macros.h"
#include "common/strings.h"
#include "portal/remediation_views.h"
#include "portal/request_security.h"
#include "portal/service_impl.h"
#include "registry/validate.h"

namespace vantage::portal {

using registry::ResourceKind;

Result<std::string> PortalService::Impl::pgp_fingerprint(std::string_view armored) {
  std::string h = sha256_hex(armored);
  {
    std::lock_guard lock(pgp_mu);
    if (auto it = fingerprints.find(h); it != fingerprints.end()) return it->second;
  }
  if (!deps.check_pgp_key) return Error{ErrorCode::kUnavailable, "PGP keys cannot be checked"};
  VANTAGE_ASSIGN_OR_RETURN(std::string fp, deps.check_pgp_key(armored));
  std::lock_guard lock(pgp_mu);
  if (fingerprints.size() > 1000) fingerprints.clear();
  fingerprints[h] = fp;
  return fp;
}

Result<json> PortalService::Impl::org_json(registry::Registry& reg, int64_t org_id, bool staff,
                                           Ctx& c) {
  VANTAGE_ASSIGN_OR_RETURN(auto rec, reg.org_record(org_id));
  const auto& o = rec.org;
  json out = {{"id", o.id},
              {"name", o.name},
              {"short_name", o.short_name},
              {"kind", registry::org_kind_name(o.kind)},
              {"min_severity", registry::severity_name(o.min_severity)},
              {"created", format_timestamp(o.created_at)},
              {"updated", format_timestamp(o.updated_at)}};
  if (o.pgp_key) {
    auto fp = pgp_fingerprint(*o.pgp_key);
    out["pgp"] = {{"present", true},
                  {"fingerprint", fp ? *fp : ""},
                  {"problem", fp ? "" : fp.error().message}};
  } else {
    out["pgp"] = {{"present", false}};
  }
  json contacts = json::array();
  for (const auto& ct : rec.contacts)
    contacts.push_back(
        {{"name", ct.name}, {"email", ct.email}, {"title", ct.title}, {"phone", ct.phone}});
  out["contacts"] = contacts;
  out["recipients"] = rec.recipients;
  json res = json::array();
  for (const auto& r : rec.resources) {
    json j = {{"id", r.id},
              {"kind", registry::resource_kind_name(r.kind)},
              {"value", r.value},
              {"verification", registry::verification_name(r.verification)},
              {"approval", registry::approval_name(r.approval)},
              {"detail", r.verification_detail}};
    res.push_back(std::move(j));
  }
  out["resources"] = res;
  out["opt_outs"] = rec.opt_outs;
  out["ignores"] = rec.ignores;
  json keys = json::array();
  for (const auto& k : rec.keys) {
    if (k.kind != registry::KeyKind::kApi) continue;
    keys.push_back({{"key", k.key},
                    {"label", k.label},
                    {"created", format_timestamp(k.created_at)},
                    {"revoked", k.revoked_at ? format_timestamp(k.revoked_at) : ""}});
  }
  out["keys"] = keys;
  // Claims waiting for the operators.
  json pending = json::array();
  if (auto apps = c.store->applications({AppStatus::kQueued, AppStatus::kNeedsInfo})) {
    for (const auto& a : *apps) {
      if (a.kind != AppKind::kClaim || a.org_id != org_id) continue;
      json claimed = json::array();
      for (const auto& r : a.resources)
        claimed.push_back(
            {{"kind", registry::resource_kind_name(r.kind)},
             {"value", r.value},
             {"verification", registry::verification_name(r.verification)},
             {"detail", r.detail},
             {"txt",
              r.kind == ResourceKind::kDomain ? registry::dns_proof_record(r.dns_token) : ""}});
      pending.push_back({{"id", a.id},
                         {"status", app_status_name(a.status)},
                         {"created", format_timestamp(a.created_at)},
                         {"resources", claimed}});
    }
  }
  out["pending_claims"] = pending;
  if (!staff && deps.catalogue) {
    json types = json::array();
    for (const auto* t : deps.catalogue->types()) types.push_back(t->name);
    out["report_types"] = types;
  }
  return out;
}

Result<bool> PortalService::Impl::org_owns_key(registry::Registry& reg, int64_t org_id,
                                               std::string_view key) {
  VANTAGE_ASSIGN_OR_RETURN(auto keys, reg.list_keys(org_id));
  for (const auto& k : keys)
    if (k.key == key && k.org_id && *k.org_id == org_id) return true;
  return false;
}

// Borrows a registry connection as `reg_var` and names the session's organisation `org_id`
// (the endpoint table admits only organisation accounts here, which always have one).
#define ORG_REGISTRY(reg_var)                                          \
  auto lease_ = registry();                                            \
  if (!lease_) return from_error(lease_.error());                      \
  registry::Registry& reg_var = **lease_;                              \
  if (!c.account->org_id) return Answer::fail(403, "no organisation"); \
  const int64_t org_id = *c.account->org_id

Answer PortalService::Impl::org_overview(Ctx& c) {
  ORG_REGISTRY(reg);
  auto j = org_json(reg, org_id, false, c);
  if (!j) return from_error(j.error());
  return Answer::ok(json{{"org", *j}});
}

Answer PortalService::Impl::org_recipient_add(Ctx& c) {
  ORG_REGISTRY(reg);
  auto email = reg.add_recipient(org_id, trim(sval(c.body, "email")));
  if (!email) return from_error(email.error());
  (void)audit(c, "org.recipient.add", "org:" + std::to_string(org_id), *email);
  return org_overview(c);
}

Answer PortalService::Impl::org_recipient_remove(Ctx& c) {
  ORG_REGISTRY(reg);
  std::string email(trim(sval(c.body, "email")));
  if (auto st = reg.remove_recipient(org_id, email); !st) return from_error(st.error());
  (void)audit(c, "org.recipient.remove", "org:" + std::to_string(org_id), email);
  return org_overview(c);
}

Answer PortalService::Impl::org_pgp_set(Ctx& c) {
  ORG_REGISTRY(reg);
  auto key = str_param(c.body, "key", 64 * 1024);
  if (!key || trim(*key).empty()) return Answer::fail(400, "paste an ASCII-armored public key");
  auto fp = pgp_fingerprint(std::string(trim(*key)) + "\n");
  if (!fp) return Answer::fail(400, "PGP key: " + fp.error().message);
  registry::OrgUpdate u;
  u.pgp_key = std::string(trim(*key)) + "\n";
  if (auto st = reg.update_org(org_id, u); !st) return from_error(st.error());
  (void)audit(c, "org.pgp.set", "org:" + std::to_string(org_id), "fingerprint " + *fp);
  return org_overview(c);
}

Answer PortalService::Impl::org_pgp_clear(Ctx& c) {
  ORG_REGISTRY(reg);
  registry::OrgUpdate u;
  u.clear_pgp_key = true;
  if (auto st = reg.update_org(org_id, u); !st) return from_error(st.error());
  (void)audit(c, "org.pgp.clear", "org:" + std::to_string(org_id), "");
  return org_overview(c);
}

Answer PortalService::Impl::org_claim(Ctx& c) {
  ORG_REGISTRY(reg);
  auto resources = parse_claims(c.body.value("resources", json::array()), false);
  if (!resources) return from_error(resources.error());
  auto rec = reg.org_record(org_id);
  if (!rec) return from_error(rec.error());
  // Claims already held are dropped; the check against the routing data sees them too, so
  // a new prefix of an ASN the organisation already has verifies.
  std::vector<AppResource> fresh;
  for (auto& r : *resources) {
    bool held = false;
    for (const auto& x : rec->resources) held |= x.kind == r.kind && x.value == r.value;
    if (!held) fresh.push_back(std::move(r));
  }
  if (fresh.empty()) return Answer::fail(409, "the organisation already claims all of these");
  std::vector<AppResource> all = fresh;
  for (const auto& x : rec->resources)
    if (x.kind == ResourceKind::kAsn || x.kind == ResourceKind::kCidr)
      all.push_back({0, x.kind, x.value});
  verify_routing(all);
  for (size_t i = 0; i < fresh.size(); ++i) {
    if (fresh[i].kind == ResourceKind::kDomain) continue;
    fresh[i].verification = all[i].verification;
    fresh[i].detail = all[i].detail;
    fresh[i].checked_at = all[i].checked_at;
  }
  Application app;
  app.kind = AppKind::kClaim;
  app.status = AppStatus::kQueued;  // the account's address was confirmed at registration
  app.org_id = org_id;
  app.applicant = {0, c.account->display_name, c.account->login, "", ""};
  app.org_name = rec->org.name;
  app.short_name = rec->org.short_name;
  app.email_confirmed_at = c.now;
  app.created_at = app.updated_at = c.now;
  app.resources = std::move(fresh);
  auto id = c.store->create_application(app);
  if (!id) return from_error(id.error());
  (void)audit(
      c, "org.claim", "application:" + std::to_string(*id),
      "org " + std::to_string(org_id) + ", " + std::to_string(app.resources.size()) + " resources");
  return org_overview(c);
}

Answer PortalService::Impl::org_resource_remove(Ctx& c) {
  ORG_REGISTRY(reg);
  auto kind = registry::parse_resource_kind(sval(c.body, "kind"));
  if (!kind) return Answer::fail(400, "kind is asn, cidr, domain or country");
  std::string value = sval(c.body, "value");
  if (auto st = reg.remove_resource(org_id, *kind, value); !st) return from_error(st.error());
  (void)audit(c, "org.resource.remove", "org:" + std::to_string(org_id),
              std::string(registry::resource_kind_name(*kind)) + " " + value);
  return org_overview(c);
}

Answer PortalService::Impl::org_opt_out_add(Ctx& c) {
  ORG_REGISTRY(reg);
  std::string type = sval(c.body, "type");
  if (deps.catalogue && !deps.catalogue->find(type))
    return Answer::fail(400, "unknown report type '" + type + "'");
  if (auto st = reg.add_opt_out(org_id, type); !st) return from_error(st.error());
  (void)audit(c, "org.opt-out.add", "org:" + std::to_string(org_id), type);
  return org_overview(c);
}

Answer PortalService::Impl::org_opt_out_remove(Ctx& c) {
  ORG_REGISTRY(reg);
  std::string type = sval(c.body, "type");
  if (auto st = reg.remove_opt_out(org_id, type); !st) return from_error(st.error());
  (void)audit(c, "org.opt-out.remove", "org:" + std::to_string(org_id), type);
  return org_overview(c);
}

Answer PortalService::Impl::org_severity(Ctx& c) {
  ORG_REGISTRY(reg);
  auto sev = registry::parse_severity(sval(c.body, "min_severity"));
  if (!sev) return Answer::fail(400, "min_severity is info, low, medium, high or critical");
  registry::OrgUpdate u;
  u.min_severity = *sev;
  if (auto st = reg.update_org(org_id, u); !st) return from_error(st.error());
  (void)audit(c, "org.severity", "org:" + std::to_string(org_id), registry::severity_name(*sev));
  return org_overview(c);
}

Answer PortalService::Impl::org_key_issue(Ctx& c) {
  ORG_REGISTRY(reg);
  auto label = clean_text(sval(c.body, "label"), "label", 100);
  if (!label) return from_error(label.error());
  auto issued = reg.issue_key(org_id, registry::KeyKind::kApi,
                              label->empty() ? "portal (" + c.account->login + ")" : *label);
  if (!issued) return from_error(issued.error());
  (void)audit(c, "org.key.issue", "key:" + issued->key, "org " + std::to_string(org_id));
  // The only time the secret is shown.
  return Answer::ok(json{{"key", issued->key}, {"secret", issued->secret}});
}

Answer PortalService::Impl::org_key_rotate(Ctx& c) {
  ORG_REGISTRY(reg);
  std::string key = sval(c.body, "key");
  auto owns = org_owns_key(reg, org_id, key);
  if (!owns) return from_error(owns.error());
  if (!*owns) return Answer::fail(404, "no such key");
  auto overlap = int_param(c.body, "overlap_seconds").value_or(options.key_rotation_overlap_s);
  overlap = std::clamp<int64_t>(overlap, 0, 30 * 86400);
  auto issued = reg.rotate_key(key, overlap);
  if (!issued) return from_error(issued.error());
  (void)audit(c, "org.key.rotate", "key:" + key, "overlap " + std::to_string(overlap) + " s");
  return Answer::ok(json{{"key", issued->key}, {"secret", issued->secret}});
}

Answer PortalService::Impl::org_key_revoke(Ctx& c) {
  ORG_REGISTRY(reg);
  std::string key = sval(c.body, "key");
  auto owns = org_owns_key(reg, org_id, key);
  if (!owns) return from_error(owns.error());
  if (!*owns) return Answer::fail(404, "no such key");
  if (auto st = reg.revoke_key(key); !st) return from_error(st.error());
  (void)audit(c, "org.key.revoke", "key:" + key, "");
  return org_overview(c);
}

Answer PortalService::Impl::dashboard_view(Ctx& c, std::string_view method) {
  if (!deps.dashboard) return Answer::fail(503, "statistics unavailable");
  ORG_REGISTRY(reg);
  auto org = reg.find_org(std::to_string(org_id));
  if (!org) return from_error(org.error());
  json params = c.body;
  auto r = deps.dashboard->org_view(static_cast<uint32_t>(org_id), org->short_name, method, params);
  json body = json::parse(r.body, nullptr, false);
  if (body.is_discarded()) body = json{{"error", "statistics unavailable"}};
  return Answer{r.status, std::move(body)};
}

Answer PortalService::Impl::org_stats(Ctx& c) {
  return dashboard_view(c, "stats");
}
Answer PortalService::Impl::org_reports(Ctx& c) {
  return dashboard_view(c, "reports");
}
Answer PortalService::Impl::org_deliveries(Ctx& c) {
  return dashboard_view(c, "deliveries");
}

Answer PortalService::Impl::org_remediation(Ctx& c) {
  if (!trackers) return Answer::fail(503, "remediation tracking is not available");
  auto lease = trackers->acquire();
  if (!lease || !*lease) return Answer::fail(503, "remediation data unavailable");
  auto out = org_remediation_json(**lease, static_cast<uint32_t>(*c.account->org_id), c.body,
                                  day_of(c.now));
  if (!out) return from_error(out.error());
  return Answer::ok(*out);
}

#undef ORG_REGISTRY

}  // namespace vantage::portal

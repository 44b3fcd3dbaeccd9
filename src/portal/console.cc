// The operator console: the application queue with conflicting claims, decisions, organisation
// edits, keys, delivery failures, accounts and the audit log. Viewers may read; only operators
// change anything (the endpoint table in portal_service.cc says which is which).
#include <spdlog/spdlog.h>

#include <filesystem>

#include "common/status_macros.h"
#include "common/strings.h"
#include "delivery/delivery_log.h"
#include "portal/service_impl.h"
#include "registry/validate.h"

namespace vantage::portal {

using registry::ResourceKind;

Result<json> PortalService::Impl::conflicts_of(registry::Registry& reg, const Application& app,
                                               Ctx& c) {
  VANTAGE_ASSIGN_OR_RETURN(auto snap, reg.snapshot(false));
  json out = json::array();
  for (const auto& r : app.resources) {
    json hits = json::array();
    std::optional<IpPrefix> mine;
    if (r.kind == ResourceKind::kCidr)
      if (auto p = registry::parse_cidr(r.value)) mine = p->prefix;
    for (const auto& rec : snap.orgs) {
      if (app.org_id && rec.org.id == *app.org_id) continue;
      for (const auto& x : rec.resources) {
        if (x.approval == registry::Approval::kRejected) continue;
        std::string how;
        if (x.kind == r.kind && x.value == r.value) {
          how = "same claim";
        } else if (mine && x.kind == ResourceKind::kCidr) {
          if (auto p = registry::parse_cidr(x.value)) {
            if (p->prefix.contains(*mine))
              how = "inside " + x.value;
            else if (mine->contains(p->prefix))
              how = "contains " + x.value;
          }
        } else if (r.kind == ResourceKind::kDomain && x.kind == ResourceKind::kDomain) {
          if (r.value.size() > x.value.size() && r.value.ends_with("." + x.value))
            how = "subdomain of " + x.value;
          else if (x.value.size() > r.value.size() && x.value.ends_with("." + r.value))
            how = "parent of " + x.value;
        }
        if (!how.empty())
          hits.push_back({{"org_id", rec.org.id},
                          {"org", rec.org.short_name},
                          {"how", how},
                          {"approval", registry::approval_name(x.approval)}});
      }
    }
    VANTAGE_ASSIGN_OR_RETURN(auto open, c.store->open_claims_of(r.kind, r.value, app.id));
    for (const auto& [id, name] : open)
      hits.push_back({{"application", id}, {"org", name}, {"how", "same claim, pending"}});
    if (!hits.empty())
      out.push_back({{"kind", registry::resource_kind_name(r.kind)},
                     {"value", r.value},
                     {"conflicts", hits}});
  }
  return out;
}

Answer PortalService::Impl::console_queue(Ctx& c) {
  std::vector<AppStatus> statuses = {AppStatus::kUnconfirmed, AppStatus::kQueued,
                                     AppStatus::kNeedsInfo};
  if (auto s = sval(c.body, "status"); !s.empty()) {
    statuses.clear();
    if (s != "all") {
      auto st = parse_app_status(s);
      if (!st) return Answer::fail(400, "unknown status '" + s + "'");
      statuses.push_back(*st);
    }
  }
  auto apps = c.store->applications(statuses);
  if (!apps) return from_error(apps.error());
  json list = json::array();
  for (const auto& a : *apps) {
    int verified = 0;
    for (const auto& r : a.resources)
      verified += r.verification == registry::Verification::kVerified;
    list.push_back({{"id", a.id},
                    {"kind", app_kind_name(a.kind)},
                    {"status", app_status_name(a.status)},
                    {"organisation", a.org_name},
                    {"applicant", a.applicant.email},
                    {"resources", a.resources.size()},
                    {"verified", verified},
                    {"created", format_timestamp(a.created_at)},
                    {"updated", format_timestamp(a.updated_at)}});
  }
  return Answer::ok(json{{"applications", list}});
}

Answer PortalService::Impl::console_application(Ctx& c) {
  auto id = int_param(c.body, "id");
  if (!id) return Answer::fail(400, "id is required");
  auto app = c.store->application(*id);
  if (!app) return from_error(app.error());
  auto reg = registry();
  if (!reg) return from_error(reg.error());
  auto conflicts = conflicts_of(**reg, *app, c);
  if (!conflicts) return from_error(conflicts.error());
  json j = application_json(*app, true, c);
  j["conflicts"] = *conflicts;
  return Answer::ok(json{{"application", j}});
}

Answer PortalService::Impl::console_orgs(Ctx& c) {
  auto reg = registry();
  if (!reg) return from_error(reg.error());
  auto snap = (*reg)->snapshot(false);
  if (!snap) return from_error(snap.error());
  json list = json::array();
  for (const auto& rec : snap->orgs) {
    int active_keys = 0;
    for (const auto& k : rec.keys) active_keys += k.revoked_at == 0;
    list.push_back({{"id", rec.org.id},
                    {"short_name", rec.org.short_name},
                    {"name", rec.org.name},
                    {"kind", registry::org_kind_name(rec.org.kind)},
                    {"resources", rec.resources.size()},
                    {"recipients", rec.recipients.size()},
                    {"keys", active_keys}});
  }
  (void)c;
  return Answer::ok(json{{"orgs", list}});
}

Answer PortalService::Impl::console_org(Ctx& c) {
  auto id = int_param(c.body, "id");
  if (!id) return Answer::fail(400, "id is required");
  auto reg = registry();
  if (!reg) return from_error(reg.error());
  auto j = org_json(**reg, *id, true, c);
  if (!j) return from_error(j.error());
  json accounts = json::array();
  if (auto all = c.store->accounts()) {
    for (const auto& a : *all)
      if (a.org_id && *a.org_id == *id)
        accounts.push_back({{"login", a.login},
                            {"name", a.display_name},
                            {"totp", a.totp_enabled},
                            {"disabled", a.disabled}});
  }
  (*j)["accounts"] = accounts;
  return Answer::ok(json{{"org", *j}});
}

Answer PortalService::Impl::console_org_update(Ctx& c) {
  auto id = int_param(c.body, "id");
  if (!id) return Answer::fail(400, "id is required");
  registry::OrgUpdate u;
  std::string what;
  if (auto n = str_param(c.body, "name", 400)) {
    auto name = clean_text(*n, "name", 200);
    if (!name) return from_error(name.error());
    u.name = *name;
    what += " name";
  }
  if (auto k = str_param(c.body, "kind", 40)) {
    auto kind = registry::parse_org_kind(*k);
    if (!kind) return Answer::fail(400, "kind is organisation or national_csirt");
    u.kind = *kind;
    what += " kind";
  }
  if (auto s = str_param(c.body, "min_severity", 40)) {
    auto sev = registry::parse_severity(*s);
    if (!sev) return Answer::fail(400, "min_severity is info, low, medium, high or critical");
    u.min_severity = *sev;
    what += " min_severity";
  }
  auto reg = registry();
  if (!reg) return from_error(reg.error());
  auto o = (*reg)->update_org(*id, u);
  if (!o) return from_error(o.error());
  (void)audit(c, "console.org.update", "org:" + o->short_name, "changed" + what);
  return console_org(c);
}

Answer PortalService::Impl::console_recipient_add(Ctx& c) {
  auto id = int_param(c.body, "id");
  if (!id) return Answer::fail(400, "id is required");
  auto reg = registry();
  if (!reg) return from_error(reg.error());
  auto email = (*reg)->add_recipient(*id, trim(sval(c.body, "email")));
  if (!email) return from_error(email.error());
  (void)audit(c, "console.org.recipient.add", "org:" + std::to_string(*id), *email);
  return console_org(c);
}

Answer PortalService::Impl::console_recipient_remove(Ctx& c) {
  auto id = int_param(c.body, "id");
  if (!id) return Answer::fail(400, "id is required");
  auto reg = registry();
  if (!reg) return from_error(reg.error());
  std::string email(trim(sval(c.body, "email")));
  if (auto st = (*reg)->remove_recipient(*id, email); !st) return from_error(st.error());
  (void)audit(c, "console.org.recipient.remove", "org:" + std::to_string(*id), email);
  return console_org(c);
}

Answer PortalService::Impl::console_resource_approval(Ctx& c) {
  auto id = int_param(c.body, "id");
  auto rid = int_param(c.body, "resource_id");
  auto approval = registry::parse_approval(sval(c.body, "approval"));
  if (!id || !rid || !approval)
    return Answer::fail(400, "id, resource_id and approval (approved, rejected, pending) needed");
  auto reg = registry();
  if (!reg) return from_error(reg.error());
  auto rec = (*reg)->org_record(*id);
  if (!rec) return from_error(rec.error());
  bool found = false;
  for (const auto& r : rec->resources) found |= r.id == *rid;
  if (!found) return Answer::fail(404, "the organisation has no such resource");
  if (auto st = (*reg)->set_approval(*rid, *approval); !st) return from_error(st.error());
  (void)audit(c, "console.org.resource.approval", "org:" + std::to_string(*id),
              "resource " + std::to_string(*rid) + " " + registry::approval_name(*approval));
  return console_org(c);
}

Answer PortalService::Impl::console_resource_remove(Ctx& c) {
  auto id = int_param(c.body, "id");
  auto kind = registry::parse_resource_kind(sval(c.body, "kind"));
  if (!id || !kind) return Answer::fail(400, "id, kind and value are required");
  std::string value = sval(c.body, "value");
  auto reg = registry();
  if (!reg) return from_error(reg.error());
  if (auto st = (*reg)->remove_resource(*id, *kind, value); !st) return from_error(st.error());
  (void)audit(c, "console.org.resource.remove", "org:" + std::to_string(*id),
              std::string(registry::resource_kind_name(*kind)) + " " + value);
  return console_org(c);
}

Answer PortalService::Impl::console_key_issue(Ctx& c) {
  auto id = int_param(c.body, "id");
  if (!id) return Answer::fail(400, "id is required");
  auto label = clean_text(sval(c.body, "label"), "label", 100);
  if (!label) return from_error(label.error());
  auto reg = registry();
  if (!reg) return from_error(reg.error());
  auto issued = (*reg)->issue_key(*id, registry::KeyKind::kApi,
                                  label->empty() ? "console (" + c.account->login + ")" : *label);
  if (!issued) return from_error(issued.error());
  (void)audit(c, "console.key.issue", "key:" + issued->key, "org " + std::to_string(*id));
  return Answer::ok(json{{"key", issued->key}, {"secret", issued->secret}});
}

Answer PortalService::Impl::console_key_revoke(Ctx& c) {
  std::string key = sval(c.body, "key");
  if (key.empty()) return Answer::fail(400, "key is required");
  auto reg = registry();
  if (!reg) return from_error(reg.error());
  if (auto st = (*reg)->revoke_key(key); !st) return from_error(st.error());
  (void)audit(c, "console.key.revoke", "key:" + key, "");
  return Answer::ok(json{{"revoked", key}});
}

Answer PortalService::Impl::console_deliveries(Ctx& c) {
  json list = json::array();
  std::error_code ec;
  if (deps.delivery_log_path.empty() || !std::filesystem::exists(deps.delivery_log_path, ec))
    return Answer::ok(json{{"deliveries", list}});
  auto log = delivery::DeliveryLog::open(deps.delivery_log_path);
  if (!log) return Answer::fail(503, "delivery log unavailable");
  delivery::DeliveryQuery q;
  if (auto d = sval(c.body, "day"); !d.empty()) q.day = d;
  auto rows = (*log)->query(q);
  if (!rows) return Answer::fail(503, "delivery log unavailable");
  const bool all = sval(c.body, "status") == "all";
  std::map<std::string, std::string> names;
  if (auto reg = registry()) {
    if (auto orgs = (*reg)->list_orgs())
      for (const auto& o : *orgs) names[std::to_string(o.id)] = o.short_name;
  }
  for (auto it = rows->rbegin(); it != rows->rend() && list.size() < 1000; ++it) {
    const auto& r = *it;
    if (!all && r.status == delivery::kStatusDelivered) continue;
    list.push_back({{"at", format_timestamp(r.at)},
                    {"day", r.day},
                    {"org", names.count(r.org) ? names[r.org] : r.org},
                    {"kind", r.kind},
                    {"recipient", r.recipient},
                    {"status", r.status},
                    {"smtp_code", r.smtp_code},
                    {"attempt", r.attempt},
                    {"reason", r.reason}});
  }
  return Answer::ok(json{{"deliveries", list}});
}

Answer PortalService::Impl::console_audit(Ctx& c) {
  AuditLog log(c.store->db());
  auto limit = std::clamp<int64_t>(int_param(c.body, "limit").value_or(200), 1, 1000);
  auto entries = log.list(limit, int_param(c.body, "before").value_or(0));
  if (!entries) return from_error(entries.error());
  auto broken = log.verify();
  if (!broken) return from_error(broken.error());
  json list = json::array();
  for (const auto& e : *entries)
    list.push_back({{"seq", e.seq},
                    {"at", format_timestamp(e.at)},
                    {"actor", e.actor},
                    {"role", e.role},
                    {"action", e.action},
                    {"target", e.target},
                    {"detail", e.detail},
                    {"remote", e.remote},
                    {"hash", e.hash}});
  return Answer::ok(
      json{{"entries", list}, {"chain_intact", *broken == 0}, {"broken_at", *broken}});
}

Answer PortalService::Impl::console_accounts(Ctx& c) {
  auto all = c.store->accounts();
  if (!all) return from_error(all.error());
  json list = json::array();
  for (const auto& a : *all)
    list.push_back({{"id", a.id},
                    {"login", a.login},
                    {"name", a.display_name},
                    {"role", role_name(a.role)},
                    {"org_id", a.org_id ? json(*a.org_id) : json(nullptr)},
                    {"totp", a.totp_enabled},
                    {"disabled", a.disabled},
                    {"created", format_timestamp(a.created_at)}});
  return Answer::ok(json{{"accounts", list}});
}

}  // namespace vantage::portal

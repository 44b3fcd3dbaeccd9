// `vantage org ...`: organisations, their contacts, recipients, claimed resources,
// delivery preferences, and the verification and approval of their claims.

#include <spdlog/spdlog.h>

#include <fstream>
#include <iostream>
#include <map>
#include <sstream>

#include "commands.h"
#include "common/strings.h"
#include "enrich/asn_table.h"
#include "portal/asn_routing.h"
#include "registry/validate.h"
#include "registry/verification.h"
#include "registry_cli.h"
#include "service/runtime.h"

namespace vantage::cli {

using service::resolve_data_path;

namespace {

namespace fs = std::filesystem;
using namespace vantage::registry;

std::string when(UnixSeconds t) {
  return t ? format_timestamp(t) : "-";
}

std::string read_file(const std::string& path, std::string_view command) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(command, Error::io("cannot read " + path));
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

ResourceValue parse_resource(const std::string& text, const std::string& kind,
                             std::string_view command) {
  if (kind.empty() || kind == "auto") return check(normalise_resource_auto(text), command);
  auto k = parse_resource_kind(kind);
  if (!k) fail(command, Error::invalid("--kind must be asn, cidr, domain, country or auto"));
  return check(normalise_resource(*k, text), command);
}

void print_org_line(const Organisation& o) {
  std::cout << o.id << '\t' << o.short_name << '\t' << org_kind_name(o.kind) << '\t'
            << strip_control(o.name) << '\n';
}

void show_org(Registry& reg, const Organisation& o) {
  auto rec = check(reg.org_record(o.id), "org show");
  std::cout << "organisation " << o.short_name << " (id " << o.id << ")\n"
            << "  name:          " << strip_control(o.name) << "\n"
            << "  kind:          " << org_kind_name(o.kind) << "\n"
            << "  min severity:  " << severity_name(o.min_severity) << "\n"
            << "  pgp key:       " << (o.pgp_key ? "present" : "none") << "\n"
            << "  created:       " << when(o.created_at) << "\n"
            << "  updated:       " << when(o.updated_at) << "\n";
  std::cout << "contacts:\n";
  for (const auto& c : rec.contacts) {
    std::cout << "  [" << c.id << "] " << strip_control(c.name) << " <" << c.email << ">"
              << (c.title.empty() ? "" : ", " + strip_control(c.title))
              << (c.phone.empty() ? "" : ", " + strip_control(c.phone)) << "\n";
  }
  std::cout << "recipients:\n";
  for (const auto& r : rec.recipients) std::cout << "  " << r << "\n";
  std::cout << "resources:\n";
  for (const auto& r : rec.resources) {
    std::cout << "  " << resource_kind_name(r.kind) << ' ' << r.value << "  ["
              << verification_name(r.verification) << ", " << approval_name(r.approval) << "]";
    auto others = check(reg.other_claimants(o.id, r.kind, r.value), "org show");
    if (!others.empty()) {
      std::cout << "  SHARED: also claimed by";
      for (const auto& c : others) std::cout << ' ' << c.short_name;
    }
    std::cout << "\n";
    if (!r.verification_detail.empty()) {
      std::cout << "      " << strip_control(r.verification_detail) << " (checked "
                << when(r.checked_at) << ")\n";
    }
    if (r.kind == ResourceKind::kDomain && r.verification != Verification::kVerified) {
      std::cout << "      to verify, publish: " << r.value << ". IN TXT \""
                << dns_proof_record(r.dns_token) << "\"\n";
    }
  }
  std::cout << "ignored:\n";
  for (const auto& c : rec.ignores) std::cout << "  " << c << "\n";
  std::cout << "opted out of:\n";
  for (const auto& t : rec.opt_outs) std::cout << "  " << t << "\n";
  std::cout << "keys:\n";
  for (const auto& k : rec.keys) {
    std::cout << "  " << k.key << "  " << key_kind_name(k.kind)
              << (k.revoked_at ? "  revoked " + when(k.revoked_at) : "  active")
              << (k.label.empty() ? "" : "  " + strip_control(k.label)) << "\n";
  }
}

struct OrgOptions {
  std::string org, name, short_name, kind = "organisation", min_severity = "info", pgp_file;
  std::string value, resource_kind = "auto";
  std::string contact_name, email, title, phone;
  std::string asn_v4, asn_v6;
  bool dns = false, reject = false, clear_pgp = false;
  int64_t contact_id = 0;
};

}  // namespace

void add_org_command(CLI::App& app, GlobalOptions& global) {
  auto o = std::make_shared<OrgOptions>();
  auto* cmd = app.add_subcommand("org", "Organisations: who receives which reports");
  cmd->require_subcommand(1);
  auto org_of = [&global, o](Registry& reg, const char* command) {
    return check(reg.find_org(o->org), command);
  };

  auto* add = cmd->add_subcommand("add", "Register an organisation");
  add->add_option("--name", o->name, "Full name")->required();
  add->add_option("--short", o->short_name, "Short name for report file names ([A-Za-z0-9_])")
      ->required();
  add->add_option("--kind", o->kind, "organisation | national_csirt")->capture_default_str();
  add->add_option("--min-severity", o->min_severity, "info|low|medium|high|critical")
      ->capture_default_str();
  add->add_option("--pgp-key", o->pgp_file, "File with the ASCII-armored OpenPGP public key");
  add->callback([&global, o] {
    auto reg = open_registry(global, "org add");
    NewOrganisation n;
    n.name = o->name;
    n.short_name = o->short_name;
    auto kind = parse_org_kind(o->kind);
    auto sev = parse_severity(o->min_severity);
    if (!kind) fail("org add", Error::invalid("--kind must be organisation or national_csirt"));
    if (!sev)
      fail("org add", Error::invalid("--min-severity must be info|low|medium|high|critical"));
    n.kind = *kind;
    n.min_severity = *sev;
    if (!o->pgp_file.empty()) n.pgp_key = read_file(o->pgp_file, "org add");
    auto org = check(reg->add_org(n), "org add");
    std::cout << "added organisation " << org.short_name << " (id " << org.id << ")\n";
  });

  cmd->add_subcommand("list", "List organisations (id, short name, kind, name)")
      ->callback([&global] {
        auto reg = open_registry(global, "org list");
        for (const auto& org : check(reg->list_orgs(), "org list")) print_org_line(org);
      });

  auto* show = cmd->add_subcommand("show", "Everything about one organisation (never secrets)");
  show->add_option("org", o->org, "Id or short name")->required();
  show->callback([&global, o, org_of] {
    auto reg = open_registry(global, "org show");
    show_org(*reg, org_of(*reg, "org show"));
  });

  auto* set = cmd->add_subcommand("set", "Change an organisation's attributes");
  set->add_option("org", o->org, "Id or short name")->required();
  auto* set_name = set->add_option("--name", o->name, "Full name");
  auto* set_kind = set->add_option("--kind", o->kind, "organisation | national_csirt");
  auto* set_sev =
      set->add_option("--min-severity", o->min_severity, "info|low|medium|high|critical");
  auto* set_pgp = set->add_option("--pgp-key", o->pgp_file, "File with the armored public key");
  set->add_flag("--clear-pgp-key", o->clear_pgp, "Remove the PGP key");
  set->callback([&global, o, org_of, set_name, set_kind, set_sev, set_pgp] {
    auto reg = open_registry(global, "org set");
    auto org = org_of(*reg, "org set");
    OrgUpdate u;
    if (set_name->count()) u.name = o->name;
    if (set_kind->count()) {
      u.kind = parse_org_kind(o->kind);
      if (!u.kind) fail("org set", Error::invalid("--kind must be organisation or national_csirt"));
    }
    if (set_sev->count()) {
      u.min_severity = parse_severity(o->min_severity);
      if (!u.min_severity)
        fail("org set", Error::invalid("--min-severity must be info|low|medium|high|critical"));
    }
    if (set_pgp->count()) u.pgp_key = read_file(o->pgp_file, "org set");
    u.clear_pgp_key = o->clear_pgp;
    check(reg->update_org(org.id, u), "org set");
    std::cout << "updated " << org.short_name << "\n";
  });

  auto* remove = cmd->add_subcommand("remove", "Remove an organisation and all it owns");
  remove->add_option("org", o->org, "Id or short name")->required();
  remove->callback([&global, o, org_of] {
    auto reg = open_registry(global, "org remove");
    auto org = org_of(*reg, "org remove");
    check(reg->remove_org(org.id), "org remove");
    std::cout << "removed " << org.short_name << "\n";
  });

  // org resource add|remove
  auto* res = cmd->add_subcommand("resource", "Claimed ASNs, CIDRs, domains, countries");
  res->require_subcommand(1);
  for (bool adding : {true, false}) {
    auto* c = res->add_subcommand(adding ? "add" : "remove",
                                  adding ? "Claim a resource" : "Drop a claim");
    c->add_option("org", o->org, "Id or short name")->required();
    c->add_option("value", o->value, "AS64500, 192.0.2.0/24, 2001:db8::/32, example.org, NL")
        ->required();
    c->add_option("--kind", o->resource_kind,
                  "asn|cidr|domain|country|auto (auto: two upper-case letters are a country)")
        ->capture_default_str();
    c->callback([&global, o, org_of, adding] {
      const char* name = adding ? "org resource add" : "org resource remove";
      auto reg = open_registry(global, name);
      auto org = org_of(*reg, name);
      auto v = parse_resource(o->value, o->resource_kind, name);
      if (!adding) {
        check(reg->remove_resource(org.id, v.kind, v.value), name);
        std::cout << "removed " << resource_kind_name(v.kind) << ' ' << v.value << "\n";
        return;
      }
      auto added = check(reg->add_resource(org.id, v.kind, v.value), name);
      if (!v.warning.empty()) std::cerr << "warning: " << v.warning << "\n";
      std::cout << "added " << resource_kind_name(v.kind) << ' ' << added.resource.value << " to "
                << org.short_name << " (pending approval)\n";
      if (!added.also_claimed_by.empty()) {
        std::cerr << "warning: " << added.resource.value << " is also claimed by";
        for (const auto& c2 : added.also_claimed_by) std::cerr << ' ' << c2.short_name;
        std::cerr << "; both will receive its events\n";
      }
      if (v.kind == ResourceKind::kDomain) {
        std::cout << "to verify, publish: " << added.resource.value << ". IN TXT \""
                  << dns_proof_record(added.resource.dns_token) << "\"\n";
      }
    });
  }

  // org contact add|remove
  auto* contact = cmd->add_subcommand("contact", "People at the organisation");
  contact->require_subcommand(1);
  auto* cadd = contact->add_subcommand("add", "Add a contact");
  cadd->add_option("org", o->org, "Id or short name")->required();
  cadd->add_option("--name", o->contact_name, "Name")->required();
  cadd->add_option("--email", o->email, "E-mail address")->required();
  cadd->add_option("--title", o->title, "Role or title");
  cadd->add_option("--phone", o->phone, "Phone number");
  cadd->callback([&global, o, org_of] {
    auto reg = open_registry(global, "org contact add");
    auto org = org_of(*reg, "org contact add");
    auto c = check(reg->add_contact(org.id, {0, o->contact_name, o->email, o->title, o->phone}),
                   "org contact add");
    std::cout << "added contact " << c.id << " <" << c.email << "> to " << org.short_name << "\n";
  });
  auto* crm = contact->add_subcommand("remove", "Remove a contact by id (see org show)");
  crm->add_option("org", o->org, "Id or short name")->required();
  crm->add_option("id", o->contact_id, "Contact id")->required();
  crm->callback([&global, o, org_of] {
    auto reg = open_registry(global, "org contact remove");
    auto org = org_of(*reg, "org contact remove");
    check(reg->remove_contact(org.id, o->contact_id), "org contact remove");
    std::cout << "removed contact " << o->contact_id << "\n";
  });

  // org recipient / ignore / opt-out add|remove: one value each.
  struct ListSpec {
    const char* name;
    const char* help;
    const char* value_help;
  };
  for (const ListSpec& spec :
       {ListSpec{"recipient", "E-mail addresses that receive the reports", "E-mail address"},
        ListSpec{"ignore", "CIDRs whose events the organisation does not want", "CIDR"},
        ListSpec{"opt-out", "Report types the organisation does not want", "Report type"}}) {
    auto* group = cmd->add_subcommand(spec.name, spec.help);
    group->require_subcommand(1);
    for (bool adding : {true, false}) {
      auto* c = group->add_subcommand(adding ? "add" : "remove", adding ? "Add" : "Remove");
      c->add_option("org", o->org, "Id or short name")->required();
      c->add_option("value", o->value, spec.value_help)->required();
      const std::string what = spec.name;
      c->callback([&global, o, org_of, adding, what] {
        const std::string name = "org " + what + (adding ? " add" : " remove");
        auto reg = open_registry(global, name);
        auto org = org_of(*reg, name.c_str());
        std::string shown = o->value;
        if (what == "recipient") {
          if (adding) {
            shown = check(reg->add_recipient(org.id, o->value), name);
          } else {
            check(reg->remove_recipient(org.id, o->value), name);
          }
        } else if (what == "ignore") {
          if (adding) {
            auto parsed = check(parse_cidr(o->value), name);
            if (parsed.had_host_bits) {
              std::cerr << "warning: host bits set; stored as " << parsed.prefix.to_string()
                        << "\n";
            }
            shown = check(reg->add_ignore(org.id, o->value), name);
          } else {
            check(reg->remove_ignore(org.id, o->value), name);
          }
        } else {
          check(adding ? reg->add_opt_out(org.id, o->value) : reg->remove_opt_out(org.id, o->value),
                name);
        }
        std::cout << (adding ? "added " : "removed ") << what << ' ' << shown << " ("
                  << org.short_name << ")\n";
      });
    }
  }

  // org verify
  auto* verify = cmd->add_subcommand(
      "verify", "Check claims: CIDRs/ASNs against routing data, domains by DNS TXT token");
  verify->add_option("org", o->org, "Id or short name")->required();
  verify->add_option("--asn-v4", o->asn_v4, "IPv4 routing CSV (default: enrich.asn_v4)");
  verify->add_option("--asn-v6", o->asn_v6, "IPv6 routing CSV (default: enrich.asn_v6)");
  verify->add_flag("--dns", o->dns, "Also look up the TXT token of every claimed domain");
  verify->callback([&global, o, org_of] {
    auto reg = open_registry(global, "org verify");
    auto org = org_of(*reg, "org verify");
    auto rec = check(reg->org_record(org.id), "org verify");
    std::map<int64_t, const Resource*> by_id;
    for (const auto& r : rec.resources) by_id[r.id] = &r;
    auto report = [&](int64_t id, const VerificationOutcome& v) {
      check(reg->set_verification(id, v.state, v.detail), "org verify");
      const Resource* r = by_id[id];
      std::cout << resource_kind_name(r->kind) << ' ' << r->value << ": "
                << verification_name(v.state) << " - " << strip_control(v.detail) << "\n";
    };
    const bool has_routing_claims =
        std::any_of(rec.resources.begin(), rec.resources.end(), [](const Resource& r) {
          return r.kind == ResourceKind::kAsn || r.kind == ResourceKind::kCidr;
        });
    if (has_routing_claims) {
      std::string v4 = resolve_data_path(o->asn_v4.empty() ? global.config.asn_v4 : o->asn_v4);
      std::string v6 = resolve_data_path(o->asn_v6.empty() ? global.config.asn_v6 : o->asn_v6);
      if (!v4.empty() && !fs::exists(v4)) v4.clear();
      if (!v6.empty() && !fs::exists(v6)) v6.clear();
      if (v4.empty() && v6.empty()) {
        fail("org verify", Error::not_found("no routing data found; pass --asn-v4/--asn-v6 "
                                            "(install it with scripts/install-deps.sh)"));
      }
      if (!global.verbose) spdlog::set_level(spdlog::level::err);
      auto table = check(enrich::AsnTable::load(v4, v6), "org verify");
      portal::AsnTableRouting routing(table);
      for (const auto& [id, outcome] : verify_routing_claims(rec, routing)) report(id, outcome);
    }
    if (o->dns) {
      for (const auto& r : rec.resources) {
        if (r.kind != ResourceKind::kDomain) continue;
        auto txt = lookup_txt(r.value);
        if (!txt) {
          std::cout << "domain " << r.value << ": not checked - " << txt.error().message << "\n";
          continue;
        }
        report(r.id, verify_domain_txt(*txt, r.dns_token));
      }
    }
  });

  // org approve
  auto* approve = cmd->add_subcommand("approve", "Approve (or --reject) a claimed resource");
  approve->add_option("org", o->org, "Id or short name")->required();
  approve->add_option("value", o->value, "The claimed resource, as in org show")->required();
  approve->add_option("--kind", o->resource_kind, "asn|cidr|domain|country|auto")
      ->capture_default_str();
  approve->add_flag("--reject", o->reject, "Reject the claim: it will never match events");
  approve->callback([&global, o, org_of] {
    auto reg = open_registry(global, "org approve");
    auto org = org_of(*reg, "org approve");
    auto v = parse_resource(o->value, o->resource_kind, "org approve");
    auto rec = check(reg->org_record(org.id), "org approve");
    for (const auto& r : rec.resources) {
      if (r.kind != v.kind || r.value != v.value) continue;
      if (r.verification != Verification::kVerified && !o->reject) {
        std::cerr << "note: " << r.value << " is " << verification_name(r.verification)
                  << "; approving on the operator's word\n";
      }
      check(reg->set_approval(r.id, o->reject ? Approval::kRejected : Approval::kApproved),
            "org approve");
      std::cout << (o->reject ? "rejected " : "approved ") << resource_kind_name(r.kind) << ' '
                << r.value << " for " << org.short_name << "\n";
      return;
    }
    fail("org approve", Error::not_found(org.short_name + " does not claim " +
                                         resource_kind_name(v.kind) + " " + v.value));
  });
}

}  // namespace vantage::cli

// `vantage portal ...`: accounts of the portal and console, and the audit log.
// `vantage remediation ...`: remediation tracking -- update it, record scan cycles, read issues
// and time-to-fix distributions (docs/remediation.md).

#include <unistd.h>

#include <fstream>
#include <iostream>
#include <sstream>

#include "commands.h"
#include "common/strings.h"
#include "portal/audit_log.h"
#include "portal/portal_store.h"
#include "portal/totp.h"
#include "registry/secret_box.h"
#include "registry_cli.h"
#include "service/portal_setup.h"
#include "service/runtime.h"

namespace vantage::cli {

using service::argon2_params;
using service::open_runtime;
using service::open_tracker;
using service::RuntimeOptions;
using service::update_remediation;

namespace {

struct PortalFlags {
  std::string login, name, role = "operator", org, password_file;
  bool password_stdin = false;
  int64_t limit = 50;
  // remediation
  std::string type, at, source = "cli", status, group, from, to, geo;
  std::vector<std::string> scope;
};

std::unique_ptr<portal::PortalStore> open_portal(const GlobalOptions& g, std::string_view cmd) {
  std::error_code ec;
  std::filesystem::create_directories(g.data_dir, ec);
  return check(portal::PortalStore::open(g.data_dir + "/portal.sqlite"), cmd);
}

// A new random password: 20 base32 characters (100 bits).
std::string generated_password() {
  auto raw = registry::random_bytes(13);
  if (!raw) std::abort();
  return portal::base32_encode(*raw).substr(0, 20);
}

std::string read_password(const PortalFlags& f, std::string_view cmd) {
  std::string pw;
  if (f.password_stdin) {
    std::getline(std::cin, pw);
  } else if (!f.password_file.empty()) {
    std::ifstream in(f.password_file);
    if (!in) fail(cmd, Error::io("cannot read " + f.password_file));
    std::getline(in, pw);
  }
  while (!pw.empty() && (pw.back() == '\r' || pw.back() == '\n')) pw.pop_back();
  return pw;
}

}  // namespace

void add_portal_command(CLI::App& app, GlobalOptions& global) {
  auto f = std::make_shared<PortalFlags>();
  auto* cmd = app.add_subcommand("portal", "Portal and console accounts, the audit log");
  cmd->require_subcommand(1);
  auto* user = cmd->add_subcommand("user", "Accounts: add, list, disable, enable");
  user->require_subcommand(1);

  auto* add = user->add_subcommand(
      "add",
      "Add an account; without --password-file/--password-stdin a password is generated "
      "and printed once");
  add->add_option("login", f->login, "Sign-in name (an e-mail address for organisations)")
      ->required();
  add->add_option("--role", f->role, "operator, viewer or org")->capture_default_str();
  add->add_option("--org", f->org, "Organisation (id or short name) of an org account");
  add->add_option("--name", f->name, "Display name");
  add->add_option("--password-file", f->password_file, "Read the password from this file");
  add->add_flag("--password-stdin", f->password_stdin, "Read the password from standard input");
  add->callback([&global, f] {
    const char* c = "portal user add";
    auto role = portal::parse_role(f->role);
    if (!role || *role == portal::Role::kApplicant)
      fail(c, Error::invalid("--role is operator, viewer or org"));
    std::optional<int64_t> org_id;
    if (!f->org.empty()) {
      auto reg = open_registry(global, c);
      org_id = check(reg->find_org(f->org), c).id;
    }
    std::string pw = read_password(*f, c);
    bool generated = pw.empty();
    if (generated) pw = generated_password();
    auto store = open_portal(global, c);
    auto id = check(portal::add_account(*store, f->login, f->name, *role, org_id, pw,
                                        argon2_params(global.config)),
                    c);
    std::cout << "account " << id << " " << to_lower(trim(f->login)) << " ("
              << portal::role_name(*role) << ")\n";
    if (generated)
      std::cout << "password: " << pw
                << "\nThe password is shown only now; it is stored as an Argon2id hash.\n";
  });

  auto* list = user->add_subcommand("list", "List accounts");
  list->callback([&global] {
    auto store = open_portal(global, "portal user list");
    for (const auto& a : check(store->accounts(), "portal user list")) {
      std::cout << a.id << '\t' << a.login << '\t' << portal::role_name(a.role) << '\t'
                << (a.org_id ? std::to_string(*a.org_id) : "-") << '\t'
                << (a.totp_enabled ? "totp" : "-") << '\t' << (a.disabled ? "disabled" : "active")
                << '\n';
    }
  });
  for (bool disable : {true, false}) {
    auto* sub = user->add_subcommand(
        disable ? "disable" : "enable",
        disable ? "Disable an account (its sign-ins fail)" : "Enable a disabled account");
    sub->add_option("login", f->login, "Sign-in name")->required();
    sub->callback([&global, f, disable] {
      const char* c = disable ? "portal user disable" : "portal user enable";
      auto store = open_portal(global, c);
      auto a = check(store->account_by_login(to_lower(trim(f->login))), c);
      if (!a) fail(c, Error::not_found("no account '" + f->login + "'"));
      check(store->set_disabled(a->id, disable), c);
      portal::AuditEntry e{0,
                           now_seconds(),
                           "cli",
                           "operator",
                           disable ? "account.disable" : "account.enable",
                           "account:" + a->login,
                           "",
                           "local"};
      check(portal::AuditLog(store->db()).append(e).status(), c);
      std::cout << a->login << (disable ? " disabled\n" : " enabled\n");
    });
  }

  auto* audit =
      cmd->add_subcommand("audit", "Print the audit log (newest first) and check its chain");
  audit->add_option("--limit", f->limit, "Entries")->capture_default_str();
  audit->callback([&global, f] {
    auto store = open_portal(global, "portal audit");
    portal::AuditLog log(store->db());
    for (const auto& e : check(log.list(f->limit), "portal audit"))
      std::cout << e.seq << '\t' << format_timestamp(e.at) << '\t' << e.actor << '\t' << e.role
                << '\t' << e.action << '\t' << e.target << '\t' << strip_control(e.detail) << '\t'
                << e.remote << '\n';
    int64_t broken = check(log.verify(), "portal audit");
    if (broken) {
      std::cerr << "vantage portal audit: the chain is broken at entry " << broken
                << " (edited or removed behind the log's back)\n";
      throw CommandFailed(1);
    }
    std::cerr << "chain intact\n";
  });
}

void add_remediation_command(CLI::App& app, GlobalOptions& global) {
  auto f = std::make_shared<PortalFlags>();
  auto* cmd = app.add_subcommand("remediation",
                                 "Remediation tracking: issues, fixes, time-to-fix, scan cycles");
  cmd->require_subcommand(1);

  auto* update = cmd->add_subcommand("update", "Bring the issues up to date (through yesterday)");
  update->callback([&global] {
    const char* c = "remediation update";
    RuntimeOptions ro;
    ro.enrichment = false;
    auto rt = open_runtime(global, ro, c);
    auto tracker = check(open_tracker(global), c);
    auto s = check(update_remediation(global, *rt->catalogue, *tracker, *rt->store), c);
    std::cout << "as of " << format_date(s.as_of) << ": " << s.days_read << " days read, "
              << s.sightings_added << " sightings added, " << s.issues_rederived
              << " issues re-derived\n";
  });

  auto* record = cmd->add_subcommand(
      "record-scan", "Record a scan cycle of a report type (for scans Vantage did not schedule)");
  record->add_option("--type", f->type, "Report type the scan looks for")->required();
  record->add_option("--at", f->at, "When it finished (YYYY-MM-DD[ HH:MM:SS]); default now");
  record->add_option("--scope", f->scope, "CIDRs it covered; default: everything");
  record->add_option("--source", f->source, "Who ran it")->capture_default_str();
  record->callback([&global, f] {
    const char* c = "remediation record-scan";
    remediation::ScanCycle cycle;
    cycle.type = f->type;
    cycle.source = f->source;
    cycle.at = f->at.empty() ? now_seconds() : check(parse_timestamp(f->at), c);
    for (const auto& s : f->scope) {
      auto p = IpPrefix::parse(s);
      if (!p) fail(c, Error::invalid("--scope " + s + ": not a CIDR"));
      cycle.scope.push_back(p->prefix);
    }
    auto tracker = check(open_tracker(global), c);
    bool added = check(tracker->cycle_log().append(cycle), c);
    std::cout << (added ? "recorded " : "already recorded ") << cycle.type << " at "
              << format_timestamp(cycle.at) << "\n";
  });

  auto* cycles = cmd->add_subcommand("cycles", "List recorded scan cycles (newest first)");
  cycles->add_option("--type", f->type, "Only this report type");
  cycles->add_option("--limit", f->limit, "Rows")->capture_default_str();
  cycles->callback([&global, f] {
    auto tracker = check(open_tracker(global), "remediation cycles");
    for (const auto& cy :
         check(tracker->cycle_log().list(f->type, f->limit), "remediation cycles")) {
      std::string scope;
      for (const auto& p : cy.scope) scope += (scope.empty() ? "" : ",") + p.to_string();
      std::cout << format_timestamp(cy.at) << '\t' << cy.type << '\t' << cy.source << '\t'
                << (scope.empty() ? "*" : scope) << '\n';
    }
  });

  auto* issues = cmd->add_subcommand("issues", "An organisation's issues");
  issues->add_option("org", f->org, "Organisation (id or short name)")->required();
  issues->add_option("--status", f->status, "open, fixed or all")->capture_default_str();
  issues->add_option("--type", f->type, "Only this report type");
  issues->add_option("--limit", f->limit, "Rows")->capture_default_str();
  issues->callback([&global, f] {
    const char* c = "remediation issues";
    auto reg = open_registry(global, c);
    auto org = check(reg->find_org(f->org), c);
    auto tracker = check(open_tracker(global), c);
    remediation::IssueQuery q;
    q.org_id = static_cast<uint32_t>(org.id);
    if (f->status == "open") q.status = remediation::IssueStatus::kOpen;
    if (f->status == "fixed") q.status = remediation::IssueStatus::kFixed;
    if (!f->type.empty()) q.types = {f->type};
    q.limit = f->limit;
    std::cout << "type\tsubject\tfirst_seen\tlast_seen\tfixed\tdays_open\n";
    for (const auto& r : check(tracker->issues(q), c))
      std::cout << r.type << '\t' << r.subject << '\t' << format_date(r.episode.first_day) << '\t'
                << format_date(r.episode.last_day) << '\t'
                << (r.episode.fixed_day ? format_date(*r.episode.fixed_day) : "-") << '\t'
                << r.days_open << '\n';
  });

  auto* stats = cmd->add_subcommand("stats", "Time-to-fix distributions");
  stats->add_option("--group", f->group, "none, org, type, geo or sector");
  stats->add_option("--org", f->org, "Only this organisation");
  stats->add_option("--from", f->from, "Fixes from this day (YYYY-MM-DD; default 90 days ago)");
  stats->add_option("--to", f->to, "Fixes up to this day (default today)");
  stats->add_option("--geo", f->geo, "Only this country");
  stats->add_option("--type", f->type, "Only this report type");
  stats->callback([&global, f] {
    const char* c = "remediation stats";
    nlohmann::json params = {
        {"group", f->group}, {"from", f->from}, {"to", f->to}, {"geo", f->geo}};
    if (!f->type.empty()) params["type"] = f->type;
    auto q = check(portal::distribution_query(params, today(), 90, true), c);
    if (!f->org.empty()) {
      auto reg = open_registry(global, c);
      q.org_id = static_cast<uint32_t>(check(reg->find_org(f->org), c).id);
    }
    auto tracker = check(open_tracker(global), c);
    auto groups = check(tracker->distributions(q), c);
    auto as_of = check(tracker->as_of(), c);
    std::cout << portal::distributions_json(groups, q, as_of, 0).dump(2) << "\n";
  });
}

}  // namespace vantage::cli

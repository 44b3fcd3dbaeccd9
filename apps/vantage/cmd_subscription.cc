// `vantage subscription add|list|show|set|remove|log|dead-letters|kinds`: an organisation's
// push subscriptions (webhook, syslog/CEF, Elasticsearch _bulk, Splunk HEC, MISP feed) and what
// became of their deliveries. Secrets come from a file or an environment variable, never from
// the command line (where `ps` shows them); a webhook secret Vantage generates is printed once.

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "common/strings.h"
#include "integrations/delivery_state.h"
#include "integrations/event_render.h"
#include "integrations/overview.h"
#include "integrations/sinks/registry.h"
#include "registry/secret_box.h"
#include "registry/validate.h"
#include "registry_cli.h"
#include "service/runtime.h"

namespace vantage::cli {

using service::open_store;

namespace {

using json = nlohmann::json;
using registry::Subscription;

struct SubFlags {
  std::string org, name, kind, address, min_severity, options_json, secret_file, secret_env;
  std::vector<std::string> types, option_pairs;
  int64_t id = 0;
  int64_t window = -1, max_batch = -1, limit = 50;
  bool disabled = false, enable = false, disable = false, json_out = false, payload = false;
  bool clear_types = false;
};

std::string state_path(const GlobalOptions& g) {
  return g.data_dir + "/integrations.sqlite";
}

// The secret from --secret-file / --secret-env (surrounding whitespace dropped); nullopt when
// neither was given.
std::optional<std::string> read_secret(const SubFlags& f, const char* command) {
  if (!f.secret_file.empty() && !f.secret_env.empty()) {
    std::cerr << "vantage " << command << ": give --secret-file or --secret-env, not both\n";
    throw CommandFailed(2);
  }
  if (!f.secret_file.empty()) {
    std::ifstream in(f.secret_file, std::ios::binary);
    if (!in) fail(command, Error::io("cannot read " + f.secret_file));
    std::string s((std::istreambuf_iterator<char>(in)), {});
    return std::string(trim(s));
  }
  if (!f.secret_env.empty()) {
    const char* v = std::getenv(f.secret_env.c_str());
    if (!v) fail(command, Error::invalid("environment variable " + f.secret_env + " is not set"));
    return std::string(trim(v));
  }
  return std::nullopt;
}

// --options JSON merged with --option k=v pairs (a value that parses as JSON -- true, 3 --
// is taken as such, anything else as a string).
std::string merged_options(const SubFlags& f, const std::string& base, const char* command) {
  json j = json::parse(f.options_json.empty() ? base : f.options_json, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    fail(command, Error::invalid("--options must be a JSON object"));
  for (const auto& pair : f.option_pairs) {
    size_t eq = pair.find('=');
    if (eq == std::string::npos || eq == 0)
      fail(command, Error::invalid("--option wants KEY=VALUE, got '" + pair + "'"));
    std::string value = pair.substr(eq + 1);
    json v = json::parse(value, nullptr, false);
    j[pair.substr(0, eq)] = v.is_discarded() || v.is_object() || v.is_array() ? json(value) : v;
  }
  return j.dump();
}

registry::Severity parse_severity_flag(const std::string& s, const char* command) {
  auto sev = registry::parse_severity(s);
  if (!sev)
    fail(command, Error::invalid("--min-severity: one of info, low, medium, high, critical"));
  return *sev;
}

void print_table(registry::Registry& reg, const json& subs) {
  std::map<int64_t, std::string> names;
  for (const auto& o : check(reg.list_orgs(), "subscription list")) names[o.id] = o.short_name;
  std::cout
      << "id\torganisation\tname\tkind\taddress\tmin\ttypes\tstate\tdelivered\tpending\tdead\n";
  for (const auto& s : subs) {
    const json& st = s["state"];
    std::string types;
    for (const auto& t : s["report_types"])
      types += (types.empty() ? "" : ",") + t.get<std::string>();
    std::cout << s["id"].get<int64_t>() << '\t' << s.value("org", std::string("-")) << '\t'
              << s["name"].get<std::string>() << '\t' << s["kind"].get<std::string>() << '\t'
              << (s["address"].get<std::string>().empty() ? "-" : s["address"].get<std::string>())
              << '\t' << s["min_severity"].get<std::string>() << '\t'
              << (types.empty() ? "all" : types) << '\t' << st["health"].get<std::string>() << '\t'
              << st["delivered_events"].get<int64_t>() << '\t'
              << st["pending_events"].get<int64_t>() << '\t' << st["dead_events"].get<int64_t>()
              << '\n';
    if (st.contains("last_error") && !st["last_error"].get<std::string>().empty())
      std::cout << "\t  last error: " << strip_control(st["last_error"].get<std::string>()) << '\n';
  }
}

// Starts the new subscription's cursor at the store's current end, so that it receives the
// events stored from now on even when the service is not running yet.
void start_cursor_now(const GlobalOptions& g, int64_t sub_id) {
  int64_t head = 0;  // no store yet: every event to come is after the subscription
  if (std::filesystem::exists(g.data_dir + "/events.sqlite")) {
    auto store = open_store(g);
    if (!store) return;  // the service starts the cursor when it first sees the subscription
    auto last = (*store)->last_event_id();
    if (!last) return;
    head = *last;
  }
  auto state = integrations::DeliveryState::open(state_path(g));
  if (state) (void)(*state)->start_cursor(sub_id, head);
}

// The settings `add` and `set` share (with `set`, each given one replaces the stored one).
void add_settings(CLI::App* cmd, SubFlags& f) {
  cmd->add_option("--address,--url", f.address,
                  "URL (webhook, elastic, splunk) or HOST:PORT (syslog); none for misp");
  cmd->add_option("--types", f.types, "Report types (a new one: all)")->delimiter(',');
  cmd->add_option("--min-severity", f.min_severity, "Alert threshold (a new one: high)");
  cmd->add_option("--window", f.window, "Batching window in seconds (a new one: 5)");
  cmd->add_option("--max-batch", f.max_batch, "Events per request (a new one: 500)");
  cmd->add_option("--options", f.options_json, "Kind-specific settings as a JSON object");
  cmd->add_option("--option", f.option_pairs, "One kind-specific setting, KEY=VALUE (repeatable)");
  cmd->add_option("--secret-file", f.secret_file, "File holding the secret (token, API key)");
  cmd->add_option("--secret-env", f.secret_env, "Environment variable holding the secret");
}

}  // namespace

void add_subscription_command(CLI::App& app, GlobalOptions& global) {
  auto f = std::make_shared<SubFlags>();
  auto* cmd = app.add_subcommand(
      "subscription",
      "Push subscriptions: an organisation's events, as they arrive, to its webhook, syslog "
      "collector (CEF), Elasticsearch, Splunk HEC or MISP");
  cmd->require_subcommand(1);

  auto* add = cmd->add_subcommand("add", "Add a subscription to an organisation");
  add->add_option("org", f->org, "Organisation (id or short name)")->required();
  add->add_option("--name", f->name, "Name, unique within the organisation")->required();
  add->add_option("--kind", f->kind, "webhook, syslog, elastic, splunk or misp")->required();
  add_settings(add, *f);
  add->add_flag("--disabled", f->disabled, "Create it disabled");
  add->callback([&global, f] {
    const char* command = "subscription add";
    auto reg = open_registry(global, command);
    auto org = check(reg->find_org(f->org), command);
    registry::NewSubscription n;
    n.name = f->name;
    auto kind = registry::parse_subscription_kind(f->kind);
    if (!kind)
      fail(command, Error::invalid("--kind: one of webhook, syslog, elastic, splunk, misp"));
    n.kind = *kind;
    n.address = f->address;
    n.report_types = f->types;
    if (!f->min_severity.empty()) n.min_severity = parse_severity_flag(f->min_severity, command);
    if (f->window >= 0) n.batch_window_s = f->window;
    if (f->max_batch >= 0) n.max_batch = f->max_batch;
    n.options = merged_options(*f, "{}", command);
    n.enabled = !f->disabled;
    bool generated = false;
    if (auto secret = read_secret(*f, command)) {
      n.secret = *secret;
    } else if (n.kind == registry::SubscriptionKind::kWebhook) {
      n.secret = check(registry::random_hex(32), command);
      generated = true;
    }
    // The kind checks its own settings before anything is stored.
    Subscription probe;
    probe.kind = n.kind;
    probe.address = check(registry::normalise_subscription_address(n.kind, n.address), command);
    probe.options = check(registry::normalise_subscription_options(n.options), command);
    probe.secret = n.secret;
    check(integrations::validate_subscription(probe), command);
    auto sub = check(reg->add_subscription(org.id, n), command);
    start_cursor_now(global, sub.id);
    std::cout << "added subscription " << sub.id << " (" << sub.name << ", "
              << registry::subscription_kind_name(sub.kind) << ") for " << org.short_name << "\n";
    if (sub.kind == registry::SubscriptionKind::kMisp)
      std::cout << "MISP feed URL: <base URL>/misp/" << org.short_name << "/" << sub.name
                << " (HTTP Basic: the organisation's API key and secret)\n";
    if (generated)
      std::cout << "signing secret: " << n.secret
                << "\nThe secret is shown only now; it is stored encrypted. Receivers check "
                   "X-Vantage-Signature with it (docs/integrations.md).\n";
  });

  auto* list = cmd->add_subcommand("list", "List subscriptions with their delivery state");
  list->add_option("org", f->org, "Only this organisation");
  list->add_flag("--json", f->json_out, "JSON instead of a table");
  list->callback([&global, f] {
    const char* command = "subscription list";
    auto reg = open_registry(global, command);
    std::optional<registry::OrgId> org;
    if (!f->org.empty()) org = check(reg->find_org(f->org), command).id;
    std::unique_ptr<integrations::DeliveryState> state;
    if (std::filesystem::exists(state_path(global)))
      state = check(integrations::DeliveryState::open(state_path(global)), command);
    json subs = check(integrations::subscriptions_overview(*reg, state.get(), org), command);
    std::map<int64_t, std::string> names;
    for (const auto& o : check(reg->list_orgs(), command)) names[o.id] = o.short_name;
    for (const auto& sub : check(reg->list_subscriptions(org, false), command)) {
      for (auto& s : subs)
        if (s["id"] == sub.id) s["org"] = names[sub.org_id];
    }
    if (f->json_out) {
      std::cout << subs.dump(2) << "\n";
    } else {
      print_table(*reg, subs);
    }
  });

  auto* set = cmd->add_subcommand("set", "Change a subscription");
  set->add_option("id", f->id, "Subscription id")->required();
  add_settings(set, *f);
  set->add_flag("--all-types", f->clear_types, "Every report type");
  set->add_flag("--enable", f->enable, "Deliver again");
  set->add_flag("--disable", f->disable, "Stop delivering (its place in the stream is kept)");
  set->callback([&global, f] {
    const char* command = "subscription set";
    auto reg = open_registry(global, command);
    Subscription current;
    bool found = false;
    for (auto& s : check(reg->list_subscriptions(std::nullopt, true), command)) {
      if (s.id == f->id) {
        current = std::move(s);
        found = true;
      }
    }
    if (!found) fail(command, Error::not_found("no subscription with id " + std::to_string(f->id)));
    registry::SubscriptionUpdate u;
    if (!f->address.empty()) u.address = f->address;
    if (!f->types.empty()) u.report_types = f->types;
    if (f->clear_types) u.report_types = std::vector<std::string>{};
    if (!f->min_severity.empty()) u.min_severity = parse_severity_flag(f->min_severity, command);
    if (f->window >= 0) u.batch_window_s = f->window;
    if (f->max_batch >= 0) u.max_batch = f->max_batch;
    if (!f->options_json.empty() || !f->option_pairs.empty())
      u.options = merged_options(*f, current.options, command);
    if (f->enable && f->disable) fail(command, Error::invalid("--enable or --disable, not both"));
    if (f->enable) u.enabled = true;
    if (f->disable) u.enabled = false;
    if (auto secret = read_secret(*f, command)) u.secret = *secret;
    Subscription probe = current;
    if (u.address)
      probe.address =
          check(registry::normalise_subscription_address(probe.kind, *u.address), command);
    if (u.options)
      probe.options = check(registry::normalise_subscription_options(*u.options), command);
    if (u.secret) probe.secret = *u.secret;
    check(integrations::validate_subscription(probe), command);
    auto sub = check(reg->update_subscription(f->id, u), command);
    std::cout << "updated subscription " << sub.id << " (" << sub.name << ")"
              << (sub.enabled ? "" : ", disabled") << "\n";
  });

  auto* remove = cmd->add_subcommand("remove", "Remove a subscription");
  remove->add_option("id", f->id, "Subscription id")->required();
  remove->callback([&global, f] {
    auto reg = open_registry(global, "subscription remove");
    check(reg->remove_subscription(f->id), "subscription remove");
    std::cout << "removed subscription " << f->id << "\n";
  });

  auto* log = cmd->add_subcommand("log", "The delivery log: one line per attempt, newest first");
  log->add_option("id", f->id, "Only this subscription");
  log->add_option("--limit", f->limit, "Lines")->capture_default_str();
  log->callback([&global, f] {
    const char* command = "subscription log";
    if (!std::filesystem::exists(state_path(global))) return;  // nothing delivered yet
    auto state = check(integrations::DeliveryState::open(state_path(global)), command);
    std::optional<int64_t> sub;
    if (f->id > 0) sub = f->id;
    std::cout << "at\tsubscription\tbatch\tattempt\toutcome\tstatus\tevents\tbytes\tms\tlatency_"
                 "ms\tdetail\n";
    for (const auto& a : check(state->attempts(sub, f->limit), command)) {
      std::cout << integrations::rfc3339(a.at_ms / 1000) << '\t' << a.sub_id << '\t' << a.seq
                << '\t' << a.attempt << '\t' << a.outcome << '\t' << a.status << '\t' << a.events
                << '\t' << a.bytes << '\t' << a.millis << '\t' << a.latency_ms << '\t'
                << strip_control(a.detail) << '\n';
    }
  });

  auto* dead = cmd->add_subcommand(
      "dead-letters", "Batches given up after their last attempt (with --payload: their bodies)");
  dead->add_option("id", f->id, "Only this subscription");
  dead->add_flag("--payload", f->payload, "Print each batch's body as it was sent");
  dead->callback([&global, f] {
    const char* command = "subscription dead-letters";
    if (!std::filesystem::exists(state_path(global))) return;
    auto state = check(integrations::DeliveryState::open(state_path(global)), command);
    std::optional<int64_t> sub;
    if (f->id > 0) sub = f->id;
    for (const auto& b : check(state->dead_letters(sub, f->payload, 1000), command)) {
      std::cout << "subscription " << b.sub_id << " batch " << b.seq << ": " << b.events
                << " events (ids " << b.first_event << ".." << b.last_event << "), " << b.attempts
                << " attempts, last error: " << strip_control(b.last_error) << "\n";
      if (f->payload) std::cout << b.payload << (b.payload.ends_with('\n') ? "" : "\n");
    }
  });

  auto* kinds = cmd->add_subcommand("kinds", "The destination kinds and their options");
  kinds->callback([] {
    for (const auto& k : integrations::sink_kinds()) {
      std::cout << registry::subscription_kind_name(k.kind) << "\t" << k.summary
                << "\n\toptions: " << k.options << (k.needs_secret ? "\n\tneeds a secret" : "")
                << "\n";
    }
  });
}

}  // namespace vantage::cli

// `vantage key issue|revoke|list|rotate`: API keys (Shadowserver-compatible apikey + HMAC
// secret) and ingest keys. A secret is printed once, when it is issued or rotated.

#include <iostream>

#include "commands.h"
#include "common/strings.h"
#include "registry_cli.h"

namespace vantage::cli {
namespace {

using namespace vantage::registry;

// "0", "3600", "90s", "30m", "24h", "7d" -> seconds.
Result<int64_t> parse_duration(std::string_view s) {
  if (s.empty()) return Error::invalid("empty duration");
  int64_t unit = 1;
  switch (s.back()) {
    case 's': unit = 1; break;
    case 'm': unit = 60; break;
    case 'h': unit = 3600; break;
    case 'd': unit = 86400; break;
    default: unit = 0;
  }
  std::string_view digits = unit ? s.substr(0, s.size() - 1) : s;
  auto n = parse_uint(digits);
  if (!n || *n > 10u * 365 * 86400) {
    return Error::invalid("invalid duration '" + std::string(s) +
                          "': use e.g. 0, 3600, 30m, 24h, 7d");
  }
  return static_cast<int64_t>(*n) * (unit ? unit : 1);
}

void print_secret(const IssuedKey& k, const char* verb) {
  std::cout << verb << " " << key_kind_name(k.kind) << " key\n"
            << "key:    " << k.key << "\n"
            << "secret: " << k.secret << "\n"
            << "The secret is shown only now; it is stored encrypted and cannot be displayed "
               "again.\n";
}

struct KeyOptions {
  std::string org, key, label, overlap = "0";
  bool ingest = false;
};

}  // namespace

void add_key_command(CLI::App& app, GlobalOptions& global) {
  auto o = std::make_shared<KeyOptions>();
  auto* cmd = app.add_subcommand("key", "API keys (HMAC secrets) and ingest keys");
  cmd->require_subcommand(1);

  auto* issue = cmd->add_subcommand("issue", "Issue a key; prints key and secret once");
  issue->add_option("org", o->org, "Organisation (id or short name); optional for --ingest");
  issue->add_flag("--ingest", o->ingest, "An ingest key for the pipeline's push endpoint");
  issue->add_option("--label", o->label, "Free-text label");
  issue->callback([&global, o] {
    auto reg = open_registry(global, "key issue");
    std::optional<OrgId> org;
    if (!o->org.empty()) org = check(reg->find_org(o->org), "key issue").id;
    auto k = check(reg->issue_key(org, o->ingest ? KeyKind::kIngest : KeyKind::kApi, o->label),
                   "key issue");
    print_secret(k, "issued");
  });

  auto* rotate = cmd->add_subcommand("rotate", "New secret for a key; prints it once");
  rotate->add_option("key", o->key, "The key")->required();
  rotate
      ->add_option("--overlap", o->overlap,
                   "How long the old secret keeps working (0 = revoked now; 30m, 24h, 7d)")
      ->capture_default_str();
  rotate->callback([&global, o] {
    auto reg = open_registry(global, "key rotate");
    auto overlap = check(parse_duration(o->overlap), "key rotate");
    auto k = check(reg->rotate_key(o->key, overlap), "key rotate");
    print_secret(k, "rotated");
    if (overlap > 0) {
      std::cout << "The previous secret stays valid until "
                << format_timestamp(now_seconds() + overlap) << " UTC.\n";
    }
  });

  auto* revoke = cmd->add_subcommand("revoke", "Revoke a key (its secrets are destroyed)");
  revoke->add_option("key", o->key, "The key")->required();
  revoke->callback([&global, o] {
    auto reg = open_registry(global, "key revoke");
    check(reg->revoke_key(o->key), "key revoke");
    std::cout << "revoked " << o->key << "\n";
  });

  auto* list = cmd->add_subcommand("list", "List keys (never secrets)");
  list->add_option("org", o->org, "Only this organisation");
  list->callback([&global, o] {
    auto reg = open_registry(global, "key list");
    std::optional<OrgId> org;
    std::map<OrgId, std::string> names;
    for (const auto& x : check(reg->list_orgs(), "key list")) names[x.id] = x.short_name;
    if (!o->org.empty()) org = check(reg->find_org(o->org), "key list").id;
    std::cout << "key\tkind\torganisation\tstatus\tsecrets\tcreated\tlabel\n";
    for (const auto& k : check(reg->list_keys(org), "key list")) {
      std::cout << k.key << '\t' << key_kind_name(k.kind) << '\t'
                << (k.org_id ? names[*k.org_id] : "-") << '\t'
                << (k.revoked_at ? "revoked" : "active") << '\t' << k.secrets.size() << '\t'
                << format_timestamp(k.created_at) << '\t' << strip_control(k.label) << '\n';
    }
  });
}

}  // namespace vantage::cli

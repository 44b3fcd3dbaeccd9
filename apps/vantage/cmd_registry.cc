// `vantage registry export FILE | import FILE` (the whole registry as one JSON document) and
// `vantage match VALUE` (who would receive an event, and why).

#include <fcntl.h>
#include <unistd.h>

#include <fstream>
#include <iostream>
#include <sstream>

#include "commands.h"
#include "common/strings.h"
#include "match/subscription_index.h"
#include "registry/json_io.h"
#include "registry/validate.h"
#include "registry_cli.h"

namespace vantage::cli {
namespace {

using namespace vantage::registry;

// Writes through a temporary file and rename, so a crash never leaves half an export; the
// file is 0600 because it may hold secrets.
Status write_file_atomically(const std::string& path, const std::string& data) {
  const std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Error::io("cannot create " + tmp);
  bool ok = ::write(fd, data.data(), data.size()) == static_cast<ssize_t>(data.size()) &&
            ::fsync(fd) == 0;
  ::close(fd);
  if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) {
    ::unlink(tmp.c_str());
    return Error::io("cannot write " + path);
  }
  return {};
}

struct MatchOptions {
  std::string value, ip, asn, domain, cc, type, severity = "critical";
  bool most_specific = false, require_approval = false;
};

// The claims of `rec` that explain a match, with the other orgs claiming the same thing.
std::vector<std::string> explain(const OrgRecord& rec, const match::EventKeys& k,
                                 const RegistrySnapshot& snap) {
  std::vector<std::string> out;
  std::string host = to_lower(k.hostname);
  if (!host.empty() && host.back() == '.') host.pop_back();
  for (const auto& r : rec.resources) {
    if (r.approval == Approval::kRejected) continue;
    bool hit = false;
    if (r.kind == ResourceKind::kCidr && k.ip) {
      auto p = parse_cidr(r.value);
      hit = p && p->prefix.is_v4() == k.ip->is_v4() && p->prefix.contains(*k.ip);
    } else if (r.kind == ResourceKind::kAsn && k.asn) {
      hit = r.value == std::to_string(k.asn);
    } else if (r.kind == ResourceKind::kDomain && !host.empty()) {
      hit = host == r.value || (host.size() > r.value.size() && host.ends_with("." + r.value));
    } else if (r.kind == ResourceKind::kCountry && !k.country.empty()) {
      hit = r.value == to_lower(k.country) || r.value == std::string(k.country) ||
            to_lower(r.value) == to_lower(k.country);
    }
    if (!hit) continue;
    std::string line = std::string(resource_kind_name(r.kind)) + " " + r.value + " [" +
                       verification_name(r.verification) + ", " + approval_name(r.approval) + "]";
    std::string others;
    for (const auto& o : snap.orgs) {
      if (o.org.id == rec.org.id) continue;
      for (const auto& r2 : o.resources) {
        if (r2.kind == r.kind && r2.value == r.value) others += " " + o.org.short_name;
      }
    }
    if (!others.empty()) line += "  SHARED with" + others;
    out.push_back(line);
  }
  return out;
}

}  // namespace

void add_registry_command(CLI::App& app, GlobalOptions& global) {
  auto* cmd = app.add_subcommand("registry", "The whole registry as one JSON file");
  cmd->require_subcommand(1);
  auto file = std::make_shared<std::string>();
  auto with_secrets = std::make_shared<bool>(false);
  auto prune = std::make_shared<bool>(false);

  auto* exp = cmd->add_subcommand("export", "Write the registry to FILE ('-' for stdout)");
  exp->add_option("file", *file, "Output file")->required();
  exp->add_flag("--with-secrets", *with_secrets,
                "Include API-key secrets in plaintext (the file is created 0600)");
  exp->callback([&global, file, with_secrets] {
    auto reg = open_registry(global, "registry export");
    auto snap = check(reg->snapshot(*with_secrets), "registry export");
    const std::string text = snapshot_to_json(snap);
    if (*file == "-") {
      std::cout << text;
    } else {
      check(write_file_atomically(*file, text), "registry export");
      std::cerr << "exported " << snap.orgs.size() << " organisation(s) to " << *file
                << (*with_secrets ? " WITH SECRETS: keep the file safe" : "") << "\n";
    }
  });

  auto* imp = cmd->add_subcommand("import", "Apply FILE to the registry (one transaction)");
  imp->add_option("file", *file, "Input file ('-' for stdin)")->required();
  imp->add_flag("--prune", *prune, "Remove organisations that are not in the file");
  imp->callback([&global, file, prune] {
    std::stringstream ss;
    if (*file == "-") {
      ss << std::cin.rdbuf();
    } else {
      std::ifstream in(*file, std::ios::binary);
      if (!in) fail("registry import", Error::io("cannot read " + *file));
      ss << in.rdbuf();
    }
    auto snap = check(snapshot_from_json(ss.str()), "registry import");
    auto reg = open_registry(global, "registry import");
    ImportOptions options;
    options.remove_missing = *prune;
    auto report = check(reg->import(snap, options), "registry import");
    for (const auto& line : report.lines) std::cout << line << "\n";
    std::cout << "organisations: " << report.orgs_added << " added, " << report.orgs_updated
              << " updated, " << report.orgs_unchanged << " unchanged, " << report.orgs_removed
              << " removed; keys: " << report.keys_added << " added, " << report.keys_skipped
              << " skipped\n";
  });
}

void add_match_command(CLI::App& app, GlobalOptions& global) {
  auto o = std::make_shared<MatchOptions>();
  auto* cmd = app.add_subcommand(
      "match", "Which organisations would receive an event with these keys, and why");
  cmd->add_option("value", o->value,
                  "An IP address, ASN (AS64500), domain/hostname or country code (NL)");
  cmd->add_option("--ip", o->ip, "Event IP address");
  cmd->add_option("--asn", o->asn, "Event ASN");
  cmd->add_option("--domain", o->domain, "Event hostname");
  cmd->add_option("--cc", o->cc, "Event country code");
  cmd->add_option("--type", o->type, "Report type (applies opt-outs)");
  cmd->add_option("--severity", o->severity, "Event severity (applies minimum severities)")
      ->capture_default_str();
  cmd->add_flag("--most-specific", o->most_specific, "Only the longest covering CIDR claims");
  cmd->add_flag("--require-approval", o->require_approval, "Only approved claims match");
  cmd->callback([&global, o] {
    match::EventKeys k;
    std::string host, cc;
    auto set_from = [&](const std::string& text, std::optional<ResourceKind> kind) {
      if (!kind || *kind == ResourceKind::kCidr) {
        if (auto ip = IpAddress::parse(trim(text))) {
          k.ip = *ip;
          return;
        }
        if (kind) fail("match", Error::invalid("not an IP address: '" + text + "'"));
      }
      ResourceValue v = kind ? check(normalise_resource(*kind, text), "match")
                             : check(normalise_resource_auto(text), "match");
      switch (v.kind) {
        case ResourceKind::kAsn: k.asn = static_cast<uint32_t>(std::stoul(v.value)); break;
        case ResourceKind::kDomain: host = v.value; break;
        case ResourceKind::kCountry: cc = v.value; break;
        case ResourceKind::kCidr:
          fail("match", Error::invalid("give an address, not a prefix: '" + text + "'"));
      }
    };
    if (!o->value.empty()) set_from(o->value, std::nullopt);
    if (!o->ip.empty()) set_from(o->ip, ResourceKind::kCidr);
    if (!o->asn.empty()) set_from(o->asn, ResourceKind::kAsn);
    if (!o->domain.empty()) set_from(o->domain, ResourceKind::kDomain);
    if (!o->cc.empty()) set_from(o->cc, ResourceKind::kCountry);
    if (!k.ip && !k.asn && host.empty() && cc.empty()) {
      fail("match", Error::invalid("give at least one of: IP, ASN, domain, country"));
    }
    k.hostname = host;
    k.country = cc;
    k.report_type = o->type;
    auto sev = parse_severity(o->severity);
    if (!sev) fail("match", Error::invalid("--severity must be info|low|medium|high|critical"));
    k.severity = *sev;

    auto reg = open_registry(global, "match");
    auto snap = check(reg->snapshot(false), "match");
    match::BuildOptions bo;
    bo.require_approval = o->require_approval;
    auto index =
        match::SubscriptionIndex::build(match::specs_from_snapshot(snap, bo), snap.generation);
    match::MatchBuffer buf(*index);
    auto matches = index->match(
        k, buf, o->most_specific ? match::CidrMode::kMostSpecific : match::CidrMode::kAllCovering);
    if (matches.empty()) {
      std::cout << "no organisation receives this event\n";
      return;
    }
    for (const auto& m : matches) {
      const auto& entry = index->org(m.org);
      std::cout << entry.short_name << " (id " << entry.org_id
                << ")  why: " << match::reason_names(m.why) << "\n";
      for (const auto& rec : snap.orgs) {
        if (rec.org.id != entry.org_id) continue;
        for (const auto& line : explain(rec, k, snap)) std::cout << "    " << line << "\n";
      }
    }
  });
}

}  // namespace vantage::cli

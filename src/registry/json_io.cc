#include "registry/json_io.h"

#include <nlohmann/json.hpp>

namespace vantage::registry {
namespace {

using nlohmann::json;

json key_to_json(const ApiKey& k) {
  json secrets = json::array();
  for (const auto& s : k.secrets) {
    json j = {{"created_at", s.created_at}, {"expires_at", s.expires_at}};
    if (!s.secret.empty()) j["secret"] = s.secret;
    secrets.push_back(std::move(j));
  }
  return {{"key", k.key},
          {"kind", key_kind_name(k.kind)},
          {"label", k.label},
          {"created_at", k.created_at},
          {"revoked_at", k.revoked_at},
          {"secrets", std::move(secrets)}};
}

// Parsing helpers that say where a bad value is.
struct Reader {
  std::string path;
  const json& at(const json& j, const char* field) const {
    if (!j.is_object() || !j.contains(field)) {
      throw std::runtime_error(path + ": missing \"" + field + "\"");
    }
    return j.at(field);
  }
  std::string str(const json& j, const char* field, bool required = true) const {
    if (!required && (!j.contains(field) || j.at(field).is_null())) return {};
    const json& v = at(j, field);
    if (!v.is_string()) throw std::runtime_error(path + "." + field + ": expected a string");
    return v.get<std::string>();
  }
  int64_t num(const json& j, const char* field) const {
    if (!j.contains(field)) return 0;
    const json& v = j.at(field);
    if (!v.is_number_integer())
      throw std::runtime_error(path + "." + field + ": expected an integer");
    return v.get<int64_t>();
  }
  template <typename E>
  E enumeration(const json& j, const char* field, std::optional<E> (*parse)(std::string_view),
                E fallback) const {
    if (!j.contains(field)) return fallback;
    auto v = parse(str(j, field));
    if (!v) throw std::runtime_error(path + "." + field + ": unknown value");
    return *v;
  }
  std::vector<std::string> strings(const json& j, const char* field) const {
    std::vector<std::string> out;
    if (!j.contains(field)) return out;
    const json& a = j.at(field);
    if (!a.is_array()) throw std::runtime_error(path + "." + field + ": expected an array");
    for (const auto& v : a) {
      if (!v.is_string()) throw std::runtime_error(path + "." + field + ": expected strings");
      out.push_back(v.get<std::string>());
    }
    return out;
  }
  const json& array(const json& j, const char* field) const {
    static const json kEmpty = json::array();
    if (!j.contains(field)) return kEmpty;
    const json& a = j.at(field);
    if (!a.is_array()) throw std::runtime_error(path + "." + field + ": expected an array");
    return a;
  }
};

ApiKey key_from_json(const json& j, const std::string& path) {
  Reader r{path};
  ApiKey k;
  k.key = r.str(j, "key");
  k.kind = r.enumeration<KeyKind>(j, "kind", parse_key_kind, KeyKind::kApi);
  k.label = r.str(j, "label", false);
  k.created_at = r.num(j, "created_at");
  k.revoked_at = r.num(j, "revoked_at");
  const json& secrets = r.array(j, "secrets");
  for (size_t i = 0; i < secrets.size(); ++i) {
    Reader sr{path + ".secrets[" + std::to_string(i) + "]"};
    KeySecret s;
    s.created_at = sr.num(secrets[i], "created_at");
    s.expires_at = sr.num(secrets[i], "expires_at");
    s.secret = sr.str(secrets[i], "secret", false);
    k.secrets.push_back(std::move(s));
  }
  return k;
}

}  // namespace

std::string snapshot_to_json(const RegistrySnapshot& snap) {
  json orgs = json::array();
  for (const auto& rec : snap.orgs) {
    const auto& o = rec.org;
    json contacts = json::array();
    for (const auto& c : rec.contacts) {
      contacts.push_back(
          {{"name", c.name}, {"email", c.email}, {"title", c.title}, {"phone", c.phone}});
    }
    json resources = json::array();
    for (const auto& r : rec.resources) {
      resources.push_back({{"kind", resource_kind_name(r.kind)},
                           {"value", r.value},
                           {"verification", verification_name(r.verification)},
                           {"verification_detail", r.verification_detail},
                           {"checked_at", r.checked_at},
                           {"approval", approval_name(r.approval)},
                           {"dns_token", r.dns_token},
                           {"created_at", r.created_at}});
    }
    json keys = json::array();
    for (const auto& k : rec.keys) keys.push_back(key_to_json(k));
    orgs.push_back({{"short_name", o.short_name},
                    {"name", o.name},
                    {"kind", org_kind_name(o.kind)},
                    {"min_severity", severity_name(o.min_severity)},
                    {"pgp_key", o.pgp_key ? json(*o.pgp_key) : json(nullptr)},
                    {"created_at", o.created_at},
                    {"updated_at", o.updated_at},
                    {"contacts", std::move(contacts)},
                    {"recipients", rec.recipients},
                    {"resources", std::move(resources)},
                    {"ignores", rec.ignores},
                    {"opt_outs", rec.opt_outs},
                    {"keys", std::move(keys)}});
  }
  json ingest = json::array();
  for (const auto& k : snap.unowned_keys) ingest.push_back(key_to_json(k));
  json doc = {{"format", "vantage-registry"},
              {"version", 1},
              {"generation", snap.generation},
              {"organisations", std::move(orgs)},
              {"ingest_keys", std::move(ingest)}};
  return doc.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

Result<RegistrySnapshot> snapshot_from_json(std::string_view text) {
  try {
    json doc = json::parse(text);
    Reader r{"$"};
    if (r.str(doc, "format") != "vantage-registry") {
      return Error::invalid("not a vantage registry export (format field)");
    }
    if (r.num(doc, "version") != 1) return Error::invalid("unsupported registry export version");
    RegistrySnapshot snap;
    snap.generation = static_cast<uint64_t>(r.num(doc, "generation"));
    const json& orgs = r.array(doc, "organisations");
    for (size_t i = 0; i < orgs.size(); ++i) {
      const json& j = orgs[i];
      Reader o{"$.organisations[" + std::to_string(i) + "]"};
      OrgRecord rec;
      rec.org.short_name = o.str(j, "short_name");
      rec.org.name = o.str(j, "name");
      rec.org.kind = o.enumeration<OrgKind>(j, "kind", parse_org_kind, OrgKind::kOrganisation);
      rec.org.min_severity =
          o.enumeration<Severity>(j, "min_severity", parse_severity, Severity::kInfo);
      if (j.contains("pgp_key") && !j.at("pgp_key").is_null())
        rec.org.pgp_key = o.str(j, "pgp_key");
      rec.org.created_at = o.num(j, "created_at");
      rec.org.updated_at = o.num(j, "updated_at");
      const json& contacts = o.array(j, "contacts");
      for (size_t c = 0; c < contacts.size(); ++c) {
        Reader cr{o.path + ".contacts[" + std::to_string(c) + "]"};
        rec.contacts.push_back({0, cr.str(contacts[c], "name"), cr.str(contacts[c], "email"),
                                cr.str(contacts[c], "title", false),
                                cr.str(contacts[c], "phone", false)});
      }
      rec.recipients = o.strings(j, "recipients");
      const json& resources = o.array(j, "resources");
      for (size_t k = 0; k < resources.size(); ++k) {
        const json& rj = resources[k];
        Reader rr{o.path + ".resources[" + std::to_string(k) + "]"};
        Resource res;
        res.kind =
            rr.enumeration<ResourceKind>(rj, "kind", parse_resource_kind, ResourceKind::kCidr);
        res.value = rr.str(rj, "value");
        res.verification = rr.enumeration<Verification>(rj, "verification", parse_verification,
                                                        Verification::kUnchecked);
        res.verification_detail = rr.str(rj, "verification_detail", false);
        res.checked_at = rr.num(rj, "checked_at");
        res.approval = rr.enumeration<Approval>(rj, "approval", parse_approval, Approval::kPending);
        res.dns_token = rr.str(rj, "dns_token", false);
        res.created_at = rr.num(rj, "created_at");
        rec.resources.push_back(std::move(res));
      }
      rec.ignores = o.strings(j, "ignores");
      rec.opt_outs = o.strings(j, "opt_outs");
      const json& keys = o.array(j, "keys");
      for (size_t k = 0; k < keys.size(); ++k) {
        rec.keys.push_back(key_from_json(keys[k], o.path + ".keys[" + std::to_string(k) + "]"));
      }
      snap.orgs.push_back(std::move(rec));
    }
    const json& ingest = r.array(doc, "ingest_keys");
    for (size_t k = 0; k < ingest.size(); ++k) {
      snap.unowned_keys.push_back(
          key_from_json(ingest[k], "$.ingest_keys[" + std::to_string(k) + "]"));
    }
    return snap;
  } catch (const std::exception& e) {
    // nlohmann and Reader throw; this is the library's edge.
    return Error::invalid(std::string("registry JSON: ") + e.what());
  }
}

}  // namespace vantage::registry

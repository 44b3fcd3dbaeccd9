#include "sensors/sinkhole/families.h"

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace vantage::sinkhole {

namespace {

bool valid_severity(const std::string& s) {
  return s == "critical" || s == "high" || s == "medium" || s == "low" || s == "info";
}

}  // namespace

Result<Families> Families::load_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Error::io("cannot read families file " + path);
  std::ostringstream text;
  text << in.rdbuf();
  auto f = parse(text.str());
  if (!f) return Error::invalid(path + ": " + f.error().message);
  return f;
}

Result<Families> Families::parse(std::string_view json_text) {
  auto j = nlohmann::json::parse(json_text, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("families") || !j["families"].is_array()) {
    return Error::invalid("want a JSON object with a \"families\" array");
  }
  Families out;
  out.list_.push_back(
      {"unknown", "unknown", "unknown", "medium", "", "no rule or domain names it"});
  out.by_name_["unknown"] = kUnknown;
  size_t n = 0;
  for (const auto& e : j["families"]) {
    ++n;
    auto where = "family #" + std::to_string(n);
    if (!e.is_object() || !e.contains("name") || !e["name"].is_string()) {
      return Error::invalid(where + ": want an object with a \"name\"");
    }
    Family f;
    f.name = e["name"].get<std::string>();
    for (char c : f.name) {
      if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.')) {
        return Error::invalid(where + ": name '" + f.name + "' wants [A-Za-z0-9._-]");
      }
    }
    if (f.name.empty()) return Error::invalid(where + ": empty name");
    auto text = [&](const char* key, std::string& field) -> Status {
      if (!e.contains(key)) return {};
      if (!e[key].is_string())
        return Error::invalid(where + " (" + f.name + "): " + key + " is not a string");
      field = e[key].get<std::string>();
      return {};
    };
    for (auto [key, field] : {std::pair<const char*, std::string*>{"infection", &f.infection},
                              {"tag", &f.tag},
                              {"severity", &f.severity},
                              {"url", &f.url},
                              {"description", &f.description}}) {
      if (auto st = text(key, *field); !st) return st.error();
    }
    if (f.infection.empty()) f.infection = f.name;
    if (f.tag.empty()) f.tag = f.name;
    if (f.severity.empty()) f.severity = "critical";
    if (!valid_severity(f.severity)) {
      return Error::invalid(where + " (" + f.name + "): severity '" + f.severity +
                            "' is not critical/high/medium/low/info");
    }
    if (f.name == "unknown") {  // the operator may restate how unknown traffic is reported
      out.list_[kUnknown] = std::move(f);
      continue;
    }
    if (out.by_name_.count(f.name))
      return Error::invalid(where + ": duplicate family '" + f.name + "'");
    if (out.list_.size() >= 65535) return Error::invalid("too many families");
    out.by_name_[f.name] = static_cast<uint16_t>(out.list_.size());
    out.list_.push_back(std::move(f));
  }
  return out;
}

int Families::find(std::string_view name) const {
  auto it = by_name_.find(std::string(name));
  return it == by_name_.end() ? -1 : it->second;
}

}  // namespace vantage::sinkhole

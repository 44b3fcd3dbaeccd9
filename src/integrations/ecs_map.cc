#include "integrations/ecs_map.h"

#include <cstdlib>
#include <iostream>
#include <nlohmann/json.hpp>

namespace vantage::integrations {

namespace {

using json = nlohmann::json;

Result<EcsMap::Target> parse_target(const std::string& where, const json& v) {
  if (!v.is_string() || v.get<std::string>().empty())
    return Error::invalid("ECS map: " + where + " must name a field");
  EcsMap::Target t;
  t.field = v.get<std::string>();
  if (t.field.size() > 2 && t.field.ends_with("[]")) {
    t.array = true;
    t.field.resize(t.field.size() - 2);
  }
  for (char c : t.field) {
    bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '@';
    if (!ok) return Error::invalid("ECS map: " + where + ": bad field name '" + t.field + "'");
  }
  return t;
}

}  // namespace

const EcsMap& EcsMap::builtin() {
  static const EcsMap map = [] {
    auto parsed = parse(builtin_ecs_json());
    if (!parsed) {
      std::cerr << "embedded schemas/ecs.json is invalid: " << parsed.error().message << "\n";
      std::abort();
    }
    return std::move(*parsed);
  }();
  return map;
}

Result<EcsMap> EcsMap::parse(std::string_view json_text) {
  json j = json::parse(json_text, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("columns") || !j["columns"].is_object())
    return Error::invalid("ECS map: expected a JSON object with a \"columns\" object");
  EcsMap out;
  out.version_ = j.value("ecs_version", "");
  out.unmapped_prefix_ = j.value("unmapped_prefix", "vantage.row.");
  for (const auto& [column, v] : j["columns"].items()) {
    auto t = parse_target(column, v);
    if (!t) return t.error();
    out.columns_[column] = std::move(*t);
  }
  if (j.contains("types")) {
    if (!j["types"].is_object()) return Error::invalid("ECS map: \"types\" must be an object");
    for (const auto& [type, cols] : j["types"].items()) {
      if (!cols.is_object()) return Error::invalid("ECS map: types." + type + " must be an object");
      for (const auto& [column, v] : cols.items()) {
        auto t = parse_target(type + "." + column, v);
        if (!t) return t.error();
        out.types_[type][column] = std::move(*t);
      }
    }
  }
  return out;
}

EcsMap::Target EcsMap::target(std::string_view type, std::string_view column) const {
  if (auto t = types_.find(type); t != types_.end()) {
    if (auto c = t->second.find(column); c != t->second.end()) return c->second;
  }
  if (auto c = columns_.find(column); c != columns_.end()) return c->second;
  return {unmapped_prefix_ + std::string(column), false};
}

}  // namespace vantage::integrations

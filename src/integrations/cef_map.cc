#include "integrations/cef_map.h"

#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <set>

namespace vantage::integrations {

namespace {

using json = nlohmann::json;

// The CEF extension dictionary (ArcSight "Implementing ArcSight CEF", revision 25), the keys a
// report column can sensibly land in.
constexpr std::string_view kCefKeys[] = {"act",
                                         "app",
                                         "c6a1",
                                         "c6a2",
                                         "c6a3",
                                         "c6a4",
                                         "cat",
                                         "cfp1",
                                         "cfp2",
                                         "cfp3",
                                         "cfp4",
                                         "cn1",
                                         "cn2",
                                         "cn3",
                                         "cnt",
                                         "cs1",
                                         "cs2",
                                         "cs3",
                                         "cs4",
                                         "cs5",
                                         "cs6",
                                         "dhost",
                                         "dmac",
                                         "dntdom",
                                         "dpid",
                                         "dpriv",
                                         "dproc",
                                         "dpt",
                                         "dst",
                                         "duid",
                                         "duser",
                                         "dvc",
                                         "dvchost",
                                         "end",
                                         "externalId",
                                         "fname",
                                         "fsize",
                                         "in",
                                         "msg",
                                         "out",
                                         "outcome",
                                         "proto",
                                         "reason",
                                         "request",
                                         "requestClientApplication",
                                         "requestMethod",
                                         "rt",
                                         "shost",
                                         "smac",
                                         "sntdom",
                                         "spid",
                                         "spriv",
                                         "sproc",
                                         "spt",
                                         "src",
                                         "start",
                                         "suid",
                                         "suser",
                                         "deviceExternalId",
                                         "deviceDirection",
                                         "destinationServiceName",
                                         "sourceServiceName"};

// Keys upstream spells in a way CEF does not know, and what they mean.
const std::map<std::string_view, std::string_view> kKeyTypos = {{"dn3", "cn3"}};

bool is_column(const core::ReportType& t, std::string_view name) {
  return t.column_index(name) >= 0;
}

}  // namespace

bool is_cef_key(std::string_view key) {
  return std::find(std::begin(kCefKeys), std::end(kCefKeys), key) != std::end(kCefKeys);
}

std::string cef_label_key(std::string_view key) {
  for (std::string_view custom : {"cs", "cn", "cfp", "c6a"}) {
    if (key.size() == custom.size() + 1 && key.substr(0, custom.size()) == custom &&
        key.back() >= '1' && key.back() <= '6')
      return std::string(key) + "Label";
  }
  return {};
}

const CefMap& CefMap::builtin() {
  static const CefMap map = [] {
    auto parsed = parse(builtin_cef_json());
    if (!parsed) {
      std::cerr << "embedded schemas/cef.json is invalid: " << parsed.error().message << "\n";
      std::abort();
    }
    return std::move(*parsed);
  }();
  return map;
}

Result<CefMap> CefMap::parse(std::string_view json_text) {
  json j = json::parse(json_text, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("types") || !j["types"].is_object())
    return Error::invalid("CEF map: expected a JSON object with a \"types\" object");
  CefMap out;
  for (const auto& [type, fields] : j["types"].items()) {
    if (!fields.is_object()) return Error::invalid("CEF map: type " + type + " is not an object");
    auto& m = out.types_[type];
    std::set<std::string> keys;
    for (const auto& [column, key] : fields.items()) {
      if (!key.is_string() || !is_cef_key(key.get<std::string>()))
        return Error::invalid("CEF map: " + type + "." + column + " is not mapped to a CEF key");
      if (!keys.insert(key.get<std::string>()).second)
        return Error::invalid("CEF map: " + type + " maps two columns to " +
                              key.get<std::string>());
      m[column] = key.get<std::string>();
    }
  }
  return out;
}

std::vector<CefMap::Field> CefMap::fields(const core::ReportType& type) const {
  std::vector<Field> out;
  auto it = types_.find(type.name);
  if (it == types_.end()) return out;
  for (const auto& c : type.columns) {
    if (auto f = it->second.find(c.name); f != it->second.end()) out.push_back({c.name, f->second});
  }
  return out;
}

Result<CefImport> import_cef_map(std::string_view upstream_json, const core::Catalogue& catalogue,
                                 std::string_view source) {
  json in = json::parse(upstream_json, nullptr, false);
  if (in.is_discarded() || !in.is_object())
    return Error::invalid("cef.json: expected a JSON object of report types");
  CefImport out;
  json types = json::object();
  for (const auto& [name, entry] : in.items()) {
    const core::ReportType* t = catalogue.find(name);
    if (!entry.is_object() || !entry.contains("map") || !entry["map"].is_object())
      return Error::invalid("cef.json: " + name + " has no \"map\" object");
    if (!t) {
      out.corrections.push_back(name + ": not a report type of the catalogue; skipped");
      continue;
    }
    json fields = json::object();
    for (const auto& [left, right_value] : entry["map"].items()) {
      if (!right_value.is_string()) return Error::invalid("cef.json: " + name + "." + left);
      std::string column = left, key = right_value.get<std::string>();
      const std::string as_written = "\"" + left + "\": \"" + key + "\"";
      if (!is_column(*t, column) && is_cef_key(column) && is_column(*t, key)) {
        std::swap(column, key);
        out.corrections.push_back(name + ": " + as_written +
                                  " is written the wrong way round; read as " + column + " -> " +
                                  key);
      } else if (is_column(*t, column) && !is_cef_key(key) && kKeyTypos.count(key)) {
        std::string fixed(kKeyTypos.at(key));
        out.corrections.push_back(name + ": " + as_written + ": \"" + key +
                                  "\" is not a CEF key; read as " + fixed);
        key = fixed;
      } else if (!is_column(*t, column)) {
        out.corrections.push_back(name + ": " + as_written +
                                  ": the type has no such column; dropped");
        continue;
      } else if (!is_cef_key(key)) {
        out.corrections.push_back(name + ": " + as_written + ": not a CEF key; dropped");
        continue;
      }
      for (const auto& [c, k] : fields.items()) {
        if (k == key)
          return Error::invalid("cef.json: " + name + " maps both " + c + " and " + column +
                                " to " + key);
      }
      fields[column] = key;
    }
    types[name] = std::move(fields);
  }
  json doc = {{"source", std::string(source)},
              {"about",
               "CEF extension key of each report column, per report type. Derived from "
               "Shadowserver's report_schema/cef.json by `vantage schema import-cef`; "
               "\"corrections\" lists where the upstream file was read otherwise than written."},
              {"corrections", out.corrections},
              {"types", std::move(types)}};
  out.json = doc.dump(2) + "\n";
  return out;
}

}  // namespace vantage::integrations

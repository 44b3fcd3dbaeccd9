#include "core/catalogue.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

namespace vantage::core {

namespace {

constexpr const char* kKindNames[] = {"string", "timestamp", "ip", "integer", "float", "boolean"};
constexpr const char* kSeverityNames[] = {"info", "low", "medium", "high", "critical"};
constexpr const char* kConstituentNames[] = {"none", "ip", "domain", "url", "email"};
constexpr std::string_view kFormat = "vantage-catalogue/1";

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

// A column name is what report headers and IntelMQ accept: [a-z0-9_], starting with a letter.
bool valid_name(std::string_view s) {
  if (s.empty() || s.size() > 128 || !(s[0] >= 'a' && s[0] <= 'z')) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  });
}

Endpoint endpoint(const ReportType& t, const std::string& prefix) {
  auto idx = [&](const char* suffix) {
    return static_cast<int16_t>(t.column_index(prefix + suffix));
  };
  Endpoint e;
  e.ip = idx("ip");
  e.port = idx("port");
  e.asn = idx("asn");
  e.geo = idx("geo");
  e.region = idx("region");
  e.city = idx("city");
  e.hostname = idx("hostname");
  e.naics = idx("naics");
  e.sector = idx("sector");
  return e;
}

void derive_common(ReportType& t) {
  CommonColumns c;
  c.timestamp = static_cast<int16_t>(t.column_index("timestamp"));
  c.protocol = static_cast<int16_t>(t.column_index("protocol"));
  c.tag = static_cast<int16_t>(t.column_index("tag"));
  c.severity = static_cast<int16_t>(t.column_index("severity"));
  // The primary side follows the constituent column: "src_ip" -> the src_* columns.
  std::string prefix;
  const std::string& cc = t.constituent_column;
  if (t.constituent_kind == ConstituentKind::kIp && cc.size() >= 2 &&
      cc.compare(cc.size() - 2, 2, "ip") == 0) {
    prefix = cc.substr(0, cc.size() - 2);
  }
  c.side[static_cast<int>(Side::kPrimary)] = endpoint(t, prefix);
  c.side[static_cast<int>(Side::kSource)] = endpoint(t, "src_");
  c.side[static_cast<int>(Side::kDestination)] = endpoint(t, "dst_");
  t.common = c;
}

std::string quote(std::string_view s) {
  return nlohmann::json(std::string(s)).dump();
}

template <typename T>
Result<T> get_field(const nlohmann::json& obj, const char* key, const std::string& where,
                    bool required) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) {
    if (required) return Error::invalid(where + ": missing \"" + key + "\"");
    return T{};
  }
  try {
    return it->get<T>();
  } catch (const nlohmann::json::exception&) {
    return Error::invalid(where + ": \"" + key + "\" has the wrong type");
  }
}

}  // namespace

const char* column_kind_name(ColumnKind kind) {
  return kKindNames[static_cast<int>(kind)];
}

std::optional<ColumnKind> parse_column_kind(std::string_view name) {
  for (int i = 0; i < kColumnKindCount; ++i) {
    if (name == kKindNames[i]) return static_cast<ColumnKind>(i);
  }
  return std::nullopt;
}

const char* severity_name(Severity s) {
  return kSeverityNames[static_cast<int>(s)];
}

std::optional<Severity> parse_severity(std::string_view name) {
  for (int i = 0; i < kSeverityCount; ++i) {
    if (iequals(name, kSeverityNames[i])) return static_cast<Severity>(i);
  }
  return std::nullopt;
}

const char* constituent_kind_name(ConstituentKind kind) {
  return kConstituentNames[static_cast<int>(kind)];
}

std::optional<ConstituentKind> parse_constituent_kind(std::string_view name) {
  for (int i = 0; i < 5; ++i) {
    if (name == kConstituentNames[i]) return static_cast<ConstituentKind>(i);
  }
  return std::nullopt;
}

int ReportType::column_index(std::string_view column) const {
  for (size_t i = 0; i < columns.size(); ++i) {
    if (columns[i].name == column) return static_cast<int>(i);
  }
  return -1;
}

bool ReportType::operator==(const ReportType& o) const {
  return name == o.name && id == o.id && subject == o.subject && url == o.url &&
         default_severity == o.default_severity && severity_source == o.severity_source &&
         taxonomy == o.taxonomy && classification_type == o.classification_type &&
         constituent_column == o.constituent_column && constituent_kind == o.constituent_kind &&
         columns == o.columns;
}

Result<Catalogue> Catalogue::from_types(std::vector<ReportType> types) {
  Catalogue cat;
  std::set<std::string, std::less<>> names;
  uint16_t max_id = 0;
  for (auto& t : types) {
    if (!valid_name(t.name)) return Error::invalid("invalid report type name \"" + t.name + "\"");
    if (!names.insert(t.name).second) return Error::invalid("duplicate report type " + t.name);
    if (t.id == 0) return Error::invalid(t.name + ": id must be 1 or more");
    if (t.columns.empty() || t.columns.size() > 4096) {
      return Error::invalid(t.name + ": needs between 1 and 4096 columns");
    }
    std::set<std::string, std::less<>> cols;
    for (const auto& c : t.columns) {
      if (!valid_name(c.name))
        return Error::invalid(t.name + ": invalid column \"" + c.name + "\"");
      if (!cols.insert(c.name).second)
        return Error::invalid(t.name + ": duplicate column " + c.name);
    }
    if (t.constituent_kind == ConstituentKind::kNone) {
      if (!t.constituent_column.empty()) {
        return Error::invalid(t.name + ": constituent column given with kind none");
      }
    } else {
      int ci = t.column_index(t.constituent_column);
      if (ci < 0) {
        return Error::invalid(t.name + ": constituent column " + t.constituent_column +
                              " is not a column");
      }
      bool is_ip_col = t.columns[static_cast<size_t>(ci)].kind == ColumnKind::kIp;
      if (is_ip_col != (t.constituent_kind == ConstituentKind::kIp)) {
        return Error::invalid(t.name + ": constituent kind does not match column " +
                              t.constituent_column);
      }
    }
    derive_common(t);
    max_id = std::max(max_id, t.id);
    cat.owned_.push_back(std::make_unique<ReportType>(std::move(t)));
  }
  cat.by_id_.assign(static_cast<size_t>(max_id) + 1, nullptr);
  for (const auto& t : cat.owned_) {
    if (cat.by_id_[t->id]) {
      return Error::invalid("report types " + cat.by_id_[t->id]->name + " and " + t->name +
                            " share id " + std::to_string(t->id));
    }
    cat.by_id_[t->id] = t.get();
    cat.sorted_.push_back(t.get());
  }
  std::sort(cat.sorted_.begin(), cat.sorted_.end(),
            [](const ReportType* a, const ReportType* b) { return a->name < b->name; });
  return cat;
}

Result<Catalogue> Catalogue::parse(std::string_view json_text) {
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(json_text);
  } catch (const nlohmann::json::exception& e) {
    return Error::invalid(std::string("catalogue is not valid JSON: ") + e.what());
  }
  if (!doc.is_object() || doc.value("format", "") != kFormat) {
    return Error::invalid("catalogue: expected an object with \"format\": \"" +
                          std::string(kFormat) + "\"");
  }
  auto list = doc.find("types");
  if (list == doc.end() || !list->is_array())
    return Error::invalid("catalogue: no \"types\" array");
  std::vector<ReportType> types;
  for (const auto& obj : *list) {
    if (!obj.is_object()) return Error::invalid("catalogue: a type is not an object");
    ReportType t;
    auto name = get_field<std::string>(obj, "name", "catalogue type", true);
    if (!name) return name.error();
    t.name = *name;
    const std::string where = "catalogue type " + t.name;
    auto id = get_field<int>(obj, "id", where, true);
    if (!id) return id.error();
    if (*id <= 0 || *id > 65535) return Error::invalid(where + ": id out of range");
    t.id = static_cast<uint16_t>(*id);
    for (auto [key, out] :
         {std::pair{"subject", &t.subject}, std::pair{"url", &t.url},
          std::pair{"severity_source", &t.severity_source}, std::pair{"taxonomy", &t.taxonomy},
          std::pair{"classification_type", &t.classification_type}}) {
      auto v = get_field<std::string>(obj, key, where, false);
      if (!v) return v.error();
      *out = *v;
    }
    auto sev = get_field<std::string>(obj, "default_severity", where, true);
    if (!sev) return sev.error();
    auto parsed_sev = parse_severity(*sev);
    if (!parsed_sev) return Error::invalid(where + ": unknown severity \"" + *sev + "\"");
    t.default_severity = *parsed_sev;
    if (auto c = obj.find("constituent"); c != obj.end() && c->is_object()) {
      auto col = get_field<std::string>(*c, "column", where, false);
      auto kind = get_field<std::string>(*c, "kind", where, true);
      if (!col) return col.error();
      if (!kind) return kind.error();
      auto k = parse_constituent_kind(*kind);
      if (!k) return Error::invalid(where + ": unknown constituent kind \"" + *kind + "\"");
      t.constituent_column = *col;
      t.constituent_kind = *k;
    }
    auto cols = obj.find("columns");
    if (cols == obj.end() || !cols->is_array()) return Error::invalid(where + ": no columns");
    for (const auto& c : *cols) {
      if (!c.is_array() || c.size() != 2 || !c[0].is_string() || !c[1].is_string()) {
        return Error::invalid(where + ": a column must be [\"name\", \"kind\"]");
      }
      auto kind = parse_column_kind(c[1].get<std::string>());
      if (!kind) return Error::invalid(where + ": unknown column kind " + c[1].dump());
      t.columns.push_back({c[0].get<std::string>(), *kind});
    }
    types.push_back(std::move(t));
  }
  return from_types(std::move(types));
}

Result<Catalogue> Catalogue::load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error::io("cannot open catalogue " + path);
  std::ostringstream text;
  text << in.rdbuf();
  if (!in.good() && !in.eof()) return Error::io("cannot read catalogue " + path);
  auto cat = parse(text.str());
  if (!cat) return Error::invalid(path + ": " + cat.error().message);
  return cat;
}

const Catalogue& Catalogue::builtin() {
  static const Catalogue* cat = [] {
    auto parsed = parse(builtin_catalogue_json());
    if (!parsed) {
      std::fprintf(stderr, "vantage: embedded catalogue is invalid: %s\n",
                   parsed.error().message.c_str());
      std::abort();
    }
    return new Catalogue(std::move(*parsed));  // never freed: lives for the process
  }();
  return *cat;
}

Result<std::shared_ptr<const Catalogue>> Catalogue::open(const std::string& path) {
  if (path.empty()) {
    // Aliasing constructor: a non-owning handle to the process-lifetime builtin catalogue.
    return std::shared_ptr<const Catalogue>(std::shared_ptr<const Catalogue>(), &builtin());
  }
  auto cat = load(path);
  if (!cat) return cat.error();
  return std::shared_ptr<const Catalogue>(std::make_shared<Catalogue>(std::move(*cat)));
}

const ReportType* Catalogue::find(std::string_view name) const {
  auto it = std::lower_bound(sorted_.begin(), sorted_.end(), name,
                             [](const ReportType* t, std::string_view n) { return t->name < n; });
  return it != sorted_.end() && (*it)->name == name ? *it : nullptr;
}

const ReportType* Catalogue::find_by_id(uint16_t id) const {
  return id < by_id_.size() ? by_id_[id] : nullptr;
}

std::string Catalogue::to_json() const {
  std::string out = "{\n  \"format\": " + quote(kFormat) + ",\n  \"types\": [";
  bool first_type = true;
  for (const ReportType* t : sorted_) {
    out += first_type ? "\n" : ",\n";
    first_type = false;
    out += "    {\n";
    out += "      \"name\": " + quote(t->name) + ",\n";
    out += "      \"id\": " + std::to_string(t->id) + ",\n";
    out += "      \"subject\": " + quote(t->subject) + ",\n";
    out += "      \"url\": " + quote(t->url) + ",\n";
    out += "      \"default_severity\": " + quote(severity_name(t->default_severity)) + ",\n";
    out += "      \"severity_source\": " + quote(t->severity_source) + ",\n";
    out += "      \"taxonomy\": " + quote(t->taxonomy) + ",\n";
    out += "      \"classification_type\": " + quote(t->classification_type) + ",\n";
    out += "      \"constituent\": {\"column\": " + quote(t->constituent_column) +
           ", \"kind\": " + quote(constituent_kind_name(t->constituent_kind)) + "},\n";
    out += "      \"columns\": [";
    for (size_t i = 0; i < t->columns.size(); ++i) {
      out += i ? ",\n" : "\n";
      out += "        [" + quote(t->columns[i].name) + ", " +
             quote(column_kind_name(t->columns[i].kind)) + "]";
    }
    out += "\n      ]\n    }";
  }
  out += "\n  ]\n}\n";
  return out;
}

}  // namespace vantage::core

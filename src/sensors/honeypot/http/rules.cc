#include "sensors/honeypot/http/rules.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

namespace vantage::honeypot::http {

namespace {

using Json = nlohmann::ordered_json;

constexpr size_t kFieldCount = static_cast<size_t>(Field::kRequest) + 1;

struct FieldName {
  const char* name;
  Field field;
};
constexpr std::array<FieldName, kFieldCount> kFieldNames{{
    {"method", Field::kMethod},
    {"uri", Field::kUri},
    {"path", Field::kPath},
    {"query", Field::kQuery},
    {"uri_decoded", Field::kUriDecoded},
    {"header", Field::kHeader},
    {"headers", Field::kHeaders},
    {"body", Field::kBody},
    {"request", Field::kRequest},
}};

char lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

void to_lower_into(std::string_view in, std::string& out) {
  out.resize(in.size());
  for (size_t i = 0; i < in.size(); ++i) out[i] = lower(in[i]);
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  c = lower(c);
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

// The header block of a raw request: the lines between the request line and the blank line.
std::string_view header_block(std::string_view raw) {
  size_t first = raw.find('\n');
  if (first == std::string_view::npos) return {};
  size_t start = first + 1;
  size_t pos = start;
  while (pos < raw.size()) {
    size_t lf = raw.find('\n', pos);
    if (lf == std::string_view::npos) return raw.substr(start);
    std::string_view line = raw.substr(pos, lf - pos);
    if (line.empty() || line == "\r") return raw.substr(start, pos - start);
    pos = lf + 1;
  }
  return raw.substr(start);
}

// One classify() call's view of the request: field values, computed on first use, and their
// lower-cased copies for nocase conditions, in buffers a thread reuses (no allocation per
// request once they have grown).
class Fields {
 public:
  explicit Fields(const RequestView& r) : r_(r) { have_.fill(false); }

  std::string_view get(Field f, const std::string& header) {
    const auto& req = *r_.request;
    switch (f) {
      case Field::kMethod: return req.method;
      case Field::kUri: return req.target;
      case Field::kPath: return req.path();
      case Field::kQuery: return req.query();
      case Field::kUriDecoded:
        if (!decoded_ready_) {
          percent_decode(req.target, scratch().decoded);
          decoded_ready_ = true;
        }
        return scratch().decoded;
      case Field::kHeader: return req.header(header);
      case Field::kHeaders: return header_block(r_.raw);
      case Field::kBody: return req.body;
      case Field::kRequest: return r_.raw;
    }
    return {};
  }

  std::string_view get_lower(Field f, const std::string& header) {
    auto& s = scratch();
    if (f == Field::kHeader) {
      to_lower_into(get(f, header), s.header_lower);
      return s.header_lower;
    }
    size_t i = static_cast<size_t>(f);
    if (!have_[i]) {
      to_lower_into(get(f, header), s.lower[i]);
      have_[i] = true;
    }
    return s.lower[i];
  }

 private:
  struct Scratch {
    std::array<std::string, kFieldCount> lower;
    std::string header_lower;
    std::string decoded;
  };
  static Scratch& scratch() {
    thread_local Scratch s;
    return s;
  }
  const RequestView& r_;
  std::array<bool, kFieldCount> have_;
  bool decoded_ready_ = false;
};

bool holds(const Condition& c, Fields& fields) {
  std::string_view v = c.nocase && c.op != Condition::Op::kRegex
                           ? fields.get_lower(c.field, c.header)
                           : fields.get(c.field, c.header);
  switch (c.op) {
    case Condition::Op::kContains:
      for (const auto& s : c.values)
        if (v.find(s) != std::string_view::npos) return true;
      return false;
    case Condition::Op::kPrefix:
      for (const auto& s : c.values)
        if (v.starts_with(s)) return true;
      return false;
    case Condition::Op::kEquals:
      for (const auto& s : c.values)
        if (v == s) return true;
      return false;
    case Condition::Op::kRegex:
      return re2::RE2::PartialMatch(re2::StringPiece(v.data(), v.size()), *c.regex);
  }
  return false;
}

// ---------------------------------------------------------------------------------------
// Loading

class Loader {
 public:
  explicit Loader(std::string origin) : origin_(std::move(origin)) {}

  Error error(const std::string& where, const std::string& what) const {
    return Error::invalid(origin_ + ": " + where + ": " + what);
  }

  static std::string rule_where(size_t index, const Json& rule) {
    std::string w = "rule #" + std::to_string(index + 1);
    if (rule.is_object() && rule.contains("id") && rule["id"].is_string()) {
      w = "rule '" + rule["id"].get<std::string>() + "' (#" + std::to_string(index + 1) + ")";
    }
    return w;
  }

  Result<std::string> text(const Json& obj, const char* key, const std::string& where,
                           bool required) const {
    if (!obj.contains(key)) {
      if (required) return error(where, std::string("field '") + key + "' is required");
      return std::string();
    }
    const auto& v = obj[key];
    if (!v.is_string()) return error(where, std::string("field '") + key + "': want a string");
    auto s = v.get<std::string>();
    if (required && s.empty()) {
      return error(where, std::string("field '") + key + "' must not be empty");
    }
    return s;
  }

  Result<TestRequest> test_request(const Json& t, const std::string& where) const {
    if (!t.is_object()) return error(where, "want an object {method, target, headers, body}");
    for (const auto& [k, _] : t.items()) {
      if (k != "method" && k != "target" && k != "headers" && k != "body") {
        return error(where, "unknown field '" + k + "'");
      }
    }
    TestRequest r;
    auto method = text(t, "method", where, false);
    if (!method) return method.error();
    if (!method->empty()) r.method = *method;
    auto target = text(t, "target", where, true);
    if (!target) return target.error();
    r.target = *target;
    auto body = text(t, "body", where, false);
    if (!body) return body.error();
    r.body = *body;
    if (t.contains("headers")) {
      const auto& h = t["headers"];
      if (!h.is_object()) return error(where, "field 'headers': want an object {name: value}");
      for (const auto& [name, value] : h.items()) {
        if (!value.is_string()) {
          return error(where, "field 'headers': header '" + name + "' wants a string value");
        }
        r.headers.emplace_back(name, value.get<std::string>());
      }
    }
    for (char c : r.method + r.target) {
      if (c == ' ' || c == '\r' || c == '\n') {
        return error(where, "method and target must not contain spaces or line ends");
      }
    }
    return r;
  }

  Result<Condition> condition(const Json& c, const std::string& where) const {
    if (!c.is_object()) return error(where, "want an object {field, contains|prefix|equals|regex}");
    Condition out;
    int ops = 0;
    for (const auto& [k, v] : c.items()) {
      if (k == "field") {
        if (!v.is_string()) return error(where, "field 'field': want a string");
        auto name = v.get<std::string>();
        auto it = std::find_if(kFieldNames.begin(), kFieldNames.end(),
                               [&](const FieldName& f) { return name == f.name; });
        if (it == kFieldNames.end()) {
          std::string known;
          for (const auto& f : kFieldNames)
            known += std::string(known.empty() ? "" : ", ") + f.name;
          return error(where, "field 'field': unknown field '" + name + "' (known: " + known + ")");
        }
        out.field = it->field;
      } else if (k == "name") {
        if (!v.is_string() || v.get<std::string>().empty()) {
          return error(where, "field 'name': want a header name");
        }
        out.header = v.get<std::string>();
      } else if (k == "nocase") {
        if (!v.is_boolean()) return error(where, "field 'nocase': want true or false");
        out.nocase = v.get<bool>();
      } else if (k == "contains" || k == "prefix" || k == "equals" || k == "regex") {
        ++ops;
        out.op = k == "contains" ? Condition::Op::kContains
                 : k == "prefix" ? Condition::Op::kPrefix
                 : k == "equals" ? Condition::Op::kEquals
                                 : Condition::Op::kRegex;
        if (v.is_string()) {
          out.values.push_back(v.get<std::string>());
        } else if (v.is_array() && k != "regex") {
          for (const auto& s : v) {
            if (!s.is_string()) return error(where, "field '" + k + "': want strings");
            out.values.push_back(s.get<std::string>());
          }
        } else {
          return error(where, "field '" + k + "': want a string" +
                                  (k == "regex" ? "" : " or a list of strings"));
        }
        if (out.values.empty()) return error(where, "field '" + k + "': empty list");
        for (const auto& s : out.values) {
          if (s.empty()) return error(where, "field '" + k + "': empty string");
        }
      } else {
        return error(where, "unknown field '" + k + "'");
      }
    }
    if (!c.contains("field")) return error(where, "field 'field' is required");
    if (ops != 1) return error(where, "want exactly one of contains, prefix, equals, regex");
    if (out.field == Field::kHeader && out.header.empty()) {
      return error(where, "field 'name' is required with \"field\": \"header\"");
    }
    if (out.field != Field::kHeader && !out.header.empty()) {
      return error(where, "field 'name' is only for \"field\": \"header\"");
    }
    if (out.op == Condition::Op::kRegex) {
      re2::RE2::Options o;
      o.set_log_errors(false);
      o.set_case_sensitive(!out.nocase);
      auto re = std::make_shared<re2::RE2>(out.values[0], o);
      if (!re->ok()) return error(where, "field 'regex': " + re->error());
      out.regex = std::move(re);
    } else if (out.nocase) {
      for (auto& s : out.values) to_lower_into(std::string(s), s);
    }
    return out;
  }

  static bool valid_cve(const std::string& s) {
    // CVE-YYYY-NNNN... (4 or more digits)
    if (s.size() < 13 || s.compare(0, 4, "CVE-") != 0 || s[8] != '-') return false;
    for (size_t i = 4; i < 8; ++i)
      if (!std::isdigit(static_cast<unsigned char>(s[i]))) return false;
    for (size_t i = 9; i < s.size(); ++i)
      if (!std::isdigit(static_cast<unsigned char>(s[i]))) return false;
    return s.size() - 9 >= 4;
  }

  static bool valid_attack_id(const std::string& s, std::string_view prefix, bool sub) {
    if (!s.starts_with(prefix)) return false;
    std::string_view rest = std::string_view(s).substr(prefix.size());
    std::string_view main = rest.substr(0, std::min<size_t>(rest.size(), 4));
    if (main.size() != 4) return false;
    for (char c : main)
      if (!std::isdigit(static_cast<unsigned char>(c))) return false;
    rest.remove_prefix(4);
    if (rest.empty()) return true;
    if (!sub || rest.size() != 4 || rest[0] != '.') return false;
    for (char c : rest.substr(1))
      if (!std::isdigit(static_cast<unsigned char>(c))) return false;
    return true;
  }

  Result<Rule> rule(const Json& r, size_t index) const {
    std::string where = rule_where(index, r);
    if (!r.is_object()) return error(where, "want an object");
    static const std::set<std::string> known = {
        "id",       "cve",        "name",      "class",  "cvss",    "cvss_version",
        "severity", "tactic",     "technique", "vendor", "product", "target_class",
        "tag",      "references", "match",     "tests"};
    for (const auto& [k, _] : r.items()) {
      if (!known.count(k)) return error(where, "unknown field '" + k + "'");
    }
    Rule out;
    struct Text {
      const char* key;
      std::string* into;
      bool required;
    };
    for (const Text& t :
         {Text{"id", &out.id, true}, Text{"cve", &out.cve, true}, Text{"name", &out.name, true},
          Text{"class", &out.vulnerability_class, true},
          Text{"cvss_version", &out.cvss_version, true}, Text{"severity", &out.severity, true},
          Text{"tactic", &out.tactic, true}, Text{"technique", &out.technique, true},
          Text{"vendor", &out.vendor, true}, Text{"product", &out.product, true},
          Text{"target_class", &out.target_class, false}, Text{"tag", &out.tag, false}}) {
      auto v = text(r, t.key, where, t.required);
      if (!v) return v.error();
      *t.into = *v;
    }
    for (char c : out.id) {
      if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.')) {
        return error(where, "field 'id': use letters, digits, '-', '_', '.'");
      }
    }
    if (!valid_cve(out.cve))
      return error(where, "field 'cve': want CVE-YYYY-NNNN, got '" + out.cve + "'");
    if (!r.contains("cvss") || !r["cvss"].is_number() || r["cvss"].get<double>() < 0 ||
        r["cvss"].get<double>() > 10) {
      return error(where, "field 'cvss': want a number from 0 to 10");
    }
    out.cvss = r["cvss"].get<double>();
    if (out.cvss_version != "2.0" && out.cvss_version != "3.0" && out.cvss_version != "3.1" &&
        out.cvss_version != "4.0") {
      return error(where, "field 'cvss_version': want 2.0, 3.0, 3.1 or 4.0");
    }
    if (out.severity != "low" && out.severity != "medium" && out.severity != "high" &&
        out.severity != "critical") {
      return error(where, "field 'severity': want low, medium, high or critical");
    }
    if (!valid_attack_id(out.tactic, "TA", false)) {
      return error(where, "field 'tactic': want a MITRE ATT&CK tactic id (TA0001)");
    }
    if (!valid_attack_id(out.technique, "T", true)) {
      return error(where, "field 'technique': want a MITRE ATT&CK technique id (T1190, T1059.004)");
    }
    if (r.contains("references")) {
      if (!r["references"].is_array())
        return error(where, "field 'references': want a list of URLs");
      for (const auto& u : r["references"]) {
        if (!u.is_string() || !(u.get<std::string>().starts_with("https://") ||
                                u.get<std::string>().starts_with("http://"))) {
          return error(where, "field 'references': want URLs");
        }
        out.references.push_back(u.get<std::string>());
      }
    }
    if (!r.contains("match") || !r["match"].is_array() || r["match"].empty()) {
      return error(where, "field 'match': want a non-empty list of conditions");
    }
    size_t ci = 0;
    for (const auto& c : r["match"]) {
      auto cond = condition(c, where + ": match #" + std::to_string(++ci));
      if (!cond) return cond.error();
      out.conditions.push_back(std::move(*cond));
    }
    // Literals first: a cheap substring test dismisses most requests before any regex runs.
    std::stable_partition(out.conditions.begin(), out.conditions.end(),
                          [](const Condition& c) { return c.op != Condition::Op::kRegex; });
    if (out.conditions.front().op == Condition::Op::kRegex) {
      return error(where,
                   "field 'match': needs one literal condition (contains, prefix or equals) "
                   "besides any regex");
    }
    if (!r.contains("tests") || !r["tests"].is_array() || r["tests"].empty()) {
      return error(where,
                   "field 'tests': every rule needs at least one test request it must catch");
    }
    size_t ti = 0;
    for (const auto& t : r["tests"]) {
      auto req = test_request(t, where + ": test #" + std::to_string(++ti));
      if (!req) return req.error();
      out.tests.push_back(std::move(*req));
    }
    return out;
  }

  std::string origin_;
};

// Parses a test request's wire form and classifies it.
const Rule* classify_test(const RuleSet& set, const TestRequest& t, std::string* why) {
  std::string wire = t.wire();
  sensors::HttpRequest req;
  sensors::HttpLimits limits;
  auto r = sensors::parse_http_request(wire, req, limits, why);
  if (r != sensors::HttpParse::kComplete) {
    if (why && why->empty()) *why = "incomplete request";
    return nullptr;
  }
  return set.classify(RequestView{std::string_view(wire).substr(0, req.length), &req});
}

}  // namespace

void percent_decode(std::string_view in, std::string& out) {
  out.clear();
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '%' && i + 2 < in.size()) {
      int hi = hex_digit(in[i + 1]), lo = hex_digit(in[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(in[i]);
  }
}

std::string TestRequest::wire() const {
  std::string w = method + " " + target + " HTTP/1.1\r\n";
  bool host = false, length = false;
  for (const auto& [n, v] : headers) {
    host |= sensors::ascii_iequals(n, "host");
    length |= sensors::ascii_iequals(n, "content-length") ||
              sensors::ascii_iequals(n, "transfer-encoding");
  }
  if (!host) w += "Host: honeypot.test\r\n";
  for (const auto& [n, v] : headers) w += n + ": " + v + "\r\n";
  if (!body.empty() && !length) w += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  w += "\r\n";
  w += body;
  return w;
}

const Rule* RuleSet::classify(const RequestView& request) const {
  if (!request.request) return nullptr;
  Fields fields(request);
  for (const auto& rule : rules_) {
    bool all = true;
    for (const auto& c : rule.conditions) {
      if (!holds(c, fields)) {
        all = false;
        break;
      }
    }
    if (all) return &rule;
  }
  return nullptr;
}

Result<std::shared_ptr<const RuleSet>> RuleSet::load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error::io(path + ": cannot read the HTTP rules file");
  std::stringstream ss;
  ss << in.rdbuf();
  return parse(ss.str(), path);
}

Result<std::shared_ptr<const RuleSet>> RuleSet::parse(std::string_view text,
                                                      const std::string& origin) {
  Loader loader(origin);
  Json doc;
  try {
    // nlohmann's exception text carries the byte position of the problem.
    doc = Json::parse(text.begin(), text.end());
  } catch (const std::exception& e) {
    return Error::invalid(origin + ": not JSON: " + e.what());
  }
  if (!doc.is_object()) return loader.error("file", "want an object {format, rules, benign}");
  for (const auto& [k, _] : doc.items()) {
    if (k != "format" && k != "rules" && k != "benign" && k != "comment") {
      return loader.error("file", "unknown field '" + k + "'");
    }
  }
  if (!doc.contains("format") || doc["format"] != "vantage-http-rules/1") {
    return loader.error("file", "field 'format': want \"vantage-http-rules/1\"");
  }
  if (!doc.contains("rules") || !doc["rules"].is_array()) {
    return loader.error("file", "field 'rules': want a list of rules");
  }
  auto set = std::make_shared<RuleSet>();
  set->origin_ = origin;
  std::set<std::string> ids;
  for (size_t i = 0; i < doc["rules"].size(); ++i) {
    auto rule = loader.rule(doc["rules"][i], i);
    if (!rule) return rule.error();
    if (!ids.insert(rule->id).second) {
      return loader.error(Loader::rule_where(i, doc["rules"][i]),
                          "duplicate id '" + rule->id + "'");
    }
    set->rules_.push_back(std::move(*rule));
  }
  if (doc.contains("benign")) {
    if (!doc["benign"].is_array()) return loader.error("file", "field 'benign': want a list");
    size_t bi = 0;
    for (const auto& b : doc["benign"]) {
      auto req = loader.test_request(b, "benign #" + std::to_string(++bi));
      if (!req) return req.error();
      set->benign_.push_back(std::move(*req));
    }
  }
  // Self-test: every rule catches its own examples (as the first match), no benign request
  // is caught by any rule.
  for (size_t i = 0; i < set->rules_.size(); ++i) {
    const Rule& rule = set->rules_[i];
    std::string where = "rule '" + rule.id + "' (#" + std::to_string(i + 1) + ")";
    for (size_t t = 0; t < rule.tests.size(); ++t) {
      std::string why;
      const Rule* got = classify_test(*set, rule.tests[t], &why);
      std::string test = where + ": test #" + std::to_string(t + 1);
      if (!why.empty()) return loader.error(test, "not a valid HTTP request: " + why);
      if (!got) return loader.error(test, "the rule does not match its own test request");
      if (got != &rule) {
        return loader.error(test, "classified as rule '" + got->id +
                                      "', which comes first: move the more specific rule up");
      }
    }
  }
  for (size_t b = 0; b < set->benign_.size(); ++b) {
    std::string why;
    const Rule* got = classify_test(*set, set->benign_[b], &why);
    std::string where = "benign #" + std::to_string(b + 1);
    if (!why.empty()) return loader.error(where, "not a valid HTTP request: " + why);
    if (got) return loader.error(where, "matched by rule '" + got->id + "'");
  }
  return std::shared_ptr<const RuleSet>(std::move(set));
}

}  // namespace vantage::honeypot::http

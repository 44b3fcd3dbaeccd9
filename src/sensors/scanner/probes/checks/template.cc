#include "sensors/scanner/probes/checks/template.h"

#include <nlohmann/json.hpp>
#include <set>

#include "common/strings.h"
#include "core/catalogue.h"
#include "sensors/scanner/probes/checks/safety.h"

namespace vantage::scanner {
namespace {

using json = nlohmann::json;

constexpr size_t kMaxExtractors = 32;
constexpr size_t kMaxMatcherDepth = 8;
constexpr size_t kMaxMatcherNodes = 256;

// Parse errors carry the JSON path of what was wrong ("steps[1].match.any[0]").
struct Ctx {
  std::string origin;
  CheckProtocol protocol = CheckProtocol::http;
  std::set<std::string> extractor_names;
  size_t nodes = 0;
  Error fail(const std::string& where, const std::string& what) const {
    return Error::invalid(origin + ": " + where + ": " + what);
  }
};

// Rejects keys a template does not define, so a typo is an error, not a silently ignored rule.
Status only_keys(const Ctx& c, const std::string& where, const json& o,
                 std::initializer_list<std::string_view> allowed) {
  for (const auto& [k, v] : o.items()) {
    (void)v;
    bool ok = false;
    for (auto a : allowed) ok = ok || a == k;
    if (!ok) return c.fail(where, "unknown key \"" + k + "\"");
  }
  return {};
}

Result<std::string> get_string(const Ctx& c, const std::string& where, const json& o,
                               const char* key) {
  if (!o.contains(key)) return std::string();
  if (!o[key].is_string()) return c.fail(where, std::string(key) + " must be a string");
  return o[key].get<std::string>();
}

Result<std::vector<std::string>> string_list(const Ctx& c, const std::string& where,
                                             const json& v) {
  std::vector<std::string> out;
  if (v.is_string()) {
    out.push_back(v.get<std::string>());
    return out;
  }
  if (!v.is_array()) return c.fail(where, "must be a string or a list of strings");
  for (const auto& e : v) {
    if (!e.is_string()) return c.fail(where, "must be a list of strings");
    out.push_back(e.get<std::string>());
  }
  return out;
}

std::optional<std::string> unhex(std::string_view hex) {
  std::string out;
  std::string digits;
  for (char ch : hex)
    if (ch != ' ' && ch != ':') digits += ch;
  if (digits.size() % 2) return std::nullopt;
  auto nib = [](char ch) -> int {
    if (ch >= '0' && ch <= '9') return ch - '0';
    if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
    return -1;
  };
  for (size_t i = 0; i < digits.size(); i += 2) {
    const int hi = nib(digits[i]), lo = nib(digits[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out += static_cast<char>(hi * 16 + lo);
  }
  return out;
}

Result<ReplySource> parse_source(const Ctx& c, const std::string& where, const json& o) {
  ReplySource s;
  if (o.contains("part")) {
    const json& p = o["part"];
    if (p == "body")
      s.part = ReplySource::Part::body;
    else if (p == "headers")
      s.part = ReplySource::Part::headers;
    else if (p == "all")
      s.part = ReplySource::Part::all;
    else
      return c.fail(where, "part must be body, headers or all");
  }
  if (o.contains("header")) {
    if (!o["header"].is_string() || o["header"].get<std::string>().empty())
      return c.fail(where, "header must be a header name");
    if (c.protocol != CheckProtocol::http) return c.fail(where, "header applies to http checks");
    s.header = to_lower(o["header"].get<std::string>());
  }
  return s;
}

Result<std::shared_ptr<const RE2>> regex_at(const Ctx& c, const std::string& where, const json& v) {
  if (!v.is_string()) return c.fail(where, "regex must be a string");
  auto re = compile_check_regex(v.get<std::string>());
  if (!re) return c.fail(where, re.error().message);
  return re;
}

Result<Extractor> parse_extractor(Ctx& c, const std::string& where, const json& o) {
  if (!o.is_object()) return c.fail(where, "an extractor is an object");
  if (auto st = only_keys(
          c, where, o,
          {"name", "column", "regex", "group", "part", "header", "json", "binary", "map"});
      !st)
    return st.error();
  Extractor e;
  auto name = get_string(c, where, o, "name");
  if (!name) return name.error();
  e.name = *name;
  if (e.name.empty() || !is_identifier(e.name) || to_lower(e.name) != e.name)
    return c.fail(where, "name must be [a-z0-9_]+");
  if (e.name == "host" || e.name == "ip" || e.name == "port")
    return c.fail(where, "host, ip and port are built-in variables");
  auto column = get_string(c, where, o, "column");
  if (!column) return column.error();
  e.column = *column;
  auto src = parse_source(c, where, o);
  if (!src) return src.error();
  e.source = *src;
  const int kinds = o.contains("regex") + o.contains("json") + o.contains("binary");
  if (kinds > 1) return c.fail(where, "give one of regex, json, binary");
  if (o.contains("regex")) {
    auto re = regex_at(c, where + ".regex", o["regex"]);
    if (!re) return re.error();
    e.kind = Extractor::Kind::regex;
    e.regex = *re;
    e.group = (*re)->NumberOfCapturingGroups() > 0 ? 1 : 0;
    if (o.contains("group")) {
      if (!o["group"].is_number_integer()) return c.fail(where, "group must be an integer");
      e.group = o["group"].get<int>();
    }
    if (e.group < 0 || e.group > (*re)->NumberOfCapturingGroups())
      return c.fail(where, "group " + std::to_string(e.group) + " is not in the regex");
  } else if (o.contains("json")) {
    if (!o["json"].is_string()) return c.fail(where, "json must be a JSON pointer string");
    e.kind = Extractor::Kind::json;
    e.json_pointer = o["json"].get<std::string>();
    try {
      (void)json::json_pointer(e.json_pointer);
    } catch (const std::exception& ex) {
      return c.fail(where, std::string("bad JSON pointer: ") + ex.what());
    }
  } else if (o.contains("binary")) {
    const json& b = o["binary"];
    if (!b.is_object() || !b.contains("offset") || !b.contains("length") ||
        !b["offset"].is_number_unsigned() || !b["length"].is_number_unsigned())
      return c.fail(where, "binary needs unsigned offset and length");
    e.kind = Extractor::Kind::binary;
    e.offset = b["offset"].get<size_t>();
    e.length = b["length"].get<size_t>();
    if (e.length == 0 || e.length > 8 || e.offset > 65536)
      return c.fail(where, "binary length must be 1..8 bytes, offset <= 65536");
    const std::string endian = b.value("endian", std::string("big"));
    if (endian != "big" && endian != "little") return c.fail(where, "endian is big or little");
    e.little_endian = endian == "little";
  } else if (!e.source.header.empty()) {
    e.kind = Extractor::Kind::whole;
  } else {
    return c.fail(where, "give regex, json, binary or header");
  }
  if (o.contains("map")) {
    if (!o["map"].is_object() || o["map"].empty()) return c.fail(where, "map is an object");
    for (const auto& [k, v] : o["map"].items()) {
      if (!v.is_string()) return c.fail(where, "map values are strings");
      e.map[k] = v.get<std::string>();
    }
  }
  c.extractor_names.insert(e.name);
  return e;
}

Result<Matcher> parse_matcher(Ctx& c, const std::string& where, const json& o, size_t depth);

Result<Matcher> condition_node(Condition cond) {
  Matcher m;
  m.kind = Matcher::Kind::condition;
  m.condition = std::make_shared<const Condition>(std::move(cond));
  return m;
}

Result<Matcher> parse_version_condition(Ctx& c, const std::string& where, const json& v) {
  if (!v.is_object()) return c.fail(where, "version is an object");
  if (auto st =
          only_keys(c, where, v, {"from", "regex", "group", "part", "header", "ranges", "scheme"});
      !st)
    return st.error();
  Condition cond;
  cond.kind = Condition::Kind::version;
  VersionScheme scheme = VersionScheme::dotted;
  if (v.contains("scheme")) {
    auto s = v["scheme"].is_string() ? parse_version_scheme(v["scheme"].get<std::string>())
                                     : std::nullopt;
    if (!s) return c.fail(where, "scheme must be dotted or semver");
    scheme = *s;
  }
  if (!v.contains("ranges")) return c.fail(where, "version needs ranges");
  auto ranges = string_list(c, where + ".ranges", v["ranges"]);
  if (!ranges) return ranges.error();
  auto parsed = VersionRanges::parse(*ranges, scheme);
  if (!parsed) return c.fail(where, parsed.error().message);
  cond.ranges = std::make_shared<const VersionRanges>(std::move(*parsed));
  if (v.contains("from") == v.contains("regex"))
    return c.fail(where, "version needs exactly one of from (an extractor) or regex");
  if (v.contains("from")) {
    if (!v["from"].is_string()) return c.fail(where, "from names an extractor");
    cond.value_name = v["from"].get<std::string>();
    if (!c.extractor_names.count(cond.value_name))
      return c.fail(where, "no extractor named \"" + cond.value_name + "\" before this matcher");
  } else {
    auto re = regex_at(c, where + ".regex", v["regex"]);
    if (!re) return re.error();
    cond.regex = *re;
    auto src = parse_source(c, where, v);
    if (!src) return src.error();
    cond.source = *src;
    cond.group = (*re)->NumberOfCapturingGroups() > 0 ? 1 : 0;
    if (v.contains("group")) {
      if (!v["group"].is_number_integer()) return c.fail(where, "group must be an integer");
      cond.group = v["group"].get<int>();
    }
    if (cond.group < 0 || cond.group > (*re)->NumberOfCapturingGroups())
      return c.fail(where, "group is not in the regex");
  }
  return condition_node(std::move(cond));
}

// A leaf object: every condition key in it must hold (the original format's semantics).
Result<Matcher> parse_leaf(Ctx& c, const std::string& where, const json& o) {
  if (auto st = only_keys(c, where, o,
                          {"status", "regex", "contains", "bytes", "offset", "version", "extracted",
                           "part", "header", "headers", "body_contains", "body_regex", "negate"});
      !st)
    return st.error();
  auto src = parse_source(c, where, o);
  if (!src) return src.error();
  Matcher all;
  all.kind = Matcher::Kind::all;
  if (o.contains("status")) {
    Condition cond;
    cond.kind = Condition::Kind::status;
    if (!o["status"].is_array() || o["status"].empty())
      return c.fail(where, "status is a list of codes");
    for (const auto& s : o["status"]) {
      if (!s.is_number_integer()) return c.fail(where, "status codes are integers");
      cond.status.push_back(s.get<int>());
    }
    if (c.protocol != CheckProtocol::http) return c.fail(where, "status applies to http checks");
    auto m = condition_node(std::move(cond));
    all.children.push_back(std::move(*m));
  }
  if (o.contains("headers")) {  // {"server": "regex"}: each header matches its regex
    if (!o["headers"].is_object()) return c.fail(where, "headers is an object of regexes");
    for (const auto& [name, re] : o["headers"].items()) {
      Condition cond;
      cond.kind = Condition::Kind::regex;
      cond.source.header = to_lower(name);
      auto r = regex_at(c, where + ".headers." + name, re);
      if (!r) return r.error();
      cond.regex = *r;
      auto m = condition_node(std::move(cond));
      all.children.push_back(std::move(*m));
    }
  }
  auto add_regex = [&](const json& v, ReplySource s, const std::string& w) -> Status {
    auto r = regex_at(c, w, v);
    if (!r) return r.error();
    Condition cond;
    cond.kind = Condition::Kind::regex;
    cond.source = s;
    cond.regex = *r;
    auto m = condition_node(std::move(cond));
    all.children.push_back(std::move(*m));
    return {};
  };
  auto add_contains = [&](const json& v, ReplySource s, const std::string& w) -> Status {
    auto list = string_list(c, w, v);
    if (!list) return list.error();
    Condition cond;
    cond.kind = Condition::Kind::contains;
    cond.source = s;
    cond.needles = *list;
    auto m = condition_node(std::move(cond));
    all.children.push_back(std::move(*m));
    return {};
  };
  if (o.contains("body_regex"))
    if (auto st = add_regex(o["body_regex"], ReplySource{}, where + ".body_regex"); !st)
      return st.error();
  if (o.contains("body_contains"))
    if (auto st = add_contains(o["body_contains"], ReplySource{}, where + ".body_contains"); !st)
      return st.error();
  if (o.contains("regex"))
    if (auto st = add_regex(o["regex"], *src, where + ".regex"); !st) return st.error();
  if (o.contains("contains"))
    if (auto st = add_contains(o["contains"], *src, where + ".contains"); !st) return st.error();
  if (o.contains("bytes")) {
    if (!o["bytes"].is_string()) return c.fail(where, "bytes is a hex string");
    auto raw = unhex(o["bytes"].get<std::string>());
    if (!raw || raw->empty()) return c.fail(where, "bytes is a non-empty hex string");
    Condition cond;
    cond.kind = Condition::Kind::bytes;
    cond.source = *src;  // http: the body unless "part" says otherwise
    cond.needles = {*raw};
    if (o.contains("offset")) {
      if (!o["offset"].is_number_unsigned()) return c.fail(where, "offset is unsigned");
      cond.offset = o["offset"].get<size_t>();
    }
    auto m = condition_node(std::move(cond));
    all.children.push_back(std::move(*m));
  } else if (o.contains("offset")) {
    return c.fail(where, "offset applies to bytes");
  }
  if (o.contains("version")) {
    auto m = parse_version_condition(c, where + ".version", o["version"]);
    if (!m) return m.error();
    all.children.push_back(std::move(*m));
  }
  if (o.contains("extracted")) {
    const json& e = o["extracted"];
    Condition cond;
    cond.kind = Condition::Kind::extracted;
    if (e.is_string()) {
      cond.value_name = e.get<std::string>();
    } else if (e.is_object() && e.contains("name") && e["name"].is_string()) {
      if (auto st = only_keys(c, where + ".extracted", e, {"name", "regex"}); !st)
        return st.error();
      cond.value_name = e["name"].get<std::string>();
      if (e.contains("regex")) {
        auto r = regex_at(c, where + ".extracted.regex", e["regex"]);
        if (!r) return r.error();
        cond.regex = *r;
      }
    } else {
      return c.fail(where, "extracted is a name or {\"name\", \"regex\"}");
    }
    if (!c.extractor_names.count(cond.value_name))
      return c.fail(where, "no extractor named \"" + cond.value_name + "\" before this matcher");
    auto m = condition_node(std::move(cond));
    all.children.push_back(std::move(*m));
  }
  if (all.children.empty()) return c.fail(where, "a matcher needs at least one condition");
  Matcher out = all.children.size() == 1 ? std::move(all.children[0]) : std::move(all);
  return out;
}

Result<Matcher> parse_matcher(Ctx& c, const std::string& where, const json& o, size_t depth) {
  if (!o.is_object()) return c.fail(where, "a matcher is an object");
  if (depth > kMaxMatcherDepth) return c.fail(where, "matchers nest too deep");
  if (++c.nodes > kMaxMatcherNodes) return c.fail(where, "too many matchers");
  bool negate = false;
  if (o.contains("negate")) {
    if (!o["negate"].is_boolean()) return c.fail(where, "negate is true or false");
    negate = o["negate"].get<bool>();
  }
  Result<Matcher> m = Error::internal("unset");
  const bool composite = o.contains("all") || o.contains("any") || o.contains("not");
  if (composite) {
    if (auto st = only_keys(c, where, o, {"all", "any", "not", "negate"}); !st) return st.error();
    if (o.contains("all") + o.contains("any") + o.contains("not") != 1)
      return c.fail(where, "give one of all, any, not");
    Matcher node;
    if (o.contains("not")) {
      node.kind = Matcher::Kind::negate;
      auto child = parse_matcher(c, where + ".not", o["not"], depth + 1);
      if (!child) return child.error();
      node.children.push_back(std::move(*child));
    } else {
      const char* key = o.contains("all") ? "all" : "any";
      node.kind = o.contains("all") ? Matcher::Kind::all : Matcher::Kind::any;
      if (!o[key].is_array() || o[key].empty())
        return c.fail(where, std::string(key) + " is a non-empty list");
      for (size_t i = 0; i < o[key].size(); ++i) {
        auto child = parse_matcher(c, where + "." + key + "[" + std::to_string(i) + "]", o[key][i],
                                   depth + 1);
        if (!child) return child.error();
        node.children.push_back(std::move(*child));
      }
    }
    m = std::move(node);
  } else {
    m = parse_leaf(c, where, o);
    if (!m) return m.error();
  }
  if (!negate) return m;
  Matcher n;
  n.kind = Matcher::Kind::negate;
  n.children.push_back(std::move(*m));
  return n;
}

Result<std::string> payload_of(const Ctx& c, const std::string& where, const json& o) {
  if (o.contains("send") && o.contains("send_hex")) return c.fail(where, "give send or send_hex");
  std::string bytes;
  if (o.contains("send")) {
    if (!o["send"].is_string()) return c.fail(where, "send is a string");
    bytes = o["send"].get<std::string>();
  } else if (o.contains("send_hex")) {
    auto raw = o["send_hex"].is_string() ? unhex(o["send_hex"].get<std::string>()) : std::nullopt;
    if (!raw) return c.fail(where, "send_hex is a hex string");
    bytes = *raw;
  }
  // Variables are checked again after substitution; here the template as written.
  std::string probe = bytes;
  for (size_t p; (p = probe.find("{{")) != std::string::npos;) {
    const size_t e = probe.find("}}", p);
    if (e == std::string::npos) return c.fail(where, "unclosed {{ in payload");
    probe.replace(p, e + 2 - p, "x");
  }
  if (auto st = check_safety::raw_payload(probe); !st) return c.fail(where, st.message());
  return bytes;
}

Result<CheckStep> parse_step(Ctx& c, const std::string& where, const json& o) {
  if (!o.is_object()) return c.fail(where, "a step is an object");
  CheckStep step;
  if (c.protocol == CheckProtocol::http) {
    if (auto st = only_keys(c, where, o, {"request", "extract", "match"}); !st) return st.error();
    const json req = o.value("request", json::object());
    if (!req.is_object()) return c.fail(where, "request is an object");
    if (auto st = only_keys(c, where + ".request", req, {"method", "path", "headers"}); !st)
      return st.error();
    HttpRequestTemplate r;
    auto method = get_string(c, where + ".request", req, "method");
    if (!method) return method.error();
    if (!method->empty()) r.method = *method;
    auto path = get_string(c, where + ".request", req, "path");
    if (!path) return path.error();
    if (!path->empty()) r.path = *path;
    if (auto st = check_safety::http_method(r.method); !st) return c.fail(where, st.message());
    // Variables are checked again after substitution; here the template text as written.
    std::string probe_path = r.path;
    for (size_t p; (p = probe_path.find("{{")) != std::string::npos;) {
      const size_t e = probe_path.find("}}", p);
      if (e == std::string::npos) return c.fail(where, "unclosed {{ in path");
      probe_path.replace(p, e + 2 - p, p == 0 ? "/x" : "x");  // a leading value must be a path
    }
    if (auto st = check_safety::http_path(probe_path); !st) return c.fail(where, st.message());
    if (req.contains("headers")) {
      if (!req["headers"].is_object()) return c.fail(where, "headers is an object");
      for (const auto& [name, value] : req["headers"].items()) {
        if (!value.is_string()) return c.fail(where, "header values are strings");
        std::string v = value.get<std::string>();
        std::string probe = v;
        for (size_t p; (p = probe.find("{{")) != std::string::npos;) {
          const size_t e = probe.find("}}", p);
          if (e == std::string::npos) return c.fail(where, "unclosed {{ in header");
          probe.replace(p, e + 2 - p, "x");
        }
        if (auto st = check_safety::http_header(name, probe); !st)
          return c.fail(where, st.message());
        r.headers.emplace_back(name, v);
      }
    }
    step.http = std::move(r);
  } else {
    if (auto st = only_keys(c, where, o, {"send", "send_hex", "read", "extract", "match"}); !st)
      return st.error();
    auto payload = payload_of(c, where, o);
    if (!payload) return payload.error();
    step.payload = *payload;
    if (o.contains("read")) {
      if (c.protocol == CheckProtocol::udp) return c.fail(where, "read applies to tcp checks");
      const json& r = o["read"];
      if (!r.is_object()) return c.fail(where, "read is an object");
      if (auto st = only_keys(c, where + ".read", r, {"until", "min_bytes"}); !st)
        return st.error();
      if (r.contains("until")) {
        auto re = regex_at(c, where + ".read.until", r["until"]);
        if (!re) return re.error();
        step.until = *re;
      }
      if (r.contains("min_bytes")) {
        if (!r["min_bytes"].is_number_unsigned()) return c.fail(where, "min_bytes is unsigned");
        step.min_bytes = r["min_bytes"].get<size_t>();
      }
    }
  }
  if (o.contains("extract")) {
    if (!o["extract"].is_array()) return c.fail(where, "extract is a list");
    for (size_t i = 0; i < o["extract"].size(); ++i) {
      auto e = parse_extractor(c, where + ".extract[" + std::to_string(i) + "]", o["extract"][i]);
      if (!e) return e.error();
      step.extract.push_back(std::move(*e));
    }
  }
  if (o.contains("match")) {
    auto m = parse_matcher(c, where + ".match", o["match"], 0);
    if (!m) return m.error();
    step.match = std::move(*m);
  }
  return step;
}

Result<CheckInfo> parse_info(const Ctx& c, const json& o) {
  CheckInfo info;
  if (!o.is_object()) return c.fail("info", "info is an object");
  if (auto st = only_keys(
          c, "info", o,
          {"name", "cve", "cvss", "severity", "vendor", "product", "description", "references"});
      !st)
    return st.error();
  for (auto [key, field] :
       {std::pair{"name", &info.name}, std::pair{"vendor", &info.vendor},
        std::pair{"product", &info.product}, std::pair{"description", &info.description}}) {
    auto s = get_string(c, "info", o, key);
    if (!s) return s.error();
    *field = *s;
  }
  if (o.contains("cve")) {
    auto cves = string_list(c, "info.cve", o["cve"]);
    if (!cves) return cves.error();
    static const RE2 cve_re("CVE-\\d{4}-\\d{4,7}");
    for (const auto& id : *cves)
      if (!RE2::FullMatch(id, cve_re)) return c.fail("info.cve", "bad CVE id \"" + id + "\"");
    info.cves = *cves;
  }
  if (o.contains("references")) {
    auto refs = string_list(c, "info.references", o["references"]);
    if (!refs) return refs.error();
    info.references = *refs;
  }
  if (o.contains("cvss")) {
    const json& v = o["cvss"];
    if (!v.is_object() || !v.contains("score") || !v["score"].is_number())
      return c.fail("info.cvss", "cvss is {\"score\": n, \"vector\": \"CVSS:3.1/...\"}");
    if (auto st = only_keys(c, "info.cvss", v, {"score", "vector"}); !st) return st.error();
    const double score = v["score"].get<double>();
    if (score < 0 || score > 10) return c.fail("info.cvss", "score is 0..10");
    info.cvss_score = score;
    auto vec = get_string(c, "info.cvss", v, "vector");
    if (!vec) return vec.error();
    static const RE2 vec_re("CVSS:(3\\.[01]|4\\.0)/[A-Za-z:/]+");
    if (!vec->empty() && !RE2::FullMatch(*vec, vec_re))
      return c.fail("info.cvss", "vector must look like CVSS:3.1/AV:N/...");
    info.cvss_vector = *vec;
  }
  return info;
}

// Columns a check of this report type may fill besides those its extractors name.
const std::vector<std::string>& standard_columns(CheckProtocol p) {
  static const std::vector<std::string> http{"http",         "http_code", "http_reason",
                                             "content_type", "server",    "content_length",
                                             "http_date",    "detail"};
  static const std::vector<std::string> raw{"detail"};
  return p == CheckProtocol::http ? http : raw;
}

}  // namespace

Result<std::shared_ptr<const RE2>> compile_check_regex(const std::string& pattern) {
  RE2::Options opt;
  opt.set_encoding(RE2::Options::EncodingLatin1);
  opt.set_log_errors(false);
  opt.set_max_mem(8 << 20);
  auto re = std::make_shared<const RE2>(pattern, opt);
  if (!re->ok()) return Error::invalid("bad regex \"" + pattern + "\": " + re->error());
  return re;
}

namespace {

Result<std::shared_ptr<const CheckTemplate>> parse_template(std::string_view text,
                                                            std::string_view origin) {
  Ctx c;
  c.origin = std::string(origin);
  const json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return Error::invalid(c.origin + ": not a JSON object");
  if (auto st = only_keys(c, "check", j,
                          {"id", "info", "tag", "severity", "report_type", "port", "tls",
                           "protocol", "steps", "request", "extract", "match", "detail"});
      !st)
    return st.error();
  auto t = std::make_shared<CheckTemplate>();
  auto id = get_string(c, "id", j, "id");
  if (!id) return id.error();
  t->id = *id;
  if (t->id.empty() || t->id.size() > 96 ||
      t->id.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-_.") != std::string::npos)
    return c.fail("id", "id must be [a-z0-9._-]+, at most 96 characters");
  const std::string protocol = j.value("protocol", std::string("http"));
  if (protocol == "http")
    c.protocol = CheckProtocol::http;
  else if (protocol == "tcp")
    c.protocol = CheckProtocol::tcp;
  else if (protocol == "udp")
    c.protocol = CheckProtocol::udp;
  else
    return c.fail("protocol", "protocol is http, tcp or udp");
  t->protocol = c.protocol;
  if (j.contains("info")) {
    auto info = parse_info(c, j["info"]);
    if (!info) return info.error();
    t->info = std::move(*info);
  }
  if (j.contains("tls")) {
    if (!j["tls"].is_boolean()) return c.fail("tls", "tls is true or false");
    t->tls = j["tls"].get<bool>();
    if (t->tls && c.protocol == CheckProtocol::udp) return c.fail("tls", "no TLS over udp");
  }
  if (j.contains("port")) {
    if (!j["port"].is_number_unsigned() || j["port"].get<uint64_t>() == 0 ||
        j["port"].get<uint64_t>() > 65535)
      return c.fail("port", "port is 1..65535");
    t->port = j["port"].get<uint16_t>();
  } else {
    if (c.protocol != CheckProtocol::http) return c.fail("port", "tcp and udp checks need a port");
    t->port = t->tls ? 443 : 80;
  }
  // Severity: top level (the original format) or info.severity.
  std::string severity = j.value("severity", std::string());
  if (j.contains("info") && j["info"].contains("severity")) {
    if (!j["info"]["severity"].is_string()) return c.fail("info.severity", "must be a string");
    if (!severity.empty() && severity != j["info"]["severity"].get<std::string>())
      return c.fail("severity", "severity and info.severity disagree");
    severity = j["info"]["severity"].get<std::string>();
  }
  if (severity.empty()) severity = "medium";
  if (!core::parse_severity(severity)) return c.fail("severity", "unknown severity " + severity);
  t->severity = to_lower(severity);
  auto detail = get_string(c, "detail", j, "detail");
  if (!detail) return detail.error();
  t->detail = !detail->empty() ? *detail : t->info.name;
  t->tag = j.value("tag", std::string());
  if (t->tag.empty()) {
    std::vector<std::string> lower;
    for (const auto& cve : t->info.cves) lower.push_back(to_lower(cve));
    t->tag = lower.empty() ? t->id : join(lower, ";");
  }
  t->report_type = j.value(
      "report_type", std::string(c.protocol == CheckProtocol::http ? "scan_http_vulnerable" : ""));
  if (t->report_type.empty()) return c.fail("report_type", "tcp and udp checks need report_type");
  const core::ReportType* type = core::Catalogue::builtin().find(t->report_type);
  if (!type) return c.fail("report_type", "unknown report type " + t->report_type);
  for (const char* col : {"tag", "severity", "ip", "port"})
    if (type->column_index(col) < 0)
      return c.fail("report_type", t->report_type + " has no " + col + " column");

  // Steps: "steps": [...], or the original single-step form ("request" + "match").
  const bool single = j.contains("request") || j.contains("match") || j.contains("extract");
  if (single && j.contains("steps"))
    return c.fail("steps", "give steps or request/match, not both");
  std::vector<json> steps;
  if (j.contains("steps")) {
    if (!j["steps"].is_array() || j["steps"].empty()) return c.fail("steps", "a non-empty list");
    for (const auto& s : j["steps"]) steps.push_back(s);
  } else {
    json s = json::object();
    for (const char* k : {"request", "extract", "match"})
      if (j.contains(k)) s[k] = j[k];
    if (c.protocol != CheckProtocol::http) return c.fail("steps", "tcp and udp checks use steps");
    steps.push_back(std::move(s));
  }
  if (steps.size() > check_safety::kMaxSteps) return c.fail("steps", "at most 8 steps");
  if (c.protocol == CheckProtocol::udp && steps.size() != 1)
    return c.fail("steps", "a udp check has exactly one step");
  size_t extractors = 0;
  bool any_match = false;
  for (size_t i = 0; i < steps.size(); ++i) {
    auto step = parse_step(c, "steps[" + std::to_string(i) + "]", steps[i]);
    if (!step) return step.error();
    extractors += step->extract.size();
    any_match = any_match || step->match.has_value();
    t->steps.push_back(std::move(*step));
  }
  if (extractors > kMaxExtractors) return c.fail("steps", "at most 32 extractors");
  // Decided by what the server says: at least one matcher, and the last step matches.
  if (!any_match || !t->steps.back().match)
    return c.fail("match", "a check needs a match rule on its last step");

  for (const auto& col : standard_columns(t->protocol))
    if (type->column_index(col) >= 0) t->columns.push_back(col);
  for (const auto& step : t->steps) {
    for (const auto& e : step.extract) {
      if (e.column.empty()) continue;
      if (type->column_index(e.column) < 0)
        return c.fail("extract", t->report_type + " has no column " + e.column);
      for (const char* fixed : {"timestamp", "ip", "port", "protocol", "tag", "severity"})
        if (e.column == fixed)
          return c.fail("extract", "column " + e.column + " is set by the engine");
      if (std::find(t->columns.begin(), t->columns.end(), e.column) == t->columns.end())
        t->columns.push_back(e.column);
    }
  }
  return std::shared_ptr<const CheckTemplate>(std::move(t));
}

}  // namespace

Result<std::shared_ptr<const CheckTemplate>> parse_check_template(std::string_view text,
                                                                  std::string_view origin) {
  // nlohmann's accessors throw on a type mismatch that the checks above did not foresee; any
  // such file is refused with the library's message rather than crashing the loader.
  try {
    return parse_template(text, origin);
  } catch (const std::exception& e) {
    return Error::invalid(std::string(origin) + ": " + e.what());
  }
}

}  // namespace vantage::scanner

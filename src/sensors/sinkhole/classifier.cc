#include "sensors/sinkhole/classifier.h"

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "common/strings.h"
#include "sensors/common/http_request.h"

namespace vantage::sinkhole {

bool glob_match(std::string_view pattern, std::string_view text) {
  // The classic two-pointer matcher: on a mismatch after a '*', let that star take one more
  // byte and retry from there. Only the last star needs remembering.
  size_t p = 0, t = 0, star = std::string_view::npos, resume = 0;
  while (t < text.size()) {
    if (p < pattern.size() && (pattern[p] == '?' || pattern[p] == text[t])) {
      ++p;
      ++t;
    } else if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      resume = t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++resume;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

std::string_view body_kind(std::string_view body) {
  if (body.empty()) return "empty";
  size_t i = 0;
  while (i < body.size() && (body[i] == ' ' || body[i] == '\r' || body[i] == '\n')) ++i;
  if (i < body.size() && (body[i] == '{' || body[i] == '[')) return "json";
  auto in = [&](auto pred) {
    for (char c : body)
      if (!pred(static_cast<unsigned char>(c))) return false;
    return true;
  };
  auto alnum = [](unsigned char c) { return std::isalnum(c) != 0; };
  size_t pad = body.size();
  while (pad > 0 && body[pad - 1] == '=') --pad;
  bool base64 = body.size() >= 8 && body.size() % 4 == 0 && body.size() - pad <= 2 &&
                in([&](unsigned char c) { return alnum(c) || c == '+' || c == '/' || c == '='; });
  for (size_t k = 0; base64 && k < pad; ++k) base64 = body[k] != '=';
  if (base64) return "base64";
  if (body.find('=') != std::string_view::npos && in([&](unsigned char c) {
        return alnum(c) ||
               std::string_view("%=&+._*-~").find(static_cast<char>(c)) != std::string_view::npos;
      })) {
    return "urlencoded";
  }
  if (in([](unsigned char c) {
        return (c >= 0x20 && c < 0x7f) || c == '\r' || c == '\n' || c == '\t';
      })) {
    return "text";
  }
  return "binary";
}

namespace {

using nlohmann::json;

Status want_string(const json& rule, const char* key, std::string& out, const std::string& where) {
  if (!rule.contains(key)) return {};
  if (!rule[key].is_string()) return Error::invalid(where + ": " + key + " is not a string");
  out = rule[key].get<std::string>();
  return {};
}

Status want_int(const json& rule, const char* key, int64_t& out, const std::string& where) {
  if (!rule.contains(key)) return {};
  if (!rule[key].is_number_integer() || rule[key].get<int64_t>() < 0) {
    return Error::invalid(where + ": " + key + " is not a non-negative integer");
  }
  out = rule[key].get<int64_t>();
  return {};
}

Status want_ports(const json& rule, std::vector<uint16_t>& out, const std::string& where) {
  if (!rule.contains("ports")) return {};
  if (!rule["ports"].is_array()) return Error::invalid(where + ": ports is not a list");
  for (const auto& p : rule["ports"]) {
    if (!p.is_number_integer() || p.get<int64_t>() < 1 || p.get<int64_t>() > 65535) {
      return Error::invalid(where + ": ports holds something other than 1..65535");
    }
    out.push_back(static_cast<uint16_t>(p.get<int64_t>()));
  }
  return {};
}

Status want_bool(const json& rule, const char* key, int& out, const std::string& where) {
  if (!rule.contains(key)) return {};
  if (!rule[key].is_boolean()) return Error::invalid(where + ": " + key + " is not true/false");
  out = rule[key].get<bool>() ? 1 : 0;
  return {};
}

}  // namespace

Result<Classifier> Classifier::load_file(const std::string& path, const Families& families) {
  std::ifstream in(path);
  if (!in) return Error::io("cannot read rules file " + path);
  std::ostringstream text;
  text << in.rdbuf();
  auto c = parse(text.str(), families);
  if (!c) return Error::invalid(path + ": " + c.error().message);
  return c;
}

Result<Classifier> Classifier::parse(std::string_view json_text, const Families& families) {
  auto j = json::parse(json_text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return Error::invalid("not a JSON object");
  Classifier c;
  auto common = [&](const json& r, const std::string& where, std::string& name, std::string& tag,
                    std::string& application, uint16_t& family) -> Status {
    if (!r.is_object()) return Error::invalid(where + ": not an object");
    if (auto st = want_string(r, "name", name, where); !st) return st;
    std::string fam;
    if (auto st = want_string(r, "family", fam, where); !st) return st;
    int f = families.find(fam);
    if (fam.empty() || f < 0) {
      return Error::invalid(where + ": family '" + fam + "' is not in the families file");
    }
    family = static_cast<uint16_t>(f);
    if (auto st = want_string(r, "tag", tag, where); !st) return st;
    return want_string(r, "application", application, where);
  };
  static const std::vector<std::string> kHttpKeys{
      "name",         "family",  "tag",  "application", "method",   "url",
      "path",         "query",   "host", "host_family", "agent",    "no_agent",
      "header_order", "headers", "body", "body_kind",   "body_min", "body_max",
      "ja3",          "sni",     "tls",  "ports",       "comment"};
  static const std::vector<std::string> kRawKeys{"name",      "family",  "tag",     "application",
                                                 "transport", "ports",   "hex",     "offset",
                                                 "text",      "min_len", "max_len", "comment"};
  auto unknown_key = [](const json& r, const std::vector<std::string>& keys) -> std::string {
    for (const auto& [k, v] : r.items())
      if (std::find(keys.begin(), keys.end(), k) == keys.end()) return k;
    return {};
  };
  if (j.contains("http")) {
    if (!j["http"].is_array()) return Error::invalid("\"http\" is not a list");
    size_t n = 0;
    for (const auto& r : j["http"]) {
      std::string where = "http rule #" + std::to_string(++n);
      HttpRule rule;
      if (auto st = common(r, where, rule.name, rule.tag, rule.application, rule.family); !st)
        return st.error();
      if (!rule.name.empty()) where += " (" + rule.name + ")";
      if (auto k = unknown_key(r, kHttpKeys); !k.empty()) {
        return Error::invalid(where + ": unknown criterion '" + k + "'");
      }
      for (auto [key, opt] : {std::pair<const char*, Optional*>{"method", &rule.method},
                              {"url", &rule.url},
                              {"path", &rule.path},
                              {"query", &rule.query},
                              {"host", &rule.host},
                              {"agent", &rule.agent},
                              {"header_order", &rule.header_order},
                              {"body", &rule.body},
                              {"ja3", &rule.ja3},
                              {"sni", &rule.sni}}) {
        if (!r.contains(key)) continue;
        if (auto st = want_string(r, key, opt->pattern, where); !st) return st.error();
        opt->set = true;
      }
      if (rule.host.set) rule.host.pattern = to_lower(rule.host.pattern);
      if (rule.sni.set) rule.sni.pattern = to_lower(rule.sni.pattern);
      if (rule.ja3.set) rule.ja3.pattern = to_lower(rule.ja3.pattern);
      if (r.contains("host_family")) {
        std::string fam;
        if (auto st = want_string(r, "host_family", fam, where); !st) return st.error();
        rule.host_family = families.find(fam);
        if (rule.host_family < 0)
          return Error::invalid(where + ": host_family '" + fam + "' unknown");
      }
      int no_agent = 0;
      if (auto st = want_bool(r, "no_agent", no_agent, where); !st) return st.error();
      rule.no_agent = no_agent == 1;
      if (auto st = want_bool(r, "tls", rule.tls, where); !st) return st.error();
      if (r.contains("headers")) {
        if (!r["headers"].is_object()) return Error::invalid(where + ": headers is not an object");
        for (const auto& [name, value] : r["headers"].items()) {
          if (!value.is_string())
            return Error::invalid(where + ": headers." + name + " is not a string");
          rule.headers.emplace_back(to_lower(name), value.get<std::string>());
        }
      }
      if (auto st = want_string(r, "body_kind", rule.body_kind, where); !st) return st.error();
      static const std::vector<std::string> kinds{"empty",      "json", "base64",
                                                  "urlencoded", "text", "binary"};
      if (!rule.body_kind.empty() &&
          std::find(kinds.begin(), kinds.end(), rule.body_kind) == kinds.end()) {
        return Error::invalid(where + ": body_kind '" + rule.body_kind + "' is not one of " +
                              join(kinds, ", "));
      }
      if (auto st = want_int(r, "body_min", rule.body_min, where); !st) return st.error();
      if (auto st = want_int(r, "body_max", rule.body_max, where); !st) return st.error();
      if (auto st = want_ports(r, rule.ports, where); !st) return st.error();
      c.http_.push_back(std::move(rule));
    }
  }
  if (j.contains("raw")) {
    if (!j["raw"].is_array()) return Error::invalid("\"raw\" is not a list");
    size_t n = 0;
    for (const auto& r : j["raw"]) {
      std::string where = "raw rule #" + std::to_string(++n);
      RawRule rule;
      if (auto st = common(r, where, rule.name, rule.tag, rule.application, rule.family); !st)
        return st.error();
      if (!rule.name.empty()) where += " (" + rule.name + ")";
      if (auto k = unknown_key(r, kRawKeys); !k.empty()) {
        return Error::invalid(where + ": unknown criterion '" + k + "'");
      }
      std::string transport;
      if (auto st = want_string(r, "transport", transport, where); !st) return st.error();
      if (transport == "udp")
        rule.udp = 1;
      else if (transport == "tcp")
        rule.udp = 0;
      else if (!transport.empty())
        return Error::invalid(where + ": transport is tcp or udp");
      if (auto st = want_ports(r, rule.ports, where); !st) return st.error();
      std::string hex;
      if (auto st = want_string(r, "hex", hex, where); !st) return st.error();
      std::string digits;
      for (char ch : hex)
        if (ch != ' ' && ch != ':') digits.push_back(ch);
      if (digits.size() % 2 != 0)
        return Error::invalid(where + ": hex has an odd number of digits");
      for (size_t i = 0; i < digits.size(); i += 2) {
        if (digits[i] == '?' && digits[i + 1] == '?') {
          rule.hex.push_back(-1);
          continue;
        }
        auto v = [](char ch) {
          return ch >= '0' && ch <= '9'   ? ch - '0'
                 : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10
                 : ch >= 'A' && ch <= 'F' ? ch - 'A' + 10
                                          : -1;
        };
        int hi = v(digits[i]), lo = v(digits[i + 1]);
        if (hi < 0 || lo < 0)
          return Error::invalid(where + ": hex holds '" + digits.substr(i, 2) + "'");
        rule.hex.push_back(hi * 16 + lo);
      }
      int64_t offset = 0;
      if (auto st = want_int(r, "offset", offset, where); !st) return st.error();
      if (offset > 65535) return Error::invalid(where + ": offset beyond 65535");
      rule.offset = static_cast<size_t>(offset);
      if (r.contains("text")) {
        if (auto st = want_string(r, "text", rule.text.pattern, where); !st) return st.error();
        rule.text.set = true;
      }
      if (auto st = want_int(r, "min_len", rule.min_len, where); !st) return st.error();
      if (auto st = want_int(r, "max_len", rule.max_len, where); !st) return st.error();
      c.raw_.push_back(std::move(rule));
    }
  }
  return c;
}

bool Classifier::port_ok(const std::vector<uint16_t>& ports, uint16_t port) {
  return ports.empty() || std::find(ports.begin(), ports.end(), port) != ports.end();
}

Verdict Classifier::classify_http(const HttpFacts& f, const Families& families) const {
  auto check = [](const Optional& o, std::string_view text) {
    return !o.set || glob_match(o.pattern, text);
  };
  for (const auto& r : http_) {
    if (!port_ok(r.ports, f.local_port)) continue;
    if (r.tls >= 0 && (r.tls == 1) != f.tls) continue;
    if (r.host_family >= 0 && r.host_family != f.host_family) continue;
    if (!check(r.method, f.method) || !check(r.path, f.path) || !check(r.query, f.query) ||
        !check(r.url, f.target) || !check(r.host, f.host) || !check(r.sni, f.sni) ||
        !check(r.ja3, f.ja3) || !check(r.header_order, f.header_order) || !check(r.body, f.body)) {
      continue;
    }
    if (r.no_agent && f.has_agent) continue;
    if (r.agent.set && (!f.has_agent || !glob_match(r.agent.pattern, f.agent))) continue;
    if (r.body_min >= 0 && f.body.size() < static_cast<uint64_t>(r.body_min)) continue;
    if (r.body_max >= 0 && f.body.size() > static_cast<uint64_t>(r.body_max)) continue;
    if (!r.body_kind.empty() && body_kind(f.body) != r.body_kind) continue;
    bool headers_ok = true;
    for (const auto& [name, pattern] : r.headers) {
      bool found = false;
      if (f.headers) {
        for (const auto& [hn, hv] : *f.headers) {
          if (sensors::ascii_iequals(hn, name) && glob_match(pattern, hv)) {
            found = true;
            break;
          }
        }
      }
      if (!found) {
        headers_ok = false;
        break;
      }
    }
    if (!headers_ok) continue;
    return {r.family, r.tag.empty() ? std::string_view(families.at(r.family).tag) : r.tag, r.name,
            r.application};
  }
  uint16_t fam = f.host_family >= 0 ? static_cast<uint16_t>(f.host_family) : Families::kUnknown;
  return {fam, families.at(fam).tag, {}, {}};
}

Verdict Classifier::classify_raw(const RawFacts& f, const Families& families) const {
  for (const auto& r : raw_) {
    if (r.udp >= 0 && (r.udp == 1) != f.udp) continue;
    if (!port_ok(r.ports, f.local_port)) continue;
    if (r.min_len >= 0 && f.payload.size() < static_cast<uint64_t>(r.min_len)) continue;
    if (r.max_len >= 0 && f.payload.size() > static_cast<uint64_t>(r.max_len)) continue;
    if (!r.hex.empty()) {
      if (f.payload.size() < r.offset + r.hex.size()) continue;
      bool ok = true;
      for (size_t i = 0; i < r.hex.size() && ok; ++i) {
        ok = r.hex[i] < 0 || static_cast<uint8_t>(f.payload[r.offset + i]) == r.hex[i];
      }
      if (!ok) continue;
    }
    if (r.text.set && !glob_match(r.text.pattern, f.payload)) continue;
    return {r.family, r.tag.empty() ? std::string_view(families.at(r.family).tag) : r.tag, r.name,
            r.application};
  }
  return {Families::kUnknown, families.at(Families::kUnknown).tag, {}, {}};
}

}  // namespace vantage::sinkhole

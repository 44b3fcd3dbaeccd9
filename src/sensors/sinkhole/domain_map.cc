#include "sensors/sinkhole/domain_map.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include "common/strings.h"

namespace vantage::sinkhole {

namespace {

int count_labels(std::string_view name) {
  return name.empty() ? 0 : static_cast<int>(std::count(name.begin(), name.end(), '.')) + 1;
}

struct Directive {
  std::string verb;
  std::vector<std::string> words;                            // positional
  std::vector<std::pair<std::string, std::string>> options;  // key=value
};

Directive split_line(std::string_view line) {
  Directive d;
  for (auto word : split(line, ' ')) {
    word = trim(word);
    if (word.empty()) continue;
    if (d.verb.empty()) {
      d.verb = to_lower(word);
      continue;
    }
    auto eq = word.find('=');
    if (eq == std::string_view::npos) {
      d.words.emplace_back(word);
    } else {
      d.options.emplace_back(to_lower(word.substr(0, eq)), std::string(word.substr(eq + 1)));
    }
  }
  return d;
}

}  // namespace

bool valid_domain(std::string_view name) {
  if (name.empty() || name.size() > 253 || name.find('.') == std::string_view::npos) return false;
  for (auto label : split(name, '.')) {
    if (label.empty() || label.size() > 63) return false;
    for (char c : label) {
      if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_')) return false;
    }
  }
  return true;
}

Result<std::shared_ptr<const DomainMap>> DomainMap::load_file(const std::string& path,
                                                              const Families& families,
                                                              const DomainMapOptions& options) {
  std::ifstream in(path);
  if (!in) return Error::io("cannot read domain file " + path);
  std::ostringstream text;
  text << in.rdbuf();
  auto m = parse(text.str(), families, options);
  if (!m) return Error::invalid(path + ":" + m.error().message);
  return m;
}

Status DomainMap::add(ZoneEntry e, bool replace_generated) {
  auto it = by_apex_.find(e.apex);
  if (it == by_apex_.end()) {
    by_apex_.emplace(e.apex, static_cast<uint32_t>(entries_.size()));
    entries_.push_back(std::move(e));
    return {};
  }
  ZoneEntry& old = entries_[it->second];
  if (old.generated && e.generated && old.line == e.line) {
    // The same DGA line gave this name on several dates: one zone, the union of its windows.
    old.from = std::min(old.from, e.from);
    old.until = std::max(old.until, e.until);
    return {};
  }
  if (old.generated && replace_generated) {  // an explicit line wins over a generated name
    old = std::move(e);
    return {};
  }
  if (e.generated) return {};  // generated names never override what is written out
  return Error::invalid(std::to_string(e.line) + ": " + e.apex + " is already listed on line " +
                        std::to_string(old.line));
}

Result<std::shared_ptr<const DomainMap>> DomainMap::parse(std::string_view text,
                                                          const Families& families,
                                                          const DomainMapOptions& options) {
  auto map = std::make_shared<DomainMap>();
  map->today_ = options.today;
  int line_no = 0;
  for (auto raw : split(text, '\n')) {
    ++line_no;
    auto hash = raw.find('#');
    auto line = trim(raw.substr(0, hash));
    if (line.empty()) continue;
    std::string line_text(line);
    for (auto& c : line_text)
      if (c == '\t' || c == '\r') c = ' ';
    Directive d = split_line(line_text);
    auto bad = [&](const std::string& why) {
      return Error::invalid(std::to_string(line_no) + ": " + why);
    };
    ZoneEntry e;
    e.line = line_no;
    DgaLine g;
    g.line = line_no;
    std::string family_name;
    for (const auto& option : d.options) {
      const std::string& key = option.first;
      const std::string& value = option.second;
      auto date = [&](DayNumber& out) -> Status {
        auto day = parse_date(value);
        if (!day) return bad(key + "=" + value + ": not a YYYY-MM-DD date");
        out = *day;
        return {};
      };
      Status st;
      if (key == "family") {
        family_name = value;
      } else if (key == "from") {
        st = date(e.from);
      } else if (key == "until") {
        st = date(e.until);
      } else if (key == "expires") {
        st = date(e.expires);
      } else if (key == "seed" && d.verb == "dga") {
        std::string_view v = value;
        bool hex = v.starts_with("0x") || v.starts_with("0X");
        auto n = hex ? std::optional<uint64_t>() : parse_uint(v);
        if (hex) {
          uint64_t acc = 0;
          bool ok = v.size() > 2 && v.size() <= 18;
          for (char c : v.substr(2)) {
            int digit = std::isdigit(static_cast<unsigned char>(c)) ? c - '0'
                        : (c >= 'a' && c <= 'f')                    ? c - 'a' + 10
                        : (c >= 'A' && c <= 'F')                    ? c - 'A' + 10
                                                                    : -1;
            if (digit < 0) ok = false;
            acc = acc * 16 + static_cast<uint64_t>(std::max(digit, 0));
          }
          if (ok) n = acc;
        }
        if (!n) return bad("seed=" + value + ": want a decimal or 0x hex number");
        g.params.seed = *n;
      } else if (key == "count" && d.verb == "dga") {
        auto n = parse_uint(value);
        if (!n || *n == 0 || *n > 100000) return bad("count=" + value + ": want 1..100000");
        g.params.count = static_cast<int>(*n);
      } else if (key == "tlds" && d.verb == "dga") {
        for (auto t : split(value, ',')) {
          std::string tld = to_lower(trim(t));
          if (tld.empty() || tld.size() > 63)
            return bad("tlds=" + value + ": an empty or long TLD");
          g.params.tlds.push_back(tld);
        }
      } else {
        return bad("unknown option '" + key + "' for " + d.verb);
      }
      if (!st) return st.error();
    }
    if (e.from > e.until) return bad("from is after until");
    uint16_t family = Families::kUnknown;
    if (!family_name.empty()) {
      int f = families.find(family_name);
      if (f < 0) return bad("family '" + family_name + "' is not in the families file");
      family = static_cast<uint16_t>(f);
    }
    if (d.verb == "zone" || d.verb == "domain") {
      if (d.words.size() != 1) return bad(d.verb + " wants exactly one name");
      std::string name = to_lower(d.words[0]);
      if (!name.empty() && name.back() == '.') name.pop_back();
      if (!valid_domain(name)) return bad("'" + d.words[0] + "' is not a domain name");
      e.apex = name;
      e.labels = count_labels(name);
      e.kind = d.verb == "zone" ? ZoneEntry::Kind::kOwn : ZoneEntry::Kind::kSinkholed;
      if (d.verb == "domain" && family_name.empty()) return bad("domain wants family=");
      e.family = family;
      if (auto st = map->add(std::move(e), true); !st) return st.error();
    } else if (d.verb == "dga") {
      if (d.words.size() != 1) return bad("dga wants the algorithm's name");
      g.algorithm = find_dga(d.words[0]);
      if (!g.algorithm) {
        std::string known;
        for (const auto& a : dga_algorithms()) known += (known.empty() ? "" : ", ") + a.name;
        return bad("no DGA '" + d.words[0] + "' (known: " + known + ")");
      }
      if (family_name.empty()) return bad("dga wants family=");
      g.family = family;
      g.from = e.from;
      g.until = e.until;
      g.expires = e.expires;
      map->dga_.push_back(std::move(g));
    } else {
      return bad("unknown directive '" + d.verb + "' (zone, domain, dga)");
    }
  }
  // Expand the DGA lines for the days around today.
  std::vector<std::string> names;
  for (const auto& g : map->dga_) {
    auto add_names = [&](DayNumber from, DayNumber until) -> Status {
      for (auto& n : names) {
        if (!valid_domain(n)) continue;
        ZoneEntry e;
        e.apex = std::move(n);
        e.labels = count_labels(e.apex);
        e.family = g.family;
        e.from = std::max(from, g.from);
        e.until = std::min(until, g.until);
        e.expires = g.expires;
        e.line = g.line;
        e.generated = true;
        if (auto st = map->add(std::move(e), false); !st) return st;
        if (map->entries_.size() > options.max_domains) {
          return Error::invalid(std::to_string(g.line) + ": more than " +
                                std::to_string(options.max_domains) + " domains");
        }
      }
      names.clear();
      return {};
    };
    // Never generate more than the bound leaves room for (plus one, to say it is exceeded):
    // a mistyped count fails at once instead of first filling memory.
    DgaParams params = g.params;
    size_t room = options.max_domains - std::min(options.max_domains, map->entries_.size()) + 1;
    size_t want = static_cast<size_t>(params.count > 0 ? params.count : g.algorithm->default_count);
    params.count = static_cast<int>(std::min(want, room));
    if (!g.algorithm->dated) {
      g.algorithm->generate(params, options.today, names);
      if (auto st = add_names(g.from, g.until); !st) return st.error();
      continue;
    }
    DayNumber first = std::max<int64_t>(g.from, int64_t{options.today} - options.slack_days);
    DayNumber last = std::min<int64_t>(g.until, int64_t{options.today} + options.slack_days);
    for (DayNumber day = first; day <= last; ++day) {
      g.algorithm->generate(params, day, names);
      if (auto st = add_names(day - options.slack_days, day + options.slack_days); !st) {
        return st.error();
      }
    }
  }
  return std::shared_ptr<const DomainMap>(std::move(map));
}

const ZoneEntry* DomainMap::find(std::string_view name) const {
  while (!name.empty()) {
    auto it = by_apex_.find(name);
    if (it != by_apex_.end()) return &entries_[it->second];
    auto dot = name.find('.');
    if (dot == std::string_view::npos) break;
    name.remove_prefix(dot + 1);
  }
  return nullptr;
}

}  // namespace vantage::sinkhole

#include "core/catalogue_import.h"

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "common/strings.h"

namespace vantage::core {

namespace {

using json = nlohmann::json;

struct MdRow {
  std::string subject;
  std::string url;
  std::optional<Severity> severity;
};

// Rows of every markdown table whose first cell is a report type name and whose last cell is
// a severity: "| scan_http | [Accessible HTTP](https://...) | info |". Other rows (headers,
// separators, the severity-level legend) are ignored.
std::map<std::string, MdRow, std::less<>> parse_markdown_table(std::string_view text) {
  std::map<std::string, MdRow, std::less<>> rows;
  for (std::string_view line : split(text, '\n')) {
    line = trim(line);
    if (line.empty() || line.front() != '|') continue;
    std::vector<std::string_view> cells;
    for (auto c : split(line.substr(1), '|')) cells.push_back(trim(c));
    while (!cells.empty() && cells.back().empty()) cells.pop_back();
    if (cells.size() < 3) continue;
    std::string_view name = cells[0];
    if (!is_identifier(name) || name.find_first_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ") != name.npos) {
      continue;
    }
    MdRow row;
    row.severity = parse_severity(cells.back());
    std::string_view subject = cells[1];
    // "[text](url)" -> subject text and URL.
    if (subject.size() > 2 && subject.front() == '[') {
      size_t close = subject.find("](");
      if (close != subject.npos && subject.back() == ')') {
        row.url = std::string(subject.substr(close + 2, subject.size() - close - 3));
        subject = subject.substr(1, close - 1);
      }
    }
    row.subject = std::string(trim(subject));
    rows.emplace(std::string(name), std::move(row));
  }
  return rows;
}

// The kind an IntelMQ converter implies, or nullopt when it says nothing about the type.
// convert_date (http_date) is deliberately absent: it holds RFC 1123 dates such as
// "Tue, 10 Jan 2023 10:00:00 GMT" that upstream writes verbatim, so it stays a string.
std::optional<ColumnKind> kind_of_converter(std::string_view conv) {
  if (conv == "convert_int" || conv == "invalidate_zero") return ColumnKind::kInteger;
  if (conv == "convert_float") return ColumnKind::kFloat;
  if (conv == "convert_bool") return ColumnKind::kBoolean;
  if (conv == "validate_ip") return ColumnKind::kIp;
  if (conv == "add_UTC_to_timestamp" || conv == "convert_date_utc") return ColumnKind::kTimestamp;
  return std::nullopt;
}

// When IntelMQ maps one column several times (tag, ip), the most specific kind wins.
int kind_rank(ColumnKind k) {
  switch (k) {
    case ColumnKind::kTimestamp: return 5;
    case ColumnKind::kIp: return 4;
    case ColumnKind::kInteger: return 3;
    case ColumnKind::kFloat: return 2;
    case ColumnKind::kBoolean: return 1;
    case ColumnKind::kString: return 0;
  }
  return 0;
}

struct IntelmqType {
  std::map<std::string, ColumnKind, std::less<>> kinds;
  std::string url, taxonomy, type;
};

Result<std::map<std::string, IntelmqType, std::less<>>> parse_intelmq(std::string_view text) {
  std::map<std::string, IntelmqType, std::less<>> out;
  if (text.empty()) return out;
  json doc;
  try {
    doc = json::parse(text);
  } catch (const json::exception& e) {
    return Error::invalid(std::string("intelmq.json is not valid JSON: ") + e.what());
  }
  if (!doc.is_object()) return Error::invalid("intelmq.json: expected an object");
  for (const auto& [key, entry] : doc.items()) {
    if (!entry.is_object() || key == "_meta") continue;
    // IntelMQ keys the event4_* feeds as event_*; file_name holds the report type.
    std::string type = entry.value("file_name", key);
    IntelmqType t;
    t.url = entry.value("url", "");
    if (auto c = entry.find("constant_fields"); c != entry.end() && c->is_object()) {
      t.taxonomy = c->value("classification.taxonomy", "");
      t.type = c->value("classification.type", "");
    }
    for (const char* list : {"required_fields", "optional_fields"}) {
      auto fields = entry.find(list);
      if (fields == entry.end() || !fields->is_array()) continue;
      for (const auto& f : *fields) {
        if (!f.is_array() || f.size() < 2 || !f[1].is_string()) continue;
        std::string column = f[1].get<std::string>();
        ColumnKind kind = ColumnKind::kString;
        if (f.size() >= 3 && f[2].is_string()) {
          kind = kind_of_converter(f[2].get<std::string>()).value_or(ColumnKind::kString);
        }
        auto [it, inserted] = t.kinds.emplace(column, kind);
        if (!inserted && kind_rank(kind) > kind_rank(it->second)) it->second = kind;
      }
    }
    out[type] = std::move(t);
  }
  return out;
}

ConstituentKind classify_constituent(const ReportType& t, std::string* column) {
  // An IP column identifies the organisation for almost every type. `ip` when present;
  // otherwise the first IP column in report order, which is the side the report is about
  // (src_ip for sinkhole and honeypot events, dst_ip for DDoS targets, http_referer_ip for
  // the referer reports).
  if (t.column_index("ip") >= 0 &&
      t.columns[static_cast<size_t>(t.column_index("ip"))].kind == ColumnKind::kIp) {
    *column = "ip";
    return ConstituentKind::kIp;
  }
  for (const auto& c : t.columns) {
    if (c.kind == ColumnKind::kIp) {
      *column = c.name;
      return ConstituentKind::kIp;
    }
  }
  // Without an IP: a domain, URL or e-mail column, in this order of preference.
  static const std::pair<const char*, ConstituentKind> kOthers[] = {
      {"hostname", ConstituentKind::kDomain}, {"http_host", ConstituentKind::kDomain},
      {"domain", ConstituentKind::kDomain},   {"website", ConstituentKind::kDomain},
      {"url", ConstituentKind::kUrl},         {"http_url", ConstituentKind::kUrl},
      {"email", ConstituentKind::kEmail},
  };
  for (const auto& [name, kind] : kOthers) {
    if (t.column_index(name) >= 0) {
      *column = name;
      return kind;
    }
  }
  column->clear();
  return ConstituentKind::kNone;
}

void describe_changes(const ReportType& before, const ReportType& after,
                      std::vector<std::string>& out) {
  const std::string p = "~ " + after.name + ": ";
  std::set<std::string, std::less<>> old_cols, new_cols;
  for (const auto& c : before.columns) old_cols.insert(c.name);
  for (const auto& c : after.columns) new_cols.insert(c.name);
  for (const auto& c : after.columns) {
    if (!old_cols.count(c.name)) {
      out.push_back(p + "+ column " + c.name + " (" + column_kind_name(c.kind) + ")");
    } else {
      const Column& o = before.columns[static_cast<size_t>(before.column_index(c.name))];
      if (o.kind != c.kind) {
        out.push_back(p + "column " + c.name + " kind " + column_kind_name(o.kind) + " -> " +
                      column_kind_name(c.kind));
      }
    }
  }
  for (const auto& c : before.columns) {
    if (!new_cols.count(c.name)) out.push_back(p + "- column " + c.name);
  }
  std::vector<std::string> old_order, new_order;
  for (const auto& c : before.columns) {
    if (new_cols.count(c.name)) old_order.push_back(c.name);
  }
  for (const auto& c : after.columns) {
    if (old_cols.count(c.name)) new_order.push_back(c.name);
  }
  if (old_order != new_order) out.push_back(p + "column order changed");
  auto field = [&](const char* what, const std::string& a, const std::string& b) {
    if (a != b) out.push_back(p + what + " \"" + a + "\" -> \"" + b + "\"");
  };
  field("subject", before.subject, after.subject);
  field("url", before.url, after.url);
  field("default severity", severity_name(before.default_severity),
        severity_name(after.default_severity));
  field("taxonomy", before.taxonomy, after.taxonomy);
  field("classification type", before.classification_type, after.classification_type);
  field("constituent", before.constituent_column, after.constituent_column);
}

}  // namespace

ColumnKind fallback_column_kind(std::string_view c) {
  static const std::set<std::string_view> kInteger = {"port",
                                                      "src_port",
                                                      "dst_port",
                                                      "asn",
                                                      "src_asn",
                                                      "dst_asn",
                                                      "naics",
                                                      "src_naics",
                                                      "dst_naics",
                                                      "http_code",
                                                      "content_length",
                                                      "cert_length",
                                                      "response_size",
                                                      "ssl_version",
                                                      "message_length",
                                                      "uptime",
                                                      "duration",
                                                      "attack_src_port",
                                                      "count",
                                                      "bytes",
                                                      "packets",
                                                      "http_referer_asn",
                                                      "http_referer_naics",
                                                      "http_referer_port"};
  static const std::set<std::string_view> kIp = {"ip", "src_ip", "dst_ip", "http_referer_ip",
                                                 "attack_src_ip"};
  if (c == "timestamp") return ColumnKind::kTimestamp;
  if (kIp.count(c)) return ColumnKind::kIp;
  if (kInteger.count(c)) return ColumnKind::kInteger;
  return ColumnKind::kString;
}

Result<ImportOutcome> import_catalogue(const ImportSources& sources, const Catalogue* existing) {
  json reports;
  try {
    reports = json::parse(sources.reports_json);
  } catch (const json::exception& e) {
    return Error::invalid(std::string("reports.json is not valid JSON: ") + e.what());
  }
  if (!reports.is_object() || reports.empty()) {
    return Error::invalid("reports.json: expected a non-empty object keyed by report type");
  }
  auto intelmq = parse_intelmq(sources.intelmq_json);
  if (!intelmq) return intelmq.error();
  const auto types_md = parse_markdown_table(sources.types_md);
  const auto severity_md = parse_markdown_table(sources.severity_md);

  uint16_t next_id = 1;
  if (existing) {
    for (const ReportType* t : existing->types()) next_id = std::max<uint16_t>(next_id, t->id + 1);
  }

  std::vector<ReportType> types;
  for (const auto& [name, entry] : reports.items()) {
    if (!entry.is_object()) return Error::invalid("reports.json: " + name + " is not an object");
    auto fields = entry.find("fields");
    if (fields == entry.end() || !fields->is_array() || fields->empty()) {
      return Error::invalid("reports.json: " + name + " has no \"fields\" list");
    }
    const ReportType* old = existing ? existing->find(name) : nullptr;
    auto im = intelmq->find(name);
    const IntelmqType* imt = im == intelmq->end() ? nullptr : &im->second;

    ReportType t;
    t.name = name;
    t.id = old ? old->id : next_id++;
    for (const auto& f : *fields) {
      if (!f.is_string()) return Error::invalid("reports.json: " + name + ": a field is not text");
      Column c{f.get<std::string>(), ColumnKind::kString};
      int old_index = old ? old->column_index(c.name) : -1;
      if (imt && imt->kinds.count(c.name)) {
        c.kind = imt->kinds.find(c.name)->second;
      } else if (old_index >= 0 && sources.intelmq_json.empty()) {
        c.kind = old->columns[static_cast<size_t>(old_index)].kind;
      } else {
        c.kind = fallback_column_kind(c.name);
      }
      t.columns.push_back(std::move(c));
    }

    t.url = entry.value("url", "");
    t.taxonomy = entry.value("classification.taxonomy", "");
    t.classification_type = entry.value("classification.type", "");
    auto tm = types_md.find(name);
    auto sm = severity_md.find(name);
    if (t.url.empty() && tm != types_md.end()) t.url = tm->second.url;
    if (imt) {
      if (t.url.empty()) t.url = imt->url;
      if (t.taxonomy.empty()) t.taxonomy = imt->taxonomy;
      if (t.classification_type.empty()) t.classification_type = imt->type;
    }

    // A field no given source supplies keeps its value from the catalogue being replaced,
    // so a refresh from reports.json alone does not drop what types.md or intelmq.json gave.
    if (old) {
      if (t.url.empty()) t.url = old->url;
      if (t.taxonomy.empty()) t.taxonomy = old->taxonomy;
      if (t.classification_type.empty()) t.classification_type = old->classification_type;
    }

    if (tm != types_md.end() && !tm->second.subject.empty()) {
      t.subject = tm->second.subject;
    } else if (old && sources.types_md.empty()) {
      t.subject = old->subject;
    } else if (sm != severity_md.end() && !sm->second.subject.empty()) {
      t.subject = sm->second.subject;
    } else {
      t.subject = entry.value("name", name);
    }

    if (sm != severity_md.end() && sm->second.severity) {
      t.default_severity = *sm->second.severity;
      t.severity_source = "severity.md";
    } else if (old && sources.severity_md.empty()) {
      t.default_severity = old->default_severity;
      t.severity_source = old->severity_source;
    } else if (tm != types_md.end() && tm->second.severity) {
      t.default_severity = *tm->second.severity;
      t.severity_source = "types.md";
    } else {
      // Neither upstream table lists the type: "info" claims no risk we cannot source.
      t.default_severity = Severity::kInfo;
      t.severity_source = "default";
    }
    t.constituent_kind = classify_constituent(t, &t.constituent_column);
    types.push_back(std::move(t));
  }

  ImportOutcome outcome;
  if (existing) {
    for (const ReportType* o : existing->types()) {
      if (!reports.contains(o->name)) {
        outcome.changes.push_back("- type " + o->name);
        ++outcome.removed_types;
      }
    }
  }
  for (const ReportType& t : types) {
    const ReportType* old = existing ? existing->find(t.name) : nullptr;
    if (!old) {
      if (existing) {
        outcome.changes.push_back("+ type " + t.name + " (" + std::to_string(t.columns.size()) +
                                  " columns)");
      }
      ++outcome.added_types;
      continue;
    }
    size_t before = outcome.changes.size();
    describe_changes(*old, t, outcome.changes);
    if (outcome.changes.size() != before) ++outcome.changed_types;
  }
  auto cat = Catalogue::from_types(std::move(types));
  if (!cat) return Error::invalid("imported catalogue is invalid: " + cat.error().message);
  outcome.catalogue = std::move(*cat);
  return outcome;
}

}  // namespace vantage::core

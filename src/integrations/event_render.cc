#include "integrations/event_render.h"

#include <algorithm>

#include "common/strings.h"

namespace vantage::integrations {

namespace {

using json = nlohmann::json;

// A column's value as JSON: numbers and booleans typed, the rest as the report writes it.
json column_value(const core::Event& e, int col) {
  switch (e.kind(col)) {
    case core::ColumnKind::kInteger: return e.int_at(col);
    case core::ColumnKind::kFloat: return e.float_at(col);
    case core::ColumnKind::kBoolean: return e.bool_at(col);
    default: return e.text(col);
  }
}

// Sets a dotted path ("source.geo.country_iso_code") in `doc`, creating objects on the way.
// A path blocked by a non-object value (two mappings disagreeing) keeps the first value.
json* slot(json& doc, std::string_view path) {
  json* at = &doc;
  for (auto part : split(path, '.')) {
    if (!at->is_object() && !at->is_null()) return nullptr;
    at = &(*at)[std::string(part)];
  }
  return at;
}

constexpr const char* kVendor = "Vantage";

}  // namespace

int cef_severity(uint8_t severity) {
  static constexpr int kMap[] = {1, 3, 5, 8, 10};
  return kMap[std::min<uint8_t>(severity, 4)];
}

const char* severity_label(uint8_t severity) {
  static constexpr const char* kNames[] = {"info", "low", "medium", "high", "critical"};
  return kNames[std::min<uint8_t>(severity, 4)];
}

std::string rfc3339(UnixSeconds t) {
  std::string s = format_timestamp(t);  // "YYYY-MM-DD HH:MM:SS"
  if (s.size() == 19) s[10] = 'T';
  return s + "Z";
}

void append_cef_header_value(std::string& out, std::string_view v) {
  for (char c : v) {
    if (c == '\\' || c == '|') out += '\\';
    if (c == '\r' || c == '\n') c = ' ';  // a header field is one line
    out += c;
  }
}

void append_cef_extension_value(std::string& out, std::string_view v) {
  for (char c : v) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '=': out += "\\="; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      default: out += c;
    }
  }
}

EventRenderer::EventRenderer(const core::Catalogue& catalogue, const CefMap& cef, const EcsMap& ecs)
    : catalogue_(catalogue), cef_map_(cef), ecs_map_(ecs) {}

const core::ReportType* EventRenderer::decode(const store::StoredEvent& ev) {
  const core::ReportType* type = catalogue_.find(ev.type);
  if (!type || !event_.decode_into(type, ev.row)) {
    ++decode_errors_;
    return nullptr;
  }
  return type;
}

const std::vector<EventRenderer::CefField>& EventRenderer::cef_fields(
    const core::ReportType& type) {
  auto it = cef_cache_.find(&type);
  if (it != cef_cache_.end()) return it->second;
  std::vector<CefField> fields;
  for (const auto& f : cef_map_.fields(type)) {
    int col = type.column_index(f.column);
    if (col >= 0) fields.push_back({col, f.key, cef_label_key(f.key)});
  }
  return cef_cache_.emplace(&type, std::move(fields)).first->second;
}

json EventRenderer::json_object(const store::StoredEvent& ev, const RenderContext& ctx) {
  json row = json::object();
  if (decode(ev)) {
    for (int c = 0; c < event_.size(); ++c) {
      if (!event_.is_null(c))
        row[event_.type()->columns[static_cast<size_t>(c)].name] = column_value(event_, c);
    }
  }
  return json{{"id", ev.id},
              {"type", ev.type},
              {"severity", severity_label(ev.severity)},
              {"org", ctx.org},
              {"subscription", ctx.subscription},
              {"first_seen", rfc3339(ev.first_seen)},
              {"last_seen", rfc3339(ev.last_seen)},
              {"count", ev.count},
              {"row", std::move(row)}};
}

std::string EventRenderer::cef(const store::StoredEvent& ev) {
  const core::ReportType* type = decode(ev);
  std::string out = "CEF:0|";
  // Device Vendor, Device Product, Device Version, Signature ID, Name.
  const std::string_view name = type && !type->subject.empty() ? type->subject : ev.type;
  for (std::string_view field :
       {std::string_view(kVendor), std::string_view(kVendor), std::string_view(VANTAGE_VERSION),
        std::string_view(ev.type), name}) {
    append_cef_header_value(out, field);
    out += '|';
  }
  out += std::to_string(cef_severity(ev.severity)) + '|';
  // Vantage's own keys first: when it was seen, what it is, its id (receivers deduplicate on
  // externalId), how often.
  out += "rt=" + std::to_string(static_cast<int64_t>(ev.first_seen) * 1000);
  out += " end=" + std::to_string(static_cast<int64_t>(ev.last_seen) * 1000);
  out += " cat=";
  append_cef_extension_value(out, ev.type);
  out += " externalId=" + std::to_string(ev.id);
  out += " cnt=" + std::to_string(ev.count);
  if (!type) return out;
  std::string value;
  for (const auto& f : cef_fields(*type)) {
    if (event_.is_null(f.column)) continue;
    value.clear();
    event_.append_text(f.column, value);
    out += ' ' + f.key + '=';
    append_cef_extension_value(out, value);
    if (!f.label_key.empty()) {
      out += ' ' + f.label_key + '=';
      append_cef_extension_value(out, type->columns[static_cast<size_t>(f.column)].name);
    }
  }
  return out;
}

json EventRenderer::ecs_document(const store::StoredEvent& ev, const RenderContext& ctx) {
  const core::ReportType* type = decode(ev);
  json doc = json::object();
  doc["@timestamp"] = rfc3339(ev.first_seen);  // the row's timestamp column replaces it
  doc["ecs"] = {{"version", ecs_map_.ecs_version()}};
  doc["message"] = type && !type->subject.empty() ? type->subject : ev.type;
  doc["event"] = {{"kind", "alert"},
                  {"module", "vantage"},
                  {"dataset", "vantage." + ev.type},
                  {"id", std::to_string(ev.id)},
                  {"severity", ev.severity},
                  {"start", rfc3339(ev.first_seen)},
                  {"end", rfc3339(ev.last_seen)}};
  doc["observer"] = {{"vendor", kVendor}, {"product", kVendor}, {"hostname", ctx.hostname}};
  doc["organization"] = {{"name", ctx.org}};
  doc["vantage"] = {{"report_type", ev.type},
                    {"severity", severity_label(ev.severity)},
                    {"count", ev.count},
                    {"subscription", ctx.subscription}};
  if (!type) return doc;
  for (int c = 0; c < event_.size(); ++c) {
    if (event_.is_null(c)) continue;
    const auto& column = type->columns[static_cast<size_t>(c)];
    EcsMap::Target target = ecs_map_.target(type->name, column.name);
    json* at = slot(doc, target.field);
    if (!at) continue;
    if (target.array) {
      if (!at->is_array()) *at = json::array();
      for (auto part : split(event_.text(c), ',')) {
        part = trim(part);
        if (!part.empty()) at->push_back(std::string(part));
      }
    } else if (column.kind == core::ColumnKind::kTimestamp) {
      *at = rfc3339(event_.time_at(c));
    } else if (at->is_null()) {  // the first column mapped to a field wins
      *at = column_value(event_, c);
    }
  }
  return doc;
}

}  // namespace vantage::integrations

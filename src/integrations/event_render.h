#pragma once
// One stored event in the shapes the push integrations send:
//   - a JSON object (webhook JSON Lines, the "event" of a Splunk HEC envelope):
//       {"id": 42, "type": "scan_http", "severity": "critical", "org": "Example_CERT",
//        "subscription": "soc", "first_seen": "2026-01-15T10:00:00Z", "last_seen": ...,
//        "count": 1, "row": {<report columns: integers/floats as numbers, booleans as
//        true/false, everything else as the report writes it; null columns left out>}}
//   - a CEF record (ArcSight Common Event Format) with the columns in the extension keys of
//     schemas/cef.json, custom keys labelled with the column name;
//   - an Elastic Common Schema document with the columns placed by schemas/ecs.json.
//
// A row that does not decode (a type missing from the catalogue, damaged bytes) is still
// rendered -- its metadata without columns -- and counted in decode_errors(): never dropped.
//
// Thread-safety: none; one renderer per thread (it caches per-type field lists).

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/catalogue.h"
#include "core/event.h"
#include "integrations/cef_map.h"
#include "integrations/ecs_map.h"
#include "store/store.h"

namespace vantage::integrations {

// Who receives the rendering (part of every record).
struct RenderContext {
  std::string org;           // the receiving organisation's short name
  std::string subscription;  // the subscription's name
  std::string hostname;      // this Vantage's host name
};

// CEF's 0..10 severity for Vantage's info..critical (0..4): 1, 3, 5, 8, 10.
int cef_severity(uint8_t severity);
// "info" .. "critical" (values above 4 read as critical).
const char* severity_label(uint8_t severity);
// RFC 3339 UTC: "2026-01-15T10:00:00Z".
std::string rfc3339(UnixSeconds t);

class EventRenderer {
 public:
  explicit EventRenderer(const core::Catalogue& catalogue, const CefMap& cef = CefMap::builtin(),
                         const EcsMap& ecs = EcsMap::builtin());

  nlohmann::json json_object(const store::StoredEvent& ev, const RenderContext& ctx);
  // "CEF:0|Vantage|Vantage|<version>|<type>|<subject>|<severity>|<extension>" (no newline).
  std::string cef(const store::StoredEvent& ev);
  nlohmann::json ecs_document(const store::StoredEvent& ev, const RenderContext& ctx);

  int64_t decode_errors() const { return decode_errors_; }

 private:
  struct CefField {
    int column;
    std::string key;
    std::string label_key;  // "cs1Label"; empty for predefined keys
  };
  // Decodes `ev` into event_; null when it cannot be decoded (counted).
  const core::ReportType* decode(const store::StoredEvent& ev);
  const std::vector<CefField>& cef_fields(const core::ReportType& type);

  const core::Catalogue& catalogue_;
  const CefMap& cef_map_;
  const EcsMap& ecs_map_;
  core::Event event_;
  std::unordered_map<const core::ReportType*, std::vector<CefField>> cef_cache_;
  int64_t decode_errors_ = 0;
};

// CEF escaping (the spec's rules): in a header field '\' and '|' get a backslash; in an
// extension value '\' and '=' get a backslash and CR/LF become \r / \n.
void append_cef_header_value(std::string& out, std::string_view v);
void append_cef_extension_value(std::string& out, std::string_view v);

}  // namespace vantage::integrations

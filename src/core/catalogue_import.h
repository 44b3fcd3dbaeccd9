#pragma once
// Builds the project's catalogue from Shadowserver's public report_schema files, merged
// with the catalogue already in use, so an operator can refresh from a newer upstream copy
// and see exactly what changed (`vantage schema import`).
//
// Sources and precedence (see schemas/README.md for the reasoning):
//  - reports.json: the list of types, their ordered columns, doc URL and IntelMQ
//    classification. It is the truth for which types and columns exist.
//  - intelmq.json: per column converter -> kind (convert_int/invalidate_zero -> integer,
//    convert_float -> float, convert_bool -> boolean, validate_ip -> ip,
//    add_UTC_to_timestamp/convert_date_utc -> timestamp). Entries are matched by
//    `file_name` (IntelMQ names the event4_* types event_*). Also supplies a missing URL or
//    classification.
//  - types.md: subject; severity.md: default severity (types.md's own severity column is the
//    fallback, then "info" with severity_source "default").
//  - the existing catalogue: keeps ids stable and, for inputs not given, keeps its subject,
//    severity and column kinds.
//  - a name-based fallback for columns no other source describes (port, asn, naics, ...).
// Pure functions over text; no I/O.

#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "core/catalogue.h"

namespace vantage::core {

struct ImportSources {
  std::string_view reports_json;  // required
  std::string_view types_md;      // empty: not given
  std::string_view severity_md;   // empty: not given
  std::string_view intelmq_json;  // empty: not given
};

struct ImportOutcome {
  Catalogue catalogue;
  // Human-readable change lines, e.g. "+ type scan_foo (12 columns)",
  // "~ scan_http: + column foo (string)", "- type scan_old". Empty: nothing changed.
  std::vector<std::string> changes;
  int added_types = 0;
  int removed_types = 0;
  int changed_types = 0;
};

// `existing` may be null (first import). Errors name the input and what is wrong with it.
Result<ImportOutcome> import_catalogue(const ImportSources& sources, const Catalogue* existing);

// The kind a column gets when no converter or existing catalogue describes it.
ColumnKind fallback_column_kind(std::string_view column);

}  // namespace vantage::core

#pragma once
// Which CEF extension key carries which report column, per report type: schemas/cef.json,
// derived from Shadowserver's report_schema/cef.json (the mapping its own CEF logger uses) and
// compiled into the binary. `vantage schema import-cef` regenerates it; the import corrects
// the upstream file's known slips (an entry written the wrong way round, a column the type
// does not have, a key that is not CEF) and lists each correction in the file it writes.
//
// Thread-safety: immutable after construction.

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "core/catalogue.h"

namespace vantage::integrations {

// True for the CEF extension keys this project writes or accepts from the mapping
// (ArcSight's dictionary: src, dst, spt, dpt, shost, dhost, cs1..cs6, cn1..cn3, cfp1..cfp4, ...).
bool is_cef_key(std::string_view key);
// The label key a custom field needs ("cs1" -> "cs1Label"); empty for the predefined keys.
std::string cef_label_key(std::string_view key);

class CefMap {
 public:
  struct Field {
    std::string column;
    std::string key;
  };

  // schemas/cef.json as compiled in (parsed once; aborts if the embedded text is invalid:
  // integrations_test prevents it).
  static const CefMap& builtin();
  // The schemas/cef.json format: {"types": {"<type>": {"<column>": "<cef key>", ...}}, ...}.
  static Result<CefMap> parse(std::string_view json_text);

  // The fields of a type in column order of `type`; empty for a type the map does not know.
  std::vector<Field> fields(const core::ReportType& type) const;
  size_t size() const { return types_.size(); }

 private:
  std::map<std::string, std::map<std::string, std::string>, std::less<>> types_;
};

struct CefImport {
  std::string json;                      // the text of schemas/cef.json
  std::vector<std::string> corrections;  // one line per slip corrected in the upstream file
};

// Builds schemas/cef.json from Shadowserver's report_schema/cef.json ({"<type>": {"map":
// {"<column>": "<key>"}}}). `source` is recorded in the output (where the upstream came from).
// Errors: not that shape; two columns of one type on the same key after correction.
Result<CefImport> import_cef_map(std::string_view upstream_json, const core::Catalogue& catalogue,
                                 std::string_view source);

// The text of schemas/cef.json compiled into the binary.
std::string_view builtin_cef_json();

}  // namespace vantage::integrations

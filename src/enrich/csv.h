#pragma once
// A minimal RFC 4180 line splitter for the enrichment data files (ASN ranges, operator sector
// table). Internal to vantage_enrich. Hand-written rather than a general CSV library because
// the loaders need exact file:line errors and no per-field allocation for unquoted fields.
// Thread-safety: plain functions over caller-owned buffers.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace vantage::enrich::csv {

// Splits `text` into lines (LF or CRLF). A final line without a newline is still returned;
// callers decide whether that is truncation (the field count check catches most cases).
class LineReader {
 public:
  explicit LineReader(std::string_view text) : text_(text) {}
  // Returns false at the end of the text. `line_no` is 1-based.
  bool next(std::string_view& line, size_t& line_no);

 private:
  std::string_view text_;
  size_t pos_ = 0;
  size_t line_no_ = 0;
};

// Splits one line into fields. Quoted fields may contain commas and doubled quotes ("");
// their unescaped text is written into `scratch` storage owned by the caller, and the
// returned views stay valid until `scratch` is next modified. Returns false with `error` set
// for an unterminated quote or text after a closing quote.
bool split_fields(std::string_view line, std::vector<std::string_view>& fields,
                  std::vector<std::string>& scratch, std::string& error);

// Reads a whole file into memory. Returns false with `error` set (naming the path).
bool read_file(const std::string& path, std::string& out, std::string& error);

}  // namespace vantage::enrich::csv

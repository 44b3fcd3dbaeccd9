#pragma once
// Reads report CSV in Shadowserver's format (the one CsvWriter writes) by header name: column
// order is not fixed upstream, so the header row maps file columns onto the report type's
// catalogue columns. Header columns the catalogue does not know are kept aside (names and
// per-row values); catalogue columns the header lacks read as null.
//
// Parsing: RFC 4180 -- quoted fields may hold commas, doubled quotes and line breaks; CRLF
// is accepted as well as LF; a missing LF after the last record is accepted; blank lines are
// skipped. `,,` reads as null and `,"",` as the empty string.
//
// Hostile input never stops the reader: every bad record yields one CsvError naming the
// source, line, column and reason, the record is skipped, and reading continues with the next
// one. Errors are values (no exceptions per row). Memory is bounded: the file is read in
// chunks and no record may exceed `max_record_bytes` (nor a field `max_field_bytes`); an
// oversized record is skipped up to the next line break.
//
// Typical use:
//   auto reader = CsvReader::open_file(path, Catalogue::builtin());
//   if (!reader) { ...reader.error()... }
//   Event event;
//   for (;;) {
//     auto r = reader->next(event);
//     if (r == CsvReader::Next::kEnd) break;
//     if (r == CsvReader::Next::kError) { quarantine(reader->error()); continue; }
//     consume(event);
//   }
// Not thread-safe; one reader per input.

#include <array>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "core/catalogue.h"
#include "core/event.h"

namespace vantage::core {

enum class CsvErrorKind : uint8_t {
  kUnknownReportType = 0,  // the file name names no catalogue type
  kMissingHeader,          // empty input, or a first line with no catalogue column
  kBadHeader,              // duplicate or empty header names
  kColumnCount,            // a record with more or fewer fields than the header
  kBadUtf8,
  kOversizedField,  // a field over max_field_bytes, or a record over max_record_bytes
  kBadQuoting,      // an unterminated quote, or text after a closing quote
  kBadTimestamp,
  kBadInteger,
  kBadFloat,
  kBadBoolean,
  kBadIp,
  kIo,  // reading the file failed
};
inline constexpr int kCsvErrorKindCount = 13;
const char* csv_error_kind_name(CsvErrorKind kind);  // "bad integer", ...

struct CsvError {
  CsvErrorKind kind = CsvErrorKind::kIo;
  std::string source;  // file path or the label given in the options
  int64_t line = 0;    // 1-based line where the record starts; 0: not about one record
  std::string column;  // the column concerned, when there is one
  std::string detail;  // e.g. the offending value (truncated to 64 bytes)
  // "2024-01-01-scan_http-x-asn.csv:12: column port: bad integer: \"abc\""
  std::string message() const;
};

struct CsvReaderOptions {
  std::string source_name;  // used in errors; open_file() defaults it to the path
  size_t max_field_bytes = size_t{1} << 20;
  size_t max_record_bytes = size_t{16} << 20;
  size_t chunk_bytes = size_t{1} << 16;  // read size for files
};

struct CsvReaderStats {
  int64_t records = 0;      // data records seen (good and bad, blank lines excluded)
  int64_t rows = 0;         // records returned as events
  int64_t skipped = 0;      // records rejected with an error
  int64_t blank_lines = 0;  // ignored
  int64_t bytes = 0;        // input bytes consumed
  std::array<int64_t, kCsvErrorKindCount> errors{};  // by CsvErrorKind
};

// The parts of a Shadowserver report file name "YYYY-MM-DD-<type>-<identifier>.csv"
// (report_schema report-filename.md: ^(\d{4}-\d{2}-\d{2})-([^-]+)-(.+)\.csv$).
struct ReportFileName {
  std::string date;        // "2024-07-04"
  std::string type;        // "dns_openresolver"
  std::string identifier;  // "123-sample-asn"
};
// Accepts a bare name or a path (only the last component is used).
std::optional<ReportFileName> parse_report_filename(std::string_view name);
// The catalogue type of a report file: the type the official regex extracts, or else the
// longest catalogue type that prefixes it followed by '_' (api_utils writes
// "2022-08-31-scan_stun_example_com-asn.csv"). Null when neither matches.
const ReportType* detect_report_type(std::string_view file_name, const Catalogue& catalogue);

class CsvReader {
 public:
  enum class Next { kRow, kError, kEnd };

  // Reads `data`, which must outlive the reader.
  static CsvReader from_buffer(std::string_view data, const ReportType& type,
                               CsvReaderOptions options = {});
  // Reads a file in chunks. The type comes from `type`, or else from the file name; an
  // unknown type or an unopenable file is an error (kUnknownReportType / kIo in the text).
  static Result<CsvReader> open_file(const std::string& path, const Catalogue& catalogue,
                                     CsvReaderOptions options = {},
                                     const ReportType* type = nullptr);
  // Reads an open stream (e.g. stdin) in chunks; the caller keeps ownership of `file`.
  static CsvReader from_file(std::FILE* file, const ReportType& type,
                             CsvReaderOptions options = {});

  CsvReader(CsvReader&&) noexcept;
  CsvReader& operator=(CsvReader&&) noexcept;
  ~CsvReader();

  // kRow: `event` holds the next record (reset to this reader's type; every catalogue
  // column not in the file is null). kError: the record was skipped; error() says why.
  // kEnd: no more input (also after a fatal header or I/O error, reported once as kError).
  Next next(Event& event);
  const CsvError& error() const;

  const ReportType& type() const;
  const CsvReaderStats& stats() const;
  // Header columns that are not in the catalogue type, in file order, and their values in
  // the record last returned as kRow (valid until the next call).
  const std::vector<std::string>& extra_columns() const;
  std::string_view extra_value(size_t i) const;
  // Catalogue columns absent from the header (known after the first next()).
  const std::vector<std::string>& missing_columns() const;

 private:
  struct State;
  explicit CsvReader(std::unique_ptr<State> state);
  std::unique_ptr<State> s_;
};

}  // namespace vantage::core

#include "core/csv_reader.h"

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "common/strings.h"

namespace vantage::core {

namespace {

constexpr const char* kErrorNames[] = {
    "unknown report type", "missing header", "bad header",    "wrong column count", "bad UTF-8",
    "oversized field",     "bad quoting",    "bad timestamp", "bad integer",        "bad float",
    "bad boolean",         "bad IP address", "I/O error"};
static_assert(sizeof(kErrorNames) / sizeof(kErrorNames[0]) == kCsvErrorKindCount);

CsvErrorKind error_of(ValueError e) {
  switch (e) {
    case ValueError::kBadTimestamp: return CsvErrorKind::kBadTimestamp;
    case ValueError::kBadInteger: return CsvErrorKind::kBadInteger;
    case ValueError::kBadFloat: return CsvErrorKind::kBadFloat;
    case ValueError::kBadBoolean: return CsvErrorKind::kBadBoolean;
    case ValueError::kBadIp: return CsvErrorKind::kBadIp;
    case ValueError::kNone: break;
  }
  return CsvErrorKind::kIo;
}

// At most 64 bytes of a (valid UTF-8) value for an error message, cut on a character
// boundary, with control characters removed.
std::string excerpt(std::string_view v) {
  if (v.size() > 64) {
    size_t n = 64;
    while (n > 0 && (static_cast<unsigned char>(v[n]) & 0xC0) == 0x80) --n;
    return strip_control(v.substr(0, n)) + "...";
  }
  return strip_control(v);
}

// UTF-8 check with an 8-bytes-at-a-time ASCII fast path: reports are mostly ASCII with
// short non-ASCII runs (city names), so whole words are skipped and is_valid_utf8() only
// sees the stretch from the first non-ASCII byte of a word to the next ASCII byte.
bool valid_utf8(const char* p, size_t n) {
  size_t i = 0;
  while (i < n) {
    if (i + 8 <= n) {
      uint64_t w;
      std::memcpy(&w, p + i, 8);
      if (!(w & 0x8080808080808080ULL)) {
        i += 8;
        continue;
      }
    }
    if (!(static_cast<unsigned char>(p[i]) & 0x80)) {
      ++i;
      continue;
    }
    // A multi-byte run: validate up to the next ASCII byte (a sequence never contains one).
    size_t j = i + 1;
    while (j < n && (static_cast<unsigned char>(p[j]) & 0x80)) ++j;
    if (!is_valid_utf8(std::string_view(p + i, j - i))) return false;
    i = j;
  }
  return true;
}

// Counts LF bytes with memchr: quoted values rarely hold one, so this is usually one call.
int64_t count_newlines(const char* p, size_t n) {
  int64_t count = 0;
  const char* end = p + n;
  while (p < end) {
    const void* nl = std::memchr(p, '\n', static_cast<size_t>(end - p));
    if (!nl) break;
    ++count;
    p = static_cast<const char*>(nl) + 1;
  }
  return count;
}

std::string_view basename_of(std::string_view path) {
  size_t slash = path.find_last_of('/');
  return slash == path.npos ? path : path.substr(slash + 1);
}

}  // namespace

const char* csv_error_kind_name(CsvErrorKind kind) {
  return kErrorNames[static_cast<int>(kind)];
}

std::string CsvError::message() const {
  std::string m = source.empty() ? std::string("<input>") : source;
  if (line > 0) m += ":" + std::to_string(line);
  m += ": ";
  if (!column.empty()) m += "column " + column + ": ";
  m += csv_error_kind_name(kind);
  if (!detail.empty()) m += ": " + detail;
  return m;
}

std::optional<ReportFileName> parse_report_filename(std::string_view name) {
  name = basename_of(name);
  // ^(\d{4}-\d{2}-\d{2})-([^-]+)-(.+)\.csv$
  if (name.size() < 10 + 1 + 1 + 1 + 1 + 4) return std::nullopt;
  for (size_t i = 0; i < 10; ++i) {
    bool dash = i == 4 || i == 7;
    if (dash ? name[i] != '-' : !(name[i] >= '0' && name[i] <= '9')) return std::nullopt;
  }
  if (name[10] != '-' || name.substr(name.size() - 4) != ".csv") return std::nullopt;
  std::string_view rest = name.substr(11, name.size() - 15);
  size_t dash = rest.find('-');
  if (dash == 0 || dash == rest.npos || dash + 1 >= rest.size()) return std::nullopt;
  return ReportFileName{std::string(name.substr(0, 10)), std::string(rest.substr(0, dash)),
                        std::string(rest.substr(dash + 1))};
}

const ReportType* detect_report_type(std::string_view file_name, const Catalogue& catalogue) {
  auto parts = parse_report_filename(file_name);
  if (!parts) return nullptr;
  if (const ReportType* t = catalogue.find(parts->type)) return t;
  const ReportType* best = nullptr;
  for (const ReportType* t : catalogue.types()) {
    const std::string& n = t->name;
    if (parts->type.size() > n.size() && parts->type.compare(0, n.size(), n) == 0 &&
        parts->type[n.size()] == '_' && (!best || n.size() > best->name.size())) {
      best = t;
    }
  }
  return best;
}

struct CsvReader::State {
  const ReportType* type = nullptr;
  CsvReaderOptions opt;

  // Input: an external buffer, or a FILE* read in chunks into `buf`.
  const char* ext = nullptr;
  std::FILE* file = nullptr;
  bool own_file = false;
  std::string buf;
  size_t pos = 0;  // next unread byte
  size_t end = 0;  // valid bytes
  bool eof = false;
  bool io_failed = false;
  int io_errno = 0;
  int64_t line = 1;  // line number at `pos`

  bool header_done = false;
  bool finished = false;
  std::vector<int> map;  // file field -> catalogue column, -1 for extras
  std::vector<size_t> extra_fields;
  std::vector<std::string> extras, missing;

  struct Field {
    size_t off = 0, len = 0;
    bool escaped = false;  // holds "" pairs to undouble
    bool quoted = false;   // `""` is the empty string, an unquoted empty field is null
  };
  std::vector<Field> fields;
  std::vector<std::string_view> views;
  std::vector<std::string_view> extra_views;
  std::string scratch;
  int64_t record_line = 0;
  size_t rec_begin = 0, rec_end = 0;  // bytes of the record last parsed, in data()
  size_t bad_field = 0;

  CsvError error;
  CsvReaderStats stats;

  enum class Rec { kOk, kEof, kOversized, kBadQuote, kIo };

  ~State() {
    if (own_file && file) std::fclose(file);
  }

  const char* data() const { return file ? buf.data() : ext; }

  // Makes more bytes available, keeping [keep, end) (moved to the front in file mode).
  // Returns how far kept bytes moved left; sets eof when the source is exhausted.
  size_t refill(size_t keep) {
    if (!file || eof) {
      eof = true;
      return 0;
    }
    size_t shift = keep;
    if (shift) {
      std::memmove(buf.data(), buf.data() + keep, end - keep);
      end -= keep;
      pos -= std::min(pos, keep);
    }
    // Grow geometrically while one record does not fit, so a long record costs O(n log n)
    // rescans at worst rather than one per chunk.
    if (buf.size() - end < opt.chunk_bytes / 2 || end == buf.size()) {
      buf.resize(std::max(buf.size() * 2, end + opt.chunk_bytes));
    }
    size_t n = std::fread(buf.data() + end, 1, buf.size() - end, file);
    if (n == 0) {
      eof = true;
      if (std::ferror(file)) {
        io_failed = true;
        io_errno = errno;
      }
    }
    end += n;
    return shift;
  }

  // Skips to just after the next LF (or the end of input), discarding as it goes.
  void skip_line(size_t from) {
    size_t i = from;
    for (;;) {
      const char* d = data();
      const void* nl = i < end ? std::memchr(d + i, '\n', end - i) : nullptr;
      if (nl) {
        size_t j = static_cast<size_t>(static_cast<const char*>(nl) - d) + 1;
        stats.bytes += static_cast<int64_t>(j - pos);
        pos = j;
        line += 1;
        return;
      }
      stats.bytes += static_cast<int64_t>(end - pos);
      pos = end;
      if (eof) return;
      refill(end);
      i = pos;
      if (eof && pos == end) return;
    }
  }

  // Splits the record at `pos` into `fields` (offsets into data()). On kOk, `pos` is past
  // the record and `line` counts its line breaks.
  Rec parse_record() {
  restart:
    const size_t start = pos;
    record_line = line;
    fields.clear();
    const char* d = data();
    if (start == end) {
      if (!eof) {
        refill(start);
        goto restart;
      }
      return io_failed ? Rec::kIo : Rec::kEof;
    }
    size_t i = start;
    for (;;) {
      Field f;
      bool last = false;
      if (d[i] == '"') {
        f.quoted = true;
        size_t j = i + 1;
        for (;;) {
          const void* q = j < end ? std::memchr(d + j, '"', end - j) : nullptr;
          if (!q || static_cast<size_t>(static_cast<const char*>(q) - d) + 1 >= end) {
            if (!eof) {
              if (end - start > opt.max_record_bytes) return oversized(start, fields.size());
              refill(start);
              goto restart;
            }
            if (!q) {
              if (io_failed) return Rec::kIo;
              bad_field = fields.size();
              pos = end;  // unterminated quote: nothing after it can be trusted
              stats.bytes += static_cast<int64_t>(end - start);
              return Rec::kBadQuote;
            }
          }
          size_t k = static_cast<size_t>(static_cast<const char*>(q) - d);
          if (k + 1 < end && d[k + 1] == '"') {
            f.escaped = true;
            j = k + 2;
            continue;
          }
          f.off = i + 1;
          f.len = k - i - 1;
          i = k + 1;
          break;
        }
        if (i == end) {
          last = true;  // eof after a closing quote (refill handled above)
        } else if (d[i] == ',') {
          ++i;
        } else if (d[i] == '\n') {
          ++i;
          last = true;
        } else if (d[i] == '\r' && i + 1 < end && d[i + 1] == '\n') {
          i += 2;
          last = true;
        } else if (d[i] == '\r' && i + 1 == end && !eof) {
          refill(start);
          goto restart;
        } else {
          bad_field = fields.size();
          line += count_newlines(d + start, i - start);
          pos = i;
          stats.bytes += static_cast<int64_t>(i - start);
          skip_line(i);
          return Rec::kBadQuote;
        }
      } else {
        size_t j = i;
        while (j < end && d[j] != ',' && d[j] != '\n') ++j;
        if (j == end && !eof) {
          if (end - start > opt.max_record_bytes) return oversized(start, fields.size());
          refill(start);
          goto restart;
        }
        f.off = i;
        f.len = j - i;
        if (j < end && d[j] == '\n' && f.len > 0 && d[j - 1] == '\r') --f.len;
        if (j == end || d[j] == '\n') last = true;
        i = j < end ? j + 1 : j;
      }
      if (f.len > opt.max_field_bytes || i - start > opt.max_record_bytes) {
        return oversized(start, fields.size());
      }
      fields.push_back(f);
      if (last) break;
      if (i == end) {
        if (!eof) {
          refill(start);
          goto restart;
        }
        fields.push_back(Field{i, 0, false, false});  // "a,<eof>": a final empty field
        break;
      }
    }
    // Line breaks inside quoted values count as lines too (that is how editors and `sed -n`
    // number them); one scan of the record finds them all.
    line += count_newlines(d + start, i - start);
    rec_begin = start;
    rec_end = i;
    stats.bytes += static_cast<int64_t>(i - start);
    pos = i;
    return Rec::kOk;
  }

  Rec oversized(size_t start, size_t field) {
    bad_field = field;
    skip_line(start);
    return Rec::kOversized;
  }

  // Turns `fields` into string views, undoubling quotes into `scratch`.
  void make_views() {
    const char* d = data();
    size_t need = 0;
    for (const Field& f : fields) need += f.escaped ? f.len : 0;
    scratch.clear();
    scratch.reserve(need);  // no reallocation below: views into scratch stay valid
    views.resize(fields.size());
    for (size_t k = 0; k < fields.size(); ++k) {
      const Field& f = fields[k];
      if (!f.escaped) {
        views[k] = std::string_view(d + f.off, f.len);
        continue;
      }
      size_t begin = scratch.size();
      for (size_t x = f.off; x < f.off + f.len; ++x) {
        scratch.push_back(d[x]);
        if (d[x] == '"') ++x;  // the second quote of a "" pair
      }
      views[k] = std::string_view(scratch.data() + begin, scratch.size() - begin);
    }
  }

  Next fail(CsvErrorKind kind, int64_t at_line, std::string column, std::string detail) {
    error.kind = kind;
    error.source = opt.source_name;
    error.line = at_line;
    error.column = std::move(column);
    error.detail = std::move(detail);
    ++stats.errors[static_cast<int>(kind)];
    return Next::kError;
  }

  Next fatal(CsvErrorKind kind, int64_t at_line, std::string detail) {
    finished = true;
    return fail(kind, at_line, "", std::move(detail));
  }

  std::string column_name(size_t field) const {
    if (!header_done) return "";
    if (field >= map.size()) return "#" + std::to_string(field + 1);
    int col = map[field];
    if (col >= 0) return type->columns[static_cast<size_t>(col)].name;
    for (size_t e = 0; e < extra_fields.size(); ++e) {
      if (extra_fields[e] == field) return extras[e];
    }
    return "#" + std::to_string(field + 1);
  }

  Next io_error() {
    return fatal(CsvErrorKind::kIo, 0,
                 std::string("read failed: ") + std::strerror(io_errno ? io_errno : EIO));
  }

  Next read_header() {
    // A UTF-8 byte-order mark is not Shadowserver's habit, but spreadsheet exports add one.
    while (end - pos < 3 && !eof) refill(pos);
    if (end - pos >= 3 && std::memcmp(data() + pos, "\xEF\xBB\xBF", 3) == 0) pos += 3;
    Rec r = parse_record();
    if (r == Rec::kIo) return io_error();
    if (r == Rec::kEof) return fatal(CsvErrorKind::kMissingHeader, 0, "empty input");
    if (r == Rec::kOversized) return fatal(CsvErrorKind::kOversizedField, record_line, "header");
    if (r == Rec::kBadQuote) return fatal(CsvErrorKind::kBadQuoting, 1, "header");
    make_views();
    int known = 0;
    std::vector<bool> seen(type->columns.size(), false);
    std::vector<std::string_view> names;
    for (size_t i = 0; i < views.size(); ++i) {
      std::string_view name = trim(views[i]);
      if (!is_valid_utf8(name)) return fatal(CsvErrorKind::kBadUtf8, 1, "header");
      if (name.empty()) {
        return fatal(CsvErrorKind::kBadHeader, 1, "empty name for column " + std::to_string(i + 1));
      }
      if (std::find(names.begin(), names.end(), name) != names.end()) {
        return fatal(CsvErrorKind::kBadHeader, 1, "duplicate column \"" + excerpt(name) + "\"");
      }
      names.push_back(name);
      int col = type->column_index(name);
      map.push_back(col);
      if (col >= 0) {
        ++known;
        seen[static_cast<size_t>(col)] = true;
      } else {
        extra_fields.push_back(i);
        extras.emplace_back(name);
      }
    }
    if (known == 0) {
      extras.clear();
      extra_fields.clear();
      return fatal(CsvErrorKind::kMissingHeader, 1,
                   "the first line names no column of report type " + type->name);
    }
    for (size_t c = 0; c < seen.size(); ++c) {
      if (!seen[c]) missing.push_back(type->columns[c].name);
    }
    header_done = true;
    return Next::kRow;  // internal: header accepted
  }

  Next next(Event& event) {
    if (finished) return Next::kEnd;
    if (!header_done) {
      Next h = read_header();
      if (h != Next::kRow) return h;
    }
    for (;;) {
      Rec r = parse_record();
      if (r == Rec::kEof) {
        finished = true;
        return Next::kEnd;
      }
      if (r == Rec::kIo) return io_error();
      if (r == Rec::kOversized) {
        ++stats.records;
        ++stats.skipped;
        return fail(CsvErrorKind::kOversizedField, record_line, column_name(bad_field),
                    "over " + std::to_string(opt.max_field_bytes) + " bytes (field) or " +
                        std::to_string(opt.max_record_bytes) + " bytes (record)");
      }
      if (r == Rec::kBadQuote) {
        ++stats.records;
        ++stats.skipped;
        return fail(CsvErrorKind::kBadQuoting, record_line, column_name(bad_field),
                    "unterminated quote or text after a closing quote");
      }
      if (fields.size() == 1 && fields[0].len == 0 && !fields[0].quoted) {
        ++stats.blank_lines;
        continue;
      }
      ++stats.records;
      if (fields.size() != map.size()) {
        ++stats.skipped;
        return fail(CsvErrorKind::kColumnCount, record_line, "",
                    std::to_string(fields.size()) + " fields, the header has " +
                        std::to_string(map.size()));
      }
      make_views();
      if (!fill(event)) {
        ++stats.skipped;
        return Next::kError;
      }
      ++stats.rows;
      return Next::kRow;
    }
  }

  bool fill(Event& event) {
    // One pass over the whole record; only a bad one is searched for the culprit field.
    if (!valid_utf8(data() + rec_begin, rec_end - rec_begin)) {
      for (size_t i = 0; i < views.size(); ++i) {
        if (!is_valid_utf8(views[i])) {
          fail(CsvErrorKind::kBadUtf8, record_line, column_name(i), "");
          return false;
        }
      }
    }
    event.reset(type);
    extra_views.clear();
    for (size_t i = 0; i < views.size(); ++i) {
      int col = map[i];
      if (col < 0) {
        extra_views.push_back(views[i]);
        continue;
      }
      if (views[i].empty() && !fields[i].quoted) continue;  // null
      ValueError e = event.set_text(col, views[i]);
      if (e != ValueError::kNone) {
        fail(error_of(e), record_line, type->columns[static_cast<size_t>(col)].name,
             "\"" + excerpt(views[i]) + "\"");
        return false;
      }
    }
    return true;
  }
};

CsvReader::CsvReader(std::unique_ptr<State> state) : s_(std::move(state)) {}
CsvReader::CsvReader(CsvReader&&) noexcept = default;
CsvReader& CsvReader::operator=(CsvReader&&) noexcept = default;
CsvReader::~CsvReader() = default;

CsvReader CsvReader::from_buffer(std::string_view data, const ReportType& type,
                                 CsvReaderOptions options) {
  auto s = std::make_unique<State>();
  s->type = &type;
  s->opt = std::move(options);
  s->ext = data.data();
  s->end = data.size();
  s->eof = true;
  return CsvReader(std::move(s));
}

CsvReader CsvReader::from_file(std::FILE* file, const ReportType& type, CsvReaderOptions options) {
  auto s = std::make_unique<State>();
  s->type = &type;
  s->opt = std::move(options);
  if (s->opt.chunk_bytes < 64) s->opt.chunk_bytes = 64;
  s->file = file;
  return CsvReader(std::move(s));
}

Result<CsvReader> CsvReader::open_file(const std::string& path, const Catalogue& catalogue,
                                       CsvReaderOptions options, const ReportType* type) {
  if (options.source_name.empty()) options.source_name = path;
  if (!type) type = detect_report_type(path, catalogue);
  if (!type) {
    CsvError e{CsvErrorKind::kUnknownReportType, options.source_name, 0, "",
               "the file name is not YYYY-MM-DD-<type>-<identifier>.csv with a known type"};
    return Error::invalid(e.message());
  }
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) {
    CsvError e{CsvErrorKind::kIo, options.source_name, 0, "",
               std::string("cannot open: ") + std::strerror(errno)};
    return Error::io(e.message());
  }
  CsvReader r = from_file(f, *type, std::move(options));
  r.s_->own_file = true;
  return r;
}

CsvReader::Next CsvReader::next(Event& event) {
  return s_->next(event);
}
const CsvError& CsvReader::error() const {
  return s_->error;
}
const ReportType& CsvReader::type() const {
  return *s_->type;
}
const CsvReaderStats& CsvReader::stats() const {
  return s_->stats;
}
const std::vector<std::string>& CsvReader::extra_columns() const {
  return s_->extras;
}
std::string_view CsvReader::extra_value(size_t i) const {
  return i < s_->extra_views.size() ? s_->extra_views[i] : std::string_view();
}
const std::vector<std::string>& CsvReader::missing_columns() const {
  return s_->missing;
}

}  // namespace vantage::core

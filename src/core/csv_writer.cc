#include "core/csv_writer.h"

#include <cerrno>
#include <cstring>

namespace vantage::core {

CsvSink string_sink(std::string* out) {
  return [out](std::string_view bytes) -> Status {
    out->append(bytes);
    return {};
  };
}

CsvSink file_sink(std::FILE* file) {
  return [file](std::string_view bytes) -> Status {
    if (!bytes.empty() && std::fwrite(bytes.data(), 1, bytes.size(), file) != bytes.size()) {
      return Error::io(std::string("write failed: ") + std::strerror(errno));
    }
    return {};
  };
}

CsvSink stream_sink(std::ostream* out) {
  return [out](std::string_view bytes) -> Status {
    out->write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!*out) return Error::io("write to stream failed");
    return {};
  };
}

namespace {

constexpr uint64_t kOnes = 0x0101010101010101ULL;
constexpr uint64_t kHighs = 0x8080808080808080ULL;

// Whether any byte of `w` needs attention when quoting: a control character (< 0x20),
// DEL or '"'. Bit tricks from "Bit Twiddling Hacks" (haszero/hasless); a false positive
// only sends the word down the byte-by-byte path.
bool word_needs_care(uint64_t w) {
  uint64_t less_than_space = (w - kOnes * 0x20) & ~w & kHighs;
  uint64_t q = w ^ (kOnes * '"');
  uint64_t quote = (q - kOnes) & ~q & kHighs;
  uint64_t x = w ^ (kOnes * 0x7F);
  uint64_t del = (x - kOnes) & ~x & kHighs;
  return (less_than_space | quote | del) != 0;
}

}  // namespace

void append_csv_quoted(std::string_view v, std::string& out) {
  out.push_back('"');
  const char* p = v.data();
  const size_t n = v.size();
  size_t start = 0, i = 0;
  while (i < n) {
    if (i + 8 <= n) {
      uint64_t w;
      std::memcpy(&w, p + i, 8);
      if (!word_needs_care(w)) {  // the common case: eight plain bytes, copied later in bulk
        i += 8;
        continue;
      }
    }
    auto c = static_cast<unsigned char>(p[i]);
    if (c >= 0x20 && c != '"' && c != 0x7F) {
      ++i;
      continue;
    }
    out.append(p + start, i - start);
    if (c == '"') {
      out.append("\"\"", 2);
    } else if (c == '\t') {
      out.push_back(' ');
    }  // other control characters are dropped
    start = ++i;
  }
  out.append(p + start, n - start);
  out.push_back('"');
}

void append_csv_header(const ReportType& type, std::string& out) {
  for (size_t i = 0; i < type.columns.size(); ++i) {
    if (i) out.push_back(',');
    out.push_back('"');
    out += type.columns[i].name;  // catalogue names are [a-z0-9_]: nothing to escape
    out.push_back('"');
  }
  out.push_back('\n');
}

void append_csv_record(const Event& e, std::string& out) {
  const int n = e.size();
  for (int col = 0; col < n; ++col) {
    if (col) out.push_back(',');
    if (e.is_null(col)) continue;
    switch (e.kind(col)) {
      case ColumnKind::kString: append_csv_quoted(e.string_at(col), out); break;
      case ColumnKind::kInteger:
      case ColumnKind::kFloat: e.append_text(col, out); break;
      case ColumnKind::kTimestamp:
      case ColumnKind::kIp:
      case ColumnKind::kBoolean:
        // Their text never holds a quote or control character.
        out.push_back('"');
        e.append_text(col, out);
        out.push_back('"');
        break;
    }
  }
  out.push_back('\n');
}

CsvWriter::CsvWriter(const ReportType& type, CsvSink sink, size_t flush_bytes)
    : type_(type), sink_(std::move(sink)), flush_bytes_(flush_bytes) {
  buf_.reserve(flush_bytes_ + 4096);
  append_csv_header(type_, buf_);
}

Status CsvWriter::write(const Event& e) {
  if (failed_) return *failed_;
  if (e.type() != &type_) {
    return Error::invalid("CSV writer for " + type_.name + " given an event of type " +
                          (e.type() ? e.type()->name : std::string("(none)")));
  }
  append_csv_record(e, buf_);
  ++rows_;
  if (buf_.size() >= flush_bytes_) return flush();
  return {};
}

Status CsvWriter::flush() {
  if (failed_) return *failed_;
  if (buf_.empty()) return {};
  Status s = sink_(buf_);
  if (!s) {
    failed_ = s.error();
    return s;
  }
  bytes_ += static_cast<int64_t>(buf_.size());
  buf_.clear();
  return {};
}

Status CsvWriter::finish() {
  return flush();
}

}  // namespace vantage::core

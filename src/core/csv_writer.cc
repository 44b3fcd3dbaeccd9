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

void append_csv_quoted(std::string_view v, std::string& out) {
  out.push_back('"');
  size_t start = 0;
  for (size_t i = 0; i < v.size(); ++i) {
    auto c = static_cast<unsigned char>(v[i]);
    if (c >= 0x20 && c != '"' && c != 0x7F) continue;  // the common case: copy in bulk
    out.append(v.data() + start, i - start);
    if (c == '"') {
      out.append("\"\"", 2);
    } else if (c == '\t') {
      out.push_back(' ');
    }  // other control characters are dropped
    start = i + 1;
  }
  out.append(v.data() + start, v.size() - start);
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

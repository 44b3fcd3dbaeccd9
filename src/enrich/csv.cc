#include "enrich/csv.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

namespace vantage::enrich::csv {

bool LineReader::next(std::string_view& line, size_t& line_no) {
  if (pos_ >= text_.size()) return false;
  size_t nl = text_.find('\n', pos_);
  size_t end = nl == std::string_view::npos ? text_.size() : nl;
  line = text_.substr(pos_, end - pos_);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  pos_ = nl == std::string_view::npos ? text_.size() : nl + 1;
  line_no = ++line_no_;
  return true;
}

bool split_fields(std::string_view line, std::vector<std::string_view>& fields,
                  std::vector<std::string>& scratch, std::string& error) {
  fields.clear();
  scratch.clear();
  // Reserve so that views into earlier scratch strings survive later push_backs.
  scratch.reserve(8);
  size_t i = 0;
  while (true) {
    if (i < line.size() && line[i] == '"') {
      if (scratch.size() == scratch.capacity()) {
        error = "too many quoted fields";
        return false;
      }
      std::string& out = scratch.emplace_back();
      ++i;
      bool closed = false;
      while (i < line.size()) {
        char c = line[i];
        if (c == '"') {
          if (i + 1 < line.size() && line[i + 1] == '"') {
            out.push_back('"');
            i += 2;
            continue;
          }
          closed = true;
          ++i;
          break;
        }
        out.push_back(c);
        ++i;
      }
      if (!closed) {
        error = "unterminated quoted field";
        return false;
      }
      if (i < line.size() && line[i] != ',') {
        error = "unexpected text after closing quote";
        return false;
      }
      fields.emplace_back(out);
    } else {
      size_t comma = line.find(',', i);
      size_t end = comma == std::string_view::npos ? line.size() : comma;
      std::string_view f = line.substr(i, end - i);
      if (f.find('"') != std::string_view::npos) {
        error = "quote inside an unquoted field";
        return false;
      }
      fields.push_back(f);
      i = end;
    }
    if (i >= line.size()) break;
    ++i;  // the comma
    if (i == line.size()) {
      fields.emplace_back();  // trailing empty field
      break;
    }
  }
  return true;
}

bool read_file(const std::string& path, std::string& out, std::string& error) {
  std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!f) {
    error = path + ": " + std::strerror(errno);
    return false;
  }
  out.clear();
  char buf[1 << 16];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f.get())) > 0) out.append(buf, n);
  if (std::ferror(f.get())) {
    error = path + ": read error";
    return false;
  }
  return true;
}

}  // namespace vantage::enrich::csv

#include "service/synthetic_feed.h"

#include <unistd.h>

#include <cstdio>
#include <filesystem>

namespace vantage::service {

namespace {

void append_json_string(std::string_view v, std::string& out) {
  out.push_back('"');
  for (char c : v) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out.push_back(c);
        }
    }
  }
  out.push_back('"');
}

}  // namespace

void append_jsonl(const core::Event& e, std::string& out, std::string& scratch) {
  out += "{\"type\":\"";
  out += e.type()->name;
  out += "\",\"fields\":{";
  bool first = true;
  for (int col = 0; col < e.size(); ++col) {
    if (e.is_null(col)) continue;
    if (!first) out.push_back(',');
    first = false;
    append_json_string(e.type()->columns[static_cast<size_t>(col)].name, out);
    out.push_back(':');
    scratch.clear();
    e.append_text(col, scratch);
    auto k = e.kind(col);
    if (k == core::ColumnKind::kInteger || k == core::ColumnKind::kFloat) {
      out += scratch;
    } else {
      append_json_string(scratch, out);
    }
  }
  out += "}}\n";
}

Status write_synthetic_jsonl(const core::Catalogue& catalogue,
                             const std::vector<pipeline::RoutedSegment>& segments,
                             const pipeline::FeedOptions& options, int64_t events,
                             const std::string& path) {
  std::string tmp = path + ".tmp";
  std::FILE* out = std::fopen(tmp.c_str(), "wb");
  if (!out) return Error::io("cannot write " + tmp);
  pipeline::SyntheticFeed feed(catalogue, segments, options);
  core::Event event;
  std::string buf, scratch;
  bool ok = true;
  for (int64_t i = 0; i < events && ok; ++i) {
    feed.next(event);
    append_jsonl(event, buf, scratch);
    if (buf.size() > (1 << 20)) {
      ok = std::fwrite(buf.data(), 1, buf.size(), out) == buf.size();
      buf.clear();
    }
  }
  ok = ok && std::fwrite(buf.data(), 1, buf.size(), out) == buf.size();
  ok = ok && std::fflush(out) == 0 && fsync(fileno(out)) == 0;
  ok = (std::fclose(out) == 0) && ok;
  std::error_code ec;
  if (ok) std::filesystem::rename(tmp, path, ec);
  if (!ok || ec) {
    std::filesystem::remove(tmp, ec);
    return Error::io("cannot write " + path);
  }
  return {};
}

}  // namespace vantage::service

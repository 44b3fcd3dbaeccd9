#include "report/builder.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <set>

#include "common/strings.h"
#include "core/csv_writer.h"
#include "core/event.h"
#include "report/pack.h"

namespace vantage::report {

namespace fs = std::filesystem;

std::string report_file_name(DayNumber day, std::string_view type, std::string_view org,
                             std::string_view filter) {
  return format_date(day) + "-" + sanitize_identifier(type) + "-" + sanitize_identifier(org) + "-" +
         sanitize_identifier(filter) + ".csv";
}

std::optional<ReportLayout> parse_report_layout(std::string_view name) {
  if (name == "pack") return ReportLayout::kPack;
  if (name == "files") return ReportLayout::kFiles;
  return std::nullopt;
}

fs::path day_directory(const std::string& report_dir, DayNumber day) {
  int y;
  unsigned m, d;
  civil_from_days(day, y, m, d);
  char subdir[16];
  std::snprintf(subdir, sizeof subdir, "%04d/%02u/%02u", y, m, d);
  return fs::path(report_dir) / subdir;
}

namespace {

// A file written through a temp name, hashed while written, renamed into place on commit().
class AtomicReportFile {
 public:
  static Result<std::unique_ptr<AtomicReportFile>> create(const fs::path& final_path) {
    std::error_code ec;
    fs::create_directories(final_path.parent_path(), ec);
    if (ec) return Error::io("cannot create " + final_path.parent_path().string());
    auto f = std::unique_ptr<AtomicReportFile>(new AtomicReportFile());
    f->final_ = final_path;
    f->temp_ = final_path.string() + ".tmp";
    f->file_ = std::fopen(f->temp_.c_str(), "wb");
    if (!f->file_) return Error::io("cannot write " + f->temp_.string());
    f->md_ = EVP_MD_CTX_new();
    EVP_DigestInit_ex(f->md_, EVP_sha256(), nullptr);
    return f;
  }
  ~AtomicReportFile() {
    if (file_) std::fclose(file_);
    if (!published_) {
      std::error_code ec;
      fs::remove(temp_, ec);
    }
    if (md_) EVP_MD_CTX_free(md_);
  }
  core::CsvSink sink() {
    return [this](std::string_view bytes) -> Status {
      EVP_DigestUpdate(md_, bytes.data(), bytes.size());
      size_ += static_cast<int64_t>(bytes.size());
      if (std::fwrite(bytes.data(), 1, bytes.size(), file_) != bytes.size()) {
        return Error::io("write failed: " + temp_.string());
      }
      return {};
    };
  }
  // Closes the temp file (its bytes are made durable later, for a whole batch at once) and
  // returns the content's SHA-256.
  Result<std::string> finish() {
    bool ok = std::fflush(file_) == 0;
    ok &= std::fclose(file_) == 0;
    file_ = nullptr;
    if (!ok) return Error::io("cannot write " + temp_.string());
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned len = 0;
    EVP_DigestFinal_ex(md_, digest, &len);
    return hex_encode(digest, len);
  }
  // Renames the (durable) temp file into place.
  Status publish() {
    std::error_code ec;
    fs::rename(temp_, final_, ec);
    if (ec) return Error::io("cannot rename " + temp_.string() + ": " + ec.message());
    published_ = true;
    return {};
  }
  int64_t size() const { return size_; }

 private:
  AtomicReportFile() = default;
  fs::path final_, temp_;
  std::FILE* file_ = nullptr;
  EVP_MD_CTX* md_ = nullptr;
  int64_t size_ = 0;
  bool published_ = false;
};

// Reports are committed in batches: the batch's files are written, one syncfs() makes all of
// them durable, they are renamed into place, their directory is synced, and one manifest
// transaction records them. Per-report fsyncs (two per report) bounded the build at a few
// hundred reports per second on an ordinary disk. A crash leaves at worst temp files (removed
// or overwritten by the next build) or files not yet in the manifest (rebuilt the same way).
constexpr size_t kCommitBatch = 512;

Status sync_filesystem_of(const fs::path& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Error::io("cannot open " + dir.string());
  bool ok = ::syncfs(fd) == 0;
  ::close(fd);
  return ok ? Status{} : Error::io("cannot sync the file system of " + dir.string());
}

Status sync_directory(const fs::path& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Error::io("cannot open " + dir.string());
  bool ok = ::fsync(fd) == 0;
  ::close(fd);
  return ok ? Status{} : Error::io("cannot sync " + dir.string());
}

bool is_sunday(DayNumber day) {
  return ((day % 7) + 7 + 4) % 7 == 0;
}  // 1970-01-01: Thursday

}  // namespace

Result<BuildSummary> build_reports(store::EventStore& store, const core::Catalogue& catalogue,
                                   Manifest& manifest, const ShortNameLookup& short_name,
                                   DayNumber day, const BuildOptions& options) {
  auto started = std::chrono::steady_clock::now();
  BuildSummary summary;
  // Every report reads the spool: settle its tail first so that each scan reads runs rather
  // than the recent events. Best effort: the reads are correct either way, and a read-only
  // or busy store must not stop the build.
  (void)store.settle();
  auto keys = store.report_keys(day, options.org_id);
  if (!keys) return keys.error();
  bool delta = options.delta && !is_sunday(day);
  core::Event event;
  std::map<uint32_t, std::optional<std::string>> names;
  struct Pending {
    std::unique_ptr<AtomicReportFile> file;  // kFiles only
    BuiltReport built;
  };
  std::vector<Pending> pending;
  const fs::path day_dir = day_directory(options.report_dir, day);
  std::unique_ptr<PackWriter> pack;
  if (options.layout == ReportLayout::kPack) {
    auto created = PackWriter::create(day_dir);
    if (!created) return created.error();
    pack = std::move(*created);
  }
  auto commit_pending = [&]() -> Status {
    if (pending.empty()) return {};
    if (pack) {
      if (auto st = pack->commit(); !st) return st;
    } else {
      if (auto st = sync_filesystem_of(day_dir); !st) return st;
      for (auto& p : pending)
        if (auto st = p.file->publish(); !st) return st;
      if (auto st = sync_directory(day_dir); !st) return st;
    }
    std::vector<ReportEntry> entries;
    entries.reserve(pending.size());
    // Moved, not copied, and moved back below: a pack's day is one commit of every entry, and
    // a copy of them all was a third of a 175,000-report build's peak memory.
    for (auto& p : pending) entries.push_back(std::move(p.built.entry));
    auto stored = manifest.upsert_all(std::move(entries));
    if (!stored) return stored.error();
    for (size_t i = 0; i < pending.size(); ++i) {
      auto& built = pending[i].built;
      built.entry = std::move((*stored)[i]);
      summary.rows += built.entry.rows;
      summary.bytes += built.entry.size;
      summary.reports.push_back(std::move(built));
    }
    pending.clear();
    return {};
  };

  // Every report's type, checked before anything is written.
  std::vector<const core::ReportType*> types;
  types.reserve(keys->size());
  for (const auto& key : *keys) {
    types.push_back(catalogue.find(key.type));
    if (!types.back()) {
      return Error{ErrorCode::kFailedPrecondition,
                   "report type '" + key.type + "' is in the store but not in the catalogue"};
    }
  }
  // The organisation's file-name part, asked once per organisation as its first report comes.
  auto org_name = [&](uint32_t org_id) -> const std::optional<std::string>& {
    auto [it, fresh] = names.try_emplace(org_id);
    if (fresh) it->second = short_name(org_id);
    return it->second;
  };

  // The report being written: rows arrive report after report (EventStore::scan_reports).
  struct Current {
    size_t index = 0;
    const std::string* org = nullptr;  // null: organisation removed since, rows ignored
    std::string file_name;
    fs::path path;
    std::unique_ptr<AtomicReportFile> file;  // kFiles only
    std::optional<core::CsvWriter> writer;
    BuiltReport built;
  };
  std::optional<Current> current;
  size_t next = 0;  // the first report not started yet
  // Reports the store had no rows for (any more) before `index`: empty, like a delta report
  // without new rows.
  auto pass_over = [&](size_t index) {
    for (; next < index; ++next)
      if (org_name((*keys)[next].org_id)) ++summary.skipped_empty;
  };
  auto start = [&](size_t index) -> Status {
    pass_over(index);
    next = index + 1;
    const auto& key = (*keys)[index];
    Current& c = current.emplace();
    c.index = index;
    const auto& org = org_name(key.org_id);
    if (!org) return {};  // nobody to report to
    c.org = &*org;
    c.file_name = report_file_name(day, key.type, *org, store::match_filter_name(key.filter));
    c.path = day_dir / c.file_name;
    core::CsvSink sink;
    if (pack) {
      pack->begin();
      sink = pack->sink();
    } else {
      auto created = AtomicReportFile::create(c.path);
      if (!created) return created.error();
      c.file = std::move(*created);
      sink = c.file->sink();
    }
    c.writer.emplace(*types[index], std::move(sink));
    return {};
  };
  auto finish_report = [&](Current& c) -> Status {
    if (!c.org) return {};
    if (c.writer->rows() == 0) {
      ++summary.skipped_empty;
      if (pack) return pack->discard();
      return {};  // a temp file is removed by its destructor
    }
    if (auto st = c.writer->finish(); !st) return st;
    const auto& key = (*keys)[c.index];
    ReportEntry e;
    e.org_id = key.org_id;
    e.report = *c.org;
    e.type = key.type;
    e.day = day;
    e.filter = store::match_filter_name(key.filter);
    e.file_name = c.file_name;
    if (pack) {
      auto written = pack->end();
      if (!written) return written.error();
      e.path = pack->path();
      e.pack_offset = written->offset;
      e.size = written->length;
      e.sha256 = std::move(written->sha256);
    } else {
      auto sha = c.file->finish();
      if (!sha) return sha.error();
      e.path = c.path.string();
      e.size = c.file->size();
      e.sha256 = *sha;
    }
    e.rows = c.writer->rows();
    c.built.entry = std::move(e);
    pending.push_back({std::move(c.file), std::move(c.built)});
    // A pack commits once, at the end: one transaction swaps the whole day.
    if (!pack && pending.size() >= kCommitBatch) return commit_pending();
    return {};
  };
  auto finish = [&]() -> Status {
    Status st = finish_report(*current);
    current.reset();
    return st;
  };

  Status failure;
  Status scanned =
      store.scan_reports(*keys, [&](const store::ReportKey& key, const store::StoredEvent& row) {
        size_t index = static_cast<size_t>(&key - keys->data());
        if (!current || current->index != index) {
          if (index < next || index >= keys->size()) {
            failure = Error::internal("the store handed over a report out of order");
            return false;
          }
          if (current) {
            if (auto st = finish(); !st) {
              failure = st;
              return false;
            }
          }
          if (auto st = start(index); !st) {
            failure = st;
            return false;
          }
        }
        if (!current->org) return true;
        if (delta && !row.new_since_previous_day) return true;
        if (auto st = event.decode_into(types[index], row.row); !st) {
          failure = Error::internal("stored row " + std::to_string(row.id) + " of " + key.type +
                                    " does not decode: " + st.message());
          return false;
        }
        if (auto st = current->writer->write(event); !st) {
          failure = st;
          return false;
        }
        auto& built = current->built;
        ++(row.new_since_previous_day ? built.new_rows : built.recurring_rows);
        if (row.severity < 5) ++built.by_severity[row.severity];
        return true;
      });
  if (!scanned) return scanned.error();
  if (!failure) return failure.error();
  if (current) {
    if (auto st = finish(); !st) return st.error();
  }
  pass_over(keys->size());
  if (auto st = commit_pending(); !st) return st.error();
  // Packs no entry of the day points at any more: the previous generation, a killed build's
  // leftover, or (after a switch to kFiles) every pack. Readers that opened one before the
  // swap keep reading it (an unlinked file lives while open).
  if (std::error_code ec; fs::is_directory(day_dir, ec)) {
    auto referenced = manifest.pack_paths_of_day(day);
    if (!referenced) return referenced.error();
    auto removed = remove_unreferenced_packs(day_dir, *referenced);
    if (!removed) return removed.error();
  }
  summary.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return summary;
}

std::string summary_text(std::string_view org, DayNumber day,
                         const std::vector<const BuiltReport*>& reports) {
  static const char* kSev[] = {"info", "low", "medium", "high", "critical"};
  std::string out =
      "Vantage reports for " + std::string(org) + " on " + format_date(day) + " (UTC).\n\n";
  int64_t total = 0, fresh = 0;
  std::array<int64_t, 5> sev{};
  out += "type                               rows    new  recurring\n";
  for (const auto* r : reports) {
    char line[160];
    std::snprintf(line, sizeof line, "%-32s %7lld %6lld %10lld\n", r->entry.type.c_str(),
                  static_cast<long long>(r->entry.rows), static_cast<long long>(r->new_rows),
                  static_cast<long long>(r->recurring_rows));
    out += line;
    total += r->entry.rows;
    fresh += r->new_rows;
    for (int i = 0; i < 5; ++i) sev[i] += r->by_severity[i];
  }
  out += "\nTotal: " + std::to_string(total) + " events, " + std::to_string(fresh) +
         " new since the previous day, " + std::to_string(total - fresh) + " recurring.\n";
  out += "By severity:";
  for (int i = 4; i >= 0; --i) {
    if (sev[i]) out += " " + std::string(kSev[i]) + " " + std::to_string(sev[i]) + ";";
  }
  out +=
      "\n\nEach report is a CSV in Shadowserver's format; the same files are available "
      "through the reports API.\n";
  return out;
}

}  // namespace vantage::report

// `vantage report build`: the day's per-organisation reports, on demand (the service runs the
// same at day close), optionally mailed to each organisation's recipients.
// `vantage report export`: a day's reports written out as one CSV file each (for operators
// who want files on disk while report.layout = "pack"), checked against the manifest's sha256.

#include <openssl/evp.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <unordered_map>

#include "commands.h"
#include "common/file_range.h"
#include "common/strings.h"
#include "delivery/deliverer.h"
#include "delivery/delivery_log.h"
#include "delivery/smtp.h"
#include "report/builder.h"
#include "service/report_mail.h"
#include "service/runtime.h"

namespace vantage::cli {

using service::deliver_built_reports;
using service::open_runtime;
using service::RuntimeOptions;

namespace {

struct ReportFlags {
  std::string date;
  std::string org;
  bool delta = false;
  bool deliver = false;
  std::string dir;  // export
};

std::string report_dir_of(const GlobalOptions& global) {
  return global.config.report_dir.empty() ? global.data_dir + "/reports" : global.config.report_dir;
}

DayNumber day_flag(const std::string& date, const char* command) {
  if (date.empty()) return today() - 1;
  auto d = parse_date(date);
  if (!d) {
    std::cerr << "vantage report " << command << ": --date: " << d.error().message << "\n";
    throw CommandFailed(2);
  }
  return *d;
}

void run_build(const ReportFlags& f, const GlobalOptions& global) {
  RuntimeOptions ro;
  ro.enrichment = false;
  ro.match_index = false;
  auto rt = open_runtime(global, ro, "report build");
  DayNumber day = day_flag(f.date, "build");
  report::BuildOptions opts;
  opts.report_dir = report_dir_of(global);
  auto layout = report::parse_report_layout(global.config.report_layout);
  if (!layout) {
    std::cerr << "vantage report build: report.layout must be \"pack\" or \"files\"\n";
    throw CommandFailed(2);
  }
  opts.layout = *layout;
  opts.delta = f.delta || global.config.delta_mode;
  if (!f.org.empty()) {
    auto org = rt->registry->find_org(f.org);
    if (!org) {
      std::cerr << "vantage report build: " << org.error().message << "\n";
      throw CommandFailed(2);
    }
    opts.org_id = static_cast<uint32_t>(org->id);
  }
  auto manifest = report::Manifest::open(global.data_dir + "/reports.sqlite");
  if (!manifest) {
    std::cerr << "vantage report build: " << manifest.error().message << "\n";
    throw CommandFailed(1);
  }
  // Every organisation's short name from one read: a query per reporting organisation cost
  // about 8% of a 100,000-organisation build. An id not among them is asked for as before.
  std::unordered_map<uint32_t, std::string> short_names;
  if (!opts.org_id) {
    auto orgs = rt->registry->list_orgs();
    if (orgs) {
      for (auto& o : *orgs)
        short_names.emplace(static_cast<uint32_t>(o.id), std::move(o.short_name));
    }
  }
  auto short_name = [&](uint32_t id) -> std::optional<std::string> {
    if (auto it = short_names.find(id); it != short_names.end()) return it->second;
    auto org = rt->registry->find_org(std::to_string(id));
    if (!org) return std::nullopt;
    return org->short_name;
  };
  auto summary =
      report::build_reports(*rt->store, *rt->catalogue, **manifest, short_name, day, opts);
  if (!summary) {
    std::cerr << "vantage report build: " << summary.error().message << "\n";
    throw CommandFailed(1);
  }
  // One line per report: its file (kFiles) or, in a pack, its file name (`vantage report
  // export` writes it out), rows, bytes, download id.
  for (const auto& r : summary->reports) {
    const std::string& where = r.entry.pack_offset >= 0 ? r.entry.file_name : r.entry.path;
    std::printf("%s\t%lld rows\t%lld bytes\t%s\n", where.c_str(),
                static_cast<long long>(r.entry.rows), static_cast<long long>(r.entry.size),
                r.entry.id.c_str());
  }
  std::fprintf(stderr, "report: %s: %zu reports, %lld rows, %lld bytes in %.2fs%s\n",
               format_date(day).c_str(), summary->reports.size(),
               static_cast<long long>(summary->rows), static_cast<long long>(summary->bytes),
               summary->seconds, summary->skipped_empty ? " (empty delta reports skipped)" : "");
  if (f.deliver) {
    if (global.config.smtp_url.empty()) {
      std::cerr << "report: smtp.url is not configured; reports are built but not mailed (they "
                   "are available through the API)\n";
    } else {
      auto mailed = deliver_built_reports(*rt->registry, global, day, *summary);
      if (!mailed) {
        std::cerr << "vantage report: " << mailed.error().message << "\n";
        throw CommandFailed(1);
      }
      std::fprintf(stderr,
                   "report: %zu mails delivered, %zu not delivered (see `vantage deliveries`)\n",
                   mailed->delivered, mailed->not_delivered);
    }
  }
}

// Writes each report of the day to DIR/<file name> (temp name, then rename), reading it from
// its pack range or its own file, and refuses bytes whose sha256 is not the manifest's.
void run_export(const ReportFlags& f, const GlobalOptions& global) {
  DayNumber day = day_flag(f.date, "export");
  auto manifest = report::Manifest::open(global.data_dir + "/reports.sqlite");
  if (!manifest) {
    std::cerr << "vantage report export: " << manifest.error().message << "\n";
    throw CommandFailed(1);
  }
  auto entries = (*manifest)->entries_of_day(day);
  if (!entries) {
    std::cerr << "vantage report export: " << entries.error().message << "\n";
    throw CommandFailed(1);
  }
  std::error_code ec;
  std::filesystem::create_directories(f.dir, ec);
  if (ec) {
    std::cerr << "vantage report export: cannot create " << f.dir << ": " << ec.message() << "\n";
    throw CommandFailed(1);
  }
  int64_t bytes = 0;
  for (const auto& e : *entries) {
    auto data = read_file_range(e.bytes());
    if (!data) {
      std::cerr << "vantage report export: " << e.file_name << ": " << data.error().message << "\n";
      throw CommandFailed(1);
    }
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned len = 0;
    EVP_Digest(data->data(), data->size(), digest, &len, EVP_sha256(), nullptr);
    if (hex_encode(digest, len) != e.sha256) {
      std::cerr << "vantage report export: " << e.file_name
                << ": bytes do not match the manifest's sha256\n";
      throw CommandFailed(1);
    }
    auto final_path = std::filesystem::path(f.dir) / e.file_name;
    auto temp_path = final_path.string() + ".tmp";
    {
      std::ofstream out(temp_path, std::ios::binary | std::ios::trunc);
      out.write(data->data(), static_cast<std::streamsize>(data->size()));
      if (!out) {
        std::cerr << "vantage report export: cannot write " << temp_path << "\n";
        throw CommandFailed(1);
      }
    }
    std::filesystem::rename(temp_path, final_path, ec);
    if (ec) {
      std::cerr << "vantage report export: cannot rename " << temp_path << ": " << ec.message()
                << "\n";
      throw CommandFailed(1);
    }
    bytes += static_cast<int64_t>(data->size());
  }
  std::fprintf(stderr, "report export: %s: %zu reports, %lld bytes into %s\n",
               format_date(day).c_str(), entries->size(), static_cast<long long>(bytes),
               f.dir.c_str());
}

}  // namespace

void add_report_command(CLI::App& app, GlobalOptions& global) {
  auto* cmd = app.add_subcommand("report", "Build (and mail) the daily per-organisation reports");
  cmd->require_subcommand(1);
  auto f = std::make_shared<ReportFlags>();
  auto* build =
      cmd->add_subcommand("build", "Build the reports of one day (default: yesterday, UTC)");
  build->add_option("--date", f->date, "Report day, YYYY-MM-DD");
  build->add_option("--org", f->org, "Only this organisation (id or short name)");
  build->add_flag("--delta", f->delta, "Only rows new since the previous day (full on Sundays)");
  build->add_flag("--deliver", f->deliver, "Mail the reports (needs smtp.url)");
  build->callback([f, &global] { run_build(*f, global); });
  auto* exp = cmd->add_subcommand(
      "export", "Write one day's reports as one CSV file each (e.g. from report packs)");
  exp->add_option("--date", f->date, "Report day, YYYY-MM-DD (default: yesterday, UTC)");
  exp->add_option("--dir", f->dir, "Directory to write the files to")->required();
  exp->callback([f, &global] { run_export(*f, global); });
}

}  // namespace vantage::cli

// `vantage report build`: the day's per-organisation reports, on demand (the service runs the
// same at day close), optionally mailed to each organisation's recipients.

#include <cstdio>
#include <iostream>
#include <map>

#include "commands.h"
#include "delivery/deliverer.h"
#include "delivery/delivery_log.h"
#include "delivery/smtp.h"
#include "mail.h"
#include "report/builder.h"
#include "runtime.h"

namespace vantage::cli {

namespace {

struct ReportFlags {
  std::string date;
  std::string org;
  bool delta = false;
  bool deliver = false;
};

void run_build(const ReportFlags& f, const GlobalOptions& global) {
  RuntimeOptions ro;
  ro.enrichment = false;
  auto rt = open_runtime(global, ro, "report build");
  DayNumber day = today() - 1;
  if (!f.date.empty()) {
    auto d = parse_date(f.date);
    if (!d) {
      std::cerr << "vantage report build: --date: " << d.error().message << "\n";
      throw CommandFailed(2);
    }
    day = *d;
  }
  report::BuildOptions opts;
  opts.report_dir =
      global.config.report_dir.empty() ? global.data_dir + "/reports" : global.config.report_dir;
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
  auto short_name = [&](uint32_t id) -> std::optional<std::string> {
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
  for (const auto& r : summary->reports) {
    std::printf("%s\t%lld rows\t%lld bytes\t%s\n", r.entry.path.c_str(),
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
}

}  // namespace vantage::cli

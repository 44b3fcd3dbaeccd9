// `vantage deliveries`: what happened to report mails -- one line per delivery attempt from
// the delivery log, optionally for one organisation and/or one report day.

#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>

#include "commands.h"
#include "common/time.h"
#include "delivery/delivery_log.h"

namespace vantage::cli {

namespace {

struct DeliveriesOptions {
  std::string org;
  std::string date;
  std::string db;  // empty: <data_dir>/deliveries.sqlite
};

void run_deliveries(const GlobalOptions& global, const DeliveriesOptions& opts) {
  if (!opts.date.empty() && !parse_date(opts.date)) {
    std::cerr << "vantage deliveries: --date must be YYYY-MM-DD, got '" << opts.date << "'\n";
    throw CommandFailed(2);
  }
  const std::string path =
      opts.db.empty() ? delivery::default_delivery_log_path(global.data_dir) : opts.db;
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    // Opening would create an empty log; a query should not leave files behind.
    std::cout << "no deliveries recorded (no delivery log at " << path << ")\n";
    return;
  }
  auto log = delivery::DeliveryLog::open(path);
  if (!log) {
    std::cerr << "vantage deliveries: " << log.error().message << "\n";
    throw CommandFailed(1);
  }
  delivery::DeliveryQuery q;
  if (!opts.org.empty()) q.org = opts.org;
  if (!opts.date.empty()) q.day = opts.date;
  auto rows = (*log)->query(q);
  if (!rows) {
    std::cerr << "vantage deliveries: " << rows.error().message << "\n";
    throw CommandFailed(1);
  }
  if (rows->empty()) {
    std::cout << "no deliveries recorded" << (opts.org.empty() ? "" : " for org " + opts.org)
              << (opts.date.empty() ? "" : " on " + opts.date) << "\n";
    return;
  }
  std::cout << "time\tday\torg\tkind\tunit\trecipient\tattempt\tstatus\tsmtp\tpgp\tmessage_id\t"
               "reason\n";
  for (const auto& r : *rows) {
    std::cout << format_timestamp(r.at) << '\t' << r.day << '\t' << r.org << '\t' << r.kind << '\t'
              << r.unit << '\t' << (r.recipient.empty() ? "-" : r.recipient) << '\t' << r.attempt
              << '\t' << r.status << '\t' << r.smtp_code << '\t' << (r.encrypted ? "yes" : "no")
              << '\t' << (r.message_id.empty() ? "-" : r.message_id) << '\t' << r.reason << '\n';
  }
}

}  // namespace

void add_deliveries_command(CLI::App& app, GlobalOptions& global) {
  auto opts = std::make_shared<DeliveriesOptions>();
  auto* cmd = app.add_subcommand(
      "deliveries", "Show the delivery log: every attempt to mail a report, with its outcome");
  cmd->add_option("--org", opts->org, "Only this organisation id");
  cmd->add_option("--date", opts->date, "Only mails of this report day (YYYY-MM-DD)");
  cmd->add_option("--db", opts->db, "Delivery log file (default: <data_dir>/deliveries.sqlite)");
  cmd->callback([&global, opts] { run_deliveries(global, *opts); });
}

}  // namespace vantage::cli

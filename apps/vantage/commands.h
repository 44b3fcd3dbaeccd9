#pragma once
// The `vantage` binary is one program with many modes (like `clickhouse server|client|local`).
// Each mode lives in its own cmd_<area>.cc and is registered explicitly in main.cc -- one
// hand-kept list, no static self-registration.
//
// Contract for a command: it parses only its own flags, and reports failure by throwing
// CommandFailed with the process exit code (after printing a clear message to stderr).

#include <CLI/CLI.hpp>
#include <stdexcept>
#include <string>

#include "config/config.h"

namespace vantage::cli {

// Options shared by every subcommand, parsed once in main.
// Defaults come from the configuration file (--config / VANTAGE_CONFIG) and environment;
// the command-line flags below override them.
struct GlobalOptions {
  std::string config_path;       // the TOML file `config` was loaded from (may be empty)
  config::Config config;         // effective configuration, loaded once in main
  std::string data_dir = "var";  // where SQLite files, reports, journal and quarantine live
  std::string catalogue_path;    // empty: the catalogue compiled into the binary
  bool verbose = false;
};

struct CommandFailed : std::runtime_error {
  explicit CommandFailed(int exit_code, const std::string& what = "command failed")
      : std::runtime_error(what), code(exit_code) {}
  int code;
};

void add_api_command(CLI::App& app, GlobalOptions& global);
void add_config_command(CLI::App& app, GlobalOptions& global);
void add_pipeline_commands(CLI::App& app, GlobalOptions& global);
void add_report_command(CLI::App& app, GlobalOptions& global);
void add_serve_command(CLI::App& app, GlobalOptions& global);
void add_status_command(CLI::App& app, GlobalOptions& global);
void add_deliveries_command(CLI::App& app, GlobalOptions& global);
void add_honeypot_command(CLI::App& app, GlobalOptions& global);
void add_sinkhole_command(CLI::App& app, GlobalOptions& global);
void add_key_command(CLI::App& app, GlobalOptions& global);
void add_lookup_command(CLI::App& app, GlobalOptions& global);
void add_match_command(CLI::App& app, GlobalOptions& global);
void add_org_command(CLI::App& app, GlobalOptions& global);
void add_registry_command(CLI::App& app, GlobalOptions& global);
void add_scan_commands(CLI::App& app, GlobalOptions& global);  // scan, probe
void add_schema_command(CLI::App& app, GlobalOptions& global);
void add_up_command(CLI::App& app, GlobalOptions& global);
void add_version_command(CLI::App& app, GlobalOptions& global);
void add_subscription_command(CLI::App& app, GlobalOptions& global);
void add_collect_command(CLI::App& app, GlobalOptions& global);
void add_portal_command(CLI::App& app, GlobalOptions& global);
void add_remediation_command(CLI::App& app, GlobalOptions& global);
void add_cluster_command(CLI::App& app, GlobalOptions& global);  // cmd_cluster.cc

}  // namespace vantage::cli

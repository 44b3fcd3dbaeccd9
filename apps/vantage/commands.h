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

#include "service/options.h"

namespace vantage::cli {

// GlobalOptions (the options every command shares, parsed once in main) and CommandFailed
// (how a command reports failure) live in the service library, which the commands share.
using service::CommandFailed;
using service::GlobalOptions;

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
void add_store_command(CLI::App& app, GlobalOptions& global);    // cmd_store.cc

}  // namespace vantage::cli

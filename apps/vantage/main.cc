// vantage: one binary, one subcommand per mode. Flags are parsed here and nowhere else.

#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <cstring>
#include <iostream>

#include "commands.h"
#include "logging.h"

namespace {

// The configuration supplies the defaults of global flags, so it is located before CLI11
// parses anything: `--config FILE`, `--config=FILE`, or VANTAGE_CONFIG.
std::string find_config_path(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--config") == 0 && i + 1 < argc) return argv[i + 1];
    if (std::strncmp(argv[i], "--config=", 9) == 0) return argv[i] + 9;
  }
  const char* env = std::getenv("VANTAGE_CONFIG");
  return env ? env : "";
}

}  // namespace

int main(int argc, char** argv) {
  using namespace vantage::cli;
  CLI::App app{
      "Vantage: observe, enrich, match and report network security events to the "
      "organisations that own the networks (Shadowserver-compatible)."};
  app.set_version_flag("--version", std::string("vantage ") + VANTAGE_VERSION);
  app.require_subcommand(1);

  GlobalOptions global;
  global.config_path = find_config_path(argc, argv);
  auto loaded = vantage::config::load(global.config_path);
  if (!loaded) {
    std::cerr << "vantage: invalid configuration: " << loaded.error().message << "\n";
    return 2;
  }
  global.config = *loaded;
  global.data_dir = global.config.data_dir;
  global.catalogue_path = global.config.catalogue;
  app.add_option("--config", global.config_path,
                 "Configuration file (TOML); see `vantage config docs`")
      ->envname("VANTAGE_CONFIG");
  app.add_option("--data-dir", global.data_dir,
                 "Data directory (SQLite files, reports, journal, quarantine)")
      ->envname("VANTAGE_DATA_DIR")
      ->capture_default_str();
  app.add_option("--catalogue", global.catalogue_path,
                 "Report-type catalogue file (default: the one built into the binary)")
      ->envname("VANTAGE_CATALOGUE");
  app.add_flag("-v,--verbose", global.verbose, "Verbose logging");
  app.parse_complete_callback([&] {
    configure_logging(global.config.log_level, global.config.log_format, global.verbose);
  });

  // The one list of modes. Keep alphabetical within each stage.
  add_api_command(app, global);
  add_config_command(app, global);
  add_deliveries_command(app, global);
  add_key_command(app, global);
  add_lookup_command(app, global);
  add_match_command(app, global);
  add_org_command(app, global);
  add_pipeline_commands(app, global);
  add_registry_command(app, global);
  add_report_command(app, global);
  add_serve_command(app, global);
  add_up_command(app, global);
  add_scan_commands(app, global);
  add_honeypot_command(app, global);
  add_sinkhole_command(app, global);
  add_status_command(app, global);
  add_schema_command(app, global);
  add_version_command(app, global);
  add_subscription_command(app, global);
  add_collect_command(app, global);
  add_portal_command(app, global);
  add_remediation_command(app, global);
  add_cluster_command(app, global);
  add_store_command(app, global);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const CommandFailed& e) {
    return e.code;
  }
  return 0;
}

// vantage: one binary, one subcommand per mode. Flags are parsed here and nowhere else.

#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <iostream>

#include "commands.h"

int main(int argc, char** argv) {
  using namespace vantage::cli;
  CLI::App app{
      "Vantage: observe, enrich, match and report network security events to the "
      "organisations that own the networks (Shadowserver-compatible)."};
  app.set_version_flag("--version", std::string("vantage ") + VANTAGE_VERSION);
  app.require_subcommand(1);

  GlobalOptions global;
  app.add_option("--data-dir", global.data_dir,
                 "Data directory (SQLite files, reports, journal, quarantine)")
      ->envname("VANTAGE_DATA_DIR")
      ->capture_default_str();
  app.add_option("--catalogue", global.catalogue_path,
                 "Report-type catalogue file (default: the one built into the binary)")
      ->envname("VANTAGE_CATALOGUE");
  app.add_flag("-v,--verbose", global.verbose, "Verbose logging");
  app.parse_complete_callback([&] {
    spdlog::set_level(global.verbose ? spdlog::level::debug : spdlog::level::info);
  });

  // The one list of modes. Keep alphabetical within each stage.
  add_version_command(app, global);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const CommandFailed& e) {
    return e.code;
  }
  return 0;
}

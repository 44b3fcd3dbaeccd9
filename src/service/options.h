#pragma once
// What every command of the `vantage` binary and the service code share: the effective
// configuration and data directory, parsed once in main, and the one way to fail with an exit
// code after printing a clear message.

#include <stdexcept>
#include <string>

#include "config/config.h"

namespace vantage::service {

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

}  // namespace vantage::service

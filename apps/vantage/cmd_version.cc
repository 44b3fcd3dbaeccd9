#include <iostream>

#include "commands.h"

namespace vantage::cli {

void add_version_command(CLI::App& app, GlobalOptions& /*global*/) {
  auto* cmd = app.add_subcommand("version", "Print the Vantage version");
  cmd->callback([] { std::cout << "vantage " << VANTAGE_VERSION << "\n"; });
}

}  // namespace vantage::cli

#include <iostream>

#include "commands.h"
#include "config/config.h"

namespace vantage::cli {

void add_config_command(CLI::App& app, GlobalOptions& global) {
  auto* cmd = app.add_subcommand("config", "Show the effective configuration or its reference");
  cmd->require_subcommand(1);
  cmd->add_subcommand("show", "Print every setting with its effective value (secrets masked)")
      ->callback([&global] {
        if (!global.config_path.empty()) std::cout << "# from " << global.config_path << "\n";
        std::cout << config::show(global.config);
      });
  cmd->add_subcommand("docs", "Print the configuration reference (Markdown)")->callback([] {
    std::cout << config::reference_markdown();
  });
}

}  // namespace vantage::cli

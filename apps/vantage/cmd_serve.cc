// `vantage serve`: the long-running pipeline service on the embedded default (what it runs is
// described in src/service/service.h and service.cc; this file is only its command line).

#include "commands.h"
#include "service/service.h"

namespace vantage::cli {

using service::run_service;
using service::ServiceHooks;

void add_serve_command(CLI::App& app, GlobalOptions& global) {
  auto hooks = std::make_shared<ServiceHooks>();
  hooks->command = "serve";
  auto* cmd = app.add_subcommand(
      "serve",
      "Run the pipeline service: push endpoint, inbox watch, API, downloads, dashboard, day "
      "close");
  cmd->add_option("--listen", hooks->listen, "HOST:PORT (default: api.listen; port 0 picks one)");
  auto no_close = std::make_shared<bool>(false);
  cmd->add_flag("--no-day-close", *no_close, "Do not build reports at day close");
  cmd->callback([hooks, no_close, &global] {
    hooks->day_close = !*no_close;
    run_service(global, *hooks);
  });
}

}  // namespace vantage::cli

// prescient: far memory with learned prefetching. See README.md.
#include <cstdio>

#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include "commands.h"

int main(int argc, char** argv) {
  CLI::App app{"prescient: run programs with part of their memory on another node, with learned prefetching"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "prescient 0.1.0");
  int exit_code = 0;
  prescient::cli::AddRunCommand(app, &exit_code);
  prescient::cli::AddMemnodeCommand(app, &exit_code);
  prescient::cli::AddCompareCommand(app, &exit_code);
  prescient::cli::AddTraceCommand(app, &exit_code);
  prescient::cli::AddSimCommand(app, &exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    // CLI11 returns 0 for --help; a usage error must never look like success.
    return rc == 0 ? 0 : 2;
  }
  return exit_code;
}

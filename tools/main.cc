// prescient: far memory with learned prefetching. See README.md.
#include <cstdio>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include "commands.h"
#include "usage_check.h"

namespace prescient::cli {
std::vector<std::string>& TrailingCommand() {
  static std::vector<std::string> command;
  return command;
}
}  // namespace prescient::cli

int main(int argc, char** argv) {
#ifndef PRESCIENT_WITH_TORCH
  prescient::cli::SetForwardedArgv(argc, argv);
#endif
  // Everything after the first `--` is the program to run, untouched.
  for (int i = 1; i < argc; ++i) {
    if (std::string(argv[i]) == "--") {
      prescient::cli::TrailingCommand().assign(argv + i + 1, argv + argc);
      argc = i;
      break;
    }
  }
  CLI::App app{"prescient: run programs with part of their memory on another node, with learned prefetching"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "prescient " PRESCIENT_VERSION);
  int exit_code = 0;
  prescient::cli::AddRunCommand(app, &exit_code);
  prescient::cli::AddMemnodeCommand(app, &exit_code);
  prescient::cli::AddCompareCommand(app, &exit_code);
  prescient::cli::AddTraceCommand(app, &exit_code);
  prescient::cli::AddSimCommand(app, &exit_code);
#ifdef PRESCIENT_WITH_TORCH
  prescient::cli::AddTrainCommand(app, &exit_code);
  prescient::cli::AddBenchCommand(app, &exit_code);
  prescient::cli::AddDlrmCommand(app, &exit_code);
#else
  prescient::cli::AddForwardedCommands(app);
#endif
  if (std::string unknown = prescient::cli::FindUnknownWord(app, argc, argv); !unknown.empty()) {
    std::fprintf(stderr, "%s\n", unknown.c_str());
    return 2;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    // CLI11 returns 0 for --help; a usage error must never look like success.
    return rc == 0 ? 0 : 2;
  }
  return exit_code;
}

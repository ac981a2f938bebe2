// Each `prescient` subcommand lives in its own cmd_*.cc and registers itself
// here. A command stores its process exit status in *exit_code when it runs.
#pragma once

#include <CLI/CLI.hpp>

namespace prescient::cli {

void AddRunCommand(CLI::App& app, int* exit_code);
void AddMemnodeCommand(CLI::App& app, int* exit_code);
void AddCompareCommand(CLI::App& app, int* exit_code);
void AddTraceCommand(CLI::App& app, int* exit_code);
void AddSimCommand(CLI::App& app, int* exit_code);

}  // namespace prescient::cli

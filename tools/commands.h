// Each `prescient` subcommand lives in its own cmd_*.cc and registers itself
// here. A command stores its process exit status in *exit_code when it runs.
#pragma once

#include <string>
#include <vector>

#include <CLI/CLI.hpp>

namespace prescient::cli {

// The words after the first `--` on the command line, verbatim: the program
// that `run` and `trace` start. (CLI11 would move or drop a `--` that belongs
// to the program's own arguments.)
std::vector<std::string>& TrailingCommand();

void AddRunCommand(CLI::App& app, int* exit_code);
void AddMemnodeCommand(CLI::App& app, int* exit_code);
void AddCompareCommand(CLI::App& app, int* exit_code);
void AddTraceCommand(CLI::App& app, int* exit_code);
void AddSimCommand(CLI::App& app, int* exit_code);
void AddTrainCommand(CLI::App& app, int* exit_code);
void AddBenchCommand(CLI::App& app, int* exit_code);
void AddDlrmCommand(CLI::App& app, int* exit_code);

// The light `prescient` binary's stand-ins for train, bench and dlrm, which
// exec prescient-ml (forward.cc). SetForwardedArgv keeps the command line.
void SetForwardedArgv(int argc, char** argv);
void AddForwardedCommands(CLI::App& app);

}  // namespace prescient::cli

// The flags `prescient run` and `prescient trace` share, and the launch of a
// program under the preload library that both end in.
#pragma once

#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "prescient/status.h"
#include "runtime/run_config.h"
#include "token_flags.h"

namespace prescient::cli {

struct RunArgs {
  std::string local, local_bytes, memnodes, report, prefetch = "none", fault_loop = "hybrid", fault_path = "thread", dirty_tracking = "digest", min_alloc = "32K",
                                                            prefetch_install = "auto",
                                                            reserve = "64G", log_level = "warn";
  TokenFlags token;
  bool quiet = false;
  std::string model;           // farsight
  int lookahead = kDefaultLookahead;
  bool no_hybrid = false;
  bool no_native_run = false;  // trace: skip the native timing run
  std::vector<std::string> command;
  // `prescient trace` only.
  std::string trace_out, trace_kind = "access";
};

// Registers the shared flags and the trailing command on `cmd`.
void AddRunFlags(CLI::App* cmd, RunArgs* args);
// The callback of `run` and `trace`: takes the program (the words after
// `--`, or else the positional words CLI11 collected) and launches it.
int CollectAndLaunch(CLI::App* cmd, RunArgs* args, const std::string& verb);
// Validates the flags and the program, runs it under the preload library and
// returns its exit status (2 for a usage error, naming the flag). `verb`
// names the subcommand in messages.
int LaunchManaged(const RunArgs& args, const std::string& verb);
// Fills the trace fields of `config` from the trace flags (cmd_trace.cc).
Status ApplyTraceArgs(const RunArgs& args, RunConfig* config);

}  // namespace prescient::cli

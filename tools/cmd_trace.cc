// `prescient trace --out X.trace [--kind access|faults] -- CMD ARGS...`:
// records the page-level access stream of a run (see prescient/trace.h).
//
// An access trace runs the program with no prefetching and, by default, the
// smallest budget the runtime takes (1 MiB), so nearly every page transition
// is a fault and is recorded; accesses it misses are to the last few hundred
// pages installed, which any larger budget holds anyway. A program whose hot
// set is larger than that faults on nearly every access at 1 MiB, so
// --local sets a larger capture cache: the trace then models local sizes at
// or above it (D26). A faults trace records the demand faults of a run at
// the budget given with --local/--local-bytes.
#include <fmt/format.h>

#include "commands.h"
#include "common/units.h"
#include "prescient/region.h"
#include "prescient/trace.h"
#include "run_args.h"

namespace prescient::cli {

Status ApplyTraceArgs(const RunArgs& args, RunConfig* config) {
  if (args.trace_kind != kAccessKind && args.trace_kind != kFaultsKind)
    return Status::InvalidArgument(fmt::format("--kind {} is not a trace kind; use access or faults", args.trace_kind));
  bool budget_given = !args.local.empty() || !args.local_bytes.empty();
  if (args.trace_kind == kAccessKind) {
    if (args.prefetch != "none")
      return Status::InvalidArgument("an access trace must see every fault; drop --prefetch (prefetching would hide accesses)");
    if (!budget_given) config->local_bytes = kMinLocalBytes;
  } else if (!budget_given) {
    return Status::InvalidArgument("a faults trace records the faults at one budget; give --local P% or --local-bytes N");
  }
  std::string out = args.trace_out;
  if (out.front() != '/') {
    char cwd[4096];
    if (getcwd(cwd, sizeof(cwd)) == nullptr) return Status::FromErrno("getcwd", errno);
    out = std::string(cwd) + "/" + out;  // the program may change directory
  }
  config->trace_path = out;
  config->trace_kind = args.trace_kind;
  std::string line;
  for (const auto& a : args.command) line += (line.empty() ? "" : " ") + a;
  config->command_line = line;
  return Status::Ok();
}

void AddTraceCommand(CLI::App& app, int* exit_code) {
  auto* cmd = app.add_subcommand("trace", "Record the page-level access stream of a program (for `prescient sim` and `prescient train`)");
  auto args = std::make_shared<RunArgs>();
  cmd->add_option("--out", args->trace_out, "The trace file to write")->required();
  cmd->add_option("--kind", args->trace_kind, "access: every page transition that misses the capture cache (--local, default 1 MiB); faults: the demand faults at --local")->capture_default_str();
  cmd->add_flag("--no-native-run", args->no_native_run,
                 "Skip the native run that measures the program's compute (its output is discarded); the simulator then "
                 "uses the capture's own user CPU time, which heavy paging inflates");
  AddRunFlags(cmd, args.get());
  cmd->callback([cmd, args, exit_code] { *exit_code = CollectAndLaunch(cmd, args.get(), "trace"); });
}

}  // namespace prescient::cli

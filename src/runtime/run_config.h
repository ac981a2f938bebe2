// RunConfig: what `prescient run` tells the preloaded library about the run,
// carried in environment variables (the only channel that survives exec).
//
// The CLI validates its flags, fills a RunConfig and exports it with
// RunConfigToEnv(); the library's constructor reads it back with
// RunConfigFromEnv(). Every variable is optional, so the library can also be
// preloaded by hand: LD_PRELOAD=libprescient_preload.so ./app.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "prescient/prefetcher.h"
#include "prescient/region.h"
#include "prescient/status.h"
#include "transport/token.h"

namespace prescient {

inline constexpr char kEnvLocalFraction[] = "PRESCIENT_LOCAL_FRACTION";  // 0.25
inline constexpr char kEnvLocalBytes[] = "PRESCIENT_LOCAL_BYTES";        // 536870912 or 512M
inline constexpr char kEnvMemnodes[] = "PRESCIENT_MEMNODES";             // host:port,host:port
inline constexpr char kEnvReport[] = "PRESCIENT_REPORT";                 // JSON report path
inline constexpr char kEnvPrefetch[] = "PRESCIENT_PREFETCH";             // policy name
inline constexpr char kEnvFaultLoop[] = "PRESCIENT_FAULT_LOOP";          // poll | spin | hybrid
inline constexpr char kEnvFaultPath[] = "PRESCIENT_FAULT_PATH";          // auto | signal | thread
inline constexpr char kEnvDirtyTracking[] = "PRESCIENT_DIRTY_TRACKING";  // fault | digest
inline constexpr char kEnvPrefetchInstall[] = "PRESCIENT_PREFETCH_INSTALL";  // auto | map | stage
inline constexpr char kEnvMinAlloc[] = "PRESCIENT_MIN_ALLOC";            // smallest managed allocation
inline constexpr char kEnvReserve[] = "PRESCIENT_RESERVE";               // virtual size of the region
inline constexpr char kEnvRootPid[] = "PRESCIENT_ROOT_PID";              // the process that reports
inline constexpr char kEnvSummary[] = "PRESCIENT_SUMMARY";               // 0: no summary on stderr
inline constexpr char kEnvLogLevel[] = "PRESCIENT_LOG_LEVEL";            // spdlog level, default warn
inline constexpr char kEnvTrace[] = "PRESCIENT_TRACE";                   // trace file to capture into
inline constexpr char kEnvTraceKind[] = "PRESCIENT_TRACE_KIND";          // access | faults
inline constexpr char kEnvCommandLine[] = "PRESCIENT_COMMAND_LINE";      // the traced command, for the trace header
inline constexpr char kEnvNativeUserNs[] = "PRESCIENT_NATIVE_USER_NS";   // user CPU ns of a native run, for the trace
inline constexpr char kEnvLostWorkFile[] = "PRESCIENT_LOST_WORK_FILE";   // where a stopped forked child says so (tools/launcher.h)
inline constexpr char kEnvModel[] = "PRESCIENT_MODEL";                   // farsight: the model file
inline constexpr char kEnvLookahead[] = "PRESCIENT_LOOKAHEAD";           // farsight: model steps per fault
inline constexpr char kEnvHybrid[] = "PRESCIENT_HYBRID";                 // farsight: 0 turns off the readahead beside the model

inline constexpr uint64_t kDefaultMinAllocBytes = 32 << 10;

// The exit status of a program whose run could not start (far memory was
// unreachable, say), as env(1) and timeout(1) use 125 for their own failures.
inline constexpr int kRunStartupFailureExit = 125;
// The exit status of a run whose program exited 0 though some of its work
// was lost (RunConfig::lost_work_file), as a lost memory node ends a program.
inline constexpr int kLostWorkExit = 70;

struct RunConfig {
  // The local budget: local_bytes when non-zero, else local_fraction of the
  // region's footprint (see RegionOptions).
  double local_fraction = 1.0;
  uint64_t local_bytes = 0;
  std::string memnodes;               // empty: the embedded in-process store
  // token_file names the file `prescient run` shares the token in
  // (kEnvTokenFile, transport/token.h); each process reads it when it
  // connects. The token itself never enters the environment.
  std::string token_file, token;
  std::string report_path;            // empty: no JSON report
  std::string prefetch = "none";
  std::string model_path;             // farsight's model
  int lookahead = kDefaultLookahead;
  bool hybrid = true;
  std::string fault_loop = "hybrid";
  // thread, the safe default: the signal path is opt-in (D105).
  std::string fault_path = "thread";
  std::string dirty_tracking = "digest";
  // map, stage, or auto: stage for the classic policies when far memory is
  // on memory nodes, map otherwise (D67).
  std::string prefetch_install = "auto";
  uint64_t min_alloc_bytes = kDefaultMinAllocBytes;
  uint64_t reserve_bytes = uint64_t{64} << 30;
  pid_t root_pid = 0;                 // 0: whichever process reads the config
  bool summary = true;
  std::string log_level = "warn";
  std::string trace_path;             // empty: no trace
  std::string trace_kind = "access";  // what the trace holds (see prescient/trace.h)
  std::string command_line;           // recorded in the trace header
  uint64_t native_user_cpu_ns = 0;    // the traced command's user CPU time run natively (0: not measured)
  // A file `prescient run` reads when the program ends: a forked child that
  // touched far memory and was stopped appends a byte, so that the run
  // fails even when the program ignores its child's exit status.
  std::string lost_work_file;
};

// Reads the variables above. Errors name the variable and what is wrong.
Status RunConfigFromEnv(RunConfig* config);
// "NAME=value" for every field, for an exec environment.
std::vector<std::string> RunConfigToEnv(const RunConfig& config);
// The region a run asks for.
Status ToRegionOptions(const RunConfig& config, RegionOptions* options);
// Resolves `install` (auto, map or stage) for a run of `policy` whose far
// memory is on memory nodes (`memnode`) or in the embedded store; false for
// an unknown word.
bool ResolvePrefetchInstall(const std::string& install, bool memnode, const std::string& policy, PrefetchInstall* mode);

}  // namespace prescient

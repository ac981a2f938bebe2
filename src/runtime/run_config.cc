#include "runtime/run_config.h"

#include <cstdlib>

#include <fmt/format.h>

#include "common/units.h"

namespace prescient {

namespace {

const char* Get(const char* name) {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? value : nullptr;
}

Status Explain(const char* name, const char* value, const Status& status) {
  return Status::InvalidArgument(fmt::format("{}={}: {}", name, value, status.message()));
}

}  // namespace

Status RunConfigFromEnv(RunConfig* config) {
  RunConfig c;
  const char* fraction = Get(kEnvLocalFraction);
  const char* bytes = Get(kEnvLocalBytes);
  if (fraction != nullptr && bytes != nullptr)
    return Status::InvalidArgument(fmt::format("both {} and {} are set; set only one", kEnvLocalFraction, kEnvLocalBytes));
  if (fraction != nullptr) {
    Status s = ParseFraction(fraction, &c.local_fraction);
    if (!s.ok()) return Explain(kEnvLocalFraction, fraction, s);
  }
  if (bytes != nullptr) {
    Status s = ParseBytes(bytes, &c.local_bytes);
    if (!s.ok()) return Explain(kEnvLocalBytes, bytes, s);
    if (c.local_bytes < kMinLocalBytes)
      return Status::InvalidArgument(fmt::format("{}={} is below the minimum of {}", kEnvLocalBytes, bytes, FormatBytes(kMinLocalBytes)));
  }
  if (const char* v = Get(kEnvMemnodes)) c.memnodes = v;
  if (const char* v = Get(kEnvTokenFile)) c.token_file = v;
  if (const char* v = Get(kEnvReport)) c.report_path = v;
  if (const char* v = Get(kEnvPrefetch)) c.prefetch = v;
  if (const char* v = Get(kEnvModel)) c.model_path = v;
  if (const char* v = Get(kEnvLookahead)) {
    char* end = nullptr;
    long n = std::strtol(v, &end, 10);
    if (*end != '\0' || n < 1 || n > 16) return Status::InvalidArgument(fmt::format("{}={} must be a whole number from 1 to 16", kEnvLookahead, v));
    c.lookahead = static_cast<int>(n);
  }
  if (const char* v = Get(kEnvHybrid)) c.hybrid = std::string(v) != "0";
  if (const char* v = Get(kEnvFaultLoop)) {
    FaultLoopMode mode;
    if (!ParseFaultLoopMode(v, &mode))
      return Status::InvalidArgument(fmt::format("{}={}: expected poll, spin or hybrid", kEnvFaultLoop, v));
    c.fault_loop = v;
  }
  if (const char* v = Get(kEnvFaultPath)) {
    FaultPath path;
    if (!ParseFaultPath(v, &path)) return Status::InvalidArgument(fmt::format("{}={}: expected auto, signal or thread", kEnvFaultPath, v));
    c.fault_path = v;
  }
  if (const char* v = Get(kEnvDirtyTracking)) {
    DirtyTracking mode;
    if (!ParseDirtyTracking(v, &mode)) return Status::InvalidArgument(fmt::format("{}={}: expected fault or digest", kEnvDirtyTracking, v));
    c.dirty_tracking = v;
  }
  if (const char* v = Get(kEnvPrefetchInstall)) {
    PrefetchInstall mode;
    if (!ResolvePrefetchInstall(v, !c.memnodes.empty(), c.prefetch, &mode))
      return Status::InvalidArgument(fmt::format("{}={}: expected auto, map or stage", kEnvPrefetchInstall, v));
    c.prefetch_install = v;
  }
  if (const char* v = Get(kEnvMinAlloc)) {
    Status s = ParseBytes(v, &c.min_alloc_bytes);
    if (!s.ok()) return Explain(kEnvMinAlloc, v, s);
    if (c.min_alloc_bytes < 1) return Status::InvalidArgument(fmt::format("{}={} must be at least 1 byte", kEnvMinAlloc, v));
  }
  if (const char* v = Get(kEnvReserve)) {
    Status s = ParseBytes(v, &c.reserve_bytes);
    if (!s.ok()) return Explain(kEnvReserve, v, s);
    if (c.reserve_bytes < (uint64_t{1} << 20))
      return Status::InvalidArgument(fmt::format("{}={} is below the minimum of 1 MiB", kEnvReserve, v));
  }
  if (const char* v = Get(kEnvRootPid)) {
    char* end = nullptr;
    long pid = std::strtol(v, &end, 10);
    if (*end != '\0' || pid <= 0) return Status::InvalidArgument(fmt::format("{}={} is not a process id", kEnvRootPid, v));
    c.root_pid = static_cast<pid_t>(pid);
  }
  if (const char* v = Get(kEnvSummary)) c.summary = std::string(v) != "0";
  if (const char* v = Get(kEnvLogLevel)) c.log_level = v;
  if (const char* v = Get(kEnvTrace)) c.trace_path = v;
  if (const char* v = Get(kEnvTraceKind)) {
    c.trace_kind = v;
    if (c.trace_kind != "access" && c.trace_kind != "faults")
      return Status::InvalidArgument(fmt::format("{}={} is not a trace kind; use access or faults", kEnvTraceKind, v));
  }
  if (const char* v = Get(kEnvCommandLine)) c.command_line = v;
  if (const char* v = Get(kEnvNativeUserNs)) c.native_user_cpu_ns = std::strtoull(v, nullptr, 10);
  if (const char* v = Get(kEnvLostWorkFile)) c.lost_work_file = v;
  *config = std::move(c);
  return Status::Ok();
}

std::vector<std::string> RunConfigToEnv(const RunConfig& c) {
  std::vector<std::string> env;
  auto put = [&env](const char* name, const std::string& value) { env.push_back(fmt::format("{}={}", name, value)); };
  if (c.local_bytes > 0) {
    put(kEnvLocalBytes, std::to_string(c.local_bytes));
  } else {
    put(kEnvLocalFraction, fmt::format("{}", c.local_fraction));
  }
  if (!c.memnodes.empty()) put(kEnvMemnodes, c.memnodes);
  if (!c.token_file.empty()) put(kEnvTokenFile, c.token_file);
  if (!c.report_path.empty()) put(kEnvReport, c.report_path);
  put(kEnvPrefetch, c.prefetch);
  if (!c.model_path.empty()) put(kEnvModel, c.model_path);
  put(kEnvLookahead, std::to_string(c.lookahead));
  put(kEnvHybrid, c.hybrid ? "1" : "0");
  put(kEnvFaultLoop, c.fault_loop);
  put(kEnvFaultPath, c.fault_path);
  put(kEnvDirtyTracking, c.dirty_tracking);
  put(kEnvPrefetchInstall, c.prefetch_install);
  put(kEnvMinAlloc, std::to_string(c.min_alloc_bytes));
  put(kEnvReserve, std::to_string(c.reserve_bytes));
  if (c.root_pid > 0) put(kEnvRootPid, std::to_string(c.root_pid));
  put(kEnvSummary, c.summary ? "1" : "0");
  put(kEnvLogLevel, c.log_level);
  if (!c.lost_work_file.empty()) put(kEnvLostWorkFile, c.lost_work_file);
  if (!c.trace_path.empty()) {
    put(kEnvTrace, c.trace_path);
    put(kEnvTraceKind, c.trace_kind);
    put(kEnvCommandLine, c.command_line);
    if (c.native_user_cpu_ns > 0) put(kEnvNativeUserNs, std::to_string(c.native_user_cpu_ns));
  }
  return env;
}

Status ToRegionOptions(const RunConfig& config, RegionOptions* options) {
  RegionOptions o;
  o.reserve_bytes = config.reserve_bytes;
  o.local_bytes = config.local_bytes;
  o.local_fraction = config.local_fraction;
  if (!ParseFaultLoopMode(config.fault_loop, &o.loop))
    return Status::InvalidArgument(fmt::format("unknown fault loop '{}'; expected poll, spin or hybrid", config.fault_loop));
  if (!ParseFaultPath(config.fault_path, &o.fault_path))
    return Status::InvalidArgument(fmt::format("unknown fault path '{}'; expected auto, signal or thread", config.fault_path));
  // A trace stamps each event with the faulting thread's CPU time, read while
  // that thread is blocked; a signal handler would add its own work to it.
  if (!config.trace_path.empty()) o.fault_path = FaultPath::kThread;
  if (!ParseDirtyTracking(config.dirty_tracking, &o.dirty_tracking))
    return Status::InvalidArgument(fmt::format("unknown dirty tracking '{}'; expected fault or digest", config.dirty_tracking));
  o.prefetch = config.prefetch;
  if (!ResolvePrefetchInstall(config.prefetch_install, !config.memnodes.empty(), config.prefetch, &o.prefetch_install))
    return Status::InvalidArgument(fmt::format("unknown prefetch install '{}'; expected auto, map or stage", config.prefetch_install));
  o.prefetch_options.model_path = config.model_path;
  o.prefetch_options.lookahead = config.lookahead;
  o.prefetch_options.hybrid = config.hybrid;
  *options = std::move(o);
  return Status::Ok();
}

bool ResolvePrefetchInstall(const std::string& install, bool memnode, const std::string& policy, PrefetchInstall* mode) {
  if (install == "auto") {
    // Where staging measured faster (D67): the classic policies, whose
    // windows grow on hits, over memory nodes, whose reads cost far more
    // than the fault round trip of a seen hit.
    *mode = memnode && policy != "farsight" ? PrefetchInstall::kStage : PrefetchInstall::kMap;
    return true;
  }
  return ParsePrefetchInstall(install, mode);
}

}  // namespace prescient

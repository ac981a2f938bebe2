// Start-up and exit of the preloaded library: builds the run `prescient run`
// described in the environment (backend, region, page allocator), turns the
// transparent heap on, and at exit writes the report.
//
// A run that cannot start stops the program with a message: running it
// silently unmanaged would report numbers about nothing.
#include <dlfcn.h>
#include <limits.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "common/clock.h"
#include "common/log.h"
#include "prescient/trace.h"
#include "trace/trace_recorder.h"
#include "preload/fork_guard.h"
#include "preload/glibc_heap.h"
#include "preload/heap.h"
#include "preload/runtime_scope.h"
#include "preload/say.h"
#include "preload/startup.h"
#include "prescient/backend.h"
#include "runtime/thread_role.h"
#include "prescient/region.h"
#include "runtime/report.h"
#include "runtime/run_config.h"
#include "transport/lazy_backend.h"
#include "transport/token.h"

namespace prescient::preload {

namespace {

// Everything start-up builds. Never destroyed: at exit other threads of the
// program may still be running, and faulting on the region.
struct Run {
  RunConfig config;
  std::shared_ptr<TraceRecorder> recorder;  // set when capturing a trace
  Region* region = nullptr;
  PageAllocator* pages = nullptr;
  uint64_t start_ns = 0;
  bool interposed = true;
};
Run* g_run = nullptr;

[[noreturn]] void CannotStart(const Status& status) {
  Say("cannot start: " + status.ToString());
  _exit(kRunStartupFailureExit);
}

// The runtime logs through spdlog's default logger. Its stock sink writes to
// stdout, which is the program's, and goes through stdio, whose locks the
// program may hold while faulting (see common/log.h); ours uses write(2) to
// stderr.
void RouteLogsToStderr(const std::string& level) {
  try {
    InstallStderrLogger("prescient", level);
    spdlog::default_logger()->set_pattern("prescient: [%l] %v");
  } catch (const std::exception& e) {
    Say(fmt::format("cannot set up logging: {}", e.what()));
  }
}

// Whether the program's calls to malloc reach ours. Another allocator earlier
// in symbol lookup order (the sanitizer runtime, an allocator linked into the
// program) would take them, and nothing would be managed.
bool CheckInterposed() {
  // Looked up in the program's scope: RTLD_DEFAULT from here would search
  // this library first (it is linked -Bsymbolic) and always find ours.
  void* program = dlopen(nullptr, RTLD_NOW | RTLD_NOLOAD);
  void* first = program != nullptr ? dlsym(program, "malloc") : nullptr;
  if (first == nullptr || first == reinterpret_cast<void*>(&malloc)) return true;
  Dl_info info{};
  std::string who = dladdr(first, &info) != 0 && info.dli_fname != nullptr ? info.dli_fname : "an unknown object";
  Say(fmt::format("warning: malloc is provided by {}, which comes before prescient in symbol lookup; "
                  "the program's allocations will not be managed",
                  who));
  return false;
}

bool DiscardPages(Region* region, std::byte* addr, size_t len) {
  // Runs on the application thread that called free(); whatever the region
  // allocates here is runtime data.
  RuntimeScope scope;
  Status status = region->discard(addr, len);
  if (!status.ok()) {
    static std::atomic<bool> warned{false};
    if (!warned.exchange(true)) Say("warning: freed pages could not be discarded and will not be reused: " + status.ToString());
  }
  return status.ok();
}

std::string ProgramPath() {
  char buf[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
}

// Measures the per-fault kernel CPU cost on scratch pages of the region,
// then opens the trace with a header that says how it was captured.
void StartTrace(Run& run) {
  constexpr size_t kCalibrationPages = 256;
  auto* scratch = static_cast<std::byte*>(run.pages->allocate(kCalibrationPages * kPageSize, kPageSize));
  uint64_t fault_cpu_ns = scratch ? CalibrateFaultCpuNanos(scratch, kCalibrationPages) : 0;
  if (scratch) run.pages->release(scratch);
  const RunConfig& c = run.config;
  nlohmann::json header = {
      {"kind", c.trace_kind},
      {"command", c.command_line},
      {"program", ProgramPath()},
      {"capture", "prescient runtime: every userfaultfd missing-page and first-write fault, stamped with the faulting thread's CPU time"},
      {"local_bytes", c.local_bytes},
      {"local_fraction", c.local_bytes > 0 ? 0.0 : c.local_fraction},
      {"min_alloc_bytes", c.min_alloc_bytes},
      {"prefetch", c.prefetch},
      {"fault_cpu_overhead_ns", fault_cpu_ns},
  };
  Status status;
  auto writer = TraceWriter::Create(c.trace_path, header, &status);
  if (!writer) CannotStart(status);
  run.recorder->Start(std::move(writer));
}

void FinishTrace(Run& run) {
  // The compute stamped on each record also holds the kernel's share of every
  // fault, which grows under heavy paging; the simulator scales the stamps to
  // this (D27).
  nlohmann::json trailer = {{"program_user_cpu_ns", ProgramUserCpuNanos(RuntimeThreadIds())}};
  if (run.config.native_user_cpu_ns > 0) trailer["native_user_cpu_ns"] = run.config.native_user_cpu_ns;
  Status status = run.recorder->Finish(trailer);
  if (!status.ok()) {
    Say(fmt::format("the trace {} is incomplete: {}", run.config.trace_path, status.ToString()));
  } else if (run.config.summary) {
    Say(fmt::format("trace: {} records in {}", run.recorder->records(), run.config.trace_path));
  }
}

constinit std::atomic<bool> g_reported{false};

void WriteReportAtExit() { ReportIfRoot(); }

void Start() {
  const uint64_t start_ns = NowNanos();
  ResolveGlibcUsableSize();
  KeepStderr();
  // Nothing built here is the program's heap. (Nor could it be managed yet:
  // the heap turns on last.)
  RuntimeScope scope;

  auto run = std::make_unique<Run>();
  run->start_ns = start_ns;
  Status status = RunConfigFromEnv(&run->config);
  if (!status.ok()) CannotStart(status);
  RunConfig& config = run->config;
  if (config.root_pid == 0) {
    // Preloaded by hand: this process reports, not the programs it execs.
    config.root_pid = getpid();
    setenv(kEnvRootPid, std::to_string(config.root_pid).c_str(), 1);
  }
  RouteLogsToStderr(config.log_level);

  RegionOptions options;
  status = ToRegionOptions(config, &options);
  if (!status.ok()) CannotStart(status);
  // The token is read only to connect: a descendant that never connects
  // never needs it, even after the run (and its token file) is gone.
  auto connect = [memnodes = config.memnodes, token_file = config.token_file](Status* st) -> std::unique_ptr<Backend> {
    TcpOptions tcp;
    if (!memnodes.empty() && !token_file.empty()) {
      *st = ReadRunTokenFile(token_file, &tcp.token);
      if (!st->ok()) return nullptr;
    }
    return MakeBackend(memnodes, tcp, LinkModel{}, st);
  };
  std::unique_ptr<Backend> backend;
  if (config.memnodes.empty() || getpid() == config.root_pid) {
    // The program itself connects at once, so an unreachable node or a
    // wrong token stops the run before it starts.
    backend = connect(&status);
    if (!backend) CannotStart(status);
  } else {
    // What it execs connects only if it pages out: a script's hundreds of
    // short commands would otherwise take every slot of the nodes.
    backend = MakeLazyBackend(connect, fmt::format("memory node(s) {}", config.memnodes));
  }
  if (!config.trace_path.empty()) {
    run->recorder = std::make_shared<TraceRecorder>();
    options.observer = run->recorder;
    // An access trace's cache should hide as little as it can (D28).
    if (config.trace_kind == kAccessKind) options.activate_refaults = false;
  }
  std::unique_ptr<Region> region = Region::Create(options, std::move(backend), &status);
  if (!region) CannotStart(status);

  run->region = region.release();
  Region* r = run->region;
  run->pages = new PageAllocator(r->base(), r->size(), [r](std::byte* addr, size_t len) { return DiscardPages(r, addr, len); });
  run->interposed = CheckInterposed();
  if (run->recorder) StartTrace(*run);
  g_run = run.release();

  InstallForkGuard(g_run->pages, g_run->config.lost_work_file);
  // Registered now, before the program's static constructors register their
  // destructors, so it runs after them: the report sees the whole run.
  std::atexit(WriteReportAtExit);
  ActivateManagedHeap(g_run->pages, config.min_alloc_bytes);
}

__attribute__((constructor)) void StartAtLoad() { Start(); }

}  // namespace

Region* ManagedRegion() { return g_run != nullptr && !InForkedChild() ? g_run->region : nullptr; }

void ReportIfRoot() {
  // Forked children (and anything else that is not the process `prescient
  // run` started) share the environment but not the run.
  if (g_run == nullptr || getpid() != g_run->config.root_pid) return;
  if (g_reported.exchange(true)) return;
  RuntimeScope scope;
  if (g_run->recorder) FinishTrace(*g_run);
  const RunConfig& config = g_run->config;
  RunReport report;
  report.region = g_run->region->stats();
  report.prefetcher = g_run->region->prefetcher_stats();
  report.backend = g_run->region->backend().stats();
  report.backend_description = g_run->region->backend().describe();
  report.allocator = g_run->pages->stats();
  report.heap = g_heap_accounting.Snapshot(config.min_alloc_bytes);
  report.prefetch = config.prefetch;
  report.local_fraction = config.local_fraction;
  report.local_bytes = config.local_bytes;
  report.fault_loop = config.fault_loop;
  report.program = ProgramPath();
  report.interposed = g_run->interposed;
  report.wall_s = static_cast<double>(NowNanos() - g_run->start_ns) / 1e9;

  if (!config.report_path.empty()) {
    std::ofstream out(config.report_path, std::ios::trunc);
    out << ReportToJson(report).dump(2) << "\n";
    out.close();
    if (!out) Say(fmt::format("cannot write the report to {}: {}", config.report_path, std::strerror(errno)));
  }
  if (config.summary) SayRaw(FormatReportSummary(report));
}

}  // namespace prescient::preload

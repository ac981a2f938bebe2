// `prescient run`: run an unmodified, dynamically linked program with its
// large allocations in far memory (transparent mode). The CLI checks every
// flag and the program up front, describes the run in the environment (see
// runtime/run_config.h) and starts the program with libprescient_preload.so
// preloaded; the library does the rest and writes the report at exit.
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "model_flags.h"
#include "common/units.h"
#include "launcher.h"
#include "provenance.h"
#include "run_args.h"
#include "transport/token.h"
#include "prescient/prefetcher.h"
#include "prescient/region.h"
#include "runtime/program_check.h"
#include "runtime/run_config.h"

namespace prescient::cli {

namespace {

constexpr int kUsageError = 2;  // as for flags CLI11 itself rejects

bool ValidEndpoint(const std::string& endpoint) {
  size_t colon = endpoint.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == endpoint.size()) return false;
  std::string port = endpoint.substr(colon + 1);
  if (port.find_first_not_of("0123456789") != std::string::npos || port.size() > 5) return false;
  int value = std::stoi(port);
  return value > 0 && value < 65536;
}

bool KnownPrefetcher(const std::string& name) {
  std::string names = "," + PrefetcherNames() + ",";
  return names.find("," + name + ",") != std::string::npos;
}

// Turns the flags into a RunConfig; any error names the flag and what to do.
Status BuildConfig(const RunArgs& a, RunConfig* c) {
  if (!a.local.empty() && !a.local_bytes.empty())
    return Status::InvalidArgument("--local and --local-bytes both set the local memory budget; give only one");
  if (!a.local.empty()) {
    Status s = ParseFraction(a.local, &c->local_fraction);
    if (!s.ok()) return Status::InvalidArgument(fmt::format("--local {}: {}", a.local, s.message()));
  }
  if (!a.local_bytes.empty()) {
    Status s = ParseBytes(a.local_bytes, &c->local_bytes);
    if (!s.ok()) return Status::InvalidArgument(fmt::format("--local-bytes {}: {}", a.local_bytes, s.message()));
    if (c->local_bytes < kMinLocalBytes)
      return Status::InvalidArgument(
          fmt::format("--local-bytes {} is below the minimum of {}; raise it", a.local_bytes, FormatBytes(kMinLocalBytes)));
  }
  if (!a.memnodes.empty()) {
    size_t start = 0;
    while (start <= a.memnodes.size()) {
      size_t comma = a.memnodes.find(',', start);
      if (comma == std::string::npos) comma = a.memnodes.size();
      std::string endpoint = a.memnodes.substr(start, comma - start);
      if (!ValidEndpoint(endpoint))
        return Status::InvalidArgument(fmt::format("--memnode '{}' is not HOST:PORT (e.g. 10.0.0.2:7000); separate several with commas",
                                                   endpoint));
      start = comma + 1;
    }
    c->memnodes = a.memnodes;
  }
  if (!a.token.file.empty() && a.memnodes.empty())
    return Status::InvalidArgument("--token-file is only used with --memnode; add --memnode HOST:PORT or drop --token-file");
  std::string token;
  PRESCIENT_RETURN_IF_ERROR(TokenFromFlags(a.token, &token));
  // The embedded store needs none; a PRESCIENT_TOKEN set for other commands is no error.
  if (!a.memnodes.empty()) c->token = token;
  if (!KnownPrefetcher(a.prefetch))
    return Status::InvalidArgument(fmt::format("--prefetch {} is not a policy; choose one of: {}", a.prefetch, PrefetcherNames()));
  c->prefetch = a.prefetch;
  PRESCIENT_RETURN_IF_ERROR(CheckModelFlags(a.prefetch, a.model, a.lookahead));
  if (!a.model.empty()) {
    char real[PATH_MAX];
    if (realpath(a.model.c_str(), real) == nullptr) return Status::FromErrno(fmt::format("--model {}", a.model), errno);
    c->model_path = real;  // the program may change directory
  }
  c->lookahead = a.lookahead;
  c->hybrid = !a.no_hybrid;
  FaultLoopMode mode;
  if (!ParseFaultLoopMode(a.fault_loop, &mode))
    return Status::InvalidArgument(fmt::format("--fault-loop {} is not a mode; choose poll, spin or hybrid", a.fault_loop));
  c->fault_loop = a.fault_loop;
  FaultPath path;
  if (!ParseFaultPath(a.fault_path, &path))
    return Status::InvalidArgument(fmt::format("--fault-path {} is not a path; choose auto, signal or thread", a.fault_path));
  c->fault_path = a.fault_path;
  DirtyTracking tracking;
  if (!ParseDirtyTracking(a.dirty_tracking, &tracking))
    return Status::InvalidArgument(fmt::format("--dirty-tracking {} is not a mode; choose fault or digest", a.dirty_tracking));
  c->dirty_tracking = a.dirty_tracking;
  PrefetchInstall install;
  if (!ResolvePrefetchInstall(a.prefetch_install, !a.memnodes.empty(), a.prefetch, &install))
    return Status::InvalidArgument(fmt::format("--prefetch-install {} is not a mode; choose auto, map or stage", a.prefetch_install));
  c->prefetch_install = a.prefetch_install;
  Status s = ParseBytes(a.min_alloc, &c->min_alloc_bytes);
  if (!s.ok()) return Status::InvalidArgument(fmt::format("--min-alloc {}: {}", a.min_alloc, s.message()));
  if (c->min_alloc_bytes < kPageSize)
    return Status::InvalidArgument(fmt::format(
        "--min-alloc {} is below one page (4 KiB): every managed allocation takes whole pages; raise it", a.min_alloc));
  s = ParseBytes(a.reserve, &c->reserve_bytes);
  if (!s.ok()) return Status::InvalidArgument(fmt::format("--reserve {}: {}", a.reserve, s.message()));
  if (c->reserve_bytes < (uint64_t{1} << 30))
    return Status::InvalidArgument(fmt::format("--reserve {} is below the minimum of 1 GiB; raise it", a.reserve));
  if (c->local_bytes > c->reserve_bytes)
    return Status::InvalidArgument(fmt::format("--local-bytes {} is larger than --reserve {}; lower it or raise --reserve", a.local_bytes, a.reserve));
  if (!a.report.empty() && a.report != "-") {  // "-": stdout, through a file of ours (LaunchManaged)
    std::string dir = a.report.find('/') == std::string::npos ? "." : a.report.substr(0, a.report.rfind('/'));
    if (dir.empty()) dir = "/";
    struct stat st;
    if (a.report.back() == '/' || (stat(a.report.c_str(), &st) == 0 && S_ISDIR(st.st_mode)))
      return Status::InvalidArgument(fmt::format("--report {} is a directory; name a file in it", a.report));
    if (stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
      return Status::InvalidArgument(fmt::format("--report {}: directory {} does not exist; create it first", a.report, dir));
    if (access(dir.c_str(), W_OK) != 0)
      return Status::InvalidArgument(fmt::format("--report {}: directory {} is not writable", a.report, dir));
    // Absolute, so a program that changes directory still writes it here.
    char real_dir[PATH_MAX];
    if (realpath(dir.c_str(), real_dir) == nullptr) return Status::FromErrno(fmt::format("--report {}", a.report), errno);
    c->report_path = std::string(real_dir) + "/" + a.report.substr(a.report.rfind('/') + 1);
  }
  c->summary = !a.quiet;
  if (std::string(" trace debug info warn error critical off ").find(" " + a.log_level + " ") == std::string::npos)
    return Status::InvalidArgument(fmt::format("--log-level {} is not a level; choose trace, debug, info, warn, error or off", a.log_level));
  c->log_level = a.log_level;
  return Status::Ok();
}

// libprescient_preload.so is built next to the prescient binary.
Status FindPreloadLibrary(std::string* path) {
  char self[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
  if (n <= 0) return Status::FromErrno("readlink /proc/self/exe", errno);
  std::string exe(self, static_cast<size_t>(n));
  *path = exe.substr(0, exe.rfind('/')) + "/libprescient_preload.so";
  if (access(path->c_str(), R_OK) != 0)
    return Status::NotFound(fmt::format("{} is missing; build it (ninja prescient_preload) next to {}", *path, exe));
  return Status::Ok();
}

}  // namespace

// Adds the schema's provenance to the report the program's runtime wrote,
// and prints it instead when it goes to stdout. A run killed before its
// report is left as it is (RunAndWait has said so).
void FinishReport(const std::string& path, bool to_stdout, const std::string& verb) {
  std::ifstream in(path);
  nlohmann::json report = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  in.close();
  if (report.is_object()) {
    report["provenance"] = Provenance();
    if (to_stdout) {
      std::fflush(stdout);
      fmt::print("{}\n", report.dump(2));
    } else {
      const std::string tmp = path + ".tmp";
      std::ofstream out(tmp, std::ios::trunc);
      out << report.dump(2) << "\n";
      out.close();
      if (!out || rename(tmp.c_str(), path.c_str()) != 0) {
        fmt::print(stderr, "prescient {}: cannot add provenance to the report {}: {}\n", verb, path, std::strerror(errno));
        unlink(tmp.c_str());
      }
    }
  }
  if (to_stdout) unlink(path.c_str());
}

int LaunchManaged(const RunArgs& args, const std::string& verb) {
  auto Fail = [&verb](int code, const std::string& message) {
    fmt::print(stderr, "prescient {}: {}\n", verb, message);
    return code;
  };
  RunConfig config;
  Status s = BuildConfig(args, &config);
  if (!s.ok()) return Fail(kUsageError, s.message());
  if (args.command.empty()) return Fail(kUsageError, fmt::format("no command given; usage: prescient {} [OPTIONS] -- COMMAND [ARGS...]", verb));
  if (!args.trace_out.empty()) {
    s = ApplyTraceArgs(args, &config);
    if (!s.ok()) return Fail(kUsageError, s.message());
  }

  std::string program;
  s = ResolveProgram(args.command[0], &program);
  if (!s.ok()) return Fail(s.code() == Status::Code::kNotFound ? 127 : 126, s.message());
  s = CheckPreloadable(program);
  if (!s.ok()) return Fail(kUsageError, s.message());
  std::string preload;
  s = FindPreloadLibrary(&preload);
  if (!s.ok()) return Fail(kUsageError, s.message());

  if (!args.trace_out.empty() && !args.no_native_run) {
    // The simulator's all-local time is the program's own compute; a native
    // run measures it without the paging the capture causes (D27).
    Launch native{program, args.command, ChildEnvironment({}, {})};
    if (!args.quiet) fmt::print(stderr, "prescient {}: timing one native run first (--no-native-run skips it)\n", verb);
    int status = RunForUserTime(native, &config.native_user_cpu_ns);
    if (status != 0)
      return Fail(status, fmt::format("the native timing run of {} exited with status {}; fix the command, or pass --no-native-run",
                                           args.command[0], status));
  }

  // In a sanitized build the library is instrumented, and the sanitizer
  // runtime must be the first object the loader sees.
  std::vector<std::string> preloads = LoadedSanitizerRuntimes();
  bool sanitized = !preloads.empty();
  preloads.push_back(preload);
  if (!config.token.empty()) {
    s = OpenRunTokenFile(config.token, &config.token_file);
    if (!s.ok()) return Fail(1, s.message());
  }
  // The program's runtime writes the report; this process adds where it
  // came from, and prints it when it is to go to stdout.
  const bool report_to_stdout = args.report == "-";
  if (report_to_stdout) {
    std::string tmpl = (std::filesystem::temp_directory_path() / "prescient-report-XXXXXX").string();
    int fd = mkstemp(tmpl.data());
    if (fd < 0) return Fail(1, fmt::format("--report -: cannot create a file for the report in {}: {}", tmpl, std::strerror(errno)));
    close(fd);
    config.report_path = tmpl;
  }
  // A report left by an earlier run must not pass for this one's.
  if (!report_to_stdout && !config.report_path.empty()) unlink(config.report_path.c_str());
  LostWorkFile lost_work;
  if (lost_work.Open()) config.lost_work_file = lost_work.path();
  std::vector<std::string> extra = RunConfigToEnv(config);
  // The program's leaks are not ours to report.
  if (sanitized && std::getenv("ASAN_OPTIONS") == nullptr) extra.push_back("ASAN_OPTIONS=detect_leaks=0");

  Launch launch;
  launch.path = program;
  launch.argv = args.command;
  launch.env = ChildEnvironment(preloads, extra);
  const int status = RunAndWait(launch, config.report_path);
  if (!config.report_path.empty()) FinishReport(config.report_path, report_to_stdout, verb);
  if (const uint64_t lost = lost_work.reports(); lost > 0) {
    fmt::print(stderr,
               "prescient {}: {} process{} the program forked (without exec) touched far memory and {} stopped, so {} work is lost; "
               "a forked child cannot reach the region, so fork without exec is not supported{}\n",
               verb, lost, lost == 1 ? "" : "es", lost == 1 ? "was" : "were", lost == 1 ? "its" : "their",
               status == 0 ? fmt::format("; exiting {} though the program exited 0", kLostWorkExit) : "");
    return status == 0 ? kLostWorkExit : status;
  }
  return status;
}

void AddRunFlags(CLI::App* cmd, RunArgs* args) {
  cmd->add_option("--local", args->local, "Local memory budget as a share of the footprint, e.g. 25% (default 100%)");
  cmd->add_option("--local-bytes", args->local_bytes, "Local memory budget as a size, e.g. 512M (instead of --local)");
  cmd->add_option("--memnode", args->memnodes, "Memory node(s) HOST:PORT[,HOST:PORT...] (default: the embedded store)");
  AddTokenFlags(cmd, "the memory nodes' shared secret (kept out of the program's command line and environment)", &args->token);
  cmd->add_option("--report", args->report, "Write the JSON report to FILE");
  cmd->add_option("--prefetch", args->prefetch, "Prefetch policy: " + PrefetcherNames())->capture_default_str();
  AddModelFlags(cmd, &args->model, &args->lookahead, &args->no_hybrid);
  cmd->add_option("--fault-path", args->fault_path,
                  "Who serves a fault: thread (a fault thread; the default, which every program can use), signal (the "
                  "faulting thread itself, in a SIGBUS handler: faster, but a raw system call into far memory can fail, "
                  "see docs/decisions.md D105), auto (signal where the kernel offers it)")
      ->capture_default_str();
  cmd->add_option("--dirty-tracking", args->dirty_tracking,
                  "How a write to a clean page is seen: digest (a page that left dirty comes back writable, and eviction "
                  "compares it with a digest of what it held; the others as fault) or fault (a write-protect fault on the "
                  "first write of every clean page), docs/decisions.md D109")
      ->capture_default_str();
  cmd->add_option("--fault-loop", args->fault_loop, "How the fault thread waits (--fault-path thread): poll, spin or hybrid")->capture_default_str();
  cmd->add_option("--prefetch-install", args->prefetch_install,
                  "Where prefetched pages wait: map (mapped at once), stage (unmapped until touched, so every hit is seen), "
                  "auto (stage for the classic policies with --memnode, map otherwise)")
      ->capture_default_str();
  cmd->add_option("--min-alloc", args->min_alloc, "Smallest allocation placed in far memory")->capture_default_str();
  cmd->add_option("--reserve", args->reserve, "Virtual size of the far-memory region")->capture_default_str();
  cmd->add_option("--log-level", args->log_level, "Runtime log level (trace, debug, info, warn, error, off)")->capture_default_str();
  cmd->add_flag("--quiet", args->quiet, "Print no summary on stderr at exit");
  // Everything from the program's name on is the program's, flags included,
  // in order: CLI11 leaves it all in remaining(). (A positional option here
  // would take the program's non-flag words out of order.)
  cmd->prefix_command();
  cmd->footer("Usage: prescient run|trace [OPTIONS] -- PROGRAM [ARGS...]");
}

int CollectAndLaunch(CLI::App* cmd, RunArgs* args, const std::string& verb) {
  for (const std::string& rest : cmd->remaining()) args->command.push_back(rest);
  if (!TrailingCommand().empty()) {
    if (!args->command.empty()) {
      fmt::print(stderr, "prescient {}: '{}' comes before `--`; put the program and all its arguments after `--`\n", verb, args->command.front());
      return kUsageError;
    }
    args->command = TrailingCommand();
  }
  return LaunchManaged(*args, verb);
}

void AddRunCommand(CLI::App& app, int* exit_code) {
  auto* cmd = app.add_subcommand("run", "Run a dynamically linked program with its large allocations in far memory");
  auto args = std::make_shared<RunArgs>();
  AddRunFlags(cmd, args.get());
  cmd->callback([cmd, args, exit_code] { *exit_code = CollectAndLaunch(cmd, args.get(), "run"); });
}

}  // namespace prescient::cli

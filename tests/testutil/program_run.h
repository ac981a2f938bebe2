// Running ordinary programs to the end, natively or under `prescient run`, and
// reading what they leave behind: their output, their final `checksum=` line
// and the run report. Shared by the integration tests of transparent mode,
// the workloads and the simulator's fidelity.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace prescient::testing {

// In a sanitized build the sanitizer runtime is preloaded first and owns
// malloc, so `prescient run` manages nothing (D18): only the plumbing and the
// answers can be checked there, not far memory.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
inline constexpr bool kSanitizedBuild = true;
#else
inline constexpr bool kSanitizedBuild = false;
#endif

// Every classic policy `prescient run --prefetch` accepts.
extern const std::vector<std::string> kClassicPolicies;

// `prescient run FLAGS -- COMMAND...`
std::vector<std::string> PrescientRun(const std::vector<std::string>& flags, const std::vector<std::string>& command);

struct Outcome {
  int status = -1;  // as Child::Wait: -1 after a time-out
  std::string out, err;
};

// Runs argv to the end (a test failure names it if it times out).
Outcome RunToEnd(const std::vector<std::string>& argv, std::chrono::seconds timeout,
                 const std::vector<std::string>& env = {});

struct Job {
  std::string label;
  std::vector<std::string> argv;
  std::vector<std::string> env;
};

// Runs the jobs to the end, `parallel` at a time; outcomes in job order.
std::vector<Outcome> RunAll(const std::vector<Job>& jobs, std::chrono::seconds timeout, size_t parallel = 2);

// The non-empty lines of `text`.
std::vector<std::string> Lines(const std::string& text);

// The 16 hex digits of the final `checksum=<hex>` line of a program's output,
// or "" if the output does not end with one.
std::string FinalChecksum(const std::string& out);

// The last non-empty line of a program's output parsed as JSON (the report
// line `prescient dlrm train` ends with); null when there is no such line,
// discarded when it is not JSON.
nlohmann::json LastJsonLine(const std::string& out);

// The JSON report a `prescient run --report FILE` wrote.
nlohmann::json ReadReport(const std::string& path);

// A run under `prescient run --report`: its outcome and, if it finished, its
// report (null if it wrote none).
struct ManagedRun {
  Outcome outcome;
  nlohmann::json report;
};
ManagedRun RunManaged(const std::vector<std::string>& flags, const std::vector<std::string>& command,
                      std::chrono::seconds timeout, const std::vector<std::string>& env = {});

}  // namespace prescient::testing

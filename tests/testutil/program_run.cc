#include "testutil/program_run.h"

#include <fstream>
#include <memory>
#include <sstream>

#include <gtest/gtest.h>

#include "testutil/testutil.h"

namespace prescient::testing {

const std::vector<std::string> kClassicPolicies = {"none", "readahead", "vma-readahead", "leap", "stride"};

std::vector<std::string> PrescientRun(const std::vector<std::string>& flags, const std::vector<std::string>& command) {
  std::vector<std::string> argv = {BuildPath("prescient"), "run"};
  argv.insert(argv.end(), flags.begin(), flags.end());
  argv.push_back("--");
  argv.insert(argv.end(), command.begin(), command.end());
  return argv;
}

namespace {

std::string Join(const std::vector<std::string>& argv) {
  std::string s;
  for (const std::string& a : argv) s += (s.empty() ? "" : " ") + a;
  return s;
}

Outcome Finish(Child& child, const std::vector<std::string>& argv, std::chrono::seconds timeout) {
  Outcome o;
  o.status = child.Wait(timeout);
  if (o.status == -1) ADD_FAILURE() << "timed out after " << timeout.count() << " s: " << Join(argv);
  o.out = child.Stdout();
  o.err = child.Stderr();
  return o;  // ~Child kills a child that timed out
}

}  // namespace

Outcome RunToEnd(const std::vector<std::string>& argv, std::chrono::seconds timeout,
                 const std::vector<std::string>& env) {
  Child child(argv, env);
  return Finish(child, argv, timeout);
}

std::vector<Outcome> RunAll(const std::vector<Job>& jobs, std::chrono::seconds timeout, size_t parallel) {
  std::vector<std::unique_ptr<Child>> children(jobs.size());
  std::vector<Outcome> outcomes(jobs.size());
  for (size_t next = 0, done = 0; done < jobs.size(); ++done) {
    for (; next < jobs.size() && next < done + parallel; ++next)
      children[next] = std::make_unique<Child>(jobs[next].argv, jobs[next].env);
    outcomes[done] = Finish(*children[done], jobs[done].argv, timeout);
    children[done].reset();
  }
  return outcomes;
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) lines.push_back(line);
  return lines;
}

std::string FinalChecksum(const std::string& out) {
  std::vector<std::string> lines = Lines(out);
  const std::string prefix = "checksum=";
  if (lines.empty() || !lines.back().starts_with(prefix)) return "";
  std::string hex = lines.back().substr(prefix.size());
  if (hex.size() != 16 || hex.find_first_not_of("0123456789abcdef") != std::string::npos) return "";
  return hex;
}

nlohmann::json ReadReport(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    ADD_FAILURE() << "no report at " << path;
    return nullptr;
  }
  return nlohmann::json::parse(in);
}

ManagedRun RunManaged(const std::vector<std::string>& flags, const std::vector<std::string>& command,
                      std::chrono::seconds timeout, const std::vector<std::string>& env) {
  TempDir dir;
  std::string report = dir.file("report.json");
  std::vector<std::string> with_report = flags;
  with_report.insert(with_report.end(), {"--report", report});
  ManagedRun run{RunToEnd(PrescientRun(with_report, command), timeout, env), nullptr};
  if (std::ifstream(report).good()) run.report = ReadReport(report);
  return run;
}

nlohmann::json LastJsonLine(const std::string& out) {
  const size_t end = out.find_last_not_of('\n');
  if (end == std::string::npos) return nullptr;
  const size_t nl = out.rfind('\n', end);
  const size_t begin = nl == std::string::npos ? 0 : nl + 1;
  return nlohmann::json::parse(out.substr(begin, end + 1 - begin), nullptr, false);
}

}  // namespace prescient::testing

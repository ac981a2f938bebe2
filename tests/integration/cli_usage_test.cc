// Usage errors of the `prescient` command line: each exits 2 and names the
// word that was wrong (issue 19, item 4: CLI11 reported a missing required
// flag, or a missing subcommand, before an unknown word).
#include <chrono>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "testutil/program_run.h"
#include "testutil/testutil.h"

namespace prescient {
namespace {

using testing::BuildPath;
using testing::Child;
using namespace std::chrono_literals;

TEST(CliUsage, UnknownWordsAreNamedWithTheClosestKnownOne) {
  struct Case {
    std::vector<std::string> args;
    std::string expect;
  } cases[] = {
      {{"--bogus"}, "prescient: unknown option '--bogus'"},
      {{"frobnicate"}, "prescient: unknown command 'frobnicate'"},
      {{"rnu", "--local", "25%"}, "unknown command 'rnu'; did you mean run?"},
      {{"sim", "--bogus"}, "prescient sim: unknown option '--bogus'"},
      {{"run", "--prefecth", "readahead", "--", "/bin/true"}, "prescient run: unknown option '--prefecth'; did you mean --prefetch?"},
      {{"memnode", "--listen", "127.0.0.1:99999"}, "invalid port '99999'"},
      {{"dlrm", "train", "--batchs", "2"}, "prescient dlrm train: unknown option '--batchs'; did you mean --batches?"},
      {{"bench", "paper", "--bogus"}, "prescient bench paper: unknown option '--bogus'"},
      {{"memnode", "--token", "x"}, "--token-file"},
  };
  for (const Case& c : cases) {
    std::vector<std::string> argv = {BuildPath("prescient")};
    argv.insert(argv.end(), c.args.begin(), c.args.end());
    Child child(argv);
    EXPECT_EQ(child.Wait(60s), 2) << c.expect << "\n" << child.Stderr();
    EXPECT_NE(child.Stderr().find(c.expect), std::string::npos) << child.Stderr();
  }
}

TEST(CliUsage, AFlagsValueMayStartWithADash) {
  testing::TempDir dir;
  Child sim({BuildPath("prescient"), "sim", "--trace", "-no-such-trace", "--local", "50"});
  EXPECT_EQ(sim.Wait(60s), 2);
  EXPECT_EQ(sim.Stderr().find("unknown option"), std::string::npos) << sim.Stderr();
  EXPECT_NE(sim.Stderr().find("-no-such-trace"), std::string::npos) << sim.Stderr();
}

TEST(CliUsage, AProgramsOwnFlagsAreNotChecked) {
  Child run({BuildPath("prescient"), "run", "--quiet", "/bin/sh", "-c", "echo $0 $1", "--bogus"});
  EXPECT_EQ(run.Wait(60s), 0) << run.Stderr();
  EXPECT_EQ(run.Stdout(), "--bogus\n");
  Child flag_value({BuildPath("prescient"), "run", "--local", "50%", "--prefetch", "none", "--", "/bin/true"});
  EXPECT_EQ(flag_value.Wait(60s), 0) << flag_value.Stderr();
}

// Issue 19, item 4: a filter that matched nothing printed raw JSON parse errors.
TEST(CliUsage, BenchMicroSaysWhenItsFilterMatchesNothing) {
  if (testing::kSanitizedBuild) GTEST_SKIP() << "the sanitized build has no bench/ binaries";
  testing::TempDir dir;
  Child micro({BuildPath("prescient"), "bench", "micro", "--filter", "NoSuchBenchmarkAnywhere", "--out", dir.path()});
  EXPECT_EQ(micro.Wait(300s), 2) << micro.Stderr();
  EXPECT_NE(micro.Stderr().find("--filter NoSuchBenchmarkAnywhere matches no benchmark"), std::string::npos) << micro.Stderr();
  EXPECT_EQ(micro.Stderr().find("parse"), std::string::npos) << micro.Stderr();
}

// Issue 19, item 3: rows were named by policy alone, `compare a.json {}`
// printed a row of zeros and exited 0, and sim output was refused.
TEST(CliUsage, CompareLabelsRunsTakesSimOutputAndRefusesWhatIsNeither) {
  testing::TempDir dir;
  const std::string a = dir.file("quarter.json"), b = dir.file("full.json"), sim = dir.file("sim.json"), empty = dir.file("empty.json");
  for (const auto& [report, local] : {std::pair{a, "25%"}, std::pair{b, "100%"}}) {
    Child run({BuildPath("prescient"), "run", "--quiet", "--local", local, "--report", report, "--", "/bin/true"});
    ASSERT_EQ(run.Wait(60s), 0) << run.Stderr();
  }
  std::ofstream(sim) << R"([{"policy": "readahead", "local_pct": 50, "normalized_perf": 0.5, "demand_faults": 10, "accuracy": 0.9, "coverage": 0.4}])";
  std::ofstream(empty) << "{}";

  Child compare({BuildPath("prescient"), "compare", a, b, sim, "--json", dir.file("out.json")});
  ASSERT_EQ(compare.Wait(60s), 0) << compare.Stderr();
  const std::string table = compare.Stdout();
  EXPECT_NE(table.find("| quarter | none | 25% |"), std::string::npos) << table;
  EXPECT_NE(table.find("| full | none | 100% |"), std::string::npos) << table;
  EXPECT_NE(table.find("| sim | readahead | 50 | 0.500 |"), std::string::npos) << table;
  EXPECT_NE(table.find("speed vs first: the first run's wall time divided by this run's"), std::string::npos) << table;
  nlohmann::json out = nlohmann::json::parse(testing::ReadFile(dir.file("out.json")));
  EXPECT_EQ(out["schema"], "prescient-compare/1");
  EXPECT_EQ(out["runs"].size(), 2u);
  EXPECT_EQ(out["sims"].size(), 1u);
  EXPECT_TRUE(out["provenance"].contains("commit"));

  Child labelled({BuildPath("prescient"), "compare", "--label", "small,big", a, b});
  ASSERT_EQ(labelled.Wait(60s), 0) << labelled.Stderr();
  EXPECT_NE(labelled.Stdout().find("| small | none | 25% |"), std::string::npos) << labelled.Stdout();

  Child to_stdout({BuildPath("prescient"), "compare", a, sim, "--json", "-"});
  ASSERT_EQ(to_stdout.Wait(60s), 0) << to_stdout.Stderr();
  EXPECT_EQ(nlohmann::json::parse(to_stdout.Stdout())["runs"].size(), 1u) << to_stdout.Stdout();

  Child refused({BuildPath("prescient"), "compare", a, empty});
  EXPECT_EQ(refused.Wait(60s), 2);
  EXPECT_NE(refused.Stderr().find(empty + " is not a run report"), std::string::npos) << refused.Stderr();
  EXPECT_EQ(refused.Stdout(), "");
}

}  // namespace
}  // namespace prescient

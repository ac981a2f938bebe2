// Usage errors of the `prescient` command line: each exits 2 and names the
// word that was wrong (issue 19, item 4: CLI11 reported a missing required
// flag, or a missing subcommand, before an unknown word).
#include <chrono>
#include <string>
#include <vector>

#include <gtest/gtest.h>

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

TEST(CliUsage, AProgramsOwnFlagsAreNotChecked) {
  Child run({BuildPath("prescient"), "run", "--quiet", "/bin/sh", "-c", "echo $0 $1", "--bogus"});
  EXPECT_EQ(run.Wait(60s), 0) << run.Stderr();
  EXPECT_EQ(run.Stdout(), "--bogus\n");
  Child flag_value({BuildPath("prescient"), "run", "--local", "50%", "--prefetch", "none", "--", "/bin/true"});
  EXPECT_EQ(flag_value.Wait(60s), 0) << flag_value.Stderr();
}

}  // namespace
}  // namespace prescient

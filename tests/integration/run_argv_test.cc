// `prescient run` hands the program exactly the words after `--`, including
// a `--` of the program's own, and refuses a command split around `--`.
#include <gtest/gtest.h>

#include <chrono>

#include "testutil/testutil.h"

namespace prescient {
namespace {

using namespace std::chrono_literals;
using testing::BuildPath;
using testing::Child;

std::string Echo(const std::vector<std::string>& words, int* status) {
  std::vector<std::string> argv = {BuildPath("prescient"), "run", "--quiet", "--local", "50%"};
  argv.insert(argv.end(), words.begin(), words.end());
  Child run(argv);
  *status = run.Wait(60s);
  return run.Stdout();
}

TEST(RunArgv, TheProgramGetsExactlyItsArguments) {
  int status = 0;
  EXPECT_EQ(Echo({"--", "/bin/echo", "--small", "b"}, &status), "--small b\n");
  EXPECT_EQ(status, 0);
  EXPECT_EQ(Echo({"--", "/bin/echo", "a", "--", "b"}, &status), "a -- b\n");
  EXPECT_EQ(Echo({"--", "/bin/echo", "a", "--"}, &status), "a --\n");
  EXPECT_EQ(Echo({"/bin/echo", "no", "separator"}, &status), "no separator\n");
  EXPECT_EQ(Echo({"/bin/echo", "a", "--small", "b", "--input", "grid"}, &status), "a --small b --input grid\n") << "order kept without --";
}

TEST(RunArgv, ACommandSplitAroundTheSeparatorIsRefused) {
  Child run({BuildPath("prescient"), "run", "/bin/echo", "--", "x"});
  EXPECT_EQ(run.Wait(30s), 2);
  EXPECT_NE(run.Stderr().find("after `--`"), std::string::npos) << run.Stderr();
}

}  // namespace
}  // namespace prescient

// `prescient dlrm train` killed with SIGKILL at random points and resumed.
// The in-DRAM store dies with the process, so these runs use the baselines
// whose files hold the rows (stop-the-world, differential); the undo-log
// modes are crash-tested with the persistent pool, which survives a kill.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>
#include <sys/stat.h>
#include <thread>

#include "memnode/table_spec.h"
#include "recsys/click_log.h"
#include "testutil/program_run.h"
#include "testutil/testutil.h"

namespace prescient {
namespace {

using testing::BuildPath;
using testing::Child;
using testing::TempDir;
using namespace std::chrono_literals;

std::vector<std::string> Args(const std::string& mode, const std::string& dir) {
  return {BuildPath("prescient"), "dlrm", "train", "--small", "--batches", "200", "--seed", "5", "--sparse-opt", "sgd", "--sparse-lr", "0.2",
          "--checkpoint", mode, "--checkpoint-every", "20", "--full-every", "3", "--checkpoint-dir", dir, "--quiet", "--eval-samples", "2048"};
}

TEST(DlrmCrash, KilledAtRandomPointsAndResumedMatchesAnUninterruptedRun) {
  std::mt19937 rng(std::random_device{}());
  for (const std::string mode : {"stop-the-world", "differential"}) {
    TempDir ref_dir;
    Child ref(Args(mode, ref_dir.path()));
    ASSERT_EQ(ref.Wait(120s), 0) << ref.Stderr();
    const nlohmann::json want = testing::LastJsonLine(ref.Stdout());
    ASSERT_TRUE(want.is_object()) << "no JSON report line: " << ref.Stdout();
    ASSERT_EQ(want["batches_done"], 200);
    ASSERT_TRUE(want["recovered_from_batch"].is_null());
    for (int round = 0; round < 3; ++round) {
      TempDir dir;
      Child victim(Args(mode, dir.path()));
      const auto delay = std::chrono::milliseconds(std::uniform_int_distribution<int>(20, 1800)(rng));
      std::this_thread::sleep_for(delay);
      victim.Kill(SIGKILL);
      victim.Wait(10s);
      std::vector<std::string> resume = Args(mode, dir.path());
      resume.push_back("--resume");
      Child again(resume);
      ASSERT_EQ(again.Wait(120s), 0) << mode << " after " << delay.count() << " ms: " << again.Stderr();
      const nlohmann::json got = testing::LastJsonLine(again.Stdout());
      ASSERT_TRUE(got.is_object()) << "no JSON report line: " << again.Stdout();
      EXPECT_EQ(got["batches_done"], 200);
      std::printf("%s: killed after %d ms, resumed at batch %s\n", mode.c_str(), static_cast<int>(delay.count()), got["recovered_from_batch"].dump().c_str());
      ASSERT_FALSE(got["recovered_from_batch"].is_null() && got["batches_this_run"] != 200);
      // The checkpoint files restore the exact state, so the rest of the run
      // repeats the uninterrupted one bit for bit; the issue asks for 0.001.
      EXPECT_NEAR(got["auc"].get<double>(), want["auc"].get<double>(), 1e-12) << mode << " killed after " << delay.count() << " ms, recovered at "
                                                                              << got["recovered_from_batch"];
      const uint64_t from = got["recovered_from_batch"].is_null() ? 0 : got["recovered_from_batch"].get<uint64_t>();
      EXPECT_EQ(got["batches_this_run"].get<uint64_t>() + from, 200u);
    }
  }
}

TEST(DlrmCli, WrongFlagsFailClearly) {
  TempDir dir;
  struct Case {
    std::vector<std::string> extra;
    std::string message;
  } cases[] = {
      {{"--placement", "far"}, "--placement far: expected near or host"},
      {{"--checkpoint", "sometimes"}, "--checkpoint sometimes"},
      {{"--pool", "a.pool", "--memnode", "127.0.0.1:1"}, "--pool and --memnode are two different stores"},  // (stop-the-world with Adagrad is allowed since D86)
      {{"--resume"}, "the embeddings live only in this process's memory"},
      {{"--store", "floppy"}, "--store floppy: unknown store"},
      {{"--checkpoint", "differential", "--strict"}, "--strict applies to --checkpoint relaxed"},
      // Issue 18, item 7: these used to become the defaults without a word.
      {{"--dim", "0"}, "--dim"},
      {{"--rows", "0"}, "--rows"},
      {{"--batch-size", "0"}, "--batch-size"},
  };
  for (const Case& c : cases) {
    std::vector<std::string> argv = {BuildPath("prescient"), "dlrm", "train", "--small", "--batches", "2", "--checkpoint-dir", dir.path()};
    argv.insert(argv.end(), c.extra.begin(), c.extra.end());
    Child child(argv);
    EXPECT_EQ(child.Wait(60s), 2) << c.message;
    EXPECT_NE(child.Stderr().find(c.message), std::string::npos) << child.Stderr();
  }
  Child unknown({BuildPath("prescient"), "dlrm", "train", "--bogus"});
  EXPECT_NE(unknown.Wait(60s), 0);
}

// Issue 18, item 2: a pool node with a token could not be used by the
// trainer at all, since dlrm train had no way to present one.
TEST(DlrmCli, MemnodeTokenComesFromAFileOrTheEnvironmentNeverTheCommandLine) {
  TempDir dir;
  ClickLogConfig small;
  small.max_rows = 2000;  // --small
  testing::Memnode node({"--pool", dir.file("pool"), "--pool-create", FormatTableSpecs(small.Tables(8)), "--pool-seed", "1"},
                        {"PRESCIENT_TOKEN=pool-secret"});
  const std::string token_file = dir.file("token");
  {
    FILE* f = std::fopen(token_file.c_str(), "w");
    ASSERT_NE(f, nullptr);
    std::fputs("pool-secret\n", f);
    std::fclose(f);
  }
  auto train = [&](std::vector<std::string> extra, const std::vector<std::string>& env) {
    if (std::find(extra.begin(), extra.end(), "--batches") == extra.end()) extra.insert(extra.end(), {"--batches", "2"});
    std::vector<std::string> argv = {BuildPath("prescient"), "dlrm", "train", "--small", "--quiet", "--memnode", node.endpoint(),
                                     "--checkpoint-dir", dir.file("ckpt")};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return std::make_unique<Child>(argv, env);
  };
  auto without = train({}, {});
  EXPECT_NE(without->Wait(120s), 0);
  EXPECT_NE(without->Stderr().find("requires a token"), std::string::npos) << without->Stderr();
  auto on_command_line = train({"--token", "pool-secret"}, {});
  EXPECT_EQ(on_command_line->Wait(120s), 2);
  EXPECT_NE(on_command_line->Stderr().find("--token-file"), std::string::npos) << on_command_line->Stderr();

  chmod(token_file.c_str(), 0644);
  auto open_file = train({"--token-file", token_file}, {});
  EXPECT_NE(open_file->Wait(120s), 0);
  EXPECT_NE(open_file->Stderr().find("chmod 600"), std::string::npos) << open_file->Stderr();
  chmod(token_file.c_str(), 0600);
  auto by_file = train({"--token-file", token_file}, {});
  EXPECT_EQ(by_file->Wait(120s), 0) << by_file->Stderr();
  // The pool is at batch 2 now: the second trainer resumes it.
  auto by_env = train({"--resume", "--batches", "4"}, {"PRESCIENT_TOKEN=pool-secret"});
  EXPECT_EQ(by_env->Wait(120s), 0) << by_env->Stderr();
}

}  // namespace
}  // namespace prescient

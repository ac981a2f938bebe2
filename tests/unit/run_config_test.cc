#include "runtime/run_config.h"

#include <cstdlib>
#include <string>

#include <gtest/gtest.h>

#include "transport/token.h"

namespace prescient {
namespace {

// Sets the PRESCIENT_* variables for one test and clears them afterwards.
class EnvGuard {
 public:
  EnvGuard() { Clear(); }
  ~EnvGuard() { Clear(); }
  void Set(const std::string& kv) {
    size_t eq = kv.find('=');
    setenv(kv.substr(0, eq).c_str(), kv.substr(eq + 1).c_str(), 1);
  }

 private:
  static void Clear() {
    for (const char* name : {kEnvLocalFraction, kEnvLocalBytes, kEnvMemnodes, kEnvTokenFile, kEnvReport, kEnvPrefetch, kEnvFaultLoop,
                             kEnvPrefetchInstall, kEnvMinAlloc, kEnvReserve, kEnvRootPid, kEnvSummary, kEnvLogLevel})
      unsetenv(name);
  }
};

TEST(RunConfigTest, EmptyEnvironmentGivesDefaults) {
  EnvGuard env;
  RunConfig c;
  ASSERT_TRUE(RunConfigFromEnv(&c).ok());
  EXPECT_EQ(c.local_fraction, 1.0);
  EXPECT_EQ(c.local_bytes, 0u);
  EXPECT_TRUE(c.memnodes.empty());
  EXPECT_EQ(c.min_alloc_bytes, kDefaultMinAllocBytes);
  EXPECT_EQ(c.root_pid, 0);
  EXPECT_TRUE(c.summary);
}

TEST(RunConfigTest, RoundTripsThroughTheEnvironment) {
  EnvGuard env;
  RunConfig in;
  in.local_fraction = 0.25;
  in.memnodes = "127.0.0.1:7000,127.0.0.1:7001";
  ASSERT_TRUE(OpenRunTokenFile("secret", &in.token_file).ok());
  in.report_path = "/tmp/r.json";
  in.prefetch = "readahead";
  in.fault_loop = "spin";
  in.prefetch_install = "stage";
  in.min_alloc_bytes = 65536;
  in.reserve_bytes = uint64_t{8} << 30;
  in.root_pid = 1234;
  in.summary = false;
  in.log_level = "info";
  for (const std::string& kv : RunConfigToEnv(in)) env.Set(kv);
  RunConfig out;
  ASSERT_TRUE(RunConfigFromEnv(&out).ok());
  EXPECT_EQ(out.local_fraction, 0.25);
  EXPECT_EQ(out.local_bytes, 0u);
  EXPECT_EQ(out.memnodes, in.memnodes);
  EXPECT_EQ(out.token_file, in.token_file);
  std::string token;
  ASSERT_TRUE(ReadRunTokenFile(out.token_file, &token).ok());
  EXPECT_EQ(token, "secret");
  for (const std::string& kv : RunConfigToEnv(in)) EXPECT_EQ(kv.find("secret"), std::string::npos) << kv;
  EXPECT_EQ(out.report_path, in.report_path);
  EXPECT_EQ(out.prefetch, in.prefetch);
  EXPECT_EQ(out.fault_loop, in.fault_loop);
  EXPECT_EQ(out.prefetch_install, "stage");
  EXPECT_EQ(out.min_alloc_bytes, in.min_alloc_bytes);
  EXPECT_EQ(out.reserve_bytes, in.reserve_bytes);
  EXPECT_EQ(out.root_pid, 1234);
  EXPECT_FALSE(out.summary);
  EXPECT_EQ(out.log_level, "info");

  RegionOptions options;
  ASSERT_TRUE(ToRegionOptions(out, &options).ok());
  EXPECT_EQ(options.loop, FaultLoopMode::kSpin);
  EXPECT_EQ(options.local_fraction, 0.25);
  EXPECT_EQ(options.reserve_bytes, in.reserve_bytes);
  EXPECT_EQ(options.prefetch, "readahead");
  EXPECT_EQ(options.prefetch_install, PrefetchInstall::kStage);
}

TEST(RunConfigTest, AutoInstallStagesClassicPoliciesOverMemoryNodes) {
  PrefetchInstall mode;
  ASSERT_TRUE(ResolvePrefetchInstall("auto", /*memnode=*/true, "readahead", &mode));
  EXPECT_EQ(mode, PrefetchInstall::kStage);
  ASSERT_TRUE(ResolvePrefetchInstall("auto", /*memnode=*/true, "farsight", &mode));
  EXPECT_EQ(mode, PrefetchInstall::kMap);
  ASSERT_TRUE(ResolvePrefetchInstall("auto", /*memnode=*/false, "leap", &mode));
  EXPECT_EQ(mode, PrefetchInstall::kMap);
  ASSERT_TRUE(ResolvePrefetchInstall("stage", /*memnode=*/false, "farsight", &mode));
  EXPECT_EQ(mode, PrefetchInstall::kStage);
  ASSERT_TRUE(ResolvePrefetchInstall("map", /*memnode=*/true, "readahead", &mode));
  EXPECT_EQ(mode, PrefetchInstall::kMap);
  EXPECT_FALSE(ResolvePrefetchInstall("sometimes", false, "none", &mode));
}

TEST(RunConfigTest, AFixedBudgetTravelsInstead) {
  EnvGuard env;
  RunConfig in;
  in.local_bytes = 64 << 20;
  for (const std::string& kv : RunConfigToEnv(in)) env.Set(kv);
  RunConfig out;
  ASSERT_TRUE(RunConfigFromEnv(&out).ok());
  EXPECT_EQ(out.local_bytes, uint64_t{64} << 20);
}

TEST(RunConfigTest, ErrorsNameTheVariable) {
  struct Case {
    std::vector<std::string> env;
    std::string expect;
  } cases[] = {
      {{"PRESCIENT_LOCAL_FRACTION=0.5", "PRESCIENT_LOCAL_BYTES=8M"}, "set only one"},
      {{"PRESCIENT_LOCAL_FRACTION=0%"}, "PRESCIENT_LOCAL_FRACTION"},
      {{"PRESCIENT_LOCAL_BYTES=4K"}, "PRESCIENT_LOCAL_BYTES=4K is below the minimum"},
      {{"PRESCIENT_FAULT_LOOP=sometimes"}, "PRESCIENT_FAULT_LOOP"},
      {{"PRESCIENT_PREFETCH_INSTALL=lazy"}, "PRESCIENT_PREFETCH_INSTALL=lazy: expected auto, map or stage"},
      {{"PRESCIENT_MIN_ALLOC=lots"}, "PRESCIENT_MIN_ALLOC"},
      {{"PRESCIENT_ROOT_PID=x1"}, "PRESCIENT_ROOT_PID"},
  };
  for (const Case& c : cases) {
    EnvGuard env;
    for (const std::string& kv : c.env) env.Set(kv);
    RunConfig out;
    Status s = RunConfigFromEnv(&out);
    EXPECT_FALSE(s.ok()) << c.expect;
    EXPECT_NE(s.message().find(c.expect), std::string::npos) << s.message();
  }
}

}  // namespace
}  // namespace prescient

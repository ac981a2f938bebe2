// Crash consistency of the persistent pool, proved by SIGKILL: a child
// process (tests/programs/pool_crash_child) trains on a pool file and is
// killed, again and again, either from outside after a random delay or by
// itself at a random persistence point (PRESCIENT_POOL_CRASH_AT). After each
// kill the pool is reopened (which recovers it) and every row and Adagrad
// accumulator must equal, bit for bit, a DRAM replay of batches
// [0, next_batch). Sometimes the test does not reopen it itself, so that the
// next child recovers it and can be killed in the middle of recovery.
//
// PRESCIENT_CRASH_ITERATIONS sets the number of kills (default 60; the
// benchmark runs 100+).
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <map>
#include <random>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "memnode/pmem_embedding_store.h"
#include "testutil/pool_batches.h"
#include "testutil/testutil.h"

namespace prescient {
namespace {

using Clock = std::chrono::steady_clock;
constexpr uint64_t kSeed = 7;
constexpr uint32_t kSamples = 128;
// Persistence points per batch: 4 in Prepare, 2 per table in Update, 3 in
// Commit (see pmem_embedding_store.cc), plus a few in recovery.
constexpr int kPointsPerBatch = 4 + 2 * 4 + 3;

int Iterations(int fallback) {
  const char* v = std::getenv("PRESCIENT_CRASH_ITERATIONS");
  return v != nullptr && std::atoi(v) > 0 ? std::atoi(v) : fallback;
}

// Where the kill points landed, for the log.
std::string KillPoint(const std::string& err) {
  size_t at = err.find("killed at ");
  if (at == std::string::npos) return "";
  size_t end = err.find('\n', at);
  return err.substr(at + 10, end == std::string::npos ? std::string::npos : end - at - 10);
}

class Verifier {
 public:
  Verifier() : ref_(testing::PoolTestTables(), kSeed) {}
  // Opens (and so recovers) the pool, checks it against the replay, closes it.
  void Check(const std::string& path, bool undo_log, const std::string& context) {
    Status st;
    PmemPoolOptions options;
    options.undo_log = undo_log;
    auto pool = PmemEmbeddingStore::Open(path, options, &st);
    ASSERT_NE(pool, nullptr) << context << ": " << st.ToString();
    if (pool->recovery().rolled_back) ++rollbacks_;
    const uint64_t n = pool->next_batch();
    ASSERT_GE(n, ref_.next_batch()) << context << ": a committed batch was lost";
    while (ref_.next_batch() < n) ASSERT_TRUE(testing::RunPoolBatch(ref_, kSeed, ref_.next_batch(), kSamples).ok());
    std::string diff = testing::FirstDifference(
        pool->tables(), ref_, [&](uint32_t t, uint64_t r) { return pool->row(t, r); },
        [&](uint32_t t, uint64_t r) { return pool->adagrad_state(t, r); });
    ASSERT_EQ(diff, "") << context << ": recovered at batch " << n << " but " << diff;
    ++checks_;
  }
  uint64_t batch() const { return ref_.next_batch(); }
  int rollbacks() const { return rollbacks_; }
  int checks() const { return checks_; }

 private:
  DramEmbeddingStore ref_;
  int rollbacks_ = 0, checks_ = 0;
};

TEST(PoolCrashTest, SigkillAtRandomPointsAlwaysRecoversToAReplay) {
  testing::TempDir dir;
  const std::string path = dir.file("pool");
  const int iterations = Iterations(60);
  std::mt19937_64 rng(std::random_device{}());
  const uint64_t run_seed = rng();
  SCOPED_TRACE("random seed " + std::to_string(run_seed));
  rng.seed(run_seed);
  Verifier verifier;
  std::map<std::string, int> points;
  int external = 0, finished = 0;
  bool pending_recovery = false;
  const auto start = Clock::now();
  for (int i = 0; i < iterations; ++i) {
    // More batches than any run reaches before its kill, on disk or on tmpfs.
    const uint64_t until = verifier.batch() + 400;
    std::vector<std::string> env;
    const bool from_inside = i % 2 == 0;
    // When the last kill was not recovered yet, half of the inside kills
    // land among recovery's own persistence points, which come first.
    const uint64_t range = pending_recovery && rng() % 2 == 0 ? 6 : kPointsPerBatch * 8;
    if (from_inside) env.push_back("PRESCIENT_POOL_CRASH_AT=" + std::to_string(1 + rng() % range));
    testing::Child child({testing::BuildPath("tests/pool_crash_child"), path, std::to_string(kSeed), std::to_string(until), std::to_string(kSamples)}, env);
    int status;
    if (from_inside) {
      status = child.Wait(std::chrono::seconds(60));
    } else {
      std::this_thread::sleep_for(std::chrono::microseconds(rng() % 60000));
      child.Kill(SIGKILL);
      status = child.Wait(std::chrono::seconds(60));
      ++external;
    }
    ASSERT_NE(status, -1) << "the child hung";
    const std::string where = KillPoint(child.Stderr());
    if (status == 0) {
      ++finished;
    } else {
      ASSERT_EQ(status, 128 + SIGKILL) << "iteration " << i << ": " << child.Stderr();
      ++points[where.empty() ? "(killed from outside)" : where];
    }
    // A third of the time the next child recovers the pool itself.
    pending_recovery = rng() % 3 == 0 && i + 1 != iterations;
    if (!pending_recovery) {
      verifier.Check(path, true, "iteration " + std::to_string(i) + (where.empty() ? "" : " (" + where + ")"));
      if (::testing::Test::HasFatalFailure()) return;
    }
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  std::string summary;
  for (const auto& [name, count] : points) summary += "  " + std::to_string(count) + " x " + name + "\n";
  std::printf("%d kills (%d from outside), %d runs finished, %d checks, %d rollbacks, %llu batches committed, %.1f s\n%s", iterations, external,
              finished, verifier.checks(), verifier.rollbacks(), static_cast<unsigned long long>(verifier.batch()), seconds, summary.c_str());
  EXPECT_GT(verifier.batch(), 0u) << "training made progress despite the kills";
  EXPECT_GT(verifier.rollbacks(), 0) << "some kill left a batch to roll back";
}

}  // namespace
}  // namespace prescient

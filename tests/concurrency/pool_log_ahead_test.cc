// The undo log written ahead: Prepare returns before the log is durable and
// a helper thread writes it while the batch's lookups run (under TSan in CI).
// Lookups must see the rows as they were before the batch, every change must
// wait for the log, and the result must be the synchronous one bit for bit.
#include <memory>
#include <vector>

#include <gtest/gtest.h>

#include "memnode/dram_embedding_store.h"
#include "memnode/pmem_embedding_store.h"
#include "testutil/pool_batches.h"
#include "testutil/testutil.h"

namespace prescient {
namespace {

using testing::PoolTestTables;

constexpr uint64_t kSeed = 7;
constexpr uint32_t kSamples = 64;

// Slow enough pool writes that the log writer is still busy when the
// lookups start.
PmemPoolOptions SlowPool(bool log_ahead) {
  PmemPoolOptions options;
  options.log_ahead = log_ahead;
  options.latency = PoolLatency::PmemLike();
  return options;
}

std::unique_ptr<PmemEmbeddingStore> MustCreate(const std::string& path, const PmemPoolOptions& options) {
  Status st;
  auto store = PmemEmbeddingStore::Create(path, PoolTestTables(), kSeed, options, &st);
  EXPECT_NE(store, nullptr) << st.ToString();
  return store;
}

std::string Diff(const PmemEmbeddingStore& pool, const DramEmbeddingStore& ref) {
  return testing::FirstDifference(
      pool.tables(), ref, [&](uint32_t t, uint64_t r) { return pool.row(t, r); }, [&](uint32_t t, uint64_t r) { return pool.adagrad_state(t, r); });
}

TEST(PoolLogAhead, LookupsBesideTheLogWriterSeeTheRowsBeforeTheBatch) {
  testing::TempDir dir;
  auto pool = MustCreate(dir.file("pool"), SlowPool(true));
  ASSERT_NE(pool, nullptr);
  DramEmbeddingStore ref(PoolTestTables(), kSeed);
  for (uint64_t batch = 0; batch < 8; ++batch) {
    testing::PoolBatch b = testing::MakePoolBatch(kSeed, batch, pool->tables(), kSamples);
    std::vector<Bags> bags = b.bags();
    ASSERT_TRUE(pool->Prepare(batch, bags).ok());
    ASSERT_TRUE(ref.Prepare(batch, bags).ok());
    std::vector<float> got, want;
    for (uint32_t t = 0; t < bags.size(); ++t) {
      got.resize(bags[t].count() * pool->tables()[t].dim);
      want.resize(got.size());
      ASSERT_TRUE(pool->Lookup(t, bags[t], testing::PoolingFor(t), got.data()).ok());
      ASSERT_TRUE(ref.Lookup(t, bags[t], testing::PoolingFor(t), want.data()).ok());
      ASSERT_EQ(got, want) << "batch " << batch << " table " << t;
    }
    for (uint32_t t = 0; t < bags.size(); ++t) {
      ASSERT_TRUE(pool->Update(batch, t, bags[t], testing::PoolingFor(t), b.grads[t].data(), testing::OptimizerFor(t)).ok());
      ASSERT_TRUE(ref.Update(batch, t, bags[t], testing::PoolingFor(t), b.grads[t].data(), testing::OptimizerFor(t)).ok());
    }
    ASSERT_TRUE(pool->Commit(batch).ok());
    ASSERT_TRUE(ref.Commit(batch).ok());
  }
  EXPECT_EQ(Diff(*pool, ref), "");
}

TEST(PoolLogAhead, AheadAndSynchronousLogsLeaveTheSameFile) {
  testing::TempDir dir;
  auto ahead = MustCreate(dir.file("ahead"), SlowPool(true));
  auto sync = MustCreate(dir.file("sync"), SlowPool(false));
  ASSERT_NE(ahead, nullptr);
  ASSERT_NE(sync, nullptr);
  for (uint64_t b = 0; b < 6; ++b) {
    ASSERT_TRUE(testing::RunPoolBatch(*ahead, kSeed, b, kSamples).ok());
    ASSERT_TRUE(testing::RunPoolBatch(*sync, kSeed, b, kSamples).ok());
  }
  DramEmbeddingStore ref(PoolTestTables(), kSeed);
  for (uint64_t b = 0; b < 6; ++b) ASSERT_TRUE(testing::RunPoolBatch(ref, kSeed, b, kSamples).ok());
  EXPECT_EQ(Diff(*ahead, ref), "");
  EXPECT_EQ(Diff(*sync, ref), "");
}

TEST(PoolLogAhead, RollbackAndCloseWaitForTheWriter) {
  testing::TempDir dir;
  const std::string path = dir.file("pool");
  DramEmbeddingStore ref(PoolTestTables(), kSeed);
  for (uint64_t b = 0; b < 2; ++b) ASSERT_TRUE(testing::RunPoolBatch(ref, kSeed, b, kSamples).ok());
  {
    auto pool = MustCreate(path, SlowPool(true));
    ASSERT_NE(pool, nullptr);
    for (uint64_t b = 0; b < 2; ++b) ASSERT_TRUE(testing::RunPoolBatch(*pool, kSeed, b, kSamples).ok());
    testing::PoolBatch b = testing::MakePoolBatch(kSeed, 2, pool->tables(), kSamples);
    std::vector<Bags> bags = b.bags();
    // Rolled back while its log may still be in the writing.
    ASSERT_TRUE(pool->Prepare(2, bags).ok());
    ASSERT_TRUE(pool->Rollback().ok());
    EXPECT_TRUE(pool->recovery().rolled_back);
    EXPECT_EQ(pool->next_batch(), 2u);
    EXPECT_EQ(Diff(*pool, ref), "");
    // Closed with the log of the next prepare in the writing.
    ASSERT_TRUE(pool->Prepare(2, bags).ok());
  }
  Status st;
  auto reopened = PmemEmbeddingStore::Open(path, SlowPool(true), &st);
  ASSERT_NE(reopened, nullptr) << st.ToString();
  EXPECT_TRUE(reopened->recovery().rolled_back) << "a batch closed in flight is undone on open";
  EXPECT_EQ(reopened->next_batch(), 2u);
  EXPECT_EQ(Diff(*reopened, ref), "");
}

}  // namespace
}  // namespace prescient

// The persistent pool in one process: bit-identity with the DRAM reference,
// the undo log's rollback, and refusal of files that are not (or no longer)
// valid pools, which must be left byte for byte as they were.
#include <fcntl.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <vector>

#include <gtest/gtest.h>

#include "memnode/pmem_embedding_store.h"
#include "memnode/table_spec.h"
#include "testutil/pool_batches.h"
#include "testutil/testutil.h"

namespace prescient {
namespace {

using testing::PoolTestTables;
using testing::RunPoolBatch;

constexpr uint64_t kSeed = 42;
constexpr uint32_t kSamples = 64;

std::string Bytes(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

void WriteBytes(const std::string& path, const std::string& bytes) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

std::unique_ptr<PmemEmbeddingStore> MustCreate(const std::string& path, PmemPoolOptions options = {}) {
  Status st;
  auto store = PmemEmbeddingStore::Create(path, PoolTestTables(), kSeed, options, &st);
  EXPECT_NE(store, nullptr) << st.ToString();
  return store;
}

std::unique_ptr<PmemEmbeddingStore> MustOpen(const std::string& path, PmemPoolOptions options = {}) {
  Status st;
  auto store = PmemEmbeddingStore::Open(path, options, &st);
  EXPECT_NE(store, nullptr) << st.ToString();
  return store;
}

std::string Diff(const PmemEmbeddingStore& pool, const DramEmbeddingStore& ref) {
  return testing::FirstDifference(
      pool.tables(), ref, [&](uint32_t t, uint64_t r) { return pool.row(t, r); }, [&](uint32_t t, uint64_t r) { return pool.adagrad_state(t, r); });
}

DramEmbeddingStore Replay(uint64_t batches) {
  DramEmbeddingStore ref(PoolTestTables(), kSeed);
  for (uint64_t b = 0; b < batches; ++b) EXPECT_TRUE(RunPoolBatch(ref, kSeed, b, kSamples).ok());
  return ref;
}

// Refuses with a message containing `expect`, and leaves the file as it was.
void ExpectRefused(const std::string& path, const std::string& expect) {
  const std::string before = Bytes(path);
  Status st;
  EXPECT_EQ(PmemEmbeddingStore::Open(path, {}, &st), nullptr);
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find(path), std::string::npos) << "names the file: " << st.message();
  EXPECT_NE(st.message().find(expect), std::string::npos) << st.message();
  EXPECT_EQ(Bytes(path), before) << "a refused open must not modify the file";
  // Nor may creating over it.
  EXPECT_EQ(PmemEmbeddingStore::Create(path, PoolTestTables(), kSeed, {}, &st), nullptr);
  EXPECT_NE(st.message().find("refusing to create"), std::string::npos) << st.message();
  EXPECT_EQ(Bytes(path), before);
}

TEST(PmemPoolTest, MatchesDramReferenceBitForBitAndPersists) {
  testing::TempDir dir;
  const std::string path = dir.file("pool");
  for (bool undo : {true, false}) {
    SCOPED_TRACE(undo ? "undo log" : "no undo log");
    unlink(path.c_str());
    PmemPoolOptions options;
    options.undo_log = undo;
    {
      auto pool = MustCreate(path, options);
      ASSERT_NE(pool, nullptr);
      EXPECT_NE(pool->describe().find(pool->is_pmem() ? "pmem_persist" : "msync"), std::string::npos) << pool->describe();
      EXPECT_EQ(pool->describe().find("undo log") != std::string::npos, true);
      EXPECT_EQ(Diff(*pool, Replay(0)), "") << "initial rows are InitialRow(seed)";
      for (uint64_t b = 0; b < 12; ++b) ASSERT_TRUE(RunPoolBatch(*pool, kSeed, b, kSamples).ok());
      EXPECT_EQ(pool->next_batch(), 12u);
      EXPECT_EQ(Diff(*pool, Replay(12)), "");
    }
    auto reopened = MustOpen(path, options);
    ASSERT_NE(reopened, nullptr);
    EXPECT_EQ(reopened->next_batch(), 12u);
    EXPECT_FALSE(reopened->recovery().rolled_back);
    EXPECT_EQ(Diff(*reopened, Replay(12)), "");
  }
}

TEST(PmemPoolTest, AbandonedBatchIsRolledBack) {
  testing::TempDir dir;
  const std::string path = dir.file("pool");
  {
    auto pool = MustCreate(path);
    for (uint64_t b = 0; b < 5; ++b) ASSERT_TRUE(RunPoolBatch(*pool, kSeed, b, kSamples).ok());
    // Batch 5 is prepared and half applied, then the process "dies": the
    // mapping's changes stay in the file, as after a SIGKILL.
    testing::PoolBatch b = testing::MakePoolBatch(kSeed, 5, pool->tables(), kSamples);
    auto bags = b.bags();
    ASSERT_TRUE(pool->Prepare(5, bags).ok());
    ASSERT_TRUE(pool->Update(5, 0, bags[0], testing::PoolingFor(0), b.grads[0].data(), testing::OptimizerFor(0)).ok());
    ASSERT_TRUE(pool->Update(5, 2, bags[2], testing::PoolingFor(2), b.grads[2].data(), testing::OptimizerFor(2)).ok());
    EXPECT_NE(Diff(*pool, Replay(5)), "");
  }
  auto pool = MustOpen(path);
  ASSERT_NE(pool, nullptr);
  EXPECT_TRUE(pool->recovery().rolled_back);
  EXPECT_EQ(pool->recovery().batch, 5u);
  EXPECT_GT(pool->recovery().rows_restored, 0u);
  EXPECT_EQ(pool->next_batch(), 5u);
  EXPECT_EQ(Diff(*pool, Replay(5)), "");
  // Training resumes there and ends where an uninterrupted run does.
  for (uint64_t b = 5; b < 8; ++b) ASSERT_TRUE(RunPoolBatch(*pool, kSeed, b, kSamples).ok());
  EXPECT_EQ(Diff(*pool, Replay(8)), "");
}

TEST(PmemPoolTest, RollbackUndoesTheBatchInFlightAndItCanBeRedone) {
  testing::TempDir dir;
  auto pool = MustCreate(dir.file("pool"));
  ASSERT_NE(pool, nullptr);
  ASSERT_TRUE(RunPoolBatch(*pool, kSeed, 0, kSamples).ok());
  EXPECT_TRUE(pool->Rollback().ok()) << "nothing in flight: a no-op";
  testing::PoolBatch b = testing::MakePoolBatch(kSeed, 1, pool->tables(), kSamples);
  auto bags = b.bags();
  ASSERT_TRUE(pool->Prepare(1, bags).ok());
  for (uint32_t t = 0; t < 4; ++t)
    ASSERT_TRUE(pool->Update(1, t, bags[t], testing::PoolingFor(t), b.grads[t].data(), testing::OptimizerFor(t)).ok());
  ASSERT_TRUE(pool->Rollback().ok());
  EXPECT_TRUE(pool->recovery().rolled_back);
  EXPECT_EQ(pool->next_batch(), 1u);
  EXPECT_EQ(Diff(*pool, Replay(1)), "");
  ASSERT_TRUE(RunPoolBatch(*pool, kSeed, 1, kSamples).ok());
  EXPECT_EQ(Diff(*pool, Replay(2)), "");
}

TEST(PmemPoolTest, WithoutUndoLogAnAbandonedBatchIsReportedTorn) {
  testing::TempDir dir;
  const std::string path = dir.file("pool");
  PmemPoolOptions options;
  options.undo_log = false;
  {
    auto pool = MustCreate(path, options);
    ASSERT_TRUE(RunPoolBatch(*pool, kSeed, 0, kSamples).ok());
    testing::PoolBatch b = testing::MakePoolBatch(kSeed, 1, pool->tables(), kSamples);
    ASSERT_TRUE(pool->Prepare(1, b.bags()).ok());
  }
  auto pool = MustOpen(path, options);
  ASSERT_NE(pool, nullptr);
  EXPECT_TRUE(pool->recovery().torn);
  EXPECT_FALSE(pool->recovery().rolled_back);
  EXPECT_EQ(pool->next_batch(), 1u);
  // The baseline's repair: restore rows, declare the batch.
  DramEmbeddingStore ref = Replay(1);
  std::vector<uint32_t> all(pool->tables()[1].rows);
  for (uint32_t r = 0; r < all.size(); ++r) all[r] = r;
  std::vector<float> rows(all.size() * pool->tables()[1].dim);
  ASSERT_TRUE(ref.GatherRows(1, all, rows.data()).ok());
  ASSERT_TRUE(pool->ScatterRows(1, all, rows.data()).ok());
  std::vector<float> state(all.size());
  ASSERT_TRUE(ref.GatherAdagradState(1, all, state.data()).ok());
  ASSERT_TRUE(pool->ScatterAdagradState(1, all, state.data()).ok());
  std::vector<float> back(all.size());
  ASSERT_TRUE(pool->GatherAdagradState(1, all, back.data()).ok());
  EXPECT_EQ(0, std::memcmp(back.data(), state.data(), state.size() * 4));
  ASSERT_TRUE(pool->ResetNextBatch(1).ok());
  EXPECT_EQ(pool->next_batch(), 1u);
  std::vector<uint32_t> bad = {100000};
  EXPECT_FALSE(pool->GatherAdagradState(1, bad, back.data()).ok());
}

TEST(PmemPoolTest, RefusesChangesTheUndoLogDoesNotCover) {
  testing::TempDir dir;
  auto pool = MustCreate(dir.file("pool"));
  ASSERT_NE(pool, nullptr);
  std::vector<uint32_t> idx = {1, 2}, off = {0, 2}, other = {3}, off1 = {0, 1}, none, zero = {0, 0};
  // Table 0 names rows 1 and 2; the others have one empty bag each.
  std::vector<Bags> bags = {{idx, off}, {none, zero}, {none, zero}, {none, zero}};
  float grad[16] = {};
  SparseOptimizerConfig sgd;
  EXPECT_FALSE(pool->Update(0, 0, {idx, off}, Pooling::kSum, grad, sgd).ok()) << "update before prepare";
  ASSERT_TRUE(pool->Prepare(0, bags).ok());
  EXPECT_FALSE(pool->Prepare(0, bags).ok()) << "a second prepare of the batch in flight";
  Status st = pool->Update(0, 0, {other, off1}, Pooling::kSum, grad, sgd);
  EXPECT_NE(st.message().find("did not name"), std::string::npos) << st.ToString();
  float row[16] = {};
  st = pool->ScatterRows(0, other, row);
  EXPECT_NE(st.message().find("did not name"), std::string::npos) << st.ToString();
  EXPECT_TRUE(pool->Update(0, 0, {idx, off}, Pooling::kSum, grad, sgd).ok());
  EXPECT_FALSE(pool->Commit(1).ok());
  EXPECT_TRUE(pool->Commit(0).ok());
  EXPECT_FALSE(pool->Prepare(5, bags).ok()) << "batches come in order";
}

TEST(PmemPoolTest, ABatchLargerThanTheLogIsRefusedBeforeAnythingChanges) {
  testing::TempDir dir;
  PmemPoolOptions options;
  options.log_bytes = 4096;
  auto pool = MustCreate(dir.file("pool"), options);
  ASSERT_NE(pool, nullptr);
  testing::PoolBatch b = testing::MakePoolBatch(kSeed, 0, pool->tables(), 512);
  Status st = pool->Prepare(0, b.bags());
  EXPECT_EQ(st.code(), Status::Code::kResourceExhausted) << st.ToString();
  EXPECT_EQ(pool->next_batch(), 0u);
  EXPECT_TRUE(RunPoolBatch(*pool, kSeed, 0, 4).ok()) << "a small batch fits";
}

TEST(PmemPoolTest, OpenOrCreateInsistsOnTheSameTables) {
  testing::TempDir dir;
  const std::string path = dir.file("pool");
  Status st;
  ASSERT_NE(PmemEmbeddingStore::OpenOrCreate(path, PoolTestTables(), kSeed, {}, &st), nullptr) << st.ToString();
  ASSERT_NE(PmemEmbeddingStore::OpenOrCreate(path, PoolTestTables(), kSeed, {}, &st), nullptr) << st.ToString();
  auto other = PoolTestTables();
  other[1].rows += 1;
  EXPECT_EQ(PmemEmbeddingStore::OpenOrCreate(path, other, kSeed, {}, &st), nullptr);
  EXPECT_NE(st.message().find("not the"), std::string::npos) << st.message();
  EXPECT_EQ(PmemEmbeddingStore::OpenOrCreate(path, PoolTestTables(), kSeed + 1, {}, &st), nullptr);
  EXPECT_NE(st.message().find("seed"), std::string::npos) << st.message();
  EXPECT_EQ(PmemEmbeddingStore::Create(path, PoolTestTables(), kSeed, {}, &st), nullptr);
  EXPECT_NE(st.message().find("already exists"), std::string::npos) << st.message();
}

class PoolFileDamageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = dir_.file("pool");
    auto pool = MustCreate(path_);
    ASSERT_NE(pool, nullptr);
    for (uint64_t b = 0; b < 3; ++b) ASSERT_TRUE(RunPoolBatch(*pool, kSeed, b, kSamples).ok());
    bytes_ = Bytes(path_);
  }
  testing::TempDir dir_;
  std::string path_, bytes_;
};

TEST_F(PoolFileDamageTest, ForeignFile) {
  WriteBytes(path_, std::string(8192, 'x'));
  ExpectRefused(path_, "not a prescient pool file");
  WriteBytes(path_, "hello");
  ExpectRefused(path_, "shorter than a pool header");
  WriteBytes(path_, "");
  ExpectRefused(path_, "shorter than a pool header");
}

TEST_F(PoolFileDamageTest, Truncated) {
  WriteBytes(path_, bytes_.substr(0, bytes_.size() - 4096));
  ExpectRefused(path_, "truncated");
  WriteBytes(path_, bytes_.substr(0, 200));
  ExpectRefused(path_, "truncated");
  WriteBytes(path_, bytes_ + "extra");
  ExpectRefused(path_, "trailing bytes");
}

TEST_F(PoolFileDamageTest, CorruptHeader) {
  std::string b = bytes_;
  b[100] ^= 1;  // inside the first table's name
  WriteBytes(path_, b);
  ExpectRefused(path_, "header checksum mismatch");
  b = bytes_;
  b[8] = 9;  // version
  WriteBytes(path_, b);
  ExpectRefused(path_, "format version 9");
}

TEST_F(PoolFileDamageTest, CorruptCommitRecord) {
  std::string b = bytes_;
  b[4096 + 3] ^= 0x10;  // the commit word's next_batch
  WriteBytes(path_, b);
  ExpectRefused(path_, "commit record at offset 4096 is corrupt");
}

TEST_F(PoolFileDamageTest, CorruptUndoLogOfABatchInFlight) {
  {
    auto pool = MustOpen(path_);
    testing::PoolBatch batch = testing::MakePoolBatch(kSeed, 3, pool->tables(), kSamples);
    ASSERT_TRUE(pool->Prepare(3, batch.bags()).ok());
  }
  std::string b = Bytes(path_);
  PoolLayout layout;
  ASSERT_TRUE(ComputePoolLayout(PoolTestTables(), DefaultLogBytes(PoolTestTables()), &layout).ok());
  b[layout.log_offset + 64 + 20] ^= 0x40;  // a logged row
  WriteBytes(path_, b);
  ExpectRefused(path_, "undo log");
}

TEST(PoolLatencyTest, ParsesAndSlowsDown) {
  PoolLatency l;
  EXPECT_TRUE(ParsePoolLatency("pmem", &l).ok());
  EXPECT_EQ(l.read_ns_per_line, 200u);
  EXPECT_EQ(l.write_ns_per_line, 600u);
  EXPECT_TRUE(ParsePoolLatency("pmem:80", &l).ok());
  EXPECT_EQ(l.write_ns_per_line, 480u);
  EXPECT_TRUE(ParsePoolLatency("10,70", &l).ok());
  EXPECT_EQ(l.read_ns_per_line, 10u);
  EXPECT_EQ(l.write_ns_per_line, 70u);
  EXPECT_TRUE(ParsePoolLatency("off", &l).ok());
  EXPECT_FALSE(l.enabled());
  EXPECT_FALSE(ParsePoolLatency("fast", &l).ok());
  EXPECT_FALSE(ParsePoolLatency("1,", &l).ok());

  testing::TempDir dir;
  PmemPoolOptions options;
  options.latency = {5000, 5000};  // 5 us per line: a lookup of 100 rows takes >= 0.5 ms
  auto pool = MustCreate(dir.file("pool"), options);
  ASSERT_NE(pool, nullptr);
  EXPECT_NE(pool->describe().find("latency +5000/+5000"), std::string::npos) << pool->describe();
  std::vector<uint32_t> idx(100, 7), off = {0, 100};
  float out[16];
  auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(pool->Lookup(0, {idx, off}, Pooling::kSum, out).ok());
  EXPECT_GE(std::chrono::steady_clock::now() - t0, std::chrono::microseconds(500));
}

}  // namespace
}  // namespace prescient

namespace prescient {
namespace {

TEST(TableSpecTest, ParsesNamedAndRepeatedTables) {
  std::vector<TableSpec> t;
  ASSERT_TRUE(ParseTableSpecs("user=100x16,2*50x4,item=7x1", &t).ok());
  ASSERT_EQ(t.size(), 4u);
  EXPECT_EQ(t[0].name, "user");
  EXPECT_EQ(t[0].rows, 100u);
  EXPECT_EQ(t[0].dim, 16u);
  EXPECT_EQ(t[1].name, "t1");
  EXPECT_EQ(t[2].name, "t2");
  EXPECT_EQ(t[2].rows, 50u);
  EXPECT_EQ(t[3].dim, 1u);
  std::vector<TableSpec> back;
  ASSERT_TRUE(ParseTableSpecs(FormatTableSpecs(t), &back).ok());
  EXPECT_EQ(FormatTableSpecs(back), FormatTableSpecs(t));
  for (const char* bad : {"", "x", "a=10", "a=10x", "0*10x4", "3*10", "a=-1x4", "a=1x4,,b=1x4"}) {
    Status st = ParseTableSpecs(bad, &t);
    EXPECT_FALSE(st.ok()) << bad;
  }
}

}  // namespace
}  // namespace prescient

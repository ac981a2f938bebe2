// The memory node's pool ops without a network: every payload, however
// hostile, is refused or served, never trusted (run it under ASan too).
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include "memnode/pool_service.h"
#include "testutil/pool_batches.h"
#include "testutil/testutil.h"
#include "transport/pool_protocol.h"

namespace prescient {
namespace {

using wire::PoolOp;

std::unique_ptr<PoolService> MakeService(const std::string& path) {
  Status st;
  auto store = PmemEmbeddingStore::Create(path, testing::PoolTestTables(), 3, {}, &st);
  EXPECT_NE(store, nullptr) << st.ToString();
  return std::make_unique<PoolService>(std::move(store));
}

TEST(PoolServiceTest, SurvivesRandomPayloads) {
  testing::TempDir dir;
  auto service = MakeService(dir.file("pool"));
  std::mt19937_64 rng(17);
  const PoolOp ops[] = {PoolOp::kInfo, PoolOp::kPrepare, PoolOp::kLookup, PoolOp::kUpdate, PoolOp::kCommit,
                        PoolOp::kGather, PoolOp::kScatter, PoolOp::kReset, PoolOp::kNextBatch, PoolOp::kGatherState,
                        PoolOp::kScatterState};
  int served = 0, malformed_count = 0;
  std::vector<std::byte> out;
  for (int i = 0; i < 30000; ++i) {
    const PoolOp op = ops[rng() % std::size(ops)];
    std::vector<std::byte> p;
    // Mostly plausible small numbers (so parsing gets deep), sometimes noise.
    const size_t words = rng() % 24;
    for (size_t w = 0; w < words; ++w) wire::PutU32(&p, rng() % 4 == 0 ? static_cast<uint32_t>(rng()) : static_cast<uint32_t>(rng() % 6));
    if (rng() % 5 == 0 && !p.empty()) p.resize(p.size() - 1 - rng() % std::min<size_t>(p.size(), 3));
    bool malformed = false;
    Status st = service->Handle(static_cast<uint16_t>(op), p, &out, &malformed);
    if (st.ok()) ++served;
    if (malformed) {
      ++malformed_count;
      EXPECT_EQ(st.code(), Status::Code::kCorruption) << st.ToString();
    }
  }
  EXPECT_GT(served, 0);
  EXPECT_GT(malformed_count, 0);
}

TEST(PoolServiceTest, ServesAWholeBatchFromEncodedRequests) {
  testing::TempDir dir;
  auto service = MakeService(dir.file("pool"));
  DramEmbeddingStore ref(testing::PoolTestTables(), 3);
  testing::PoolBatch b = testing::MakePoolBatch(3, 0, ref.tables(), 32);
  std::vector<Bags> bags = b.bags();
  std::vector<std::byte> p, out;
  bool malformed = false;
  wire::PutU64(&p, 0);
  wire::PutU32(&p, 4);
  wire::PutU32(&p, 0);
  for (const Bags& bag : bags) wire::PutBags(&p, bag);
  ASSERT_TRUE(service->Handle(static_cast<uint16_t>(PoolOp::kPrepare), p, &out, &malformed).ok());
  ASSERT_TRUE(ref.Prepare(0, bags).ok());
  for (uint32_t t = 0; t < 4; ++t) {
    p.clear();
    wire::PutU32(&p, t);
    const uint8_t f[4] = {static_cast<uint8_t>(testing::PoolingFor(t)), wire::kUsePreparedBags, 0, 0};
    wire::PutBytes(&p, f, 4);
    ASSERT_TRUE(service->Handle(static_cast<uint16_t>(PoolOp::kLookup), p, &out, &malformed).ok());
    std::vector<float> want(bags[t].count() * ref.tables()[t].dim);
    ASSERT_TRUE(ref.Lookup(t, bags[t], testing::PoolingFor(t), want.data()).ok());
    ASSERT_EQ(out.size(), want.size() * 4);
    EXPECT_EQ(0, std::memcmp(out.data(), want.data(), out.size())) << "table " << t;
  }
}

}  // namespace
}  // namespace prescient

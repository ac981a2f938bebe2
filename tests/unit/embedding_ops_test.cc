// The embedding arithmetic every store shares (memnode/embedding_ops.h),
// against a naive re-computation written here from the header's contract.
#include <cmath>
#include <cstring>
#include <map>
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include "memnode/embedding_ops.h"

namespace prescient {
namespace {

struct Table {
  uint32_t dim;
  std::vector<float> v;
  const float* row(uint32_t r) const { return v.data() + uint64_t{r} * dim; }
};

Table MakeTable(uint64_t rows, uint32_t dim, uint64_t seed) {
  Table t{dim, std::vector<float>(rows * dim)};
  for (uint64_t r = 0; r < rows; ++r) InitialRow(seed, 0, r, dim, t.v.data() + r * dim);
  return t;
}

Bags View(const std::vector<uint32_t>& indices, const std::vector<uint32_t>& offsets) { return {indices, offsets}; }

TEST(EmbeddingOpsTest, PoolBagsSumAndMeanMatchNaive) {
  const uint32_t dim = 7;
  Table t = MakeTable(50, dim, 3);
  // Duplicates inside a bag, an empty bag in the middle and at the end.
  std::vector<uint32_t> indices = {4, 4, 9, 0, 49, 4, 17, 17, 17};
  std::vector<uint32_t> offsets = {0, 3, 3, 6, 9, 9};
  Bags bags = View(indices, offsets);
  ASSERT_EQ(bags.count(), 5u);
  for (Pooling pooling : {Pooling::kSum, Pooling::kMean}) {
    std::vector<float> out(bags.count() * dim, 123.0f);
    PoolBags(bags, pooling, dim, [&](uint32_t r) { return t.row(r); }, out.data());
    for (size_t b = 0; b < bags.count(); ++b) {
      for (uint32_t d = 0; d < dim; ++d) {
        float acc = 0.0f;
        for (uint32_t i = offsets[b]; i < offsets[b + 1]; ++i) acc += t.row(indices[i])[d];
        uint32_t n = offsets[b + 1] - offsets[b];
        if (pooling == Pooling::kMean && n > 0) acc *= 1.0f / static_cast<float>(n);
        EXPECT_EQ(out[b * dim + d], acc) << "bag " << b << " dim " << d;  // bit-exact: same order of additions
      }
    }
    // Empty bags give zeros, not what was in the buffer.
    for (uint32_t d = 0; d < dim; ++d) {
      EXPECT_EQ(out[1 * dim + d], 0.0f);
      EXPECT_EQ(out[4 * dim + d], 0.0f);
    }
  }
}

TEST(EmbeddingOpsTest, DistinctRowsAreSortedAndUnique) {
  std::vector<uint32_t> indices = {9, 3, 3, 0, 9, 7, 0};
  std::vector<uint32_t> offsets = {0, 2, 7};
  EXPECT_EQ(DistinctRows(View(indices, offsets)), (std::vector<uint32_t>{0, 3, 7, 9}));
  std::vector<uint32_t> none, zero = {0};
  EXPECT_TRUE(DistinctRows(View(none, zero)).empty());
}

TEST(EmbeddingOpsTest, CoalesceGradientsSumsDuplicatesInBagOrder) {
  const uint32_t dim = 3;
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  std::vector<uint32_t> indices = {2, 2, 5, 1, 2, 5, 8};
  std::vector<uint32_t> offsets = {0, 3, 3, 5, 7};
  Bags bags = View(indices, offsets);
  std::vector<float> grad(bags.count() * dim);
  for (float& g : grad) g = u(rng);
  for (Pooling pooling : {Pooling::kSum, Pooling::kMean}) {
    RowGradients rg = CoalesceGradients(bags, pooling, dim, grad.data());
    ASSERT_EQ(rg.rows, (std::vector<uint32_t>{1, 2, 5, 8}));
    std::map<uint32_t, std::vector<float>> naive;
    for (size_t b = 0; b < bags.count(); ++b) {
      uint32_t n = offsets[b + 1] - offsets[b];
      for (uint32_t i = offsets[b]; i < offsets[b + 1]; ++i) {
        auto& acc = naive[indices[i]];
        acc.resize(dim, 0.0f);
        for (uint32_t d = 0; d < dim; ++d) acc[d] += pooling == Pooling::kMean ? grad[b * dim + d] * (1.0f / static_cast<float>(n)) : grad[b * dim + d];
      }
    }
    for (size_t k = 0; k < rg.rows.size(); ++k)
      for (uint32_t d = 0; d < dim; ++d) EXPECT_EQ(rg.grads[k * dim + d], naive[rg.rows[k]][d]) << "row " << rg.rows[k];
  }
}

TEST(EmbeddingOpsTest, StepRowSgdAndRowWiseAdagrad) {
  const uint32_t dim = 4;
  const float grad[dim] = {0.5f, -1.0f, 0.25f, 2.0f};
  float row[dim] = {1, 2, 3, 4};
  float state = 7.0f;
  SparseOptimizerConfig sgd{SparseOptimizer::kSgd, 0.1f, 1e-8f};
  StepRow(sgd, dim, grad, row, &state);
  for (uint32_t d = 0; d < dim; ++d) EXPECT_EQ(row[d], static_cast<float>(d + 1) - 0.1f * grad[d]);
  EXPECT_EQ(state, 7.0f) << "SGD leaves the accumulator alone";

  float row2[dim] = {1, 2, 3, 4};
  float state2 = 0.5f;
  SparseOptimizerConfig ada{SparseOptimizer::kRowWiseAdagrad, 0.1f, 1e-8f};
  StepRow(ada, dim, grad, row2, &state2);
  float sum_sq = 0.0f;
  for (uint32_t d = 0; d < dim; ++d) sum_sq += grad[d] * grad[d];
  const float expected_state = 0.5f + sum_sq / dim;
  EXPECT_EQ(state2, expected_state);
  const float step = 0.1f / (std::sqrt(expected_state) + 1e-8f);
  for (uint32_t d = 0; d < dim; ++d) EXPECT_EQ(row2[d], static_cast<float>(d + 1) - step * grad[d]);
}

TEST(EmbeddingOpsTest, InitialRowIsDeterministicBoundedAndVaries) {
  const uint32_t dim = 16;
  std::vector<float> a(dim), b(dim), c(dim), d(dim);
  InitialRow(1, 2, 3, dim, a.data());
  InitialRow(1, 2, 3, dim, b.data());
  InitialRow(1, 2, 4, dim, c.data());
  InitialRow(2, 2, 3, dim, d.data());
  EXPECT_EQ(0, std::memcmp(a.data(), b.data(), dim * 4));
  EXPECT_NE(0, std::memcmp(a.data(), c.data(), dim * 4)) << "another row";
  EXPECT_NE(0, std::memcmp(a.data(), d.data(), dim * 4)) << "another seed";
  const float bound = 1.0f / std::sqrt(static_cast<float>(dim));
  for (float x : a) {
    EXPECT_GE(x, -bound);
    EXPECT_LT(x, bound);
  }
}

TEST(EmbeddingOpsTest, CheckBagsAcceptsGoodLayouts) {
  std::vector<uint32_t> indices = {0, 9, 9}, offsets = {0, 0, 3, 3};
  EXPECT_TRUE(CheckBags(View(indices, offsets), 10).ok());
  std::vector<uint32_t> none, zero = {0};
  EXPECT_TRUE(CheckBags(View(none, zero), 1).ok()) << "no bags at all";
}

TEST(EmbeddingOpsTest, CheckBagsMessagesNameTheFault) {
  struct Case {
    std::vector<uint32_t> indices, offsets;
    const char* expect;
  };
  const Case cases[] = {
      {{1}, {}, "offsets is empty"},
      {{1}, {1, 1}, "offsets[0] is 1, not 0"},
      {{1, 2, 3}, {0, 2, 1, 3}, "offsets[2] = 1 is below offsets[1] = 2"},
      {{1, 2, 3}, {0, 2}, "the last offset is 2 but there are 3 indices"},
      {{1, 10, 3}, {0, 3}, "index 10 at position 1 is out of range (the table has 10 rows)"},
  };
  for (const Case& c : cases) {
    Status st = CheckBags(View(c.indices, c.offsets), 10);
    EXPECT_EQ(st.code(), Status::Code::kInvalidArgument) << c.expect;
    EXPECT_NE(st.message().find(c.expect), std::string::npos) << st.message();
  }
}

}  // namespace
}  // namespace prescient

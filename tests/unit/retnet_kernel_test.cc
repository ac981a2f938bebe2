// The hand-written recurrent kernel against the libtorch parallel form: same
// random weights, same token history, the same outputs step by step.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <tuple>
#include <vector>

#include <torch/torch.h>

#include "testutil/test_model.h"

#include "prescient/retnet.h"
#include "prescient/retnet_kernel.h"
#include "train/retnet_module.h"

namespace prescient {
namespace {

using testing::RandomWeights;

#if defined(__SANITIZE_ADDRESS__)
constexpr bool kSanitized = true;
#else
constexpr bool kSanitized = false;
#endif

std::vector<int64_t> RandomTokens(size_t n, int vocab, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<int64_t> t(n);
  // Runs and repeats as well as noise, so the retention state sees structure.
  for (size_t i = 0; i < n; ++i) t[i] = (i % 7 < 4) ? static_cast<int64_t>(i % 3 % vocab) : static_cast<int64_t>(rng() % vocab);
  return t;
}

// Logits [T, V] of the parallel form over `tokens`, the first at absolute
// position `offset`.
torch::Tensor ParallelLogits(RetNetModule& m, const std::vector<int64_t>& tokens, size_t from, size_t count, int64_t offset) {
  torch::NoGradGuard no_grad;
  auto t = torch::from_blob(const_cast<int64_t*>(tokens.data() + from), {1, static_cast<int64_t>(count)}, torch::kInt64).clone();
  return m.Forward(t, offset).squeeze(0).contiguous();
}

// Compares kernel steps [first, first + n) (logits and probabilities) with
// rows [row0, row0 + n) of `expected`.
void ExpectSteps(const RetNetKernel& k, RetNetState* st, const std::vector<int64_t>& tokens, size_t first, size_t n, const torch::Tensor& expected,
                 int64_t row0) {
  const int V = k.vocab();
  auto probs = torch::softmax(expected, -1).contiguous();
  auto e = expected.accessor<float, 2>();
  auto ep = probs.accessor<float, 2>();
  float logits[kRetNetMaxVocab], p[kRetNetMaxVocab];
  for (size_t i = 0; i < n; ++i) {
    RetNetState copy = *st;
    k.StepLogits(st, static_cast<int>(tokens[first + i]), logits);
    k.Step(&copy, static_cast<int>(tokens[first + i]), p);
    const int64_t r = row0 + static_cast<int64_t>(i);
    for (int v = 0; v < V; ++v) {
      ASSERT_NEAR(logits[v], e[r][v], 1e-4 * std::max(1.0f, std::fabs(e[r][v]))) << "step " << first + i << " token " << v;
      ASSERT_NEAR(p[v], ep[r][v], 1e-4) << "step " << first + i << " token " << v;
    }
  }
}

class RetNetKernelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    torch::manual_seed(3);
    config_ = RetNetConfig::Default(8);
    weights_ = RandomWeights(config_, 11);
    module_ = std::make_shared<RetNetModule>(config_);
    ASSERT_TRUE(module_->ImportFrom(weights_).ok());
  }
  RetNetConfig config_;
  RetNetWeights weights_;
  std::shared_ptr<RetNetModule> module_;
};

TEST(RetNetConfig, DefaultHasAbout3KParameters) {
  auto c = RetNetConfig::Default(8);
  ASSERT_TRUE(c.Validate().ok());
  EXPECT_EQ(c.vocab(), 9);
  EXPECT_EQ(RetNetParameterCount(c), 3041u);  // docs/decisions.md D40
  EXPECT_LE(RetNetParameterCount(c), 4000u);
  EXPECT_LT(sizeof(RetNetState), 1024u);
}

// Both compiled variants: AVX2+FMA (where this CPU has it) and the baseline.
TEST_F(RetNetKernelTest, StepsEqualTheParallelFormAtSeveralLengths) {
  for (bool avx2 : {true, false}) {
    RetNetKernel kernel(weights_, avx2);
    for (size_t len : {1, 2, 17, 300, 2000}) {
      if (!avx2 && len != 300) continue;
      SCOPED_TRACE(::testing::Message() << len << (avx2 ? " avx2" : " baseline"));
      auto tokens = RandomTokens(len, config_.vocab(), len);
      RetNetState st;
      kernel.Reset(&st);
      ExpectSteps(kernel, &st, tokens, 0, len, ParallelLogits(*module_, tokens, 0, len, 0), 0);
    }
  }
}

// Shapes other than the default run a separately compiled step.
TEST(RetNetKernelShapes, OtherShapesAgreeToo) {
  for (auto [ordinals, d, heads, ffn] : {std::tuple{5, 12, 3, 24}, std::tuple{15, 24, 3, 20}, std::tuple{1, 8, 1, 8}, std::tuple{16, 16, 2, 40}}) {
    SCOPED_TRACE(::testing::Message() << ordinals << " " << d << " " << heads << " " << ffn);
    RetNetConfig c;
    c.ordinals = ordinals;
    c.d_model = d;
    c.heads = heads;
    c.ffn = ffn;
    c.gammas.assign(static_cast<size_t>(heads), 0.9f);
    c.gammas.back() = 0.97f;
    c.FillDefaultThetas();
    ASSERT_TRUE(c.Validate().ok()) << c.Validate().ToString();
    RetNetWeights w = RandomWeights(c, 5);
    torch::manual_seed(1);
    RetNetModule m(c);
    ASSERT_TRUE(m.ImportFrom(w).ok());
    auto tokens = RandomTokens(400, c.vocab(), 9);
    auto expected = ParallelLogits(m, tokens, 0, tokens.size(), 0);
    for (bool avx2 : {true, false}) {  // both variants of a compiled shape
      RetNetKernel kernel(w, avx2);
      RetNetState st;
      kernel.Reset(&st);
      ExpectSteps(kernel, &st, tokens, 0, tokens.size(), expected, 0);
    }
  }
}

// Past a few hundred steps the decay has erased the distant past (gamma^1500
// < 1e-20 for the slowest head), so the parallel form over a trailing window
// equals the full history to float precision.
TEST_F(RetNetKernelTest, FiveThousandStepsAgreeChunkByChunk) {
  RetNetKernel kernel(weights_);
  const size_t n = 5000, chunk = 1000, burn = 1500;
  auto tokens = RandomTokens(n, config_.vocab(), 5);
  RetNetState st;
  kernel.Reset(&st);
  for (size_t at = 0; at < n; at += chunk) {
    const size_t from = at > burn ? at - burn : 0;
    auto expected = ParallelLogits(*module_, tokens, from, at + chunk - from, static_cast<int64_t>(from));
    ExpectSteps(kernel, &st, tokens, at, chunk, expected, static_cast<int64_t>(at - from));
  }
  EXPECT_EQ(st.steps, n);
}

// Runs last millions of faults. The kernel keeps no absolute angle, and the
// trainer reduces angles in double, so step 2,000,000 is as exact as step 1.
TEST_F(RetNetKernelTest, MillionsOfStepsInStillAgree) {
  RetNetKernel kernel(weights_);
  const size_t prefix = kSanitized ? 300000 : 2000000, tail = 300, burn = 1500;
  auto tokens = RandomTokens(prefix + tail, config_.vocab(), 17);
  RetNetState st;
  kernel.Reset(&st);
  float p[kRetNetMaxVocab];
  for (size_t i = 0; i < prefix; ++i) kernel.Step(&st, static_cast<int>(tokens[i]), p);
  const size_t from = prefix - burn;
  auto deep = ParallelLogits(*module_, tokens, from, burn + tail, static_cast<int64_t>(from));
  auto shallow = ParallelLogits(*module_, tokens, from, burn + tail, 0);
  EXPECT_LT((deep - shallow).abs().max().item<float>(), 1e-4);
  ExpectSteps(kernel, &st, tokens, prefix, tail, deep, static_cast<int64_t>(burn));
}

TEST_F(RetNetKernelTest, AForkedStateRollsOnWithoutTouchingTheOriginal) {
  RetNetKernel kernel(weights_);
  RetNetState st;
  kernel.Reset(&st);
  float p[kRetNetMaxVocab], q[kRetNetMaxVocab];
  for (int t : {1, 2, 0, 3}) kernel.Step(&st, t, p);
  RetNetState fork = st;
  for (int i = 0; i < 4; ++i) kernel.Step(&fork, Argmax(p, kernel.vocab()), p);
  RetNetState again = st;
  kernel.Step(&st, 5, p);
  kernel.Step(&again, 5, q);
  for (int v = 0; v < kernel.vocab(); ++v) EXPECT_EQ(p[v], q[v]);
  EXPECT_EQ(st.steps, 5u);
  EXPECT_EQ(fork.steps, 8u);
}

TEST_F(RetNetKernelTest, OutOfRangeTokensMeanNotInTheMap) {
  RetNetKernel kernel(weights_);
  RetNetState a, b;
  kernel.Reset(&a);
  kernel.Reset(&b);
  float p[kRetNetMaxVocab], q[kRetNetMaxVocab];
  kernel.Step(&a, 200, p);
  kernel.Step(&b, config_.ordinals, q);
  for (int v = 0; v < kernel.vocab(); ++v) EXPECT_EQ(p[v], q[v]);
  kernel.Step(&a, -1, p);
  kernel.Step(&b, config_.ordinals, q);
  for (int v = 0; v < kernel.vocab(); ++v) EXPECT_EQ(p[v], q[v]);
}

TEST_F(RetNetKernelTest, ExportReproducesTheImportedWeights) {
  RetNetWeights back;
  ASSERT_TRUE(module_->ExportTo(&back).ok());
  ASSERT_EQ(back.parameter_count(), weights_.parameter_count());
  for (size_t i = 0; i < back.parameter_count(); ++i) ASSERT_EQ(back.data()[i], weights_.data()[i]) << i;
}

}  // namespace
}  // namespace prescient

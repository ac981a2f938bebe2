// RetNet inference cost per fault. Goals: one kernel step < 0.5 µs, a d=4
// lookahead (fork the state, roll 4 steps on the argmax) < 2 µs. libtorch's
// forward runs for comparison: the parallel form over a window whose last
// position is the prediction, which is what a torch-based predictor would
// have to recompute per fault (window 1 is the floor of any torch step).
#include <random>

#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include "prescient/retnet.h"
#include "prescient/retnet_kernel.h"
#include "train/retnet_module.h"

namespace {

using namespace prescient;

const RetNetWeights& Weights() {
  static RetNetWeights w = [] {
    torch::manual_seed(1);
    RetNetModule m(RetNetConfig::Default(8));
    RetNetWeights out;
    if (!m.ExportTo(&out).ok()) std::abort();
    return out;
  }();
  return w;
}

// A token stream with some structure, so the state is not all zeros.
int Token(uint64_t i) { return static_cast<int>((i * 7 + (i >> 3)) % 9); }

// Arg: 1 lets the kernel use its AVX2+FMA step, 0 forces the baseline (SSE2) one.
void BM_KernelStep(benchmark::State& bs) {
  RetNetKernel kernel(Weights(), bs.range(0) != 0);
  RetNetState st;
  kernel.Reset(&st);
  float probs[kRetNetMaxVocab];
  uint64_t i = 0;
  for (auto _ : bs) {
    kernel.Step(&st, Token(i++), probs);
    benchmark::DoNotOptimize(probs);
  }
}
BENCHMARK(BM_KernelStep)->ArgName("avx2")->Arg(1)->Arg(0);

// What the prefetcher does per fault beyond the step itself: fork the state
// and roll it `depth` steps forward on its own most likely prediction.
void BM_KernelLookahead(benchmark::State& bs) {
  const int depth = static_cast<int>(bs.range(0));
  RetNetKernel kernel(Weights(), bs.range(1) != 0);
  RetNetState st;
  kernel.Reset(&st);
  float probs[kRetNetMaxVocab];
  for (int i = 0; i < 100; ++i) kernel.Step(&st, Token(i), probs);
  for (auto _ : bs) {
    RetNetState fork = st;
    float p[kRetNetMaxVocab];
    std::copy(probs, probs + kernel.vocab(), p);
    for (int d = 0; d < depth; ++d) kernel.Step(&fork, Argmax(p, kernel.vocab()), p);
    benchmark::DoNotOptimize(p);
    benchmark::DoNotOptimize(fork);
  }
}
BENCHMARK(BM_KernelLookahead)->ArgNames({"depth", "avx2"})->Args({4, 1})->Args({4, 0});

void BM_TorchParallelWindow(benchmark::State& bs) {
  torch::set_num_threads(1);
  torch::NoGradGuard no_grad;
  torch::manual_seed(1);
  RetNetModule m(RetNetConfig::Default(8));
  const int64_t window = bs.range(0);
  auto tokens = torch::randint(0, 9, {1, window}, torch::kInt64);
  for (auto _ : bs) {
    auto logits = m.Forward(tokens);
    auto probs = torch::softmax(logits.select(1, window - 1), -1);
    benchmark::DoNotOptimize(probs.data_ptr<float>());
  }
}
BENCHMARK(BM_TorchParallelWindow)->Arg(1)->Arg(64)->Arg(128)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();

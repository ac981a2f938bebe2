// The RetNet of prescient/retnet.h as a libtorch module, in the parallel
// form that training needs:
//
//   Retention(Q, K, V) = (rot(Q) · rot(K)^T ⊙ D) · V,   D[n][m] = gamma^(n-m) for n >= m, else 0
//
// with rot() turning each channel pair of the token at absolute position p
// by p·theta. Its parameters have exactly the names, shapes and order of
// RetNetTensors(), so export and import are flat copies; the inference
// kernel reproduces Forward() step by step (tests/unit/retnet_kernel_test.cc).
#pragma once

#include <cstdint>
#include <map>
#include <vector>

#include <torch/nn/module.h>
#include <torch/types.h>

#include "prescient/retnet.h"

namespace prescient {

class RetNetModule : public torch::nn::Module {
 public:
  // Parameters initialized from torch's global generator (seed it first).
  explicit RetNetModule(const RetNetConfig& config);

  // tokens: int64 [B, T] in [0, vocab). Returns logits [B, T, vocab]: at
  // position t, the scores of the token after tokens[:, t]. The window's
  // first token sits at absolute position `position_offset`; outputs do not
  // depend on it (only relative angles matter) beyond rounding: angles are
  // reduced mod 2π in double, within 1e-6 rad for offsets below 10^9.
  torch::Tensor Forward(const torch::Tensor& tokens, int64_t position_offset = 0);

  const RetNetConfig& config() const { return config_; }
  // Copies every parameter into `out`, which gets this config (and keeps
  // its provenance).
  Status ExportTo(RetNetWeights* out) const;
  // Copies `weights` into the parameters; the configs must agree.
  Status ImportFrom(const RetNetWeights& weights);

 private:
  const torch::Tensor& Decay(int64_t T);

  RetNetConfig config_;
  std::vector<torch::Tensor> params_;  // RetNetTensors() order
  std::map<int64_t, torch::Tensor> decay_;  // D by window length, [H, T, T]
};

}  // namespace prescient

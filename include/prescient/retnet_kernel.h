// Inference for the RetNet of prescient/retnet.h: one token in, the next
// token's distribution out, in O(1) time and memory per step.
//
// The kernel reads the weights in place and keeps nothing per call; all
// history lives in a RetNetState, which is small and trivially copyable so
// that multi-step lookahead can fork it, roll the copy forward on its own
// predictions, and throw it away. Step() allocates nothing.
#pragma once

#include <cstdint>

#include "prescient/retnet.h"

namespace prescient {

struct alignas(64) RetNetState {
  // Per head, the dh × dh retention state S (row: rotated key channel,
  // column: value channel), heads back to back.
  float s[kRetNetMaxStateFloats];
  uint64_t steps;  // tokens consumed since Reset (informational: no angle depends on it)
};
static_assert(sizeof(RetNetState) < 1024);

class RetNetKernel {
 public:
  // `weights` must outlive the kernel. The default shape runs an AVX2+FMA
  // step where the CPU has them, unless allow_avx2 is false.
  explicit RetNetKernel(const RetNetWeights& weights, bool allow_avx2 = true);

  int vocab() const { return vocab_; }
  // An empty history.
  void Reset(RetNetState* state) const;
  // Consumes `token` (in [0, vocab)) and writes the probabilities of the next
  // token to probs_out[0..vocab). An out-of-range token counts as K ("not in
  // the map").
  void Step(RetNetState* state, int token, float* probs_out) const;
  // The same, writing the logits (pre-softmax scores) instead.
  void StepLogits(RetNetState* state, int token, float* logits_out) const;

 private:
  // One step, with vector type Vec and sizes fixed at compile time (0:
  // from the config); see the .cc.
  template <typename Vec, int D, int DH, int F, int V>
  void StepImpl(RetNetState* state, int token, float* logits_out) const;
  void StepAnyShape(RetNetState* state, int token, float* logits_out) const;
  template <int V>
  void StepDefaultShape(RetNetState* state, int token, float* logits_out) const;
  // The target must be on the declaration: GCC drops a target attribute
  // that only a member template's out-of-class definition carries, and the
  // "AVX2" step then ran as emulated 8-wide vectors, 5x slower than SSE.
  template <int V>
  [[gnu::target("avx2,fma")]] void StepDefaultShapeAvx2(RetNetState* state, int token, float* logits_out) const;

  const RetNetWeights& weights_;
  void (RetNetKernel::*step_)(RetNetState*, int, float*) const;  // the variant for this shape and CPU
  int vocab_, d_, heads_, dh_, ffn_;
  float eps_;
  // Per head and channel pair: gamma·cos(theta) and gamma·sin(theta).
  float rot_cos_[kRetNetMaxModel / 2], rot_sin_[kRetNetMaxModel / 2];
  // Tensor pointers into the weights, in RetNetTensors() order.
  const float *embed_, *ln1_g_, *ln1_b_, *wqkvg_, *gn_g_, *gn_b_, *wo_, *ln2_g_, *ln2_b_, *w1_, *b1_, *w2_, *b2_, *lnf_g_,
      *lnf_b_, *wout_, *bout_;
};

// The index of the largest of p[0..n).
int Argmax(const float* p, int n);

}  // namespace prescient

// The recurrent RetNet step, written out by hand: no libtorch, no allocation,
// every buffer on the stack and bounded by the kRetNetMax* constants.
#include "prescient/retnet_kernel.h"

#include <cmath>
#include <cstring>

namespace prescient {

namespace {

// y[0..n_out) = b + x[0..n_in) · W, W row-major [n_in][n_out]. The inner loop
// runs along a row of W, which is contiguous, so it vectorizes.
inline void MatVec(const float* __restrict x, const float* __restrict w, const float* __restrict b, int n_in, int n_out, float* __restrict y) {
  if (b) {
    std::memcpy(y, b, sizeof(float) * n_out);
  } else {
    std::memset(y, 0, sizeof(float) * n_out);
  }
  for (int i = 0; i < n_in; ++i) {
    const float xi = x[i];
    const float* row = w + static_cast<size_t>(i) * n_out;
    for (int j = 0; j < n_out; ++j) y[j] += xi * row[j];
  }
}

// y = x += W·u accumulation variant, for the residual adds.
inline void MatVecAdd(const float* __restrict x, const float* __restrict w, int n_in, int n_out, float* __restrict y) {
  for (int i = 0; i < n_in; ++i) {
    const float xi = x[i];
    const float* row = w + static_cast<size_t>(i) * n_out;
    for (int j = 0; j < n_out; ++j) y[j] += xi * row[j];
  }
}

// Normalizes x[0..n) to zero mean and unit variance (biased, as torch's
// layer_norm), then applies gain and bias when given. y may be x.
inline void Normalize(const float* x, int n, float eps, const float* gain, const float* bias, float* y) {
  float mean = 0.0f;
  for (int i = 0; i < n; ++i) mean += x[i];
  mean /= static_cast<float>(n);
  float var = 0.0f;
  for (int i = 0; i < n; ++i) var += (x[i] - mean) * (x[i] - mean);
  var /= static_cast<float>(n);
  const float inv = 1.0f / std::sqrt(var + eps);
  for (int i = 0; i < n; ++i) y[i] = (x[i] - mean) * inv;
  if (gain)
    for (int i = 0; i < n; ++i) y[i] = y[i] * gain[i] + bias[i];
}

}  // namespace

RetNetKernel::RetNetKernel(const RetNetWeights& weights) : weights_(weights) {
  const RetNetConfig& c = weights.config();
  vocab_ = c.vocab();
  d_ = c.d_model;
  heads_ = c.heads;
  dh_ = c.head_dim();
  ffn_ = c.ffn;
  eps_ = c.norm_eps;
  // The per-step rotation R(-theta), premultiplied by each head's decay.
  // Computed in double once; the state never sees an absolute angle.
  const int pairs = dh_ / 2;
  for (int h = 0; h < heads_; ++h) {
    for (int i = 0; i < pairs; ++i) {
      rot_cos_[h * pairs + i] = static_cast<float>(c.gammas[h] * std::cos(static_cast<double>(c.thetas[i])));
      rot_sin_[h * pairs + i] = static_cast<float>(c.gammas[h] * std::sin(static_cast<double>(c.thetas[i])));
    }
  }
  const float* base = weights.data();
  const float** slots[] = {&embed_, &ln1_g_, &ln1_b_, &wqkvg_, &gn_g_, &gn_b_, &wo_,    &ln2_g_, &ln2_b_,
                           &w1_,    &b1_,    &w2_,    &b2_,    &lnf_g_, &lnf_b_, &wout_, &bout_};
  auto layout = RetNetTensors(c);
  static_assert(sizeof(slots) / sizeof(slots[0]) == 17);
  for (size_t i = 0; i < layout.size() && i < 17; ++i) *slots[i] = base + layout[i].offset;
}

void RetNetKernel::Reset(RetNetState* state) const { std::memset(state, 0, sizeof(*state)); }

void RetNetKernel::StepLogits(RetNetState* state, int token, float* logits_out) const {
  const int d = d_, dh = dh_, pairs = dh_ / 2;
  if (token < 0 || token >= vocab_) token = vocab_ - 1;
  alignas(64) float x[kRetNetMaxModel];
  alignas(64) float h[kRetNetMaxModel];
  alignas(64) float qkvg[4 * kRetNetMaxModel];
  alignas(64) float o[kRetNetMaxModel];
  alignas(64) float u[kRetNetMaxFfn];

  std::memcpy(x, embed_ + static_cast<size_t>(token) * d, sizeof(float) * d);
  Normalize(x, d, eps_, ln1_g_, ln1_b_, h);
  MatVec(h, wqkvg_, nullptr, d, 4 * d, qkvg);
  const float* q = qkvg;
  float* k = qkvg + d;
  const float* v = qkvg + 2 * d;
  const float* g = qkvg + 3 * d;
  const float kscale = 1.0f / std::sqrt(static_cast<float>(dh));
  for (int i = 0; i < d; ++i) k[i] *= kscale;

  for (int hd = 0; hd < heads_; ++hd) {
    float* S = state->s + hd * dh * dh;
    const float* qh = q + hd * dh;
    const float* kh = k + hd * dh;
    const float* vh = v + hd * dh;
    float* oh = o + hd * dh;
    for (int j = 0; j < dh; ++j) oh[j] = 0.0f;
    for (int p = 0; p < pairs; ++p) {
      // Rows 2p and 2p+1 hold the pair's two key channels: rotate them by
      // -theta_p, decay, add this step's key·value, then read with the query.
      float* r0 = S + (2 * p) * dh;
      float* r1 = S + (2 * p + 1) * dh;
      const float gc = rot_cos_[hd * pairs + p], gs = rot_sin_[hd * pairs + p];
      const float k0 = kh[2 * p], k1 = kh[2 * p + 1];
      const float q0 = qh[2 * p], q1 = qh[2 * p + 1];
      for (int j = 0; j < dh; ++j) {
        const float a = r0[j], b = r1[j];
        const float n0 = gc * a + gs * b + k0 * vh[j];
        const float n1 = gc * b - gs * a + k1 * vh[j];
        r0[j] = n0;
        r1[j] = n1;
        oh[j] += q0 * n0 + q1 * n1;
      }
    }
    Normalize(oh, dh, eps_, nullptr, nullptr, oh);
  }
  for (int i = 0; i < d; ++i) {
    const float swish = g[i] / (1.0f + std::exp(-g[i]));
    o[i] = (o[i] * gn_g_[i] + gn_b_[i]) * swish;
  }
  MatVecAdd(o, wo_, d, d, x);

  Normalize(x, d, eps_, ln2_g_, ln2_b_, h);
  MatVec(h, w1_, b1_, d, ffn_, u);
  for (int i = 0; i < ffn_; ++i) u[i] = u[i] > 0.0f ? u[i] : 0.0f;
  MatVecAdd(u, w2_, ffn_, d, x);
  for (int i = 0; i < d; ++i) x[i] += b2_[i];

  Normalize(x, d, eps_, lnf_g_, lnf_b_, h);
  MatVec(h, wout_, bout_, d, vocab_, logits_out);
  ++state->steps;
}

void RetNetKernel::Step(RetNetState* state, int token, float* probs_out) const {
  StepLogits(state, token, probs_out);
  float mx = probs_out[0];
  for (int i = 1; i < vocab_; ++i) mx = probs_out[i] > mx ? probs_out[i] : mx;
  float sum = 0.0f;
  for (int i = 0; i < vocab_; ++i) {
    probs_out[i] = std::exp(probs_out[i] - mx);
    sum += probs_out[i];
  }
  const float inv = 1.0f / sum;
  for (int i = 0; i < vocab_; ++i) probs_out[i] *= inv;
}

int Argmax(const float* p, int n) {
  int best = 0;
  for (int i = 1; i < n; ++i)
    if (p[i] > p[best]) best = i;
  return best;
}

}  // namespace prescient

// The recurrent RetNet step, written out by hand: no libtorch, no allocation,
// every buffer on the stack and bounded by the kRetNetMax* constants.
#include "prescient/retnet_kernel.h"

#include <immintrin.h>

#include <cmath>
#include <cstring>

namespace prescient {

namespace {

// Vectors of floats as values: V8 is one AVX register (the AVX2 variant),
// V4 one SSE register (the baseline). Spelled out because, left to itself,
// GCC vectorizes MatVec across its inputs with a permute per load, slower
// than scalar code; and a V8 on a CPU without AVX lives in memory.
typedef float V4 __attribute__((vector_size(16)));
typedef float V8 __attribute__((vector_size(32)));
// Vectors never cross a call boundary (everything here inlines into one
// step), so the ABI note GCC gives for V8 outside the AVX variant is moot.
#pragma GCC diagnostic ignored "-Wpsabi"

template <typename Vec>
constexpr int kLanes = sizeof(Vec) / sizeof(float);

template <typename Vec>
inline Vec Load(const float* p) {
  Vec v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}

template <typename Vec>
inline float Sum(Vec v) {
  if constexpr (kLanes<Vec> == 8) return ((v[0] + v[1]) + (v[2] + v[3])) + ((v[4] + v[5]) + (v[6] + v[7]));
  return (v[0] + v[1]) + (v[2] + v[3]);
}

// y[0..n_out) = (accumulate ? y : b or 0) + x[0..n_in) · W, W row-major
// [n_in][n_out]. Outputs go in blocks of two vectors, then one, held in
// registers across the whole input loop. N_IN/N_OUT are the sizes when
// known at compile time, else 0.
template <typename Vec, int N_IN, int N_OUT>
inline void MatVec(const float* __restrict x, const float* __restrict w, const float* __restrict b, int n_in, int n_out, bool accumulate,
                   float* __restrict y) {
  constexpr int L = kLanes<Vec>;
  const int ni = N_IN ? N_IN : n_in, no = N_OUT ? N_OUT : n_out;
  auto start = [&](int j) { return accumulate ? Load<Vec>(y + j) : b ? Load<Vec>(b + j) : Vec{}; };
  int j0 = 0;
  for (; j0 + 2 * L <= no; j0 += 2 * L) {
    Vec a0 = start(j0), a1 = start(j0 + L);
    const float* row = w + j0;
    // Bounded unrolling: fully unrolled, a step becomes thousands of
    // straight-line instructions that overflow the decoded-instruction cache.
#pragma GCC unroll 4
    for (int i = 0; i < ni; ++i, row += no) {
      a0 += x[i] * Load<Vec>(row);
      a1 += x[i] * Load<Vec>(row + L);
    }
    std::memcpy(y + j0, &a0, sizeof(a0));
    std::memcpy(y + j0 + L, &a1, sizeof(a1));
  }
  for (; j0 + L <= no; j0 += L) {
    Vec a0 = start(j0);
    const float* row = w + j0;
#pragma GCC unroll 4
    for (int i = 0; i < ni; ++i, row += no) a0 += x[i] * Load<Vec>(row);
    std::memcpy(y + j0, &a0, sizeof(a0));
  }
  for (; j0 < no; ++j0) {
    float a = accumulate ? y[j0] : b ? b[j0] : 0.0f;
#pragma GCC unroll 4
    for (int i = 0; i < ni; ++i) a += x[i] * w[static_cast<size_t>(i) * no + j0];
    y[j0] = a;
  }
}

// Normalizes x[0..n) to zero mean and unit variance (biased, as torch's
// layer_norm), then applies gain and bias when given. y may be x. Sums run
// a vector wide: a scalar sum of 16 is a chain of 16 dependent adds, and a
// step normalizes five times.
template <typename Vec, int N>
inline void Normalize(const float* x, int n_rt, float eps, const float* gain, const float* bias, float* y) {
  constexpr int L = kLanes<Vec>;
  const int n = N ? N : n_rt;
  float mean, var;
  if (n % L == 0) {
    Vec s{};
    for (int i = 0; i < n; i += L) s += Load<Vec>(x + i);
    mean = Sum(s) / static_cast<float>(n);
    Vec v{};
    for (int i = 0; i < n; i += L) {
      Vec c = Load<Vec>(x + i) - mean;
      v += c * c;
    }
    var = Sum(v) / static_cast<float>(n);
  } else {
    mean = 0.0f;
    for (int i = 0; i < n; ++i) mean += x[i];
    mean /= static_cast<float>(n);
    var = 0.0f;
    for (int i = 0; i < n; ++i) var += (x[i] - mean) * (x[i] - mean);
    var /= static_cast<float>(n);
  }
  const float inv = 1.0f / std::sqrt(var + eps);
  for (int i = 0; i < n; ++i) y[i] = (x[i] - mean) * inv;
  if (gain)
    for (int i = 0; i < n; ++i) y[i] = y[i] * gain[i] + bias[i];
}

}  // namespace

RetNetKernel::RetNetKernel(const RetNetWeights& weights, bool allow_avx2) : weights_(weights) {
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
  // The default shape with the pure ordinal vocabulary (V = 9) or with
  // farsight's default of 8 ordinals and 8 steps (V = 17) has compiled sizes.
  const bool default_shape = d_ == 16 && dh_ == 8 && ffn_ == 40 && (vocab_ == 9 || vocab_ == 17);
  // A kernel may be built before libgcc has probed the CPU (a static
  // initializer in the preload library), so probe first.
  __builtin_cpu_init();
  const bool avx2 = allow_avx2 && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  if (!default_shape) {
    step_ = &RetNetKernel::StepAnyShape;
  } else if (vocab_ == 9) {
    step_ = avx2 ? &RetNetKernel::StepDefaultShapeAvx2<9> : &RetNetKernel::StepDefaultShape<9>;
  } else {
    step_ = avx2 ? &RetNetKernel::StepDefaultShapeAvx2<17> : &RetNetKernel::StepDefaultShape<17>;
  }
  const float* base = weights.data();
  const float** slots[] = {&embed_, &ln1_g_, &ln1_b_, &wqkvg_, &gn_g_, &gn_b_, &wo_,    &ln2_g_, &ln2_b_,
                           &w1_,    &b1_,    &w2_,    &b2_,    &lnf_g_, &lnf_b_, &wout_, &bout_};
  auto layout = RetNetTensors(c);
  static_assert(sizeof(slots) / sizeof(slots[0]) == 17);
  for (size_t i = 0; i < layout.size() && i < 17; ++i) *slots[i] = base + layout[i].offset;
}

void RetNetKernel::Reset(RetNetState* state) const { std::memset(state, 0, sizeof(*state)); }

// Sizes are template arguments for the default shape, so every loop has a
// constant trip count and the vector blocks need no tails; 0 means "read it
// from the config" (any other shape).
template <typename Vec, int D, int DH, int F, int V>
[[gnu::always_inline]] inline void RetNetKernel::StepImpl(RetNetState* state, int token, float* logits_out) const {
  const int d = D ? D : d_, dh = DH ? DH : dh_, pairs = dh / 2, heads = d / dh, ffn = F ? F : ffn_, vocab = V ? V : vocab_;
  if (token < 0 || token >= vocab) token = vocab - 1;
  alignas(64) float x[kRetNetMaxModel];
  alignas(64) float h[kRetNetMaxModel];
  alignas(64) float qkvg[4 * kRetNetMaxModel];
  alignas(64) float o[kRetNetMaxModel];
  alignas(64) float u[kRetNetMaxFfn];

  std::memcpy(x, embed_ + static_cast<size_t>(token) * d, sizeof(float) * d);
  Normalize<Vec, D>(x, d, eps_, ln1_g_, ln1_b_, h);
  MatVec<Vec, D, 4 * D>(h, wqkvg_, nullptr, d, 4 * d, false, qkvg);
  const float* q = qkvg;
  float* k = qkvg + d;
  const float* v = qkvg + 2 * d;
  const float* g = qkvg + 3 * d;
  const float kscale = 1.0f / std::sqrt(static_cast<float>(dh));
  for (int i = 0; i < d; ++i) k[i] *= kscale;

  for (int hd = 0; hd < heads; ++hd) {
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
    Normalize<Vec, DH>(oh, dh, eps_, nullptr, nullptr, oh);
  }
  for (int i = 0; i < d; ++i) {
    const float swish = g[i] / (1.0f + std::exp(-g[i]));
    o[i] = (o[i] * gn_g_[i] + gn_b_[i]) * swish;
  }
  MatVec<Vec, D, D>(o, wo_, nullptr, d, d, true, x);

  Normalize<Vec, D>(x, d, eps_, ln2_g_, ln2_b_, h);
  MatVec<Vec, D, F>(h, w1_, b1_, d, ffn, false, u);
  for (int i = 0; i < ffn; ++i) u[i] = u[i] > 0.0f ? u[i] : 0.0f;
  MatVec<Vec, F, D>(u, w2_, nullptr, ffn, d, true, x);
  for (int i = 0; i < d; ++i) x[i] += b2_[i];

  Normalize<Vec, D>(x, d, eps_, lnf_g_, lnf_b_, h);
  MatVec<Vec, D, V>(h, wout_, bout_, d, vocab, false, logits_out);
  ++state->steps;
}

// The three compiled variants; the constructor picks one. AVX2 with FMA
// halves the instruction count of the matrix products, which are most of a
// step; flatten inlines every helper so all of it is compiled for the target.
[[gnu::flatten]] void RetNetKernel::StepAnyShape(RetNetState* state, int token, float* logits_out) const {
  StepImpl<V4, 0, 0, 0, 0>(state, token, logits_out);
}
template <int V>
[[gnu::flatten]] void RetNetKernel::StepDefaultShape(RetNetState* state, int token, float* logits_out) const {
  StepImpl<V4, 16, 8, 40, V>(state, token, logits_out);
}
template <int V>
[[gnu::flatten, gnu::target("avx2,fma")]] void RetNetKernel::StepDefaultShapeAvx2(RetNetState* state, int token, float* logits_out) const {
  // A compile-time proof that this function is built for AVX2+FMA: the
  // intrinsic refuses to inline into one that is not (which happened once,
  // silently, when GCC dropped the attribute).
  (void)_mm256_fmadd_ps(_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps());
  StepImpl<V8, 16, 8, 40, V>(state, token, logits_out);
}

void RetNetKernel::StepLogits(RetNetState* state, int token, float* logits_out) const { (this->*step_)(state, token, logits_out); }

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

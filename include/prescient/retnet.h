// The learned prefetcher's model: a tiny retention network (RetNet) that reads
// one Future Map ordinal per fault and predicts the distribution of the next.
//
// Tokens are ordinals 0..K-1 ("the k-th known successor of the last page")
// plus token K, "not in the map", so the vocabulary has V = K + 1 entries.
// The network is one pre-norm block:
//
//   x = embed[token]
//   h = LayerNorm1(x);  q, k, v, g = h·Wq, h·Wk/sqrt(dh), h·Wv, h·Wg
//   o = Retention(q, k, v)            per head, rotary, decay gamma[head]
//   x = x + (swish(g) ⊙ GroupNorm(o))·Wo
//   x = x + FFN(LayerNorm2(x))        relu(h·W1 + b1)·W2 + b2
//   logits = LayerNormF(x)·Wout + bout
//
// Retention in its recurrent form, per head, with R(a) the rotation of each
// pair of q/k channels by angle a (one angle theta[i] per pair, shared by
// the heads):
//
//   S_n = gamma · R(-theta) · S_{n-1} + k_n^T v_n,    o_n = q_n · S_n
//
// which equals the parallel form sum_m gamma^(n-m) (R(n·theta) q_n)·(R(m·theta) k_m) v_m
// that training uses. Folding the rotation into the state keeps no absolute
// angle anywhere, so precision is the same at step 10 and at step 10^9
// (docs/decisions.md D41).
//
// Weights are one contiguous, 64-byte-aligned float32 array in the order of
// RetNetTensors(); RetNetWeights::Save/Load keep it in a versioned,
// checksummed file (src/model/weight_file.h describes the layout).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "prescient/status.h"

namespace prescient {

// Compile-time bounds that let inference run on stack buffers and a
// fixed-size state (no allocation per step).
inline constexpr int kRetNetMaxVocab = 64;
inline constexpr int kRetNetMaxModel = 64;
inline constexpr int kRetNetMaxFfn = 256;
inline constexpr int kRetNetMaxStateFloats = 224;  // heads × dh × dh; keeps RetNetState < 1 KiB

struct RetNetConfig {
  int ordinals = 8;  // K; the vocabulary is K + 1 (token K: "not in the map")
  int d_model = 16;
  int heads = 2;
  int ffn = 40;  // hidden width of the feed-forward layer
  std::vector<float> gammas = {0.875f, 0.96875f};  // decay per head
  // Rotation per step, in radians, for each pair of a head's q/k channels:
  // 2π / period, periods 3, 12, 48, 192 steps for the default dh = 8.
  // Empty until Default() or FillDefaultThetas() fills it.
  std::vector<float> thetas;
  float norm_eps = 1e-5f;

  int vocab() const { return ordinals + 1; }
  int head_dim() const { return d_model / heads; }
  // The defaults above, with thetas filled in for `ordinals`.
  static RetNetConfig Default(int ordinals = 8);
  // Fills thetas with 2π / (3 · 4^i) when empty.
  void FillDefaultThetas();
  // Every bound the kernel and the file format rely on.
  Status Validate() const;
  // The hyperparameters as JSON, and back (Validate()d).
  nlohmann::json ToJson() const;
  static Status FromJson(const nlohmann::json& j, RetNetConfig* out);
};

// One tensor of the flat weight array: row-major, shape {rows, cols} with
// matrices stored as [in][out] (y = x·W) and vectors as {n}.
struct RetNetTensor {
  std::string name;
  std::vector<int> shape;
  size_t offset = 0;  // in floats, from the start of the array
  size_t size() const;
};

// The fixed order of the tensors in memory and in the file.
std::vector<RetNetTensor> RetNetTensors(const RetNetConfig& config);
// Total float count of RetNetTensors(config).
size_t RetNetParameterCount(const RetNetConfig& config);

class RetNetWeights {
 public:
  RetNetWeights();
  ~RetNetWeights();
  RetNetWeights(const RetNetWeights& other);
  RetNetWeights& operator=(const RetNetWeights& other);
  RetNetWeights(RetNetWeights&&) noexcept;
  RetNetWeights& operator=(RetNetWeights&&) noexcept;

  // Zeroed weights for a valid `config` (norm gains are zero too: callers
  // fill every tensor, e.g. the trainer's export or a test's random init).
  static Status Create(const RetNetConfig& config, RetNetWeights* out);
  // Reads a weight file. Every kind of damage (truncation, bad magic, other
  // version, checksum mismatch, header that disagrees with the tensors) is
  // refused with a message naming the file, what is wrong and the byte offset.
  static Status Load(const std::string& path, RetNetWeights* out);
  // Writes atomically (a temporary file renamed over `path`).
  Status Save(const std::string& path) const;

  const RetNetConfig& config() const { return config_; }
  size_t parameter_count() const { return count_; }
  const float* data() const { return data_; }
  float* mutable_data() { return data_; }
  // The tensor called `name` (see RetNetTensors), or nullptr.
  const float* tensor(const std::string& name) const;
  float* mutable_tensor(const std::string& name);

  // Free-form JSON saved with the weights: which traces trained them, the
  // validation accuracy, options. Save() writes it under "provenance".
  const nlohmann::json& provenance() const { return provenance_; }
  void set_provenance(nlohmann::json p) { provenance_ = std::move(p); }

 private:
  void Allocate(size_t count);
  void Free();

  RetNetConfig config_;
  float* data_ = nullptr;  // 64-byte aligned, count_ floats
  size_t count_ = 0;
  nlohmann::json provenance_ = nlohmann::json::object();
};

}  // namespace prescient

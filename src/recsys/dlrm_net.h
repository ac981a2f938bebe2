// The DLRM's dense part in libtorch: bottom MLP on the dense features, dot
// interaction of the bottom output with the 26 pooled embeddings, top MLP
// to one logit. Only trainer.cc includes this header (it pulls in torch).
//
// Every parameter, and the dense optimizer's state, is a view into one flat
// float tensor, so a checkpoint slice is a memcpy of a range of it and a
// restore is one copy back, with no per-tensor bookkeeping.
#pragma once

#include <memory>
#include <vector>

#include <torch/nn/modules/container/sequential.h>
#include <torch/optim/optimizer.h>

#include "recsys/trainer.h"

namespace prescient {

class DlrmNet {
 public:
  explicit DlrmNet(const DlrmOptions& options);

  // dense: B x 13; embeddings: 26 x B x dim. Returns B logits.
  torch::Tensor Forward(const torch::Tensor& dense, const torch::Tensor& embeddings);
  void ZeroGrad() { optimizer_->zero_grad(); }
  void Step() { optimizer_->step(); }

  // Parameters, then (Adagrad) their accumulators.
  float* flat() { return flat_.data_ptr<float>(); }
  const float* flat() const { return flat_.data_ptr<float>(); }
  size_t flat_size() const { return static_cast<size_t>(flat_.numel()); }
  size_t parameter_count() const { return parameters_; }
  // After a restore: the optimizer's step counter (Adagrad's lr decay is 0,
  // so it only keeps the count honest).
  void SetStepCount(int64_t steps);
  // The parameters' gradients after a backward pass, flat in the order of
  // flat()'s parameters; SetGradients puts such a vector back for Step().
  std::vector<float> Gradients() const;
  void SetGradients(const float* gradients);

 private:
  torch::nn::Sequential bottom_{nullptr}, top_{nullptr};
  torch::Tensor tri_rows_, tri_cols_;
  torch::Tensor flat_;
  std::vector<torch::Tensor> params_;
  size_t parameters_ = 0;
  bool adagrad_ = false;
  std::unique_ptr<torch::optim::Optimizer> optimizer_;
};

}  // namespace prescient

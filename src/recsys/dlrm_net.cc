#include "recsys/dlrm_net.h"

#include <cstring>

#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/linear.h>
#include <torch/optim/adagrad.h>
#include <torch/optim/sgd.h>
#include <torch/utils.h>

namespace prescient {

namespace {

torch::nn::Sequential Mlp(int64_t in, const std::vector<int64_t>& hidden, int64_t out, bool relu_last) {
  torch::nn::Sequential seq;
  for (int64_t width : hidden) {
    seq->push_back(torch::nn::Linear(in, width));
    seq->push_back(torch::nn::ReLU());
    in = width;
  }
  seq->push_back(torch::nn::Linear(in, out));
  if (relu_last) seq->push_back(torch::nn::ReLU());
  return seq;
}

}  // namespace

DlrmNet::DlrmNet(const DlrmOptions& o) : adagrad_(o.dense_optimizer == DenseOptimizer::kAdagrad) {
  torch::manual_seed(static_cast<uint64_t>(o.data.seed));
  const int64_t d = o.dim, vectors = kSparseFeatures + 1;
  bottom_ = Mlp(kDenseFeatures, o.bottom, d, /*relu_last=*/true);
  top_ = Mlp(d + vectors * (vectors - 1) / 2, o.top, 1, /*relu_last=*/false);
  auto tri = torch::tril_indices(vectors, vectors, -1);
  tri_rows_ = tri[0];
  tri_cols_ = tri[1];

  std::vector<torch::Tensor>& params = params_;
  for (auto& p : bottom_->parameters()) params.push_back(p);
  for (auto& p : top_->parameters()) params.push_back(p);
  for (auto& p : params) parameters_ += static_cast<size_t>(p.numel());
  flat_ = torch::zeros({static_cast<int64_t>(adagrad_ ? 2 * parameters_ : parameters_)});
  {
    torch::NoGradGuard no_grad;
    int64_t off = 0;
    for (auto& p : params) {
      auto view = flat_.narrow(0, off, p.numel()).view(p.sizes());
      view.copy_(p);
      p.set_data(view);
      off += p.numel();
    }
  }
  if (adagrad_) {
    auto opt = std::make_unique<torch::optim::Adagrad>(params, torch::optim::AdagradOptions(o.dense_lr));
    int64_t off = static_cast<int64_t>(parameters_);
    for (auto& p : params) {
      auto& state = static_cast<torch::optim::AdagradParamState&>(*opt->state().at(c10::guts::to_string(p.unsafeGetTensorImpl())));
      state.sum(flat_.narrow(0, off, p.numel()).view(p.sizes()));
      off += p.numel();
    }
    optimizer_ = std::move(opt);
  } else {
    optimizer_ = std::make_unique<torch::optim::SGD>(params, torch::optim::SGDOptions(o.dense_lr));
  }
}

void DlrmNet::SetStepCount(int64_t steps) {
  if (!adagrad_) return;
  for (auto& [key, state] : optimizer_->state()) static_cast<torch::optim::AdagradParamState&>(*state).step(steps);
}

std::vector<float> DlrmNet::Gradients() const {
  std::vector<float> out(parameters_, 0.0f);
  size_t off = 0;
  for (const auto& p : params_) {
    const auto n = static_cast<size_t>(p.numel());
    if (p.grad().defined()) {
      auto g = p.grad().contiguous();
      std::memcpy(out.data() + off, g.data_ptr<float>(), n * sizeof(float));
    }
    off += n;
  }
  return out;
}

void DlrmNet::SetGradients(const float* gradients) {
  size_t off = 0;
  for (auto& p : params_) {
    const auto n = static_cast<int64_t>(p.numel());
    p.mutable_grad() = torch::from_blob(const_cast<float*>(gradients + off), p.sizes()).clone();
    off += static_cast<size_t>(n);
  }
}

torch::Tensor DlrmNet::Forward(const torch::Tensor& dense, const torch::Tensor& embeddings) {
  auto x = bottom_->forward(dense);                                             // B x d
  auto z = torch::cat({x.unsqueeze(1), embeddings.permute({1, 0, 2})}, 1);    // B x 27 x d
  auto dots = torch::bmm(z, z.transpose(1, 2));                                // B x 27 x 27
  auto pairs = dots.index({torch::indexing::Slice(), tri_rows_, tri_cols_});  // B x 351
  return top_->forward(torch::cat({x, pairs}, 1)).squeeze(1);
}

}  // namespace prescient
